"""The one place checkout hands money events to the ledger.

Checkout records each sale, refund and dispute inside its own transaction by calling the ledger's
recorder here. While the ledger package was being written in parallel this seam let checkout work
without it: if `chalicelib.ledger` cannot be imported, the recording calls do nothing and refunds are
allocated by a local copy of the rule (largest remainder over what each line has left). Once the ledger
is part of every build, the fallback branches can go.
"""
from __future__ import annotations

from chalicelib.core.errors import Conflict, ValidationFailed
from chalicelib.core.money import largest_remainder
from chalicelib.orders.model import Order, Refund

try:  # pragma: no branch - the fallback exists only for builds without the ledger package
    from chalicelib.ledger import recorder as _recorder
    from chalicelib.ledger.rules import allocate_refund as _ledger_allocate
except ImportError:  # pragma: no cover
    _recorder = None
    _ledger_allocate = None

LEDGER_AVAILABLE = _recorder is not None


def record_sale(tx, order: Order) -> None:
    if _recorder is not None:
        _recorder.record_sale(tx, order)


def record_refund(tx, order: Order, refund: Refund) -> None:
    """`order` is the order as it was before the refund (the ledger reads its own state)."""
    if _recorder is not None:
        _recorder.record_refund(tx, order, refund)


def record_dispute(tx, order: Order, *, dispute_id: str, amount: int, opened: bool, won: bool | None = None) -> None:
    if _recorder is not None:
        _recorder.record_dispute(tx, order, dispute_id=dispute_id, amount=amount, opened=opened, won=won)


def allocate_refund(order: Order, amount: int | None, listing_ids: list[str] | None) -> dict[str, int]:
    """line_id -> minor units of a refund; 400 for lines not in the order, 409 for an over-refund."""
    if _ledger_allocate is not None:
        return _ledger_allocate(order, amount, listing_ids)
    return _fallback_allocate(order, amount, listing_ids)  # pragma: no cover


def _fallback_allocate(order: Order, amount: int | None, listing_ids: list[str] | None) -> dict[str, int]:
    lines = list(order.lines)
    if listing_ids:
        known = {line.listing_id for line in lines}
        unknown = [i for i in listing_ids if i not in known]
        if unknown:
            raise ValidationFailed("Some listings are not lines of this order.", [
                {"field": "listing_ids", "message": f"{i} is not in this order", "in": "body"} for i in unknown])
        lines = [line for line in lines if line.listing_id in set(listing_ids)]
    left = [line.price - line.refunded for line in lines]
    available = sum(left)
    amount = available if amount is None else amount
    if available <= 0 or amount > available:
        raise Conflict(f"Refund of {amount} exceeds what is left to refund ({max(available, 0)}).")
    shares = largest_remainder(amount, [line.price for line in lines])
    # Proportional shares can overshoot a line that was partly refunded before: move the excess on.
    excess = 0
    for i, cap in enumerate(left):
        if shares[i] > cap:
            excess += shares[i] - cap
            shares[i] = cap
    for i, cap in enumerate(left):
        take = min(excess, cap - shares[i])
        shares[i] += take
        excess -= take
    return {line.line_id: share for line, share in zip(lines, shares) if share}
