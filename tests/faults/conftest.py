"""Fixtures of the fault suite: the real Stripe adapters over `StripeHttpStub`, and the API client."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import STRIPE_KEY, Api, use_test_secrets
from tests.faults.inject import StripeHttpStub


@pytest.fixture
def stub():
    return StripeHttpStub()


@pytest.fixture
def stripe_gateway(monkeypatch, stub):
    """The production `StripeGateway`, built by its own constructor, talking HTTP to the stub."""
    import stripe

    from chalicelib.payments.gateway import set_gateway
    from chalicelib.payments.stripe_gateway import StripeGateway

    use_test_secrets(monkeypatch)
    monkeypatch.setattr(stripe, "new_default_http_client", lambda *a, **kw: stub)
    gateway = StripeGateway(STRIPE_KEY)
    set_gateway(gateway)
    yield gateway
    set_gateway(None)


@pytest.fixture
def stripe_connect(stub):
    """The production `StripeConnect` adapter over the stub, installed as the Connect gateway."""
    from chalicelib.payouts.gateway import use_connect
    from chalicelib.payouts.stripe_connect import StripeConnect

    connect = StripeConnect.from_settings(http_client=stub, api_key=STRIPE_KEY)
    use_connect(connect)
    yield connect
    use_connect(None)


@pytest.fixture
def api(client, stripe_gateway):
    return Api(client)


T0 = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def earned_partner(ddb, stub, stripe_connect):
    """A partner with a Connect account (payouts enabled) and 8000 of net sales, 15 days old."""
    from chalicelib.core import clock
    from chalicelib.db.transact import transaction
    from chalicelib.core.identity import Principal
    from chalicelib.ledger import recorder
    from chalicelib.partners import service as partners
    from chalicelib.payouts import accounts
    from tests.factories import line, order, part
    from tests.fakes import FakeConnect

    clock.set_now(lambda: T0)
    admin = Principal("admin-1", groups=frozenset({"admin"}))
    user = Principal("payee", email="payee@example.com")
    pid = partners.apply(user=user, display_name="Payee", contact_email="payee@example.com",
                         country="DE").partner_id
    partners.decide(admin=admin, partner_id=pid, action="approve")
    body, _ = accounts.create_payout_account(user=user, base_url="http://x", gateway=FakeConnect())
    accounts.apply_account_update(body["stripe_account_id"], payouts_enabled=True)
    with transaction() as tx:
        recorder.record_sale(tx, order(line(part(pid, 10000, 2000)), currency="usd"))
    clock.set_now(lambda: T0 + timedelta(days=15))
    yield pid
    clock.set_now(None)


@pytest.fixture
def run_api(client, earned_partner):
    return Api(client)
