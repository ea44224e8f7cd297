"""The refusal server: what the Kubernetes Ingress answers instead of an answer.

    python -m server.refusals [--port 8080] [--host 0.0.0.0]    (the image: `assistant refusals`)

On one machine nginx serves the refusal itself (refused.json, cluster/local.py). ingress-nginx
cannot serve a file: for a status in its `custom-http-errors` annotation (deploy/k8s/ingress.yaml:
429 rate limited, 413 too large, 502/503/504 no pod answering) it passes the request to the
Ingress's default backend, this server (deploy/k8s/refusals.yaml), with the status in the `X-Code`
header, and sends on what it answers. Every request gets, with that status (503 when there is
none, or it is not a refusal), the assistant's reply in the shape of a REST reply: 101 and the
contact page, then 999 (channels/refusal.py, from the catalogue in the image). GET /healthz is
the probes' (200). Nothing is logged: the path and query of a refused request can carry a
platform's verify token.
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional, Sequence

from channels.refusal import REFUSED_STATUSES, refusal_reply

DEFAULT_STATUS = 503
HEALTH_PATH = "/healthz"


def status_for(code: Optional[str]) -> int:
    """The status to answer with: the refused request's (X-Code) if it is one a refusal has."""
    try:
        status = int((code or "").strip())
    except ValueError:
        return DEFAULT_STATUS
    return status if status in REFUSED_STATUSES else DEFAULT_STATUS


class RefusalHandler(BaseHTTPRequestHandler):
    server_version = "assistant-refusals"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")  # a refused request's body is never read
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    def _refuse(self) -> None:
        if self.command in ("GET", "HEAD") and self.path == HEALTH_PATH and "X-Code" not in self.headers:
            self._answer(200, {"status": "ok"})
        else:
            self._answer(status_for(self.headers.get("X-Code")), refusal_reply())

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _refuse

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """A request this server cannot read (an unknown method, a broken request line) gets the reply too, never HTML."""
        if not hasattr(self, "command") or self.command is None:
            self.command = "GET"
        self._answer(status_for(str(int(code))), refusal_reply())

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(host: str, port: int) -> ThreadingHTTPServer:
    """The server, bound (serve_forever() to run it)."""
    refusal_reply()  # the catalogue is read and checked before the first request
    server = ThreadingHTTPServer((host, port), RefusalHandler)
    server.daemon_threads = True
    return server


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.refusals", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    options = parser.parse_args(argv)
    server = serve(options.host, options.port)
    print(f"refusal server on http://{options.host}:{options.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
