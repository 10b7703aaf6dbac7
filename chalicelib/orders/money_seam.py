"""The one place checkout hands money events to the ledger.

Checkout records each sale, refund and dispute inside its own transaction by calling the ledger's
recorder here, and asks the ledger's pure rules how a refund spreads over an order's lines. Keeping the
calls behind this seam means checkout names one module of the ledger, not its internals.
"""
from __future__ import annotations

from chalicelib.ledger import recorder as _recorder
from chalicelib.ledger.rules import allocate_refund as _ledger_allocate
from chalicelib.orders.model import Order, Refund


def record_sale(tx, order: Order) -> None:
    _recorder.record_sale(tx, order)


def record_refund(tx, order: Order, refund: Refund):
    """`order` is the order as it was before the refund (the ledger reads its own state); returns the
    journal entry (its lines say what each partner part gave back: the partners' refund events)."""
    return _recorder.record_refund(tx, order, refund)


def record_dispute(tx, order: Order, *, dispute_id: str, amount: int, opened: bool, won: bool | None = None) -> None:
    _recorder.record_dispute(tx, order, dispute_id=dispute_id, amount=amount, opened=opened, won=won)


def allocate_refund(order: Order, amount: int | None, listing_ids: list[str] | None) -> dict[str, int]:
    """line_id -> minor units of a refund; 400 for lines not in the order, 409 for an over-refund."""
    return _ledger_allocate(order, amount, listing_ids)
