"""An upload URI for benchmarks: accepts PUTs over https on 127.0.0.1 and discards the body after
counting it (a short body is answered 400). Own process; prints its port once it listens."""

import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or -1)
        if length < 0:
            self.send_response(411)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        received = 0
        while received < length:
            chunk = self.rfile.read(min(CHUNK, length - received))
            if not chunk:
                break
            received += len(chunk)
        self.send_response(200 if received == length else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
