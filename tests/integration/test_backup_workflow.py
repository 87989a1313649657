"""A scheduled SendGrid backup, end to end on the local stack."""

import json
import re

from sandbox.fake_sendgrid import FakeSendGridOptions
from sandbox.template import TEMPLATE
from tests.integration.conftest import only_notification

API_KEY = "SG.canary-key-0123456789"


def assert_identical_copies(result):
    assert result["files"]
    for entry in result["files"]:
        assert entry["sha256"] == entry["source_sha256"] == entry["manifest_sha256"], entry


def test_multi_file_backup_succeeds_with_identical_bytes_and_a_manifest(backup):
    result = backup(contacts=20000, max_file_size_mb=1)
    assert result["status"] == "SUCCEEDED"
    assert len(result["files"]) >= 2
    assert_identical_copies(result)
    assert result["manifest_key"] == f"{result['prefix']}manifest.json"
    note = only_notification(result)
    assert note["attributes"] == {
        "event_type": "backup.completed",
        "provider": "sendgrid",
        "outcome": "completed",
    }
    assert note["message"]["counts"]["contacts"] == 20000
    assert note["message"]["counts"]["files"] == len(result["files"])
    assert note["message"]["s3"]["keys"] == [entry["key"] for entry in result["files"]]


def test_the_export_asked_for_is_the_schedules_input(backup):
    result = backup(contacts=100, max_file_size_mb=7)
    create = next(r for r in result["api_requests"] if r["method"] == "POST")
    assert create["body"] == {"file_type": "csv", "max_file_size": 7}


def test_failed_export_fails_the_execution_with_one_notification_naming_the_cause(backup):
    result = backup(contacts=100, fail_export=True)
    assert result["status"] == "FAILED"
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "backup.failed"
    assert note["message"]["error"]["type"] == "ExportFailed"
    assert "ended in failure" in note["message"]["error"]["message"]
    assert result["files"] == [], "nothing under the backup's final prefix"
    assert result["states"][-3:] == ["DiscardPartialBackup", "NotifyFailed", "JobFailed"]


def test_export_expired_before_copy_is_restarted_and_succeeds(backup):
    result = backup(contacts=3000, max_file_size_mb=1, expire_urls_after_s=0)
    assert result["status"] == "SUCCEEDED"
    assert result["provider_exports"] == 2, "one expired export, one new"
    assert result["states"].count("StartExport") == 2
    assert "DiscardExpiredCopies" in result["states"]
    assert_identical_copies(result)
    assert only_notification(result)["message"]["error"] is None


def test_lapsed_download_url_is_refreshed_from_the_export_status(backup):
    fake = FakeSendGridOptions(export_ready_after_s=0.05, url_ttl_s=0)  # every signed URL is stale at once
    result = backup(fake=fake, contacts=100)
    assert result["status"] == "FAILED", "a URL that is always stale ends in a reported failure"
    note = only_notification(result)
    assert note["message"]["error"]["type"] == "DownloadUrlExpired"
    assert result["provider_exports"] == 1, "a refused URL is refreshed, not a reason for a new export"


def test_rate_limited_api_still_ends_succeeded_with_identical_bytes(backup):
    result = backup(contacts=3000, max_file_size_mb=1, rate_limit=True)
    assert result["status"] == "SUCCEEDED"
    assert 429 in [r["status"] for r in result["api_requests"]]
    assert_identical_copies(result)


def test_polling_waits_start_short_double_and_stop_at_the_cap(backup):
    # Ready well after the first four waits (0.75 s at this scale), even on a loaded machine.
    fake = FakeSendGridOptions(export_ready_after_s=3.0)
    environment = {"POLL_FIRST_DELAY_S": "5", "POLL_MAX_DELAY_S": "40"}
    result = backup(fake=fake, contacts=100, environment=environment, time_scale=0.01)
    assert result["status"] == "SUCCEEDED"
    waits = result["waits"]
    assert waits[:4] == [5, 10, 20, 40]
    assert all(wait == 40 for wait in waits[4:])
    assert result["states"].count("CheckExport") == len(waits)


def test_job_past_its_maximum_duration_fails_with_a_timeout(backup):
    fake = FakeSendGridOptions(export_ready_after_s=600)
    environment = {"POLL_FIRST_DELAY_S": "1", "MAX_JOB_DURATION_S": "1"}
    result = backup(fake=fake, contacts=10, environment=environment)
    assert result["status"] == "FAILED"
    assert only_notification(result)["message"]["error"]["type"] == "JobTimedOut"


