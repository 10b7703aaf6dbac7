"""Shared fixtures: a moto-backed table and job queue per test (`jobs` runs what is queued), the Chalice test
client, tokens, the Scan guard, the fake Stripe (`fake_gateway`) and the `api` over them. Builders are in
tests/factories.py, fakes in tests/fakes.py."""
from __future__ import annotations

import os

# Configure the app before anything imports it: local stage, test secrets, no real endpoints.
os.environ.update({
    "MARKET_STAGE": "local",
    "MARKET_TABLE": "marketplace-test",
    "MARKET_LOCAL_JWT_SECRET": "test-secret-for-hs256-tokens-only",
    "MARKET_JWT_ISSUER": "market-local",
    "MARKET_JWT_AUDIENCE": "market-local",
    "MARKET_CURSOR_SECRET": "test-cursor-secret",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
})
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import bootstrap  # noqa: E402
from scripts import moto_speedups  # noqa: E402
from tests import ddb_calls  # noqa: E402

# moto copies the whole table once per transaction item; make it once per transaction (see the module).
moto_speedups.apply()
# The stage's adapters and reactions, as app.py wires them; tests install fakes over them.
bootstrap.configure()


@pytest.fixture
def ddb():
    """A fresh in-process DynamoDB (moto) with the marketplace table."""
    from chalicelib.db.table import MarketItem, create_table

    from chalicelib.jobs import queue
    from scripts.job_poller import ensure_queues

    with mock_aws():
        MarketItem._connection = None
        queue.reset()
        create_table()
        ensure_queues()
        yield
        MarketItem._connection = None
        queue.reset()


@pytest.fixture
def jobs(ddb):
    """Run every queued job that is due, as Lambda's SQS event source would (`scripts/job_poller.drain`)."""
    from scripts.job_poller import drain

    return drain


@pytest.fixture
def scan_guard():
    """Fail the test if any DynamoDB Scan is issued while it runs."""
    with ddb_calls.recording() as log:
        yield log
    assert "Scan" not in log.calls, "a request path issued a DynamoDB Scan"


@pytest.fixture
def client(ddb, scan_guard):
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


def make_token(sub: str, groups: list[str] | None = None, email: str | None = None) -> str:
    from chalicelib.http.auth import issue_local_token

    return issue_local_token(sub=sub, groups=groups, email=email)


@pytest.fixture
def token():
    return make_token


@pytest.fixture
def fake_gateway(monkeypatch):
    """A `tests.fakes.FakeGateway` installed as the process's gateway, with the webhook secret configured."""
    from chalicelib.payments.gateway import set_gateway
    from tests.factories import use_test_secrets
    from tests.fakes import FakeGateway

    use_test_secrets(monkeypatch)
    gateway = FakeGateway()
    set_gateway(gateway)
    yield gateway
    set_gateway(None)


@pytest.fixture
def api(client, fake_gateway):
    """The API as a customer, partner or admin calls it (`tests.factories.Api`), Stripe being the fake."""
    from tests.factories import Api

    return Api(client)
