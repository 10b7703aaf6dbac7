"""A partner's webhook receiver for trying the marketplace locally: prints each delivery and whether it is signed.

    .venv/bin/python scripts/webhook_receiver.py --port 9000 [--secret whsec_... | --secret-file PATH] [--fail N]

Register `http://127.0.0.1:<port>/` as a webhook endpoint; the registration answer carries the secret
(shown once): pass it with `--secret`, or write it to the `--secret-file` (read at every delivery, so the
receiver can start before the endpoint exists). `--fail N` answers 500 to the first N deliveries, to watch
the marketplace retry. Binds 127.0.0.1 only. Ctrl-C stops it.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def verified(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check (docs/partner-events-and-webhooks.md)."""
    try:
        fields = dict(item.split("=", 1) for item in header.split(","))
        expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) <= tolerance
    except (KeyError, ValueError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", default="")
    parser.add_argument("--secret-file", default="")
    parser.add_argument("--fail", type=int, default=0, help="answer 500 to the first N deliveries")
    args = parser.parse_args()
    state = {"failures_left": args.fail, "seen": set()}

    def secret() -> str:
        if args.secret_file and Path(args.secret_file).exists():
            return Path(args.secret_file).read_text().strip()
        return args.secret

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            event_id = self.headers.get("Marketplace-Event-Id", "?")
            key = secret()
            check = ("signature OK" if verified(key, self.headers.get("Marketplace-Signature", ""), body)
                     else "BAD SIGNATURE") if key else "not checked (no secret given)"
            status = 200
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                status = 500
            duplicate = " (seen before)" if event_id in state["seen"] else ""
            if status == 200:
                state["seen"].add(event_id)
            print(f"{time.strftime('%H:%M:%S')} {event_id}{duplicate}: {check}; answering {status}", flush=True)
            try:
                print(json.dumps(json.loads(body), indent=2), flush=True)
            except ValueError:
                print(body[:500], flush=True)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"webhook receiver on http://127.0.0.1:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
