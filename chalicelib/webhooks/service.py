"""Stripe webhook handling: verify, deduplicate, re-read from Stripe, apply once.

The signature is checked on the raw bytes before anything is parsed. Handlers are chosen by event type
from `HANDLERS`; unknown types are acknowledged and ignored. Each handler re-reads the object from
Stripe (the event body may be stale, duplicated or out of order) and applies the result through
`orders.payment_sync`, whose transaction also saves the event's marker: the effect and the record that the
event was processed commit together. A delivery whose marker already exists is answered 200 at once.

Cost of one delivery: at most three DynamoDB calls (marker check, order read, one transaction) and one
Stripe call (a dashboard refund arriving by `charge.refunded` adds the ledger's one read).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import ValidationFailed
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.orders import payment_sync
from chalicelib.partners import repository as partners
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway
from chalicelib.secrets import get_stripe_secrets
from chalicelib.telemetry import metrics
from chalicelib.webhooks import repository
from chalicelib.webhooks.signature import BadSignature, verify

log = logging.getLogger("marketplace.webhooks")

MAX_ATTEMPTS = 3


def _bad(message: str, field: str = "(body)", where: str = "body") -> ValidationFailed:
    return ValidationFailed(message, [{"field": field, "message": message, "in": where}])


def parse_event(raw: bytes, signature: str | None, *, secret: str | None = None) -> dict:
    """The verified event as a dict; 400 for a bad, missing or stale signature, or a malformed body."""
    try:
        verify(raw, signature, get_stripe_secrets().webhook_secrets if secret is None else secret)
    except BadSignature as exc:
        log.warning("webhook refused: %s", exc)
        metrics.count(metrics.WEBHOOK_SIGNATURES_REJECTED)
        raise _bad("The Stripe-Signature header does not verify.", "Stripe-Signature", "header") from exc
    try:
        event = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad("The event is not valid JSON.") from exc
    obj = ((event.get("data") or {}).get("object") if isinstance(event, dict) and isinstance(
        event.get("data"), dict) else None)
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"]
            and isinstance(event.get("type"), str) and isinstance(obj, dict) and isinstance(obj.get("id"), str)):
        raise _bad("The event lacks an id, a type or a data.object with an id.")
    return event


class _Marker:
    """Adds the event's marker to a transaction; remembers whether the marker was what refused it."""

    def __init__(self, event: dict):
        self.event_id, self.event_type = event["id"], event["type"]

    def __call__(self, tx) -> None:
        repository.save_marker(tx, self.event_id, self.event_type)

    def duplicate(self, exc: ConditionsFailed) -> bool:
        return repository.marker_refused(exc.refusal, self.event_id)

    def save_alone(self) -> None:
        try:
            with transaction() as tx:
                self(tx)
        except ConditionsFailed:
            pass


def _retrying(marker: _Marker, attempt: Callable[[bool], str]) -> str:
    """Run `attempt(fresh)` until it commits; a refused marker means another delivery did the work.

    The first attempt may read the order from an index (eventually consistent); a refused condition
    means it was stale or changed meanwhile, so later attempts read it fresh and decide again.
    """
    for number in range(MAX_ATTEMPTS):
        try:
            return attempt(number > 0)
        except ConditionsFailed as exc:
            if marker.duplicate(exc):
                return "duplicate"
            if number == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def on_payment_intent(event: dict, gateway: PaymentGateway) -> str:
    marker = _Marker(event)
    intent = gateway.retrieve_payment_intent(event["data"]["object"]["id"])
    if not intent.order_id:
        marker.save_alone()
        return "ignored:no_order"

    def attempt(_fresh: bool) -> str:
        order = payment_sync.load_order(intent.order_id)  # type: ignore[arg-type]
        if order is None:
            marker.save_alone()
            return "ignored:unknown_order"
        return payment_sync.sync_payment(order, intent, hook=marker)[1]

    return _retrying(marker, attempt)


def on_charge_refunded(event: dict, gateway: PaymentGateway) -> str:
    """Count refunds made outside the API (the dashboard); ours are already counted, by their Stripe id."""
    marker = _Marker(event)
    charge = gateway.retrieve_charge(event["data"]["object"]["id"])

    def attempt(fresh: bool) -> str:
        order = payment_sync.order_paid_by(charge.payment_intent_id, fresh=fresh)
        if order is None:
            from chalicelib.subscriptions import stripe_events  # a subscription invoice's charge?

            outcome = stripe_events.refunds_from_charge(charge, hook=marker)
            if outcome is not None:
                return outcome
            marker.save_alone()
            return "ignored:unknown_order"
        new = [r for r in charge.refunds if r.status == "succeeded" and r.refund_id not in order.stripe_refund_ids]
        if not new:
            marker.save_alone()
            return "noop:refunds_recorded"
        for index, refund in enumerate(new):
            hook = marker if index == len(new) - 1 else payment_sync.NO_HOOK
            order, _ = payment_sync.record_stripe_refund(order, refund, actor="stripe", reason=None, hook=hook)
        return f"refunded:{len(new)}"

    return _retrying(marker, attempt)


