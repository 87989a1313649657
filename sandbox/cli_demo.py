"""The local stack served in a process of its own, driven by the contact-jobs CLI as a person drives it.

``served_process`` starts ``python -m sandbox serve`` and stops it with SIGTERM; ``cli_command`` and
``cli_environment`` say how to run the CLI against it; ``drive`` runs a list of CLI commands, their output
going to the terminal. ``python -m sandbox cli-demo`` is what ``make demo`` runs: an import, a backup, a
verify and a restore into an empty account, each with ``--watch``, then the two accounts compared.
The account swap before the restore is the served stack's sandbox-only control (sandbox/serve_control.py),
not a CLI command: the CLI has no local-only code path.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from sandbox.contacts import import_csv
from sandbox.template import ROOT

SERVE_READY_S = 180
STOP_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served_process(port: int | None = None, contacts: int = 20000) -> Iterator[dict[str, Any]]:
    """``python -m sandbox serve`` in a subprocess; yields its ready document (endpoint, credentials)."""
    command = [sys.executable, "-m", "sandbox", "serve", "--json", "--contacts", str(contacts)]
    command += ["--port", str(port or free_port())]
    with tempfile.TemporaryFile("w+") as errors:
        # This interpreter running this checkout's sandbox: nothing here comes from outside.
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)  # noqa: S603
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], SERVE_READY_S)
            line = process.stdout.readline() if ready else ""
            if not line:
                errors.seek(0)
                raise RuntimeError(f"python -m sandbox serve did not start: {errors.read()[-2000:]}")
            document: dict[str, Any] = json.loads(line)
            yield document
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"python -m sandbox serve ended with exit code {process.returncode}")


def cli_command() -> list[str]:
    """The console script make install puts beside this Python, else the same package run as a module."""
    script = Path(sys.executable).with_name("contact-jobs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "contact_jobs_cli"]


def cli_environment(served: dict[str, Any], **extra: str) -> dict[str, str]:
    """A person's shell after pasting what serve printed: its credentials, region and endpoint only."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    paths = [str(ROOT / "cli"), str(ROOT / "layers" / "contact_jobs")]
    env.update(
        AWS_ACCESS_KEY_ID=served["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=served["aws_secret_access_key"],
        AWS_DEFAULT_REGION=served["region"],
        CONTACT_JOBS_ENDPOINT_URL=served["endpoint_url"],
        PYTHONPATH=os.pathsep.join(paths),  # for the module fallback; the installed script ignores it
    )
    env.update(extra)
    return env


def run_step(served: dict[str, Any], step: Sequence[str]) -> int:
    """One CLI command as a person types it, its output to this terminal; its exit code."""
    print(f"\n$ contact-jobs {' '.join(step)}", flush=True)
    command = [*cli_command(), *step]  # the steps are this module's own
    return subprocess.run(command, cwd=ROOT, env=cli_environment(served)).returncode  # noqa: S603


def drive(served: dict[str, Any], steps: Sequence[Sequence[str]]) -> int:
    """Run each CLI command in turn (output to this terminal); the first non-zero exit code, else 0."""
    for step in steps:
        code = run_step(served, step)
        if code != 0:
            return code
    return 0


def newest_backup(served: dict[str, Any]) -> str:
    """The id of the newest complete backup, as a script would read it: `contact-jobs backups --json`."""
    command = [*cli_command(), "backups", "--json"]
    listed = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=cli_environment(served), capture_output=True, text=True, check=True
    )
    complete = [row for row in json.loads(listed.stdout)["backups"] if row["complete"]]
    if not complete:
        raise RuntimeError("the backup left no complete backup to verify")
    return str(complete[0]["id"])


def control(served: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """A sandbox-only control of the served stack (sandbox/serve_control.py): not the CLI, not AWS."""
    answer = requests.request(method, served["control_url"] + path, timeout=60)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def demo_steps(workdir: Path, served: dict[str, Any]) -> list[list[str]]:
    """The steps up to the backup; the rest (verify, restore) need the backup's id."""
    contacts = workdir / "spring.csv"
    contacts.write_bytes(import_csv(2000, 3))
    return [
        ["status"],
        ["import", str(contacts), "--provider", "sendgrid", "--list", served["sendgrid_list_id"], "--watch"],
        ["backup", "--watch"],
        ["backups"],
    ]


def round_trip(served: dict[str, Any]) -> int:
    """Verify the newest backup, restore it into an empty account, and compare the two accounts."""
    backup_id = newest_backup(served)
    code = run_step(served, ["verify", backup_id, "--watch"])
    if code != 0:
        return code
    print("\n== sandbox only (not the CLI): the fake SendGrid's account is swapped for an empty one ==")
    swapped = control(served, "POST", "/sendgrid/account/empty")
    print(f"account A ({swapped['contacts_kept']} contacts) put aside; account B is empty", flush=True)
    restore = ["restore", backup_id, "--list", served["sendgrid_list_id"], "--create-missing-fields"]
    code = drive(served, [[*restore, "--watch"], ["backups"]])
    if code != 0:
        return code
    compared = control(served, "GET", "/sendgrid/account/compare")
    print(
        f"\naccount B holds {compared['contacts_now']} contacts, A held {compared['contacts_kept']}; "
        f"B equals A field by field: {compared['equal']}"
        + (
            f" ({compared['mismatch_count']} differ, e.g. {compared['mismatches'][:3]})"
            if not compared["equal"]
            else ""
        ),
        flush=True,
    )
    return 0 if compared["equal"] else 1


def main() -> int:
    if shutil.which("contact-jobs") is None and not Path(sys.executable).with_name("contact-jobs").exists():
        print("(contact-jobs is not installed in this environment: running python -m contact_jobs_cli)")
    started = time.monotonic()
    print("== python -m sandbox serve: the local stack, served on 127.0.0.1 ==", flush=True)
    with served_process() as served, tempfile.TemporaryDirectory() as workdir:
        try:
            code = drive(served, demo_steps(Path(workdir), served)) or round_trip(served)
        except (RuntimeError, subprocess.CalledProcessError, requests.RequestException) as exc:
            print(f"demo step failed: {exc}", file=sys.stderr, flush=True)
            code = 1
    outcome = "every step succeeded" if code == 0 else f"a step failed (exit code {code})"
    print(f"\ndemo over in {time.monotonic() - started:.0f} s: {outcome}", flush=True)
    return code
