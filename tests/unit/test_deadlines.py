"""Deadlines: the configured timeouts and retries reach botocore, pynamodb and the Stripe clients, and the
budget they add up to fits inside API Gateway's 29 s.

The behavioural checks talk to `Silent`, a local TCP server that accepts connections and never answers:
each client must give up after its read timeout, having tried exactly 1 + retries times.
"""
from __future__ import annotations

import dataclasses
import socket
import threading
import time

import jwt
import pytest

from chalicelib import config, secrets
from chalicelib.config import (
    API_DEADLINES, API_PAYOUT_RUN_SECONDS, JOB_DEADLINES, JOB_STOP_MARGIN_SECONDS, JWKS_TIMEOUT_SECONDS,
    SECRETS_MANAGER_BUDGET, CallBudget, Deadlines,
)
from chalicelib.core import deadlines
from chalicelib.core.deadlines import UNLIMITED, TimeLeft, worst_call_seconds
from chalicelib.core.errors import UpstreamUnavailable

API_GATEWAY_LIMIT = 29.0
TINY = CallBudget(connect_seconds=0.5, read_seconds=0.3, retries=1)


class Silent:
    """A TCP server that accepts every connection, reads, and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: list[socket.socket] = []
        self.sock.settimeout(0.05)  # so the accepting thread notices `close` instead of blocking forever
        self._open = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while self._open:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections.append(conn)

    def close(self):
        self._open = False
        self._thread.join()
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent():
    server = Silent()
    yield server
    server.close()


def _timed(fn) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


# --- the budget, written down -------------------------------------------------------------------------
def test_one_failing_dependency_answers_inside_api_gateways_29_seconds():
    # A cold container may first wait for the JWKS and the Stripe secret (each slow, not down), then the one
    # dependency that is down exhausts its attempts; the request still answers 503 before API Gateway's 504.
    cold_start = 1.0 + JWKS_TIMEOUT_SECONDS + worst_call_seconds(SECRETS_MANAGER_BUDGET, service="aws")
    ddb = worst_call_seconds(API_DEADLINES.dynamodb, service="dynamodb")
    stripe = worst_call_seconds(API_DEADLINES.stripe, service="stripe")
    assert (ddb, stripe) == (15.0, 16.5)
    assert cold_start + max(ddb, stripe) < API_GATEWAY_LIMIT
    # pynamodb's own defaults (15 s connect, 30 s read, 3 retries) would not fit even one call.
    assert worst_call_seconds(CallBudget(15, 30, 3), service="dynamodb") > API_GATEWAY_LIMIT


def test_payout_runs_stop_with_room_for_the_payout_in_flight():
    # The job stops starting payouts with a margin that outlasts one transfer exhausting its retries.
    assert worst_call_seconds(JOB_DEADLINES.stripe, service="stripe") < JOB_STOP_MARGIN_SECONDS
    # A run started from the API starts its last payout early enough for that payout's transfer to give up.
    assert API_PAYOUT_RUN_SECONDS + worst_call_seconds(API_DEADLINES.stripe, service="stripe") + 1 < API_GATEWAY_LIMIT
    # The job waits longer and retries more than a request, never less.
    for field in ("connect_seconds", "read_seconds", "retries"):
        for service in ("dynamodb", "stripe"):
            assert getattr(getattr(JOB_DEADLINES, service), field) >= getattr(getattr(API_DEADLINES, service), field)


def test_the_budget_in_force_is_the_apis_unless_a_job_says_otherwise():
    assert deadlines.current() is API_DEADLINES
    with deadlines.use(JOB_DEADLINES):
        assert deadlines.current() is JOB_DEADLINES
    assert deadlines.current() is API_DEADLINES


def test_time_left_reads_the_lambda_clock_and_keeps_a_margin():
    class Context:
        remaining = 90_000

        def get_remaining_time_in_millis(self):
            return self.remaining

    context = Context()
    left = TimeLeft.of_lambda(context, margin_seconds=60)
    assert not left.running_low()
    context.remaining = 59_999
    assert left.running_low()
    assert TimeLeft.of_lambda(None, margin_seconds=60) is UNLIMITED and not UNLIMITED.running_low()
    assert TimeLeft.for_seconds(0).running_low() and not TimeLeft.for_seconds(60).running_low()


# --- DynamoDB (pynamodb over botocore) ----------------------------------------------------------------
def _ddb_config():
    from chalicelib.db.table import connection

    cfg = connection().client.meta.config
    return cfg.connect_timeout, cfg.read_timeout, cfg.retries["total_max_attempts"], cfg.retries["mode"]


def test_dynamodb_client_gets_the_api_budget_and_a_job_gets_its_own(ddb):
    assert _ddb_config() == (1.0, 3.0, 3, "standard")
    with deadlines.use(JOB_DEADLINES):
        assert _ddb_config() == (2.0, 8.0, 4, "standard")
    assert _ddb_config() == (1.0, 3.0, 3, "standard")


def test_unanswered_dynamodb_gives_up_after_its_timeouts_and_retries(silent):
    from chalicelib.db.table import MarketItem
    from chalicelib.partners.repository import load_partners

    from botocore.exceptions import ReadTimeoutError

    MarketItem.Meta.host, MarketItem._connection = silent.url, None
    start = time.monotonic()
    try:
        with deadlines.use(Deadlines(dynamodb=TINY, stripe=TINY)), pytest.raises(Exception) as failure:
            load_partners(["ptn_x"])
    finally:
        MarketItem.Meta.host, MarketItem._connection = None, None
    took = time.monotonic() - start
    assert isinstance(failure.value.__cause__ or failure.value, ReadTimeoutError) or "timeout" in repr(
        failure.value).lower()
    assert len(silent.connections) == 1 + TINY.retries
    assert took < 2 * (TINY.connect_seconds + TINY.read_seconds) + 1.0


# --- Stripe -------------------------------------------------------------------------------------------
def test_payments_gateway_gives_up_after_its_timeouts_and_retries(silent):
    from chalicelib.payments.stripe_gateway import StripeGateway

    with deadlines.use(Deadlines(dynamodb=TINY, stripe=TINY)):
        gateway = StripeGateway("sk_test_deadline", api_base=silent.url)
    took = _timed(lambda: pytest.raises(UpstreamUnavailable, gateway.retrieve_payment_intent, "pi_1"))
    assert len(silent.connections) == 1 + TINY.retries
    assert took < 2 * (TINY.connect_seconds + TINY.read_seconds) + 1.0


def test_payments_gateway_is_built_with_the_running_budget(monkeypatch):
    import stripe

    from chalicelib.payments.stripe_gateway import StripeGateway

    made = {}
    monkeypatch.setattr(stripe, "new_default_http_client", lambda **kw: made.setdefault("http", kw) and None)
    real_client = stripe.StripeClient
    monkeypatch.setattr(stripe, "StripeClient", lambda key, **kw: made.setdefault("client", kw) and real_client(key))
    StripeGateway("sk_test_deadline")
    assert made["http"]["timeout"] == (2.0, 6.0) and made["client"]["max_network_retries"] == 1


def test_connect_adapter_keeps_one_client_per_budget_and_gives_up_in_time(silent, monkeypatch):
    from chalicelib.payouts import stripe_connect

    settings = dataclasses.replace(config.get_settings(), stripe_api_base=silent.url)
    monkeypatch.setattr(config, "get_settings", lambda: settings)
    connect = stripe_connect.StripeConnect.from_settings(api_key="sk_test_deadline")
    api_client = connect.client
    with deadlines.use(JOB_DEADLINES):
        job_client = connect.client
        assert job_client is not api_client and connect.client is job_client
    assert connect.client is api_client
    for client, budget in ((api_client, API_DEADLINES.stripe), (job_client, JOB_DEADLINES.stripe)):
        assert client._requestor._client._timeout == (budget.connect_seconds, budget.read_seconds)
        assert client._requestor._options.max_network_retries == budget.retries
    with deadlines.use(Deadlines(dynamodb=TINY, stripe=TINY)):
        with pytest.raises(UpstreamUnavailable):
            connect.find_transfer(payout_id="po_1")
    assert len(silent.connections) == 1 + TINY.retries


# --- Secrets Manager and the token issuer's keys ------------------------------------------------------
def test_secrets_manager_client_has_short_timeouts_and_one_retry(silent, monkeypatch):
    settings = dataclasses.replace(config.get_settings(), stage="dev", stripe_secrets_parameter="market/stripe")
    monkeypatch.setattr(secrets, "get_settings", lambda: settings)
    monkeypatch.setattr(secrets, "SECRETS_MANAGER_BUDGET", TINY)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", silent.url)
    secrets.reset_stripe_secrets()
    try:
        took = _timed(lambda: pytest.raises(UpstreamUnavailable, secrets.get_stripe_secrets))
    finally:
        secrets.reset_stripe_secrets()
    assert len(silent.connections) == 1 + TINY.retries
    assert took < 2 * (TINY.connect_seconds + TINY.read_seconds) + 1.0
    monkeypatch.setattr(secrets, "SECRETS_MANAGER_BUDGET", SECRETS_MANAGER_BUDGET)
    cfg = secrets.client_config()
    assert (cfg.connect_timeout, cfg.read_timeout, cfg.retries["total_max_attempts"]) == (1.0, 2.0, 2)


def test_jwks_fetch_gives_up_after_its_timeout(silent, monkeypatch):
    from chalicelib.http import auth

    monkeypatch.setattr(auth, "JWKS_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(auth, "_jwks_clients", {})
    settings = dataclasses.replace(config.get_settings(), stage="dev", jwks_url=f"{silent.url}/jwks.json")
    token = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "kid-1"})
    took = _timed(lambda: pytest.raises(UpstreamUnavailable, auth.authenticate, f"Bearer {token}", settings))
    assert took < 1.5 and len(silent.connections) == 1
    assert JWKS_TIMEOUT_SECONDS <= 3
