"""--watch: follow an execution until it ends. On a terminal, a live Rich status line (the state, the current
wait and when it ends, files and bytes copied, counts) under the states as they are entered; on a pipe,
the same as plain lines, without control characters."""

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from contact_jobs_cli import history

POLL_ENV = "CONTACT_JOBS_POLL_SECONDS"  # how often --watch reads the history (default 2 s)


def poll_seconds() -> float:
    try:
        return max(0.05, float(os.environ.get(POLL_ENV, "2")))
    except ValueError:
        return 2.0


class Progress:
    """Turns each new read of the history into the lines not yet shown, in the order they happened."""

    def __init__(self) -> None:
        self.shown = 0

    def lines(self, timeline: history.Timeline) -> list[str]:
        new = timeline.log[self.shown :]
        self.shown = len(timeline.log)
        return new


def describe_wait(wait: dict[str, Any]) -> str:
    seconds = wait.get("seconds")
    if seconds is None:
        return f"waiting in {wait['state']}"
    until = f" (until {wait['ends_at'][11:19]} UTC)" if wait.get("ends_at") else ""
    return f"waiting {seconds:g} s in {wait['state']}{until}"


def status_line(described: dict[str, Any], timeline: history.Timeline) -> str:
    current = timeline.states[-1]["name"] if timeline.states else "starting"
    parts = [f"{described['name']}: {current}"]
    if timeline.waits and timeline.states and timeline.states[-1]["type"] == "Wait":
        parts.append(describe_wait(timeline.waits[-1]))
    if timeline.files_copied:
        parts.append(f"{timeline.files_copied} files, {timeline.bytes_copied:,} bytes copied")
    if timeline.counts:
        parts.append(counts_text(timeline.counts))
    return " · ".join(parts)


def counts_text(counts: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in counts.items() if value is not None)


def outcome_lines(job: dict[str, Any]) -> list[str]:
    note = job.get("notification") or {}
    event_type = note.get("event_type") or job.get("outcome") or "no notification"
    lines = [
        f"{job['status']}: {event_type}" + (f" ({counts_text(job['counts'])})" if job.get("counts") else "")
    ]
    if job.get("error"):
        lines.append(f"error: {job['error'].get('type')}: {job['error'].get('message')}")
    for warning in note.get("warnings") or []:
        lines.append(f"warning: {warning}")
    s3 = note.get("s3") or {}
    where = f"s3://{s3['bucket']}/" if s3.get("bucket") else ""
    for key in s3.get("errors_keys") or []:
        lines.append(f"rows the provider refused: {where}{key}")
    lines += verify_lines(note.get("verify"))
    if s3.get("manifest_key"):  # last: the line a person copies
        lines.append(f"manifest: {where}{s3['manifest_key']}")
    if note.get("plan"):
        plan = note["plan"]
        lines.append(f"dry run, nothing sent: {plan['files']} files, {plan['contacts']} contacts, "
                     f"{plan['imports']} imports")  # fmt: skip
        columns = ", ".join(f"{c} -> {f or 'skipped'}" for c, f in (plan.get("columns") or {}).items())
        lines.append(f"columns: {columns}" if columns else "columns: none")
    return lines


def verify_lines(verified: dict[str, Any] | None) -> list[str]:
    """What reading the backup back found: the totals, or each file that does not match and how."""
    if not verified:
        return []
    if verified.get("verified"):
        rows = f", {verified['rows']} rows" if verified.get("rows") is not None else ""
        size = f"{verified.get('bytes') or 0:,} bytes"
        return [f"verified: {verified['files']} files, {size}{rows} as the manifest states"]
    lines = [f"NOT verified: {verified.get('problem_count', 0)} problems"]
    lines += [f"  {problem['file']}: {problem['problem']}" for problem in verified.get("problems") or []]
    return lines


def follow(sfn: Any, described: dict[str, Any], show: bool = True) -> dict[str, Any]:
    """Poll until the execution ends; the final job document. ``show``: print progress (not with --json)."""
    if not show:
        return _poll(sfn, described, lambda *_: None)
    if sys.stdout.isatty():
        return _live(sfn, described)
    return _poll(sfn, described, lambda lines, _: [print(line, flush=True) for line in lines])


def _poll(sfn: Any, described: dict[str, Any], emit: Callable[[list[str], str], Any]) -> dict[str, Any]:
    progress = Progress()
    definition = history._definition(sfn, described)
    while True:
        described = sfn.describe_execution(executionArn=described["executionArn"])
        timeline = history.Timeline(history.events(sfn, described["executionArn"]), definition)
        emit(progress.lines(timeline), status_line(described, timeline))
        if described["status"] != "RUNNING":
            return history.summary(described, timeline)
        time.sleep(poll_seconds())


def _live(sfn: Any, described: dict[str, Any]) -> dict[str, Any]:
    console = Console()
    spinner = Spinner("dots", text=Text(f"{described['name']}: starting"))
    with Live(spinner, console=console, refresh_per_second=8, transient=True) as live:

        def emit(lines: list[str], status: str) -> None:
            for line in lines:
                live.console.print(Text(f"{datetime.now(UTC):%H:%M:%S} {line}"))
            spinner.update(text=Text(status))

        return _poll(sfn, described, emit)
