"""The contact-jobs CLI run as a user runs it (a subprocess) against `python -m sandbox serve` (another)."""

import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import jsonschema
import pytest

from contact_jobs_cli import schemas
from contact_jobs_cli.layer import upload_execution_name
from sandbox.cli_demo import cli_command, cli_environment, free_port, served_process

ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 180
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but \t and \n
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served():
    """The served stack (its exit, by SIGTERM, must be clean: served_process raises otherwise)."""
    with served_process(contacts=2000) as document:
        yield document


def _env(served, **extra):
    return cli_environment(served, CONTACT_JOBS_POLL_SECONDS="0.2", **extra)


def run_cli(served, *args, env=None):
    return subprocess.run(
        [*cli_command(), *args],
        cwd=ROOT, env=env or _env(served), capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
    )  # fmt: skip


def json_of(result, schema):
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema)
    return document


def one_line_error(result):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("contact-jobs: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "spring.csv"
    path.write_text("email,first_name\na@example.com,Ann\nnot-an-email,Bob\nc@example.com,Cy\n")
    return path


def test_status_reports_the_stack_schedule_alarms_and_jobs(served):
    result = run_cli(served, "status", "--json")
    assert result.returncode == 0, result.stderr
    document = json_of(result, schemas.STATUS)
    assert document["stack"]["outputs"]["ImportBucketName"]
    assert document["schedule"]["enabled"] is True
    assert document["schedule"]["input"]["operation"] == "backup"


def test_status_lists_an_alarm_in_alarm(served):
    cloudwatch = boto3.client(
        "cloudwatch", endpoint_url=served["endpoint_url"], region_name=served["region"],
        aws_access_key_id=served["aws_access_key_id"], aws_secret_access_key=served["aws_secret_access_key"],
    )  # fmt: skip
    name = next(
        a["AlarmName"]
        for a in cloudwatch.describe_alarms()["MetricAlarms"]
        if "ExecutionsFailed" in a["AlarmName"]
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: a job failed")
    try:
        document = json_of(run_cli(served, "status", "--json"), schemas.STATUS)
    finally:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test over")
    assert [alarm["name"] for alarm in document["alarms_in_alarm"]] == [name]


def test_import_watch_follows_the_uploads_execution_to_an_errored_outcome(served, csv_file):
    result = run_cli(served, "import", str(csv_file), "--provider", "sendgrid", "--watch", "--json")
    assert result.returncode == 0, result.stderr  # errored: 0, with a warning
    assert "warning" in result.stderr
    document = json_of(result, schemas.IMPORT)
    assert document["key"] == "imports/sendgrid/_/spring.csv"
    assert document["execution_name"] == upload_execution_name(
        document["bucket"], document["key"], document["version_id"], None
    )
    job = document["job"]
    assert job["name"] == document["execution_name"]
    assert job["notification"]["event_type"] == "import.errored"
    assert job["counts"]["errored"] == 1
    assert job["counts"]["created"] == 2


def test_fail_on_errored_makes_an_errored_import_exit_1(served, csv_file):
    result = run_cli(
        served, "import", str(csv_file), "--provider", "sendgrid", "--watch", "--fail-on-errored"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SUCCEEDED: import.errored" in result.stdout


def test_a_which50_import_completes(served, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("Email,FirstName\nx@example.com,X\ny@example.com,Y\n")
    args = (
        "import",
        str(path),
        "--provider",
        "which50",
        "--list",
        served["which50_list_id"],
        "--watch",
        "--json",
    )
    result = run_cli(served, *args)
    assert result.returncode == 0, result.stderr
    assert json_of(result, schemas.IMPORT)["job"]["notification"]["event_type"] == "import.completed"


def test_an_import_without_watch_names_the_job_it_started(served, csv_file):
    result = run_cli(served, "import", str(csv_file), "--provider", "sendgrid", "--list", "_", "--json")
    assert result.returncode == 0, result.stderr
    document = json_of(result, schemas.IMPORT)
    assert document["job"] is None
    deadline = time.monotonic() + 60
    while (found := run_cli(served, "job", document["execution_name"], "--json")).returncode != 0:
        assert time.monotonic() < deadline, found.stderr
        time.sleep(0.2)
    assert json_of(found, schemas.JOB)["operation"] == "import"


def test_a_failed_import_exits_1_and_is_listed_among_failed_jobs(served, tmp_path):
    no_identifier = tmp_path / "names.csv"
    no_identifier.write_text("first_name,last_name\nAnn,Lee\n")
    result = run_cli(served, "import", str(no_identifier), "--provider", "sendgrid", "--watch", "--json")
    assert result.returncode == 1, result.stderr
    job = json_of(result, schemas.IMPORT)["job"]
    assert job["status"] == "FAILED"
    assert job["notification"]["event_type"] == "import.failed"
    assert job["error"]["message"]
    failed = json_of(run_cli(served, "jobs", "--failed", "--json"), schemas.JOBS)["jobs"]
    assert job["name"] in [item["name"] for item in failed]
    assert {item["status"] for item in failed} <= {"FAILED", "TIMED_OUT", "ABORTED"}


def test_backup_watch_then_backups_job_and_jobs_report_it(served):
    result = run_cli(served, "backup", "--watch", "--json")
    assert result.returncode == 0, result.stderr
    started = json_of(result, schemas.BACKUP)
    assert started["job"]["notification"]["event_type"] == "backup.completed"
    assert started["job"]["waits"]
    assert started["job"]["waits"][0]["seconds"] > 0
    listed = json_of(run_cli(served, "backups", "--json"), schemas.BACKUPS)["backups"]
    (row,) = [row for row in listed if row["id"] == started["execution_name"]]
    assert row["complete"]
    # The fake account exports what earlier imports put in it (issue 13), so the count is the backup's own
    assert row["contacts"] == started["job"]["counts"]["contacts"]
    assert row["verified"] is True  # the backup's own verify (VerifyAfterBackup) wrote the row counts
    job = json_of(run_cli(served, "job", started["execution_name"], "--json"), schemas.JOB)
    assert "WhichOperation" in [state["name"] for state in job["states"]]  # after RecordExecution (main)
    assert job["outcome"] == "completed"
    jobs = json_of(run_cli(served, "jobs", "--operation", "backup", "--json"), schemas.JOBS)["jobs"]
    assert started["execution_name"] in [item["name"] for item in jobs]
    assert all(item["operation"] == "backup" for item in jobs)


def test_watch_on_a_pipe_prints_plain_lines_ending_with_the_outcome(served):
    result = run_cli(served, "backup", "--watch")
    assert result.returncode == 0, result.stderr
    assert not CONTROL.search(result.stdout), repr(result.stdout[:500])
    lines = result.stdout.strip().splitlines()
    assert "-> StartExport" in lines
    assert any(line.startswith("SUCCEEDED: backup.completed") for line in lines[-3:])


def test_watch_on_a_terminal_is_readable_and_ends_with_the_outcome(served):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI with a terminal for stdout
        env = _env(served)
        os.chdir(ROOT)
        command = [*cli_command(), "backup", "--watch"]
        os.execvpe(command[0], command, env)
    output = b""
    deadline = time.monotonic() + CLI_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output[-2000:]
    text = ANSI.sub("", output.decode(errors="replace"))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert any("-> WriteManifest" in line for line in lines), text[-2000:]
    assert lines[-2].startswith("SUCCEEDED: backup.completed") or lines[-1].startswith("manifest:"), lines[
        -5:
    ]


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (("job", "no-such-job"), 2, "JobNotFound"),
        (("--stack", "no-such-stack", "status"), 1, "StackNotFound"),
    ],
)
def test_lookups_that_find_nothing_say_so_in_one_line(served, args, code, kind):
    result = run_cli(served, *args, "--json")
    assert result.returncode == code
    assert json_of(result, schemas.ERROR)["error"]["type"] == kind
    one_line_error(result)


def test_a_file_that_is_not_csv_is_refused_before_upload(served, tmp_path):
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = run_cli(served, "import", str(binary), "--provider", "sendgrid")
    assert result.returncode == 2
    assert "not CSV" in one_line_error(result)
    wrong_type = tmp_path / "contacts.xlsx"
    wrong_type.write_text("email\na@example.com\n")
    result = run_cli(served, "import", str(wrong_type), "--provider", "sendgrid")
    assert result.returncode == 2
    assert ".csv" in one_line_error(result)


def test_a_provider_the_stack_does_not_deploy_is_refused(served, csv_file):
    cloudformation = boto3.client(
        "cloudformation", endpoint_url=served["endpoint_url"], region_name=served["region"],
        aws_access_key_id=served["aws_access_key_id"], aws_secret_access_key=served["aws_secret_access_key"],
    )  # fmt: skip
    outputs = {
        item["OutputKey"]: item["OutputValue"]
        for item in cloudformation.describe_stacks(StackName=served["stack"])["Stacks"][0]["Outputs"]
    }
    outputs["ImportProviders"] = "sendgrid"  # as a stack deployed without Which50ApiKeySecretArn says
    body = {"Resources": {"R": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {name: {"Value": value} for name, value in outputs.items()}}  # fmt: skip
    cloudformation.create_stack(StackName="sendgrid-only", TemplateBody=json.dumps(body))
    result = run_cli(
        served, "--stack", "sendgrid-only", "import", str(csv_file), "--provider", "which50", "--list", "101"
    )
    assert result.returncode == 2
    assert "does not import into which50" in one_line_error(result)


def test_missing_credentials_are_named_with_what_to_do(served):
    env = _env(served)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name)
    env.update(
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
    )
    result = run_cli(served, "status", env=env)
    assert result.returncode == 1
    assert "no AWS credentials" in one_line_error(result)


def test_an_unreachable_endpoint_says_to_start_the_local_stack(served):
    result = run_cli(
        served, "status", env=_env(served, CONTACT_JOBS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    )
    assert result.returncode == 1
    assert "sandbox serve" in one_line_error(result)


def test_a_usage_error_exits_2_in_one_line(served, csv_file):
    result = run_cli(served, "import", str(csv_file), "--provider", "mailchimp")
    assert result.returncode == 2
    assert "mailchimp" in one_line_error(result)


def test_serve_refuses_a_port_in_use_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sandbox", "serve", "--port", str(port)],
            cwd=ROOT, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
        )  # fmt: skip
    assert result.returncode == 1
    assert (
        result.stderr.strip() == f"python -m sandbox serve: 127.0.0.1:{port} is in use: pass another --port"
    )
