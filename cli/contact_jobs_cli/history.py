"""A job as its execution history tells it: states, waits, retries, failures, counts, error, notification.

Read generically (state names come from the history, Wait durations from the definition's Seconds or
SecondsPath), so a state renamed or added in the definition needs no change here.
"""

import json
from datetime import datetime, timedelta
from typing import Any

from contact_jobs_cli import layer
from contact_jobs_cli.errors import USAGE, CliError

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
SCHEDULED = ("LambdaFunctionScheduled", "TaskScheduled")
FAILED_EVENTS = ("LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskFailed", "TaskTimedOut")
SUCCEEDED_EVENTS = ("LambdaFunctionSucceeded", "TaskSucceeded")


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def describe(sfn: Any, state_machine_arn: str, name: str) -> dict[str, Any]:
    try:
        described: dict[str, Any] = sfn.describe_execution(
            executionArn=execution_arn(state_machine_arn, name)
        )
    except sfn.exceptions.ExecutionDoesNotExist as exc:
        raise CliError(
            "JobNotFound", f"job {name!r} not found: list jobs with `contact-jobs jobs`", USAGE
        ) from exc
    return described


def events(sfn: Any, arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return [event for page in pages for event in page["events"]]


def row(described: dict[str, Any]) -> dict[str, Any]:
    """What a list of jobs shows of one execution."""
    started = _input(described)
    return {
        "name": described["name"],
        "operation": started.get("operation"),
        "provider": started.get("provider"),
        "status": described["status"],
        "started_at": _iso(described.get("startDate")),
        "stopped_at": _iso(described.get("stopDate")),
    }


def _input(described: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(described.get("input") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


row_input = _input  # the execution's input, as the CLI's restore compares a repeated request with it


def _details(event: dict[str, Any]) -> dict[str, Any]:
    """An event's one ``…EventDetails`` object (its name depends on the event's type)."""
    found: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
    return found


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value else None)


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def wait_seconds(definition: dict[str, Any], state: str, state_input: Any) -> float | None:
    """What a Wait state asks for: its Seconds, or the value its SecondsPath names in its input."""
    spec = _find_state(definition.get("States", {}), state)
    if spec is None or spec.get("Type") != "Wait":
        return None
    if "Seconds" in spec:
        return float(spec["Seconds"])
    path = str(spec.get("SecondsPath", ""))
    value: Any = state_input
    for part in path.removeprefix("$.").split(".") if path.startswith("$.") else []:
        value = value.get(part) if isinstance(value, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _find_state(states: dict[str, Any], name: str) -> dict[str, Any] | None:
    if name in states:
        found: dict[str, Any] = states[name]
        return found
    for spec in states.values():
        inner = spec.get("ItemProcessor") or spec.get("Iterator")
        branches = [inner] if inner else spec.get("Branches", [])
        for branch in branches:
            hit = _find_state(branch.get("States", {}), name)
            if hit:
                return hit
    return None


class Timeline:
    """The history read once, in order; each event attributed to the state it happened in."""

    def __init__(self, history: list[dict[str, Any]], definition: dict[str, Any]) -> None:
        self.definition = definition
        self.states: list[dict[str, Any]] = []
        self.waits: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}
        self.entries: dict[str, int] = {}
        self.notification: dict[str, Any] | None = None
        self.counts: dict[str, Any] | None = None
        self.bytes_copied = 0
        self.files_copied = 0
        self.execution_error: dict[str, str] | None = None
        self.log: list[str] = []  # what --watch prints, in the order it happened
        self._state_of: dict[int, str] = {}
        self._notify_input: dict[int, dict[str, Any]] = {}
        for event in history:
            self._read(event)

    def _read(self, event: dict[str, Any]) -> None:
        kind, number = event["type"], int(event["id"])
        state = self._state_of.get(int(event.get("previousEventId") or 0))
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            state = details["name"]
            self.entries[state] = self.entries.get(state, 0) + 1
            self.states.append(
                {
                    "name": state,
                    "type": kind.removesuffix("StateEntered"),
                    "entered_at": _iso(event["timestamp"]),
                }
            )
            self.log.append(f"-> {state}")
            if kind == "WaitStateEntered":
                self._wait(state, event, details)
        if state:
            self._state_of[number] = state
        if kind in SCHEDULED:
            self._scheduled(state or "?", number, event)
        elif kind in FAILED_EVENTS:
            details = _details(event)
            self.failures.append(
                {
                    "state": state,
                    "error": details.get("error"),
                    "cause": str(details.get("cause") or "")[:500],
                }
            )
            self.log.append(f"   {state}: {details.get('error')} (retried, or caught by the state machine)")
        elif kind in SUCCEEDED_EVENTS:
            self._succeeded(event)
        elif kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            details = _details(event)
            self.execution_error = {
                "type": str(details.get("error") or kind),
                "message": str(details.get("cause") or "")[:1000],
            }

    def _wait(self, state: str, event: dict[str, Any], details: dict[str, Any]) -> None:
        seconds = wait_seconds(self.definition, state, _json(details.get("input")))
        entered = event["timestamp"]
        ends = (
            entered + timedelta(seconds=seconds)
            if seconds is not None and isinstance(entered, datetime)
            else None
        )
        self.waits.append(
            {"state": state, "seconds": seconds, "entered_at": _iso(entered), "ends_at": _iso(ends)}
        )
        until = f" (until {ends:%H:%M:%S} UTC)" if ends else ""
        self.log.append(f"   waiting {seconds:g} s{until}" if seconds is not None else "   waiting")

    def _scheduled(self, state: str, number: int, event: dict[str, Any]) -> None:
        self.attempts[state] = self.attempts.get(state, 0) + 1
        details = _details(event)
        payload = _json(details.get("input") or details.get("parameters"))
        if isinstance(payload, dict) and "Payload" in payload:
            payload = payload["Payload"]
        if layer.is_notify_input(payload):
            self._notify_input[number] = payload

    def _succeeded(self, event: dict[str, Any]) -> None:
        details = _details(event)
        output = _json(details.get("output"))
        scheduled = self._scheduled_for(event)
        if scheduled in self._notify_input:
            document = layer.notification(self._notify_input[scheduled], _iso(event["timestamp"]) or "")
            if isinstance(output, dict) and output.get("message_id"):
                document["message_id"] = output["message_id"]
            self.notification = document
            self.counts = document.get("counts")
        elif isinstance(output, dict):
            if "sha256" in output and "bytes" in output:
                self.files_copied += 1
                self.bytes_copied += int(output.get("bytes") or 0)
                self.log.append(f"   copied {output.get('key')} ({int(output.get('bytes') or 0):,} bytes)")
            if isinstance(output.get("counts"), dict):
                self.counts = output["counts"]

    def _scheduled_for(self, event: dict[str, Any]) -> int | None:
        """The Scheduled event a Succeeded event answers (Succeeded -> Started -> Scheduled)."""
        previous = int(event.get("previousEventId") or 0)
        for candidate in (previous, previous - 1):
            if candidate in self._notify_input:
                return candidate
        return None

    def retries(self) -> list[dict[str, Any]]:
        found = []
        for state, attempts in self.attempts.items():
            extra = attempts - self.entries.get(state, 0)
            if extra > 0:
                errors = sorted({str(f["error"]) for f in self.failures if f["state"] == state})
                found.append({"state": state, "retries": extra, "errors": errors})
        return found


def job(sfn: Any, described: dict[str, Any]) -> dict[str, Any]:
    """One job in full (the ``job`` document)."""
    definition = _definition(sfn, described)
    timeline = Timeline(events(sfn, described["executionArn"]), definition)
    return summary(described, timeline)


def _definition(sfn: Any, described: dict[str, Any]) -> dict[str, Any]:
    machine = sfn.describe_state_machine(stateMachineArn=described["stateMachineArn"])
    parsed = _json(machine.get("definition"))
    return parsed if isinstance(parsed, dict) else {}


def summary(described: dict[str, Any], timeline: Timeline) -> dict[str, Any]:
    note = timeline.notification
    outcome = note["outcome"] if note else ("running" if described["status"] == "RUNNING" else None)
    error = (note or {}).get("error") or timeline.execution_error
    return {
        **row(described),
        "arn": described["executionArn"],
        "outcome": outcome,
        "states": timeline.states,
        "waits": timeline.waits,
        "retries": timeline.retries(),
        "failures": timeline.failures,
        "counts": timeline.counts,
        "bytes_copied": timeline.bytes_copied,
        "files_copied": timeline.files_copied,
        "error": error,
        "notification": note,
    }
