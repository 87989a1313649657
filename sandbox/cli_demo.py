"""The local stack served in a process of its own, driven by the contact-jobs CLI as a person drives it.

``served_process`` starts ``python -m sandbox serve`` and stops it with SIGTERM; ``cli_command`` and
``cli_environment`` say how to run the CLI against it; ``drive`` runs a list of CLI commands, their output
going to the terminal. ``python -m sandbox cli-demo`` is what ``make demo`` can become once restore and
verify exist (issue 13 adds them to ``DEMO_STEPS``).
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def drive(served: dict[str, Any], steps: Sequence[Sequence[str]]) -> int:
    """Run each CLI command in turn (output to this terminal); the first non-zero exit code, else 0."""
    for step in steps:
        print(f"\n$ contact-jobs {' '.join(step)}", flush=True)
        command = [*cli_command(), *step]  # the steps are this module's own
        code = subprocess.run(command, cwd=ROOT, env=cli_environment(served)).returncode  # noqa: S603
        if code != 0:
            return code
    return 0


def demo_steps(workdir: Path, served: dict[str, Any]) -> list[list[str]]:
    contacts = workdir / "spring.csv"
    contacts.write_bytes(import_csv(2000, 3))
    return [
        ["status"],
        ["import", str(contacts), "--provider", "sendgrid", "--list", served["sendgrid_list_id"], "--watch"],
        ["backup", "--watch"],
        ["backups"],
        # issue 13: ["verify", "<backup id>", "--watch"], ["restore", "<backup id>", "--list", "…", "--watch"]
    ]


def main() -> int:
    if shutil.which("contact-jobs") is None and not Path(sys.executable).with_name("contact-jobs").exists():
        print("(contact-jobs is not installed in this environment: running python -m contact_jobs_cli)")
    with served_process() as served, tempfile.TemporaryDirectory() as workdir:
        return drive(served, demo_steps(Path(workdir), served))
