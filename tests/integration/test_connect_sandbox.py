"""The local Connect sandbox behaves like Stripe where payouts depend on it."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.payouts.gateway import TransferRejected
from chalicelib.payouts.sandbox import ConnectSandbox, onboarding_token


def test_account_is_created_once_per_partner_and_onboarding_needs_the_signed_token(ddb):
    sandbox = ConnectSandbox()
    account = sandbox.create_account(partner_id="ptn_A1", email="a@example.com", country="DE")
    assert sandbox.create_account(partner_id="ptn_A1", email="a@example.com", country="DE") == account
    with pytest.raises(TransferRejected):
        sandbox.create_transfer(payout_id="po_1", amount=100, currency="usd", destination=account, metadata={})
    with pytest.raises(NotFound):
        sandbox.complete_onboarding(account, "forged")
    assert "token=" in sandbox.onboarding_link(account_id=account, base_url="http://127.0.0.1:8000/")
    assert sandbox.complete_onboarding(account, onboarding_token(account)).payouts_enabled


def test_same_idempotency_key_gives_back_the_same_transfer(ddb):
    sandbox = ConnectSandbox()
    account = sandbox.create_account(partner_id="ptn_B", email="b@example.com", country="DE")
    sandbox.complete_onboarding(account, onboarding_token(account))
    first = sandbox.create_transfer(payout_id="po_1", amount=100, currency="usd", destination=account, metadata={})
    again = sandbox.create_transfer(payout_id="po_1", amount=100, currency="usd", destination=account, metadata={})
    assert first.transfer_id == again.transfer_id
    assert sandbox.find_transfer(payout_id="po_1").transfer_id == first.transfer_id
    assert sandbox.find_transfer(payout_id="po_2") is None
    with pytest.raises(Conflict):
        sandbox.create_transfer(payout_id="po_1", amount=999, currency="usd", destination=account, metadata={})
    listed = [t.transfer_id for page in sandbox.list_transfers(created_gte=0, created_lt=2**40) for t in page]
    assert listed == [first.transfer_id]
