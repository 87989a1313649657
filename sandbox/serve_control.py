"""The served stack's sandbox-only controls: what a person does to the fake providers between CLI commands.

A deployed stack has no such thing and the CLI never calls it (it has no local-only code path); the demo and
the tests call it over plain HTTP on 127.0.0.1, on a port of its own, beside the AWS endpoint:

- ``POST /sendgrid/account/empty``: the fake SendGrid's account is swapped for an empty one (the same lists,
  no custom fields, no contacts), as a restore into a new account needs. The account it held is kept.
- ``GET /sendgrid/account/compare``: the account now held against the one kept by the last swap, field by
  field (``sandbox.contacts.compare_accounts``): what a restore put back, compared with what was backed up.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from sandbox.contacts import compare_accounts
from sandbox.fake_sendgrid import FakeSendGrid
from sandbox.loopback import QuietRequestHandler
from sandbox.sendgrid_account import SendGridAccount

MISMATCHES_SHOWN = 10


class Controls:
    def __init__(self, sendgrid: FakeSendGrid) -> None:
        self.sendgrid = sendgrid
        self.kept: SendGridAccount | None = None
        self._lock = threading.Lock()
        self._routes = Map([
            Rule("/sendgrid/account/empty", methods=["POST"], endpoint="empty"),
            Rule("/sendgrid/account/compare", methods=["GET"], endpoint="compare"),
        ])  # fmt: skip

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            endpoint, _ = self._routes.bind_to_environ(environ).match()
            body = self.empty() if endpoint == "empty" else self.compare()
            response = Response(json.dumps(body), mimetype="application/json")
        except HTTPException as exc:
            response = Response(json.dumps({"error": exc.description}), exc.code, mimetype="application/json")
        return response(environ, start_response)

    def empty(self) -> dict[str, Any]:
        with self._lock:
            kept = self.sendgrid.account
            empty = SendGridAccount(self.sendgrid.options.lists, custom_fields=())
            empty.written = True  # stateful from now on: exports and imports use its store
            self.sendgrid.account, self.kept = empty, kept
        return {"contacts_kept": len(kept), "contacts_now": 0}

    def compare(self) -> dict[str, Any]:
        if self.kept is None:
            raise NotFound("no account kept: POST /sendgrid/account/empty first")
        now = self.sendgrid.account
        mismatches = compare_accounts(self.kept, now)
        return {
            "contacts_kept": len(self.kept),
            "contacts_now": len(now),
            "equal": not mismatches and len(self.kept) == len(now),
            "mismatch_count": len(mismatches),
            "mismatches": [m.email for m in mismatches[:MISMATCHES_SHOWN]],
        }


@contextmanager
def control_server(sendgrid: FakeSendGrid) -> Iterator[str]:
    """The controls on 127.0.0.1 (a free port, plain HTTP); yields their base URL."""
    controls = Controls(sendgrid)
    server = make_server("127.0.0.1", 0, controls.wsgi, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="serve-controls", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
