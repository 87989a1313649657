"""The state machine definition: one lane per operation, one Retry and Catch policy, bounded loops, and
wired only through substitutions (function ARNs, and Task timeouts from the template's one table)."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.stack import asl_definition, placeholder_arns
from sandbox.template import Template

ASL = Path(__file__).resolve().parents[2] / "statemachine" / "contact_jobs.asl.json"
LAYER_ERRORS = {"TransientError", "CopyFailed", "DownloadUrlExpired", "RateLimited"}
MACHINE = "ContactJobsStateMachine"
# A Task outlives its function by this much: Step Functions does not stop a Lambda whose Task timed out.
TASK_TIMEOUT_MARGIN_S = 60


# Lanes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    entry: str  # the lane's first state: where WhichOperation sends its operation
    on_failure: str  # where its Tasks' errors go: the lane's own clean-up, or straight to NotifyFailed


# One line per operation: a new operation (verify, restore) is a new lane here and in the definition.
LANES = {
    "import": Lane(entry="PrepareImport", on_failure="NotifyFailed"),
    "backup": Lane(entry="StartExport", on_failure="DiscardPartialBackup"),
    "verify": Lane(entry="StartVerify", on_failure="NotifyFailed"),
    "restore": Lane(entry="StartRestore", on_failure="NotifyFailed"),
}
# What every lane shares: the failure notification, the end states, and the rate-limit wait, which a
# lane's <Task>RateLimited enters and ResumeAfterRateLimit leaves (back to that Task).
# Besides, two runs of steps that behave the same for several operations: reading a backup back (a
# backup's last step, a verify, a restore's first) and sending an import (an import's, a restore's).
SHARED_ENTRIES = ("NotifyFailed", "Done", "CountRateLimitWait", "VerifyBackup", "SendImport")
RESUME = "ResumeAfterRateLimit"


def all_states(states: dict) -> dict:
    found = {}
    for name, state in states.items():
        found[name] = state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found.update(all_states(processor["States"]))
    return found


def transitions(state: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Every state this one can go to, with the Choice rule that leads there (None for other edges)."""
    for rule in state.get("Choices", []):
        yield rule["Next"], rule
    for catcher in state.get("Catch", []):
        yield catcher["Next"], None
    for key in ("Next", "Default"):
        if key in state:
            yield state[key], None


def reachable(states: dict, starts: tuple[str, ...], stop: set[str], leave: tuple[str, ...] = ()) -> set[str]:
    """States reachable from ``starts`` without entering ``stop`` or going on from ``leave``."""
    seen, todo = set(), [s for s in starts if s not in stop]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in leave:
            todo += [n for n, _ in transitions(states[name]) if n not in stop and n not in seen]
    return seen


@pytest.fixture(scope="module")
def template() -> Template:
    loaded = Template.load()
    placeholder_arns(loaded)
    return loaded


@pytest.fixture(scope="module")
def definition(template) -> dict:
    """The definition as deployed: the template's substitutions applied (Task timeouts are among them)."""
    loaded: dict = json.loads(asl_definition(template, MACHINE))
    return loaded


@pytest.fixture(scope="module")
def states(definition) -> dict:
    return all_states(definition["States"])


@pytest.fixture(scope="module")
def top(definition) -> dict:
    """The top-level states (the Map's iteration states are not part of any lane's graph)."""
    found: dict = definition["States"]
    return found


@pytest.fixture(scope="module")
def shared(top) -> set[str]:
    return reachable(top, SHARED_ENTRIES, stop=set(), leave=(RESUME,))


@pytest.fixture(scope="module")
def lanes(top, shared) -> dict[str, set[str]]:
    return {operation: reachable(top, (lane.entry,), stop=shared) for operation, lane in LANES.items()}


def test_which_operation_starts_each_lane_at_its_entry(top):
    choices = top["WhichOperation"]["Choices"]
    started = {
        rule["StringEquals"]: rule["Next"] for rule in choices if rule.get("Variable") == "$.operation"
    }
    assert started == {operation: lane.entry for operation, lane in LANES.items()}


def test_lanes_share_no_state_outside_the_shared_ends(lanes):
    operations = list(lanes)
    for index, operation in enumerate(operations):
        for other in operations[index + 1 :]:
            assert lanes[operation] & lanes[other] == set(), (operation, other)


def test_every_state_is_the_start_a_lane_or_shared(top, lanes, shared):
    lane_states = set().union(*lanes.values())
    start = reachable(top, (next(iter(top)),), stop=lane_states | shared)
    assert set(top) == start | lane_states | shared
    assert start == {"RecordExecution", "WhichOperation", "UnknownOperation"}


