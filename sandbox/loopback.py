"""Fake providers are WSGI apps served over https on 127.0.0.1 with the sandbox's CA, in a thread."""

import threading
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.tls import loopback_certificate


class QuietRequestHandler(WSGIRequestHandler):
    """No access log on the console: the sandbox prints its own progress."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LoopbackFake:
    """Start, stop and ``with`` for a fake; subclasses give ``wsgi`` and, if any, a ``root_path``."""

    root_path = ""
    base_url = ""
    _server: BaseWSGIServer | None = None

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        raise NotImplementedError

    def start(self) -> Self:
        certificate = loopback_certificate()
        self._server = make_server(
            "127.0.0.1", 0, self.wsgi, threaded=True, request_handler=QuietRequestHandler,
            ssl_context=(str(certificate.cert_path), str(certificate.key_path)),
        )  # fmt: skip
        self.base_url = f"https://127.0.0.1:{self._server.port}{self.root_path}"
        threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True).start()
        return self

    @property
    def download_host(self) -> str:
        """This server as a ``DownloadHosts`` entry (host and port)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"127.0.0.1:{self._server.port}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
