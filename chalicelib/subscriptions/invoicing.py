"""Invoices as money: each paid invoice is a sale once, each Stripe refund of one is counted once.

`record_invoice` turns a paid Stripe invoice into a sale: its amount split over the subscription's frozen
parts (largest remainder), each part at its partner's commission in force on the day the invoice was
paid, one balanced journal transaction (`ledger.recorder.record_invoice_sale`), the invoice row (written
with `attribute_not_exists`: the same invoice id can never be a second sale, whichever event or request
brings it) and each partner's `sale.completed` event with only its lines, all in one transaction.
`record_refund` counts a Stripe refund of an invoice's payment once (its guard row is keyed by the Stripe
refund id, as checkout's are), reversed like an order refund at the invoice's recorded rates.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Callable

from chalicelib.audit.repository import audit_item
from chalicelib.config import get_settings
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState
from chalicelib.core.pseudonyms import customer_ref
from chalicelib.db.transact import ConditionsFailed
from chalicelib.ledger import recorder
from chalicelib.partner_feed import outbox, payloads
from chalicelib.partners.repository import load_partners
from chalicelib.payments.gateway import INVOICE_PAID, InvoiceView, RefundView
from chalicelib.subscriptions import model, repository
from chalicelib.subscriptions.model import InvoiceRefund, InvoiceSale, InvoiceSummary, Subscription
from chalicelib.subscriptions.sync import TxHook, hook_only, no_hook
from chalicelib.telemetry import metrics

MAX_ATTEMPTS = 4


def _commission(sub: Subscription, on: date) -> dict[str, int]:
    """Each partner's commission in force on `on` (the default rate for a partner no longer found)."""
    default = get_settings().default_commission_bps
    found = load_partners(sub.partner_ids(), consistent=True)
    return {p: (found[p].commission_bps(on, default) if p in found else default) for p in sub.partner_ids()}


def _events(tx, sub: Subscription, kind: str, source_id: str, lines_by_partner: dict[str, list[dict]]) -> None:
    for partner_id, lines in lines_by_partner.items():
        outbox.record(tx, partner_id=partner_id, type=kind, data=payloads.money_event(
            "invoice", source_id, customer_ref(partner_id, sub.customer_sub), sub.currency, lines))


def record_invoice(subscription_id: str, invoice: InvoiceView, *, actor: str = "stripe") -> str:
    """Record a paid invoice of the subscription as a sale, once; returns the outcome."""
    if invoice.status != INVOICE_PAID:
        return f"noop:invoice_{invoice.status or 'unknown'}"
    for _attempt in range(MAX_ATTEMPTS):
        sub = repository.get(subscription_id)
        if sub is None:
            raise InvalidState("No such subscription.")
        if repository.get_invoice(subscription_id, invoice.invoice_id) is not None:
            return "noop:invoice_recorded"
        if invoice.currency != sub.currency:
            return "ignored:currency_mismatch"
        at = clock.now_iso()
        paid_at = model.iso_from_epoch(invoice.paid_at or invoice.created) or at
        sale = model.invoice_sale(sub, invoice_id=invoice.invoice_id, amount=invoice.amount_paid, currency=sub.currency,
                                  payment_intent_id=invoice.payment_intent_id,
                                  commission_bps=_commission(sub, clock.parse_iso(paid_at).date()))
        summary = InvoiceSummary(invoice.invoice_id, invoice.amount_paid, paid_at, 0)
        changed = model.with_invoice(replace(sub, rev=sub.rev + 1, updated_at=at), summary)

        def write(tx) -> None:
            repository.put_invoice(tx, repository.invoice_item(
                sub=sub, invoice_id=invoice.invoice_id, amount=invoice.amount_paid, paid_at=paid_at,
                payment_intent_id=invoice.payment_intent_id, period_start=model.iso_from_epoch(invoice.period_start),
                period_end=model.iso_from_epoch(invoice.period_end)))
            repository.put_changed(tx, changed, read_rev=sub.rev)
            if sale.total > 0:
                recorder.record_invoice_sale(tx, sale)
                _events(tx, sub, "sale.completed", invoice.invoice_id,
                        payloads.sale_lines_by_partner(model.sale_lines(sale)))
            tx.save(audit_item(actor=actor, action="subscription.invoice_paid", entity_type="subscription",
                               entity_id=sub.subscription_id, at=at,
                               data={"invoice_id": invoice.invoice_id, "amount": invoice.amount_paid,
                                     "payment_intent_id": invoice.payment_intent_id,
                                     "commission_bps": {p.partner_id: p.commission_bps
                                                        for p in sale.lines[0].parts}}))

        try:
            outbox.commit(write)
        except ConditionsFailed as exc:
            if exc.has("invoice:new"):
                return "noop:invoice_recorded"
            if exc.has("subscription:rev"):
                continue  # the subscription changed meanwhile: read it again
            raise
        metrics.count(metrics.SUBSCRIPTION_INVOICES_PAID)
        return "invoice_recorded"
    raise Conflict("The subscription kept changing; the invoice will be recorded on Stripe's next delivery.")


