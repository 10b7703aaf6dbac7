"""Record business events in the ledger, inside the caller's DynamoDB transaction.

Checkout calls `record_sale`, `record_refund` and `record_dispute` from within its own `transaction()`,
so the order's state change and its journal entry commit together or not at all. Payouts and finance
adjustments use the other functions the same way. Each function only *adds* items to `tx`; the guard
rows (journal header by txn id, Stripe reference, order ledger state) make a replayed event fail the
whole transaction instead of counting twice.

Items added: a sale or refund of an order touching P partners adds 5 + 3*P items (header, state,
Stripe reference, cash and fee postings, and per partner a posting, its balance and its day row);
DynamoDB allows 100 per transaction.
"""
from __future__ import annotations

from dataclasses import replace

from chalicelib.core import clock
from chalicelib.core.errors import InvalidState
from chalicelib.db import keys
from chalicelib.ledger import rules
from chalicelib.ledger.journal import BalanceItem, OrderLedgerItem, add_effect, add_entry, add_stripe_ref
from chalicelib.ledger.rules import JournalEntry, PartnerEffect


def _day(at: str) -> str:
    return at[:10]


def record_sale(tx, order, *, refs: dict | None = None) -> JournalEntry | None:
    """Journal a paid order: cash in, commission, each partner's net (held for HOLD_DAYS)."""
    if order.total == 0:
        return None  # a free order moves no money
    at = clock.now_iso()
    state = rules.sale_state(order)
    entry, effects = rules.sale_entry(order, state)
    if refs:
        entry = replace(entry, refs={**entry.refs, **refs})
    tx.save(OrderLedgerItem(
        keys.ledger_order_pk(order.order_id), keys.LEDGER_ORDER_SK, order_id=order.order_id,
        currency=order.currency, lines=[line.to_dict() for line in state], revision=0,
    ), condition=OrderLedgerItem.pk.does_not_exist())
    add_entry(tx, entry, at=at)
    for effect in effects:
        add_effect(tx, effect, day=_day(at))
    if order.payment_intent_id:
        add_stripe_ref(tx, stripe_id=order.payment_intent_id, kind="payment", amount=order.total,
                       currency=order.currency, status="succeeded", txn_id=entry.txn_id, at=at,
                       entity_id=order.order_id)
    return entry


def record_refund(tx, order, refund, *, refs: dict | None = None) -> JournalEntry:
    """Journal a refund: cash out, commission and partner net reversed part by part."""
    try:
        state_item = OrderLedgerItem.get(
            keys.ledger_order_pk(order.order_id), keys.LEDGER_ORDER_SK, consistent_read=True
        )
    except OrderLedgerItem.DoesNotExist:
        raise InvalidState("This order's sale is not in the ledger, so nothing can be refunded.") from None
    state = rules.state_from_dicts(state_item.lines)
    entry, effects, new_state = rules.refund_entry(order.order_id, order.currency, state, refund)
    if refs:
        entry = replace(entry, refs={**entry.refs, **refs})
    at = clock.now_iso()
    tx.update(
        state_item,
        actions=[OrderLedgerItem.lines.set([line.to_dict() for line in new_state]), OrderLedgerItem.revision.add(1)],
        condition=OrderLedgerItem.revision == int(state_item.revision),
    )
    add_entry(tx, entry, at=at)
    for effect in effects:
        add_effect(tx, effect, day=_day(at))
    if refund.stripe_refund_id:
        add_stripe_ref(tx, stripe_id=refund.stripe_refund_id, kind="refund", amount=refund.amount,
                       currency=order.currency, status="succeeded", txn_id=entry.txn_id, at=at,
                       entity_id=refund.refund_id)
    return entry


