"""Who signs an AWS call made in the sandbox's process: the running invocation's function role, else the
sandbox itself (an administrator user, for setting up the stack and for what tests look at).

Every handler shares this process and its cached boto3 clients, so the credentials cannot be chosen when a
client is made: every botocore session answers with one credentials object whose keys are looked up when a
request is signed, from a context variable that the in-process Lambda invoke sets for the invocation.
Threads do not inherit a context variable; work submitted to a thread pool (s3transfer's part uploads)
runs in the submitter's context, so it signs as the function that submitted it, as it would in Lambda,
where each invocation's threads live in that function's own sandbox.
"""

import contextvars
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from unittest import mock

import botocore.session
from botocore.credentials import ReadOnlyCredentials

_invocation_role: contextvars.ContextVar[ReadOnlyCredentials | None] = contextvars.ContextVar(
    "invocation_role", default=None
)


class InvocationCredentials:
    """Credentials (as botocore's signer reads them) that answer, each time a request is signed, for
    whoever is calling: the current invocation's role, or the sandbox's own identity outside any."""

    method = "sandbox-invocation"

    def __init__(self, sandbox: ReadOnlyCredentials) -> None:
        self._sandbox = sandbox

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return _invocation_role.get() or self._sandbox

    @property
    def access_key(self) -> str:
        return str(self.get_frozen_credentials().access_key)

    @property
    def secret_key(self) -> str:
        return str(self.get_frozen_credentials().secret_key)

    @property
    def token(self) -> str | None:
        token: str | None = self.get_frozen_credentials().token
        return token

    @property
    def account_id(self) -> str | None:
        return None  # botocore then takes the account from the endpoint, as for keys without one

    def get_deferred_property(self, name: str) -> Callable[[], Any]:
        return lambda: getattr(self, name)


@contextmanager
def signing_as(role: ReadOnlyCredentials) -> Iterator[None]:
    """AWS calls made in this context (and in pool work it submits) are signed with ``role``."""
    token = _invocation_role.set(role)
    try:
        yield
    finally:
        _invocation_role.reset(token)


def _submit_in_context(original: Callable[..., Future[Any]]) -> Callable[..., Future[Any]]:
    @functools.wraps(original)
    def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return original(self, contextvars.copy_context().run, fn, *args, **kwargs)

    return submit


@contextmanager
def invocation_credentials(sandbox: ReadOnlyCredentials) -> Iterator[InvocationCredentials]:
    """Every botocore session (boto3's default one, Powertools' own) signs with the invocation's role;
    thread-pool work carries the context of the code that submitted it."""
    credentials = InvocationCredentials(sandbox)
    with (
        mock.patch.object(botocore.session.Session, "get_credentials", return_value=credentials),
        mock.patch.object(ThreadPoolExecutor, "submit", _submit_in_context(ThreadPoolExecutor.submit)),
    ):
        yield credentials
