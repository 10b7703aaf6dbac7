"""A partner's webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread, and the signature check
a receiver makes (the same few lines docs/partner-events-and-webhooks.md shows)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """An HTTP receiver on 127.0.0.1 that answers from a script of status codes (then 200)."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"body": body, "headers": dict(self.headers)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/marketplace"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> dict:
    """What a receiver does (docs/partner-events-and-webhooks.md): check the signature, then trust the body."""
    fields = dict(part.split("=", 1) for part in headers["Marketplace-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"]), "bad signature"
    assert abs(time.time() - int(fields["t"])) <= tolerance
    return json.loads(body)
