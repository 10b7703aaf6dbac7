"""Subscribe: `POST /subscriptions`, replayable by its Idempotency-Key, one Stripe subscription per request.

Reads once (one consistent BatchGetItem: the key's record, the hold on the listing, the customer's Stripe
Customer, the listing version's Stripe Price, what the customer already owns among the listing's
grants), decides (published, sold by subscription, not owned), then talks to Stripe with idempotency keys
derived from our ids: the Customer once per user, the Product and Price once per listing version, the
subscription once per request. It writes once: the subscription, the hold (conditioned, so two racing
requests with different keys start one subscription), the key's record and the audit (and, for a trial,
the access and `subscription.started`). localstripe pays the first invoice at once with a saved card: an
invoice already paid is recorded at once, as its webhook would (exactly once either way).
"""
from __future__ import annotations

import hashlib
import logging
from typing import Callable

from chalicelib.core import clock
from chalicelib.core.errors import AlreadyOwned, Conflict, DomainError
from chalicelib.core.identity import Principal
from chalicelib.db import idempotency
from chalicelib.db.idempotency import Answer, IdempotencyItem, IdempotencyKey
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.entitlements import repository as entitlements
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway, SubscriptionView
from chalicelib.subscriptions import invoicing, model, repository, sync
from chalicelib.subscriptions.model import Subscription
from chalicelib.subscriptions.repository import HoldItem, StripeCustomerItem, StripePriceItem
from chalicelib.subscriptions.views import subscription_dict
from chalicelib.telemetry import metrics

log = logging.getLogger("marketplace.subscriptions")


def _catalog_lookup() -> Callable[[list[str]], dict]:
    from chalicelib.catalog.queries import get_live_listings

    return get_live_listings


def subscribe(*, user: Principal, body: dict, headers: dict[str, str], gateway: PaymentGateway | None = None,
              catalog: Callable[[list[str]], dict] | None = None) -> Answer:
    """Start a subscription to `body["listing_id"]`; replays by Idempotency-Key."""
    key = idempotency.key_from(headers, scope="subscriptions", caller=user.sub, body=body, target="POST /subscriptions")
    listing_id = body["listing_id"]
    listing = (catalog or _catalog_lookup())([listing_id]).get(listing_id)
    grant_ids = [listing_id, *(c.listing_id for c in getattr(listing, "components", ()))]
    rows = repository.read_rows([key.item_key, repository.hold_key(user.sub, listing_id),
                                 repository.customer_key(user.sub)]
                                + ([repository.price_key(listing_id, listing.version)] if listing else [])
                                + [entitlements.key(user.sub, g) for g in grant_ids])
    replayed = idempotency.replay(next((r for r in rows if isinstance(r, IdempotencyItem)), None), key)
    if replayed is not None:
        return replayed
    model.check_listing(listing, listing_id)
    _refuse_if_held(next((r for r in rows if isinstance(r, HoldItem)), None), entitlements.held_in(rows))

    gateway = gateway or pay.get_gateway()
    customer = next((r.customer_id for r in rows if isinstance(r, StripeCustomerItem)), None) \
        or ensure_customer(user.sub, gateway)
    price = next((r.price_id for r in rows if isinstance(r, StripePriceItem)), None) or _ensure_price(listing, gateway)
    subscription_id = key.derived_id("subs")
    view = gateway.create_subscription(
        customer_id=customer, price_id=price, trial_days=listing.trial_days,
        metadata={"subscription_id": subscription_id, "listing_id": listing_id},
        # Per subscription and body: a retry after a failed write finds the same Stripe subscription.
        idempotency_key=f"subscription-{subscription_id}-{key.request_hash[:16]}")
    at = clock.now_iso()
    invoice = view.latest_invoice
    created = Subscription(
        subscription_id=subscription_id, customer_sub=user.sub, listing_id=listing_id, listing_type=listing.type,
        name=listing.name, listing_version=listing.version, currency=listing.price.currency,
        price=listing.price.amount, interval=listing.interval, trial_days=listing.trial_days,
        parts=model.parts_of(listing), status=model.INCOMPLETE, stripe_customer_id=customer,
        stripe_subscription_id=view.stripe_subscription_id, created_at=at, updated_at=at,
        payment_intent_id=invoice.payment_intent_id if invoice else None,
        client_secret=invoice.client_secret if invoice else None)
    created = model.synced(created, stripe_status=view.status, period_end=view.current_period_end,
                           cancel_at_period_end=view.cancel_at_period_end, at=at)
    try:
        answer = _save(created, key=key, user=user)
    except AlreadyOwned:
        _cancel_orphan(view, gateway)  # another request's subscription won the hold: ours must not bill
        raise
    metrics.count(metrics.SUBSCRIPTIONS_STARTED)
    if invoice is not None and invoice.status == pay.INVOICE_PAID:
        _record_first_invoice(created.subscription_id, view, gateway)
    return answer


