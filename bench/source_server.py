"""A download source for benchmarks: serves SIZE incompressible bytes over https on 127.0.0.1.

Run as its own process so that its memory and CPU are not counted against the copier.
Prints the port on stdout once it listens.
"""

import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOCK = os.urandom(16 * 1024 * 1024)  # random bytes: gzip cannot shrink them (its window is 32 KiB)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        size = int(self.path.strip("/").split("?")[0])
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        view = memoryview(BLOCK)
        sent = 0
        while sent < size:
            chunk = view[: min(len(BLOCK), size - sent)]
            self.wfile.write(chunk)
            sent += len(chunk)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    cert, key = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
