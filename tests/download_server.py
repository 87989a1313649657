"""A download server on 127.0.0.1 (https, the sandbox CA) that can misbehave on purpose: cut a body
short of its Content-Length, redirect, refuse. It records the headers of every request."""

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandbox.tls import loopback_certificate


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    send_bytes: int | None = None  # send only this many bytes of the body, then close


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that closes early (a refused download) is expected here


class DownloadServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen_headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.seen_headers.append(dict(self.headers))
                route = server.routes.get(self.path.split("?")[0], Route(status=404))
                self.send_response(route.status)
                self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(route.body[: route.send_bytes])
                if route.send_bytes is not None:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        certificate = loopback_certificate()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert_path, certificate.key_path)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"https://{self.host}{path}"

    def __enter__(self) -> "DownloadServer":
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
