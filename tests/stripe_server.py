"""A real localstripe for the test session, on a free loopback port, with no persistence.

Started through the project's wrapper (`scripts/localstripe_local.py`, which binds 127.0.0.1 and keeps
the store in memory), once per session, and stopped by its PID at the end. `stripe_webhooks` runs a tiny
loopback HTTP receiver registered with localstripe, so tests see exactly the signed deliveries that
localstripe sends and can hand those bytes to the app. `client_confirm` plays the part of Stripe.js.
"""
from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRIPE_KEY = "sk_test_checkout"
WEBHOOK_SECRET = "whsec_test_checkout"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("localstripe did not start listening in time")


@pytest.fixture(scope="session")
def localstripe():
    """The base URL of a localstripe process that lives for the whole test session."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "localstripe_local.py"), "--port", str(port)],
        cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def stripe_post(base: str, path: str, params: dict | None = None) -> tuple[int, dict]:
    """A form-encoded POST as Stripe.js or the dashboard would make it; (status, JSON body)."""
    data = urllib.parse.urlencode(params or {}).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, method="POST",
                                     headers={"Authorization": f"Bearer {STRIPE_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def client_confirm(base: str, payment_intent_id: str, payment_method: str = "pm_card_visa") -> tuple[int, dict]:
    """What the customer's browser does: attach a payment method, then confirm (localstripe's working flow)."""
    status, body = stripe_post(base, f"/v1/payment_intents/{payment_intent_id}", {"payment_method": payment_method})
    assert status == 200, body
    return stripe_post(base, f"/v1/payment_intents/{payment_intent_id}/confirm")


def card_payment_method(base: str, number: str) -> str:
    status, body = stripe_post(base, "/v1/payment_methods", {
        "type": "card", "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034",
        "card[cvc]": "123"})
    assert status == 200, body
    return body["id"]


class WebhookInbox:
    """Deliveries received from localstripe: (raw body, headers), searchable by event type and object id."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []

    def add(self, raw: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            self.deliveries.append((raw, headers))
            self._lock.notify_all()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 15.0) -> tuple[bytes, dict[str, str]]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for raw, headers in self.deliveries:
                    event = json.loads(raw)
                    if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                        return raw, headers
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event_type} for {object_id} within {timeout}s")
                self._lock.wait(left)


@pytest.fixture(scope="session")
def stripe_webhooks(localstripe):
    """A loopback receiver registered as a localstripe webhook endpoint (secret `WEBHOOK_SECRET`)."""
    inbox = WebhookInbox()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            inbox.add(raw, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    status, body = stripe_post(localstripe, "/_config/webhooks/tests", {"url": url, "secret": WEBHOOK_SECRET})
    assert status == 200, body
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def localstripe_api(client, localstripe, monkeypatch):
    """The API (`tests.factories.Api`) with its payment gateway talking to the session's localstripe."""
    from chalicelib.payments.gateway import set_gateway
    from chalicelib.payments.stripe_gateway import StripeGateway
    from tests.factories import Api, use_test_secrets

    use_test_secrets(monkeypatch)
    set_gateway(StripeGateway(STRIPE_KEY, api_base=localstripe))
    yield Api(client)
    set_gateway(None)


def forward_delivery(api, delivery):
    """Hand one of localstripe's signed webhook deliveries to the app, byte for byte."""
    raw, headers = delivery
    return api.call("POST", "/webhooks/stripe", raw=raw, headers={
        "Stripe-Signature": headers["stripe-signature"], "Content-Type": headers["content-type"]})