def _refuse_if_held(hold: HoldItem | None, owned: list[str]) -> None:
    if owned:
        raise AlreadyOwned("You already own this listing or some of its apps.", [
            {"field": "listing_id", "in": "body", "message": f"{lid} is already yours"} for lid in owned])
    if hold is None or not hold.live:
        return
    current = repository.get(hold.subscription_id)
    if current is None or current.status == model.CANCELED:
        return
    if current.status in model.HOLDING:
        raise AlreadyOwned("You already subscribe to this listing.", [
            {"field": "listing_id", "in": "body", "message": f"subscription {current.subscription_id} holds it"}])
    raise Conflict("A subscription to this listing awaits its first payment: pay it or cancel it first.", [
        {"field": "listing_id", "in": "body", "message": f"subscription {current.subscription_id} is incomplete"}])


def ensure_customer(sub: str, gateway: PaymentGateway) -> str:
    """The user's one Stripe Customer: created with a key derived from the user, stored once (a race keeps one).

    Also what a card-saving step (Stripe.js with a SetupIntent; the local demo and localstripe tests) attaches
    the customer's default payment method to.
    """
    digest = hashlib.sha256(sub.encode("utf-8")).hexdigest()[:32]
    customer_id = gateway.create_customer(user_ref=sub, idempotency_key=f"customer-{digest}")
    try:
        with transaction() as tx:
            repository.save_customer(tx, sub, customer_id)
    except ConditionsFailed:
        return repository.stored_customer(sub) or customer_id
    return customer_id


def _ensure_price(listing, gateway: PaymentGateway) -> str:
    """The listing version's Stripe Product and Price, created once (keys derived from id and version)."""
    ref = gateway.create_price(listing_id=listing.listing_id, version=listing.version, name=listing.name,
                               amount=listing.price.amount, currency=listing.price.currency,
                               interval=listing.interval,
                               idempotency_key=f"listing-{listing.listing_id}-v{listing.version}")
    try:
        with transaction() as tx:
            repository.save_price(tx, listing.listing_id, listing.version, product_id=ref.product_id,
                                  price_id=ref.price_id, amount=listing.price.amount,
                                  currency=listing.price.currency, interval=listing.interval)
    except ConditionsFailed:
        return repository.stored_price(listing.listing_id, listing.version) or ref.price_id
    return ref.price_id


def _save(created: Subscription, *, key: IdempotencyKey, user: Principal) -> Answer:
    response = subscription_dict(created)

    def extra(tx) -> None:
        repository.claim_hold(tx, created)
        tx.save(key.record(201, response), condition=IdempotencyItem.pk.does_not_exist(), label="idempotency")

    try:
        saved = sync.write_state(None, created, action="subscription.created", actor=user.sub, roles=user.groups,
                                 extra=extra)
    except ConditionsFailed as exc:
        replayed = idempotency.replay_stored(key)
        if replayed is not None:
            return replayed
        if exc.has("subscription:hold"):
            raise AlreadyOwned("You already subscribe to this listing.", [
                {"field": "listing_id", "in": "body", "message": "another subscription holds it"}]) from exc
        raise
    return Answer(201, subscription_dict(saved))


def _cancel_orphan(view: SubscriptionView, gateway: PaymentGateway) -> None:
    """Cancel the Stripe subscription of a request that lost the race (best effort: it is logged if not)."""
    try:
        gateway.cancel_subscription(view.stripe_subscription_id, at_period_end=False,
                                    idempotency_key=f"orphan-{view.stripe_subscription_id}")
    except DomainError as exc:
        log.error("could not cancel the orphan Stripe subscription %s: %s", view.stripe_subscription_id, exc)


def _record_first_invoice(subscription_id: str, view: SubscriptionView, gateway: PaymentGateway) -> None:
    """The first invoice was paid while subscribing (localstripe charges a saved card at once)."""
    assert view.latest_invoice is not None
    invoicing.record_invoice(subscription_id, view.latest_invoice, actor="stripe")
    current = repository.get(subscription_id)
    if current is not None:
        sync.sync_from_stripe(current, gateway.retrieve_subscription(view.stripe_subscription_id))



_ensure_customer = ensure_customer  # the name scripts/seed_history.py first used