def test_an_import_never_passes_the_backups_clean_up(lanes, shared):
    assert "DiscardPartialBackup" in lanes["backup"]
    assert "DiscardPartialBackup" not in lanes["import"] | shared


def test_the_execution_is_read_once_at_the_start_and_passed_from_the_state(definition, states):
    first = definition["States"][definition["StartAt"]]
    assert first["ResultPath"] == "$.execution"
    assert set(first["Parameters"].values()) == {
        "$$.Execution.Name", "$$.Execution.Id", "$$.Execution.StartTime",
    }  # fmt: skip
    elsewhere = {name for name, s in states.items() if s is not first and "$$.Execution" in json.dumps(s)}
    assert elsewhere == set()
    passed = [
        s["Parameters"]["execution.$"] for s in states.values() if "execution.$" in s.get("Parameters", {})
    ]
    assert passed
    assert set(passed) == {"$.execution"}


# The Retry and Catch policy ------------------------------------------------------------------------------

BACKOFF = {"BackoffRate": 2, "JitterStrategy": "FULL"}
TRANSIENT = {
    "ErrorEquals": ["TransientError", "States.Timeout"],
    "IntervalSeconds": 5, "MaxAttempts": 4, **BACKOFF, "MaxDelaySeconds": 120,
}  # fmt: skip
LAMBDA_SERVICE = {
    "ErrorEquals": [
        "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException", "Lambda.Unknown",
    ],
    "IntervalSeconds": 2, "MaxAttempts": 5, **BACKOFF, "MaxDelaySeconds": 60,
}  # fmt: skip
# Every Task retries these, in this order; then catches everything into $.error and its lane's on_failure.
CANONICAL_RETRY = [TRANSIENT, LAMBDA_SERVICE]


@dataclass(frozen=True)
class Variant:
    """A declared way a Task differs from the canonical policy, and why."""

    why: str
    retry_first: tuple[dict[str, Any], ...] = ()  # retriers before the canonical ones
    catch_first: tuple[dict[str, Any], ...] = ()  # catchers before States.ALL ({task}: the Task's name)
    on_error: tuple[str, str] | None = None  # the States.ALL catcher's (ResultPath, Next), not the lane's


RATE_LIMITED = Variant(
    "calls a provider whose rate-limit reset can outlast a Lambda: RateLimited waits in the state machine",
    catch_first=(
        {"ErrorEquals": ["RateLimited"], "ResultPath": "$.rate_limit.error", "Next": "{task}RateLimited"},
    ),
)
DOWNLOADS = Variant(
    "streams a provider URL: a short copy or a lapsed URL is tried once more (the URL read afresh)",
    retry_first=(
        {
            "ErrorEquals": ["CopyFailed", "DownloadUrlExpired"],
            "IntervalSeconds": 5, "MaxAttempts": 2, **BACKOFF, "MaxDelaySeconds": 60,
        },
    ),
)  # fmt: skip
COPY_IS_A_RESULT = Variant(
    "a failed copy is the iteration's result, so the Map ends only when every copy has ended",
    on_error=("$.error", "FileNotCopied"),
)
REPORT_IS_A_WARNING = Variant(
    "the rows are imported already: an error report that cannot be copied is a warning in the outcome",
    on_error=("$.errors_report_error", "NotifyImportOutcome"),
)
DISCARD_STILL_NOTIFIES = Variant(
    "a discard that fails keeps the backup's own error and still notifies",
    on_error=("$.discard_error", "NotifyFailed"),
)
NOTIFICATION = Variant(
    "a notification that fails cannot notify: the failed-executions alarm is the last resort",
    on_error=("$.error", "NotificationFailed"),
)
DECLARED: dict[str, tuple[Variant, ...]] = {
    "PrepareImport": (RATE_LIMITED,),
    "SendImport": (RATE_LIMITED,),
    "CheckImport": (RATE_LIMITED,),
    "CopyImportErrors": (DOWNLOADS, RATE_LIMITED, REPORT_IS_A_WARNING),
    "NotifyImportOutcome": (NOTIFICATION,),
    "StartExport": (RATE_LIMITED,),
    "PrepareRestore": (RATE_LIMITED,),
    "CheckExport": (RATE_LIMITED,),
    "CopyExportFile": (DOWNLOADS, COPY_IS_A_RESULT),
    "DiscardPartialBackup": (DISCARD_STILL_NOTIFIES,),
    "NotifyCompleted": (NOTIFICATION,),
    "NotifyFailed": (NOTIFICATION,),
}
RAW = all_states(json.loads(re.sub(r": \$\{(\w+)\}", r': "\1"', ASL.read_text()))["States"])  # unsubstituted
TASKS = sorted(name for name, state in RAW.items() if state["Type"] == "Task")


