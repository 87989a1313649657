"""Who signs an AWS call made in the sandbox's process: the running invocation's function role, or, on the
thread that built the stack, the sandbox itself (an administrator user, for setting up the stack and for
what tests look at). A call from any other thread fails (``UnsignedCallError``) instead of passing as the
administrator, which would hide a missing permission.

Every handler shares this process and its cached boto3 clients, so the credentials cannot be chosen when a
client is made: every botocore session answers with one credentials object whose keys are looked up when a
request is signed, from a context variable that the in-process Lambda invoke sets for the invocation.
Threads do not inherit a context variable; work submitted to a thread pool (s3transfer's part uploads)
runs in the submitter's context, so it signs as the function that submitted it, as it would in Lambda,
where each invocation's threads live in that function's own sandbox. A raw ``threading.Thread`` carries no
context, so its AWS calls fail loudly.
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


class UnsignedCallError(RuntimeError):
    """An AWS call that no identity may be chosen for."""


class InvocationCredentials:
    """Credentials (as botocore's signer reads them) that answer, each time a request is signed, for
    whoever is calling: the current invocation's role, or the sandbox's own identity on the thread that
    built the stack."""

    method = "sandbox-invocation"

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        """Fails closed: a call from a thread that carries no identity (a raw ``threading.Thread`` a handler
        started, say) would otherwise pass as the administrator and hide a missing permission."""
        identity = _invocation_role.get()
        if identity is None:
            raise UnsignedCallError(
                "an AWS call from a thread that carries neither an invocation's role nor the sandbox's "
                "identity: start work through a ThreadPoolExecutor (or copy the caller's context)"
            )
        return identity

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
    credentials = InvocationCredentials()
    with (
        mock.patch.object(botocore.session.Session, "get_credentials", return_value=credentials),
        mock.patch.object(ThreadPoolExecutor, "submit", _submit_in_context(ThreadPoolExecutor.submit)),
        signing_as(sandbox),  # the thread that builds the stack, and pool work it submits
    ):
        yield credentials
