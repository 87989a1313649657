"""Smoke tests for every place the sandbox patches moto's internals (pinned version): an upgrade that
moves them fails here, by name, instead of somewhere deep in a workflow test."""

import inspect
from importlib.metadata import version

from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor


def test_moto_is_the_pinned_version():
    assert version("moto") == "5.2.5"


def test_lambda_invoke_has_the_signature_the_sandbox_replaces():
    assert list(inspect.signature(LambdaFunction.invoke).parameters) == [
        "self",
        "body",
        "request_headers",
        "response_headers",
    ]


def test_wait_states_wait_through_the_patched_method():
    assert list(inspect.signature(WaitFunction._wait_interval).parameters) == ["self", "env", "wait_seconds"]


def test_retry_backoff_sleeps_through_the_modules_time():
    assert "time.sleep(" in inspect.getsource(retrier_decl.RetrierDecl._eval_body)


def test_parser_scope_stack_is_the_class_level_list_the_sandbox_clears():
    assert isinstance(Preprocessor._query_language_per_scope, list)


def test_every_definition_is_parsed_through_the_class_attribute_the_sandbox_locks():
    from moto.stepfunctions.parser.backend import execution_worker

    assert "AmazonStateLanguageParser.parse(" in inspect.getsource(execution_worker)
    assert isinstance(inspect.getattr_static(AmazonStateLanguageParser, "parse"), staticmethod)
