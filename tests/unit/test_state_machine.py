"""The state machine definition: readable, bounded, and wired only through substitutions."""

import json
import re
from pathlib import Path

import pytest

from sandbox.stack import asl_definition, placeholder_arns
from sandbox.template import Template

ASL = Path(__file__).resolve().parents[2] / "statemachine" / "contact_jobs.asl.json"
LAYER_ERRORS = {"TransientError", "CopyFailed", "DownloadUrlExpired", "RateLimited"}
MACHINE = "ContactJobsStateMachine"
# A Task outlives its function by this much: Step Functions does not stop a Lambda whose Task timed out.
TASK_TIMEOUT_MARGIN_S = 60


def all_states(states: dict) -> dict:
    found = {}
    for name, state in states.items():
        found[name] = state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found.update(all_states(processor["States"]))
    return found


@pytest.fixture(scope="module")
def template() -> Template:
    loaded = Template.load()
    placeholder_arns(loaded)
    return loaded


@pytest.fixture(scope="module")
def states(template) -> dict:
    """The definition as deployed: the template's substitutions applied (Task timeouts are among them)."""
    return all_states(json.loads(asl_definition(template, MACHINE))["States"])


def _function_timeout(template: Template, placeholder: str) -> int:
    logical = placeholder.removesuffix("Arn")
    properties = template.body["Resources"][logical]["Properties"]
    return int(properties.get("Timeout") or template.body["Globals"]["Function"]["Timeout"])


def test_every_task_outlives_its_functions_timeout(states, template):
    raw = all_states(json.loads(re.sub(r"\$\{(\w+TaskTimeoutS)\}", r'"\1"', ASL.read_text()))["States"])
    for name, task in ((n, s) for n, s in states.items() if s["Type"] == "Task"):
        assert raw[name]["TimeoutSeconds"].endswith("TaskTimeoutS"), f"{name}: a literal timeout"
        placeholder = re.fullmatch(r"\$\{(\w+)\}", raw[name]["Resource"]).group(1)
        function_timeout = _function_timeout(template, placeholder)
        assert task["TimeoutSeconds"] >= function_timeout + TASK_TIMEOUT_MARGIN_S, (name, function_timeout)


def test_a_failed_copy_is_an_iteration_result_not_a_map_failure(states):
    copy = states["CopyExportFile"]
    assert copy["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "FileNotCopied"}
    ]
    assert states["FileNotCopied"]["Type"] == "Pass"
    assert states["FileNotCopied"]["End"]
    assert states["CopyExportFiles"]["Next"] == "FindFailedCopies"


def test_every_task_has_retry_and_catch(states):
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert len(tasks) >= 7
    for name, task in tasks.items():
        assert task.get("Retry"), name
        assert task.get("Catch"), name
        assert all(r.get("JitterStrategy") == "FULL" and r["MaxAttempts"] <= 6 for r in task["Retry"]), name


def test_every_choice_has_a_default(states):
    for name, state in states.items():
        if state["Type"] == "Choice":
            assert state.get("Default"), name


def test_poll_loop_and_restart_loop_are_bounded_in_the_definition(states):
    poll = states["IsJobFinished"]["Choices"][0]["And"]
    assert {"Variable": "$.job.poll.attempt", "NumericLessThan": 500} in poll
    assert states["CanRestartExport"]["Choices"][0]["NumericLessThan"] == 2


def test_no_hard_coded_arns():
    text = ASL.read_text()
    assert not re.search(r'"TimeoutSeconds": \d', text), "Task timeouts come from the template"
    assert "arn:aws:lambda" not in text
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    substitutions = Template.load().body["Resources"]["ContactJobsStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]
    assert placeholders == set(substitutions)


def test_retried_and_caught_error_names_exist_in_the_layer(states):
    from contact_jobs import errors

    named = {
        error
        for s in states.values()
        for r in s.get("Retry", []) + s.get("Catch", [])
        for error in r["ErrorEquals"]
    }
    custom = {name for name in named if not name.startswith(("States.", "Lambda."))}
    assert custom == LAYER_ERRORS
    assert all(hasattr(errors, name) for name in custom)
    assert "'ExportExpired'" in json.dumps(states["FindFailedCopies"])
    assert hasattr(errors, "ExportExpired")


def test_state_payloads_never_carry_download_urls(states):
    selector = states["CopyExportFiles"]["ItemSelector"]
    assert "url" not in json.dumps(selector).lower()