def sale_of(invoice: Any, sub: Subscription) -> InvoiceSale:
    """The ledger's handle of a recorded invoice (its per-part state is kept by the ledger itself)."""
    return InvoiceSale(invoice.invoice_id, sub.subscription_id, sub.currency, int(invoice.amount),
                       invoice.payment_intent_id)


def record_refund(sub: Subscription, stripe_refund: RefundView, *, invoice_id: str | None = None, actor: str,
                  reason: str | None, refund_id: str | None = None, hook: TxHook = no_hook,
                  respond: Callable[[Any, InvoiceRefund], None] | None = None,
                  roles: frozenset[str] = frozenset()) -> InvoiceRefund | None:
    """Count a Stripe refund of one of the subscription's invoices once; None when it was counted already."""
    for _attempt in range(MAX_ATTEMPTS):
        invoice = (repository.get_invoice(sub.subscription_id, invoice_id) if invoice_id else
                   repository.invoice_by_payment_intent(stripe_refund.payment_intent_id or ""))
        if invoice is None:
            raise InvalidState("This refund's invoice is not recorded.")
        if stripe_refund.refund_id in (invoice.stripe_refund_ids or []):
            hook_only(hook)
            return None
        left = int(invoice.amount) - int(invoice.refunded or 0)
        amount = min(stripe_refund.amount, left)
        if amount <= 0:
            hook_only(hook)
            return None
        at = clock.now_iso()
        refund = InvoiceRefund(
            refund_id=refund_id or stripe_refund.metadata.get("refund_id") or f"sref_{stripe_refund.refund_id}",
            subscription_id=sub.subscription_id, invoice_id=invoice.invoice_id, amount=amount,
            stripe_refund_id=stripe_refund.refund_id,
            reason=reason or stripe_refund.metadata.get("reason") or "refunded in Stripe", created_at=at, actor=actor)
        summary = InvoiceSummary(invoice.invoice_id, int(invoice.amount), invoice.paid_at,
                                 int(invoice.refunded or 0) + amount)

        def write(tx) -> None:
            hook(tx)
            repository.refund_invoice_row(tx, invoice, refund)
            current = repository.get(sub.subscription_id) or sub
            if any(i.invoice_id == invoice.invoice_id for i in current.recent_invoices):
                repository.put_changed(tx, model.with_invoice(replace(current, rev=current.rev + 1, updated_at=at),
                                                              summary), read_rev=current.rev)
            entry = recorder.record_invoice_refund(tx, sale_of(invoice, sub), refund)
            _events(tx, sub, "refund.completed", invoice.invoice_id,
                    payloads.refund_lines_by_partner(line.source for line in entry.lines))
            tx.save(audit_item(actor=actor, actor_roles=roles, action="subscription.invoice_refunded",
                               entity_type="subscription", entity_id=sub.subscription_id, at=at, reason=refund.reason,
                               data={"refund_id": refund.refund_id, "invoice_id": invoice.invoice_id,
                                     "amount": amount, "stripe_refund_id": stripe_refund.refund_id}))
            if respond is not None:
                respond(tx, refund)

        try:
            outbox.commit(write)
        except ConditionsFailed as exc:
            if repository.stripe_refund_counted(exc.refusal, stripe_refund.refund_id):
                hook_only(hook)
                return None
            if exc.has("invoice:rev") or exc.has("subscription:rev"):
                continue
            raise
        metrics.count(metrics.REFUNDS_ISSUED)
        return refund
    raise Conflict("The invoice kept changing; the refund was made in Stripe and its webhook will record it.")