def record_invoice_sale(tx, sale) -> JournalEntry | None:
    """Journal a paid subscription invoice as a sale: `sale` reads like an order whose id is the invoice id
    (txn `sale-<in_…>`, its per-part state keyed by the invoice), so each invoice is journaled once."""
    return record_sale(tx, sale, refs={"source_type": "invoice", "invoice_id": sale.invoice_id,
                                       "subscription_id": sale.subscription_id})


def record_invoice_refund(tx, sale, refund) -> JournalEntry:
    """Journal a refund of a subscription invoice, reversed against that invoice's recorded sale."""
    return record_refund(tx, sale, refund, refs={"source_type": "invoice", "invoice_id": sale.invoice_id,
                                                 "subscription_id": sale.subscription_id})


def record_dispute(tx, order, *, dispute_id: str, amount: int, opened: bool, won: bool | None = None
                   ) -> JournalEntry:
    """Journal a dispute opening (funds withheld) or closing (returned if won or unknown, else lost)."""
    entry = rules.dispute_entry(order, dispute_id=dispute_id, amount=amount, opened=opened, won=won)
    add_entry(tx, entry, at=clock.now_iso())
    return entry


def record_payout(tx, *, payout_id: str, partner_id: str, currency: str, amount: int, run_id: str | None
                  ) -> JournalEntry:
    """Take a payout out of the partner's balance (into transit) before the transfer is sent.

    The balance row gets the payout's id as its in-flight marker, on condition that no other payout is
    in flight and the balance covers the amount: two runs racing cannot both pay the same money.
    """
    at = clock.now_iso()
    entry, effect = rules.payout_entry(payout_id=payout_id, partner_id=partner_id, currency=currency,
                                       amount=amount, run_id=run_id)
    add_entry(tx, entry, at=at)
    add_effect(tx, effect, day=_day(at), balance_actions=(BalanceItem.open_payout.set(payout_id),),
               balance_condition=BalanceItem.open_payout.does_not_exist() & (BalanceItem.delta >= amount))
    return entry


def record_payout_paid(tx, *, payout_id: str, partner_id: str, currency: str, amount: int, transfer_id: str
                       ) -> JournalEntry:
    """Stripe accepted the transfer: transit clears against cash; the partner's `paid_out` grows."""
    at = clock.now_iso()
    entry = rules.payout_paid_entry(payout_id=payout_id, partner_id=partner_id, currency=currency, amount=amount,
                                    transfer_id=transfer_id)
    add_entry(tx, entry, at=at)
    add_effect(tx, PartnerEffect(partner_id, currency), day=_day(at), extra={"paid_out": amount},
               balance_actions=(BalanceItem.open_payout.remove(),),
               balance_condition=BalanceItem.open_payout == payout_id)
    add_stripe_ref(tx, stripe_id=transfer_id, kind="transfer", amount=amount, currency=currency, status="paid",
                   txn_id=entry.txn_id, at=at, entity_id=payout_id)
    return entry


def record_payout_failed(tx, *, payout_id: str, partner_id: str, currency: str, amount: int, reason: str
                         ) -> JournalEntry:
    """The transfer failed: the amount returns to the partner's balance."""
    at = clock.now_iso()
    entry, effect = rules.payout_failed_entry(payout_id=payout_id, partner_id=partner_id, currency=currency,
                                              amount=amount, reason=reason)
    add_entry(tx, entry, at=at)
    add_effect(tx, effect, day=_day(at), balance_actions=(BalanceItem.open_payout.remove(),),
               balance_condition=BalanceItem.open_payout == payout_id)
    return entry


def record_adjustment(tx, *, adjustment_id: str, partner_id: str, currency: str, amount: int, reason: str
                      ) -> JournalEntry:
    """A finance correction to a partner's balance (positive credits the partner)."""
    at = clock.now_iso()
    entry, effect = rules.adjustment_entry(adjustment_id=adjustment_id, partner_id=partner_id, currency=currency,
                                           amount=amount, reason=reason)
    add_entry(tx, entry, at=at)
    add_effect(tx, effect, day=_day(at))
    return entry
