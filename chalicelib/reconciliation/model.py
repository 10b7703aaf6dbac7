"""Pure reconciliation rules: how one Stripe object compares with the ledger's record of it."""
from __future__ import annotations

from dataclasses import dataclass

# Stripe's side is read through payouts' Connect port, in the port's own record type.
from chalicelib.payouts.gateway import PAYMENT, REFUND, TRANSFER, StripeRecord

MISSING_IN_LEDGER = "missing_in_ledger"
MISSING_IN_STRIPE = "missing_in_stripe"
AMOUNT_MISMATCH = "amount_mismatch"
STATUS_MISMATCH = "status_mismatch"
KINDS = (MISSING_IN_LEDGER, MISSING_IN_STRIPE, AMOUNT_MISMATCH, STATUS_MISMATCH)

# Stripe statuses that mean "the money moved", per object kind; anything else the ledger must not hold.
SETTLED = {PAYMENT: {"succeeded"}, REFUND: {"succeeded", "pending"}, TRANSFER: {"paid"}}
LEDGER_STATUS = {PAYMENT: "succeeded", REFUND: "succeeded", TRANSFER: "paid"}


@dataclass(frozen=True)
class LedgerRecord:
    kind: str
    stripe_id: str
    amount: int
    currency: str
    status: str
    txn_id: str
    entity_id: str


@dataclass(frozen=True)
class Discrepancy:
    kind: str
    object_kind: str
    stripe_id: str | None
    stripe_amount: int | None
    stripe_status: str | None
    ledger_txn_id: str | None
    ledger_amount: int | None
    ledger_status: str | None
    currency: str
    entity_id: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def compare(stripe: StripeRecord, ledger: LedgerRecord | None) -> Discrepancy | None:
    """None when the ledger agrees with Stripe about this object (or neither side counts it)."""
    settled = stripe.status in SETTLED.get(stripe.kind, set())
    if ledger is None:
        if not settled:
            return None  # e.g. an abandoned PaymentIntent: no money moved, nothing to record
        return _d(MISSING_IN_LEDGER, stripe, None)
    if not settled:
        return _d(STATUS_MISMATCH, stripe, ledger)
    if stripe.amount != ledger.amount or stripe.currency != ledger.currency:
        return _d(AMOUNT_MISMATCH, stripe, ledger)
    return None


def missing_in_stripe(ledger: LedgerRecord) -> Discrepancy:
    return Discrepancy(MISSING_IN_STRIPE, ledger.kind, ledger.stripe_id, None, None, ledger.txn_id, ledger.amount,
                       ledger.status, ledger.currency, ledger.entity_id)


def _d(kind: str, s: StripeRecord, ledger: LedgerRecord | None) -> Discrepancy:
    return Discrepancy(kind, s.kind, s.stripe_id, s.amount, s.status,
                       ledger.txn_id if ledger else None, ledger.amount if ledger else None,
                       ledger.status if ledger else None, s.currency, ledger.entity_id if ledger else None)
