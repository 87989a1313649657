"""The few places where the sandbox reaches into moto (pinned in requirements-dev.txt).

moto runs Lambda code in Docker, which these machines do not have, and its state machine interpreter
really sleeps in Wait states and Retry back-offs. Each patch here has a smoke test
(tests/integration/test_moto_patches.py), so a moto upgrade that moves these internals fails loudly.
"""

import json
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

Handler = Callable[[dict[str, Any], Any], Any]
_running = threading.local()


def in_lambda_handler() -> bool:
    """True on a thread that is running an in-process handler (what it prints is the function's log)."""
    return bool(getattr(_running, "handler", False))


@dataclass
class LambdaContext:
    """What a handler (and Powertools) reads from the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


@dataclass
class Recorder:
    """What the interpreter asked for: Wait seconds and Retry intervals, in order."""

    time_scale: float
    waits: list[float] = field(default_factory=list)
    retry_intervals: list[float] = field(default_factory=list)
    invocations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class InProcessFunction:
    handler: Handler
    memory_mb: int
    timeout_s: int


def _invoke_in_process(functions: dict[str, InProcessFunction], recorder: Recorder) -> Callable[..., bytes]:
    def invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> bytes:
        target = functions[self.function_name]
        event = json.loads(body) if body else {}
        context = LambdaContext(self.function_name, target.memory_mb, target.timeout_s)
        with recorder.lock:
            recorder.invocations.append(self.function_name)
        _running.handler = True
        try:
            result = target.handler(event, context)
        except Exception as exc:
            # The shape Lambda gives an unhandled error: Step Functions matches Retry/Catch on errorType.
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        finally:
            _running.handler = False
        return json.dumps(result).encode()

    return invoke


def _scaled_wait(recorder: Recorder) -> Callable[..., None]:
    def wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        with recorder.lock:
            recorder.waits.append(wait_seconds)
        env.program_state_event.wait(wait_seconds * recorder.time_scale)

    return wait_interval


def _scaled_sleep(recorder: Recorder) -> types.SimpleNamespace:
    def sleep(seconds: float) -> None:
        with recorder.lock:
            recorder.retry_intervals.append(seconds)
        time.sleep(seconds * recorder.time_scale)

    return types.SimpleNamespace(sleep=sleep, time=time.time)


_PARSE_LOCK = threading.Lock()
_unlocked_parse = AmazonStateLanguageParser.parse


def _serialised_parse(definition: str) -> Any:
    """The parser keeps its scope stack on the class: two executions parsing at once (each parses in its
    own worker thread) would corrupt it. One parse at a time; a failed one leaves the stack empty."""
    with _PARSE_LOCK:
        Preprocessor._query_language_per_scope.clear()
        try:
            return _unlocked_parse(definition)
        finally:
            Preprocessor._query_language_per_scope.clear()


@contextmanager
def patched_moto(functions: dict[str, InProcessFunction], recorder: Recorder) -> Iterator[None]:
    """Run Lambda handlers in this process, scale the interpreter's waits by ``time_scale``, and parse
    definitions one at a time."""
    with (
        mock.patch.object(LambdaFunction, "invoke", _invoke_in_process(functions, recorder)),
        mock.patch.object(WaitFunction, "_wait_interval", _scaled_wait(recorder)),
        mock.patch.object(retrier_decl, "time", _scaled_sleep(recorder)),
        mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(_serialised_parse)),
    ):
        yield
