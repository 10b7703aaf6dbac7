"""The partner events of checkout: `sale.completed` and `refund.completed`, one per partner of the order.

Called inside the transaction that records the sale or the refund (built through `partner_feed.outbox.commit`),
so a partner learns of exactly the sales and refunds the ledger holds. Each event carries only that partner's
parts of the order, with the fee and net the ledger recorded, and the customer as the partner's pseudonymous id.
"""
from __future__ import annotations

from typing import Any

from chalicelib.core.pseudonyms import customer_ref
from chalicelib.orders.model import Order, Refund
from chalicelib.partner_feed import outbox, payloads


def record_sale(tx: Any, order: Order) -> None:
    """One `sale.completed` per partner with parts in the order (free orders too: they grant licences)."""
    parts = [(p.partner_id, p.listing_id, p.amount, p.commission_bps) for line in order.lines for p in line.parts]
    by_partner = payloads.sale_lines_by_partner(parts)
    outbox.prepare(tx, by_partner)
    for partner_id, lines in by_partner.items():
        outbox.record(tx, partner_id=partner_id, type="sale.completed", data=payloads.money_event(
            "order", order.order_id, customer_ref(partner_id, order.customer_sub), order.currency, lines))


def record_refund(tx: Any, order: Order, refund: Refund, entry: Any) -> None:
    """One `refund.completed` per partner whose parts the refund's journal `entry` reversed."""
    sources = [line.source for line in getattr(entry, "lines", ())]
    by_partner = payloads.refund_lines_by_partner(sources)
    outbox.prepare(tx, by_partner)
    for partner_id, lines in by_partner.items():
        data = payloads.money_event("order", order.order_id, customer_ref(partner_id, order.customer_sub),
                                    order.currency, lines)
        data["refund_id"] = refund.refund_id
        outbox.record(tx, partner_id=partner_id, type="refund.completed", data=data)