def expected_policy(task: str, lanes: dict[str, set[str]]) -> tuple[list[dict], list[dict]]:
    """The Retry and Catch a Task must carry: the canonical policy with its declared variants."""
    variants = DECLARED.get(task, ())
    retry = [r for v in variants for r in v.retry_first] + CANONICAL_RETRY
    first = [{**c, "Next": c["Next"].format(task=task)} for v in variants for c in v.catch_first]
    overridden = [v.on_error for v in variants if v.on_error]
    assert len(overridden) <= 1, f"{task}: more than one variant says where its errors go"
    if overridden:
        result_path, on_error = overridden[0]
    else:
        owners = [op for op, members in lanes.items() if task in members]  # none: a shared step
        result_path, on_error = "$.error", LANES[owners[0]].on_failure if owners else "NotifyFailed"
    return retry, [*first, {"ErrorEquals": ["States.ALL"], "ResultPath": result_path, "Next": on_error}]


@pytest.mark.parametrize("task", TASKS)
def test_every_task_carries_the_canonical_retry_and_catch_or_its_declared_variant(task, states, lanes):
    retry, catch = expected_policy(task, lanes)
    assert states[task]["Retry"] == retry
    assert states[task]["Catch"] == catch


def test_every_declared_variant_is_for_a_task_that_exists():
    assert set(DECLARED) <= set(TASKS)


def test_a_failed_copy_is_an_iteration_result_not_a_map_failure(states):
    not_copied = states[states["CopyExportFile"]["Catch"][-1]["Next"]]
    assert not_copied["Type"] == "Pass"
    assert not_copied["End"]


# Bounds, timeouts, substitutions ----------------------------------------------------------------------


def is_bounded(rule: dict[str, Any] | None) -> bool:
    """A Choice rule that holds only while a number stays under a limit (directly or in an And)."""
    if rule is None:
        return False
    conditions = rule.get("And", [rule])
    return any({"NumericLessThan", "NumericLessThanEquals"} & set(c) for c in conditions)


def test_every_loop_passes_a_numeric_bound(states):
    """Without the edges a bounded Choice rule takes, no state can be reached again."""
    unbounded = {
        name: [n for n, rule in transitions(s) if not is_bounded(rule)] for name, s in states.items()
    }
    finished: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"an unbounded loop: {' -> '.join((*path[path.index(name) :], name))}"
        if name not in finished:
            for following in unbounded[name]:
                visit(following, (*path, name))
            finished.add(name)

    for name in states:
        visit(name, ())


def test_every_choice_has_a_default(states):
    for name, state in states.items():
        if state["Type"] == "Choice":
            assert state.get("Default"), name


def _logical(reference: Any) -> str:
    """The logical id in a !GetAtt as cfn-lint's loader reads it (a list, or 'Name.Attribute')."""
    target = reference["Fn::GetAtt"]
    return str(target[0] if isinstance(target, list) else target.split(".")[0])


def test_every_task_and_its_function_read_one_row_of_the_timeouts_table(states, template):
    body = template.body
    table = body["Mappings"]["WorkflowTimeouts"]
    substitutions = body["Resources"][MACHINE]["Properties"]["DefinitionSubstitutions"]
    for task in TASKS:
        timeout = substitutions[RAW[task]["TimeoutSeconds"]]["Fn::FindInMap"]
        row = timeout[1]
        assert timeout == ["WorkflowTimeouts", row, "TaskS"], task
        function = _logical(substitutions[re.fullmatch(r"\$\{(\w+)\}", RAW[task]["Resource"]).group(1)])
        assert body["Resources"][function]["Properties"]["Timeout"] == {
            "Fn::FindInMap": ["WorkflowTimeouts", row, "FunctionS"]
        }, task
        assert states[task]["TimeoutSeconds"] == table[row]["TaskS"], task


def test_every_task_outlives_its_functions_timeout(template):
    for row, timeouts in template.body["Mappings"]["WorkflowTimeouts"].items():
        assert timeouts["TaskS"] == timeouts["FunctionS"] + TASK_TIMEOUT_MARGIN_S, row


def test_no_hard_coded_arns():
    text = ASL.read_text()
    assert not re.search(r'"TimeoutSeconds": \d', text), "Task timeouts come from the template"
    assert "arn:aws:lambda" not in text
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    substitutions = Template.load().body["Resources"][MACHINE]["Properties"]["DefinitionSubstitutions"]
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
