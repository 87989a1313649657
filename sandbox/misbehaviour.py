"""Telling a fake provider to break its successful answers on purpose, for tests of what the clients do
with a 200 they cannot use. Without a tamper, the fakes answer as their contracts say."""

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

# The answer the contract allows (parsed JSON) -> what to send instead; bytes are sent as they are.
Tamper = Callable[[Any], Any]


def tampered(response: Response, tamper: Tamper | None) -> Response:
    if tamper is None or not 200 <= response.status_code < 300 or not response.is_json:
        return response
    changed = tamper(response.get_json())
    if isinstance(changed, bytes):
        return Response(changed, response.status_code, mimetype="text/html")
    return Response(json.dumps(changed), response.status_code, mimetype="application/json")


def without(name: str) -> Tamper:
    """An answer missing one field."""
    return lambda body: {key: value for key, value in body.items() if key != name}


def replacing(name: str, value: Any) -> Tamper:
    """An answer with one field's value replaced."""
    return lambda body: {**body, name: value}


def not_json(body: Any) -> bytes:
    """What a proxy or a maintenance page answers in the API's place."""
    return b"<html><body>Service temporarily unavailable</body></html>"
