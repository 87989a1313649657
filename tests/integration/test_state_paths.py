"""Every JSONPath the state machine reads resolves in states the code really produced: an import, a
backup that is rate limited and restarted, and an upload refused at once, run through the sandbox; their
execution histories hold each state's input. A key renamed in the layer and not in the definition (or the
other way round) fails here, not in an execution."""

import json
import re
from typing import Any

import pytest

from sandbox.fake_sendgrid import FakeSendGridOptions
from sandbox.stack import deployed_definition

READ_FIELDS = ("Variable", "InputPath", "ItemsPath", "SecondsPath", "ErrorPath", "CausePath", "OutputPath")
PATH = re.compile(r"\$\$?(?:\.\w+|\[[^\]]*\])+")  # $.a.b[0], $.files[?(@.outcome == 'x')], $$.Map...
STEP = re.compile(r"\.(\w+)|\[([^\]]*)\]")


def machine_states(states: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for name, state in states.items():
        found[name] = state
        found.update(machine_states((state.get("ItemProcessor") or {}).get("States", {})))
    return found


def paths_read(state: dict[str, Any]) -> set[str]:
    """The JSONPaths a state reads (not ResultPath, which writes), intrinsic functions' arguments too."""
    found: set[str] = set()

    def visit(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                visit(value, name)
        elif isinstance(node, list):
            for value in node:
                visit(value, key)
        elif isinstance(node, str) and (key in READ_FIELDS or key.endswith(".$")):
            found.update(PATH.findall(node))

    visit({k: v for k, v in state.items() if k != "ItemProcessor"})
    return found


def select(path: str, document: Any) -> list[Any]:
    """What ``path`` names in ``document``; an index, ``[*]`` or a filter stands for every element (the
    check is of the keys, whatever the lists hold in this run)."""
    nodes = [document]
    for key, _ in STEP.findall(path.removeprefix("$$.Map.Item.Value").removeprefix("$")):
        following = []
        for node in nodes:
            if key and isinstance(node, dict) and key in node:
                following.append(node[key])
            elif not key and isinstance(node, list):
                following.extend(node)
        nodes = following
    return nodes


def resolves(path: str, document: Any) -> bool:
    return bool(select(path, document))


def selected(path: str, documents: list[Any]) -> list[Any]:
    return [node for document in documents for node in select(path, document)]


def recorded_inputs(runs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Each state's inputs, by state name, from the runs' execution histories."""
    inputs: dict[str, list[Any]] = {}
    for history in (h for run in runs for h in run["history"]):
        for event in history["events"]:
            details = event.get("stateEnteredEventDetails")
            if details and details.get("input") is not None:
                inputs.setdefault(details["name"], []).append(json.loads(details["input"]))
    return inputs


@pytest.fixture(scope="module")
def runs() -> list[dict[str, Any]]:
    from sandbox.import_runner import ImportScenario, run_import
    from sandbox.restore_runner import RoundTrip, run_round_trip
    from sandbox.runner import BackupScenario, run_backup

    fake = FakeSendGridOptions(import_ready_after_s=0.05, export_ready_after_s=0.05)
    quiet = lambda line: None  # noqa: E731
    limited = FakeSendGridOptions(
        export_ready_after_s=0.05, rate_limit_calls=frozenset({1}), rate_limit_reset_s=30
    )
    return [
        run_import(ImportScenario(fake=fake, contacts=20, invalid_rows=2), say=quiet),
        run_import(
            ImportScenario(fake=fake, key="imports/sendgrid/contacts.csv", body=b"email\n"), say=quiet
        ),
        run_backup(
            BackupScenario(fake=limited, contacts=3000, max_file_size_mb=1, expire_urls_after_s=0), quiet
        ),
        {**run_round_trip(RoundTrip(contacts=200, file_type="json"), quiet), "status": "SUCCEEDED"},
        {**run_round_trip(RoundTrip(contacts=200, dry_run=True), quiet), "status": "SUCCEEDED"},
        {**run_round_trip(RoundTrip(contacts=200, tamper="byte"), quiet), "status": "SUCCEEDED"},
    ]


@pytest.mark.slow
def test_every_path_the_definition_reads_resolves_in_a_recorded_state(runs):
    assert [run["status"] for run in runs[:3]] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    inputs = recorded_inputs(runs)
    everything = [document for documents in inputs.values() for document in documents]
    unresolved = []
    for name, state in machine_states(json.loads(deployed_definition())["States"]).items():
        own = inputs.get(name, [])
        # Paths read after an InputPath are read in what it selects; a Map's item in what ItemsPath does.
        given = selected(state.get("InputPath", "$"), own or everything)
        items = [item for node in selected(state.get("ItemsPath", "$"), own or everything) for item in node]
        for path in sorted(paths_read(state) - {state.get("InputPath")}):
            if path.startswith("$$."):
                candidates = items if path.startswith("$$.Map.Item.Value") else [{"Execution": {}}]
            else:  # a key a Choice finds absent here (IsPresent) must still exist in some recorded state
                candidates = given if "InputPath" in state else [*own, *everything]
            if not any(resolves(path, c) for c in candidates) and not path.startswith("$$.Execution."):
                unresolved.append(f"{name}: {path}")
    assert not unresolved, "\n".join(unresolved)
    assert {"IsImportFinished", "IsExportReady", "SendImport", "CopyExportFiles", "FileNotCopied",
            "CanRestartExport", "IsDryRun", "BackupNotVerified", "AfterVerify"} <= set(inputs)  # fmt: skip


def test_a_renamed_key_is_a_path_that_does_not_resolve():
    produced = {"job": {"status": "running", "poll": {"attempt": 1}}, "files": [{"outcome": "copied"}]}
    assert resolves("$.job.status", produced)
    assert resolves("$.files[?(@.outcome == 'ExportExpired')]", produced)
    assert not resolves("$.job.state", produced)
    assert not resolves("$.files[*].error", produced)
