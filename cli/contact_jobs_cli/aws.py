"""The stack as the CLI finds it: AWS clients for one endpoint and region, and the stack's outputs.

Nothing here knows whether the endpoint is AWS or ``python -m sandbox serve``: both answer the same calls.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config

from contact_jobs_cli.errors import CliError

T = TypeVar("T")
CREDENTIALS_HINT = (
    "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for the local stack: the ones "
    "`python -m sandbox serve` printed)"
)
REFUSED_CREDENTIALS = {
    "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidAccessKeyId",
    "ExpiredToken", "ExpiredTokenException", "AuthFailure", "InvalidToken",
}  # fmt: skip


@dataclass
class Target:
    stack_name: str
    endpoint_url: str | None
    region: str | None


@dataclass
class Stack:
    name: str
    status: str
    outputs: dict[str, str]
    target: Target
    session: boto3.session.Session
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(self.session, self.target, service)
        return self._clients[service]

    def output(self, name: str) -> str:
        value = self.outputs.get(name)
        if not value:
            raise CliError(
                "StackOutputMissing",
                f"stack {self.name} has no {name} output: deploy this version of template.yaml (sam deploy)",
            )
        return value


def client(session: boto3.session.Session, target: Target, service: str) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
    return session.client(service, endpoint_url=target.endpoint_url, config=config)  # type: ignore[call-overload]


def find_stack(target: Target) -> Stack:
    """The stack by name, with its outputs; a one-line error for each way that fails."""
    with aws_errors(target):
        session = boto3.session.Session(region_name=target.region)
        if session.region_name is None:
            raise CliError(
                "NoRegion", "no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION"
            )
        if session.get_credentials() is None:
            raise CliError("NoCredentials", f"no AWS credentials: {CREDENTIALS_HINT}")
        cloudformation = client(session, target, "cloudformation")
        try:
            described = cloudformation.describe_stacks(StackName=target.stack_name)["Stacks"][0]
        except botocore.exceptions.ClientError as exc:
            if _code(exc) == "ValidationError" and "does not exist" in str(exc):
                raise CliError(
                    "StackNotFound",
                    f"stack {target.stack_name!r} not found in {session.region_name}{_where(target)}: "
                    "deploy it (sam deploy), or name yours with --stack (and --region)",
                ) from exc
            raise
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
    return Stack(target.stack_name, described["StackStatus"], outputs, target, session)


@contextmanager
def aws_errors(target: Target) -> Iterator[None]:
    """AWS failures as one line each, with what to do."""
    try:
        yield
    except botocore.exceptions.NoCredentialsError as exc:
        raise CliError("NoCredentials", f"no AWS credentials: {CREDENTIALS_HINT}") from exc
    except botocore.exceptions.NoRegionError as exc:
        raise CliError("NoRegion", "no AWS region: pass --region, or set AWS_REGION") from exc
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
        where = target.endpoint_url or "AWS"
        hint = " is `python -m sandbox serve` running?" if target.endpoint_url else " check your network."
        raise CliError("EndpointUnreachable", f"cannot reach {where}:{hint}") from exc
    except botocore.exceptions.ClientError as exc:
        code = _code(exc)
        if code in REFUSED_CREDENTIALS:
            raise CliError(
                "CredentialsRefused",
                f"AWS refused the credentials ({code}){_where(target)}: {CREDENTIALS_HINT}",
            ) from exc
        if code in ("AccessDenied", "AccessDeniedException"):
            raise CliError(
                "AccessDenied",
                f"access denied: {_message(exc)}: use credentials allowed to operate the stack",
            ) from exc
        operation = exc.operation_name
        raise CliError("AwsError", f"{operation} failed: {code}: {_message(exc)}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise CliError("AwsError", f"AWS call failed: {exc}") from exc


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")).strip()[:300]


def _where(target: Target) -> str:
    return f" at {target.endpoint_url}" if target.endpoint_url else ""


def paginate(method: Callable[..., Any], key: str, limit: int | None = None, **kwargs: Any) -> list[Any]:
    """Items of a paginated list call, stopping once ``limit`` are collected."""
    items: list[Any] = []
    token: str | None = None
    while True:
        page = method(**kwargs, **({"nextToken": token} if token else {}))
        items += page.get(key, [])
        token = page.get("nextToken")
        if not token or (limit is not None and len(items) >= limit):
            return items[:limit] if limit is not None else items