def on_dispute(event: dict, gateway: PaymentGateway) -> str:
    marker = _Marker(event)
    dispute = gateway.retrieve_dispute(event["data"]["object"]["id"])

    def attempt(fresh: bool) -> str:
        order = payment_sync.order_paid_by(dispute.payment_intent_id, fresh=fresh)
        if order is None:
            marker.save_alone()
            return "ignored:unknown_order"
        return payment_sync.sync_dispute(order, dispute, hook=marker)[1]

    return _retrying(marker, attempt)


def on_account_updated(event: dict, gateway: PaymentGateway) -> str:
    """Store the connected account's flags; set the linked partner's `payouts_enabled`. Newest event wins.

    localstripe has no Connect accounts to re-read (the local stage's Connect sandbox lives in DynamoDB), so
    ordering is guarded by the event's `created` time instead of a Stripe read.
    """
    marker = _Marker(event)
    account = event["data"]["object"]
    account_id = account["id"]
    created = int(event.get("created") or 0)
    partner_id = repository.partner_of_account(account_id)
    now = clock.now_iso()
    flags = {name: bool(account.get(name)) for name in ("payouts_enabled", "charges_enabled", "details_submitted")}
    try:
        with transaction() as tx:
            marker(tx)
            repository.save_account_status(tx, account_id=account_id, partner_id=partner_id, flags=flags,
                                           event_created=created, at=now)
            if partner_id:
                partners.set_payouts_enabled(tx, partner_id, flags["payouts_enabled"], at=now)
                # Whether a partner can be paid out is a money-moving switch: keep a record of who flipped it.
                tx.save(audit_item(actor="stripe", action="partner.payout_account_updated", entity_type="partner",
                                   entity_id=partner_id, at=now, data={"account_id": account_id, **flags,
                                                                        "event_id": event["id"]}))
    except ConditionsFailed as exc:
        if marker.duplicate(exc):
            return "duplicate"
        marker.save_alone()
        return "noop:older_than_stored"
    return "account_updated" if partner_id else "account_stored_unlinked"


def on_invoice(event: dict, gateway: PaymentGateway) -> str:
    """A subscription invoice paid (a sale, once) or failed (the subscription as Stripe says it is now)."""
    from chalicelib.subscriptions import stripe_events

    marker = _Marker(event)
    return _retrying(marker, lambda _fresh: stripe_events.apply_invoice(
        event["data"]["object"]["id"], gateway=gateway, hook=marker))


def on_subscription(event: dict, gateway: PaymentGateway) -> str:
    """A subscription changed or ended: apply what it is now (re-read from Stripe)."""
    from chalicelib.subscriptions import stripe_events

    marker = _Marker(event)
    return _retrying(marker, lambda _fresh: stripe_events.apply_subscription(
        event["data"]["object"]["id"], gateway=gateway, hook=marker))


HANDLERS: dict[str, Callable[[dict, PaymentGateway], str]] = {
    "invoice.paid": on_invoice,
    # localstripe sends `invoice.payment_succeeded` where Stripe also sends `invoice.paid`: either records it once.
    "invoice.payment_succeeded": on_invoice,
    "invoice.payment_failed": on_invoice,
    "customer.subscription.created": on_subscription,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_dispute,
    "charge.dispute.closed": on_dispute,
    "account.updated": on_account_updated,
}


def handle(raw: bytes, signature: str | None, *, gateway: PaymentGateway | None = None) -> dict[str, Any]:
    """Verify and apply one delivery; the answer says what happened (Stripe only looks at the status)."""
    event = parse_event(raw, signature)
    handler = HANDLERS.get(event["type"])
    base = {"received": True, "event_id": event["id"], "type": event["type"]}
    if handler is None:
        return {**base, "outcome": "ignored:unhandled_type"}
    if repository.already_processed(event["id"]):
        metrics.count(metrics.WEBHOOK_EVENTS_DUPLICATE)
        return {**base, "outcome": "duplicate"}
    outcome = handler(event, gateway or pay.get_gateway())
    metrics.count(metrics.WEBHOOK_EVENTS_DUPLICATE if outcome == "duplicate" else metrics.WEBHOOK_EVENTS_APPLIED)
    log.info("webhook %s %s: %s", event["type"], event["id"], outcome)
    return {**base, "outcome": outcome}