def test_api_key_never_reaches_downloads_logs_or_notifications(backup):
    result = backup(fake=FakeSendGridOptions(api_key=API_KEY, export_ready_after_s=0.05), contacts=100)
    assert result["status"] == "SUCCEEDED"
    assert result["downloads_with_authorization"] == 0
    assert result["lambda_logs"], "the handlers did log"
    assert API_KEY not in "\n".join(result["lambda_logs"])
    assert API_KEY not in json.dumps(result["notifications"])


# Races: copies that outlive a decision about their backup. Each test reads the bucket only after every
# handler has ended (run_backup waits for them), as the late copies would have landed on AWS by then.


def assert_holds_exactly_the_manifest(result):
    manifest_key = result["manifest_key"]
    assert manifest_key, "the backup completed with a manifest"
    assert result["stored"]["objects"] == sorted([entry["key"] for entry in result["files"]] + [manifest_key])
    assert result["stored"]["uploads"] == []
    assert_identical_copies(result)


def assert_holds_nothing(result):
    assert result["stored"] == {"objects": [], "uploads": []}


def test_a_failed_copy_waits_for_its_slower_siblings_and_the_failed_backup_holds_nothing(backup):
    fake = FakeSendGridOptions(
        export_ready_after_s=0.05, missing_files=frozenset({0}), slow_first_download_s={1: 2.0, 2: 2.0}
    )
    result = backup(fake=fake, contacts=20000, max_file_size_mb=1)
    assert result["status"] == "FAILED"
    assert only_notification(result)["message"]["error"]["type"] == "DownloadUrlExpired"
    assert_holds_nothing(result)


def test_an_export_that_expires_while_copies_stream_is_restarted_and_holds_only_the_new_exports_bytes(backup):
    # File 1's download makes the export expire and is refused: its copy finds the export expired while
    # files 2 and 3 still stream the old export's bytes (different from the new export's).
    fake = FakeSendGridOptions(
        export_ready_after_s=0.05,
        expire_first_export_on_download=0,
        missing_files=frozenset({0}),
        slow_first_download_s={1: 10.0, 2: 10.0},
        distinct_exports=True,
    )
    result = backup(fake=fake, contacts=20000, max_file_size_mb=1)
    assert result["status"] == "SUCCEEDED"
    assert result["provider_exports"] == 2, "one expired export, one new"
    assert len(result["files"]) == 3
    assert_holds_exactly_the_manifest(result)


def _template_with_task_timeout(tmp_path, function: str, seconds: int):
    """The template with one Task's timeout (its WorkflowTimeouts row's TaskS) set to ``seconds``."""
    row = re.compile(rf"^(    {function}: +\{{FunctionS: \d+, TaskS: )\d+\}}$", re.M)
    changed, found = row.subn(rf"\g<1>{seconds}}}", TEMPLATE.read_text())
    assert found == 1
    copy = tmp_path / "template.yaml"
    copy.write_text(changed)
    return copy


def test_a_copy_that_outlives_its_task_cannot_change_a_completed_backup(backup, tmp_path):
    # The first copy of file 1 outlives its Task (1 s) and starts the export's expiry; the retry finds the
    # export expired, a new export is copied and its manifest written; then the old copy finishes.
    fake = FakeSendGridOptions(
        export_ready_after_s=0.05,
        expire_first_export_on_download=0,
        slow_first_download_s={0: 10.0},
        distinct_exports=True,
    )
    template = _template_with_task_timeout(tmp_path, "CopyExportFile", 1)
    result = backup(fake=fake, contacts=20000, max_file_size_mb=1, template=template)
    assert result["status"] == "SUCCEEDED"
    assert "States.Timeout" in json.dumps(result["history"])
    assert result["provider_exports"] == 2
    assert_holds_exactly_the_manifest(result)


def test_a_copy_that_outlives_its_task_leaves_nothing_in_a_failed_backup(backup, tmp_path):
    fake = FakeSendGridOptions(
        export_ready_after_s=0.05, slow_first_download_s={1: 3.0}, missing_files=frozenset({0})
    )
    template = _template_with_task_timeout(tmp_path, "CopyExportFile", 1)
    result = backup(fake=fake, contacts=20000, max_file_size_mb=1, template=template)
    assert result["status"] == "FAILED"
    assert_holds_nothing(result)
