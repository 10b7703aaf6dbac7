"""Who a payout run pays, and how a Stripe object compares with the ledger: pure rules by example."""
from __future__ import annotations

import pytest

from chalicelib.payouts.model import Candidate, skip_reason
from chalicelib.reconciliation import model as recon


def cand(**over) -> Candidate:
    base = dict(partner_id="p", currency="usd", available=5000, partner_status="approved", payouts_enabled=True,
                stripe_account_id="acct_1", open_payout=None)
    return Candidate(**{**base, **over})


@pytest.mark.parametrize("over,reason", [
    ({}, None),
    ({"available": 2500}, None),
    ({"available": 2499}, "below_minimum"),
    ({"available": -100}, "below_minimum"),
    ({"partner_status": "suspended"}, "partner_not_approved"),
    ({"partner_status": None}, "unknown_partner"),
    ({"stripe_account_id": None}, "no_payout_account"),
    ({"payouts_enabled": False}, "payouts_disabled"),
    ({"open_payout": "po_1"}, "payout_in_progress"),
])
def test_skip_reasons(over, reason):
    assert skip_reason(cand(**over), min_payout=2500) == reason


def test_zero_minimum_still_needs_money():
    assert skip_reason(cand(available=0), min_payout=0) == "below_minimum"


S = recon.StripeRecord
L = recon.LedgerRecord


@pytest.mark.parametrize("stripe,ledger,kind", [
    (S("payment", "pi", 100, "usd", "succeeded", 1), L("payment", "pi", 100, "usd", "succeeded", "t", "o"), None),
    (S("payment", "pi", 100, "usd", "succeeded", 1), None, "missing_in_ledger"),
    (S("payment", "pi", 100, "usd", "canceled", 1), None, None),
    (S("payment", "pi", 100, "usd", "canceled", 1), L("payment", "pi", 100, "usd", "succeeded", "t", "o"),
     "status_mismatch"),
    (S("refund", "re", 90, "usd", "succeeded", 1), L("refund", "re", 100, "usd", "succeeded", "t", "r"),
     "amount_mismatch"),
    (S("refund", "re", 100, "eur", "succeeded", 1), L("refund", "re", 100, "usd", "succeeded", "t", "r"),
     "amount_mismatch"),
    (S("transfer", "tr", 100, "usd", "reversed", 1), L("transfer", "tr", 100, "usd", "paid", "t", "po"),
     "status_mismatch"),
])
def test_compare(stripe, ledger, kind):
    found = recon.compare(stripe, ledger)
    assert (found.kind if found else None) == kind
    if found:
        assert found.stripe_id == stripe.stripe_id and found.stripe_amount == stripe.amount
        assert found.ledger_amount == (ledger.amount if ledger else None)


def test_a_run_pays_a_partner_in_a_currency_under_one_id_only():
    from chalicelib.payouts.model import payout_id_for

    first = payout_id_for("prun_01ABC", "ptn_1", "usd")
    assert first == payout_id_for("prun_01ABC", "ptn_1", "usd")  # a redelivered job meets the same payout
    assert len({first, payout_id_for("prun_01ABC", "ptn_1", "eur"), payout_id_for("prun_01ABC", "ptn_2", "usd"),
                payout_id_for("prun_01ABD", "ptn_1", "usd")}) == 4
    assert first.startswith("po_01ABC") and len(first) < 64  # readable, and fits Stripe's idempotency key


def test_run_outcome_and_the_backoff_for_unknown_transfers():
    from chalicelib.payouts.model import (
        COMPLETED, COMPLETED_WITH_FAILURES, MAX_UNKNOWN_ATTEMPTS, final_status, unknown_outcome_delay)

    assert final_status(failed=0, pending=0) == COMPLETED
    assert final_status(failed=1, pending=0) == final_status(failed=0, pending=2) == COMPLETED_WITH_FAILURES
    delays = [unknown_outcome_delay(a) for a in range(MAX_UNKNOWN_ATTEMPTS)]
    assert delays[:3] == [30, 60, 120] and max(delays) == 900 and delays == sorted(delays)
    assert sum(delays[:-1]) == 6330  # about 1 h 45 min of asking before the run stops waiting
