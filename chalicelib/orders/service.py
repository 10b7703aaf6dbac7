"""Checkout use cases: place an order, read and cancel orders, pay them, refund them.

Each state change is one DynamoDB transaction holding the change, its guards and its audit record; the
ledger's journal rows join the same transaction through `money_seam`. Orders are written whole and
conditioned on the version read, so a change computed from stale state never lands: the caller reloads
and decides again (webhooks), or answers 409.

Payment state always comes from the provider, not from the order of events: `sync_payment` looks at what
the PaymentIntent *is* and moves the order forward only (a late `payment_failed` cannot undo `paid`).
Refunds are counted by their Stripe refund id, so a refund made here and the `charge.refunded` webhook
about it are recorded once, by whichever arrives first, with the same line allocation (carried in the
refund's metadata).
"""
from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import replace
from typing import Any, Callable

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import AlreadyOwned, Conflict, InvalidState, NotFound, PaymentFailed, ValidationFailed
from chalicelib.core.money import Component, split_bundle
from chalicelib.db import keys
from chalicelib.db.table import MarketItem
from chalicelib.entitlements import repository as entitlements
from chalicelib.core.identity import Principal
from chalicelib.orders import idempotency, model, money_seam, repository
from chalicelib.orders.model import LinePart, Order, OrderLine, Refund
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway, PaymentIntentView, RefundView

log = logging.getLogger("marketplace.orders")

STAFF = ("admin", "finance")
PUBLISHED = "published"
MAX_RETRIES = 3
TRANSACTION_LIMIT = 100  # DynamoDB's TransactWriteItems maximum

# A transaction hook: adds rows (e.g. a webhook's event marker) to the transaction of an effect.
TxHook = Callable[[Any], None]


def _no_hook(_tx: Any) -> None:
    return None


NO_HOOK: TxHook = _no_hook


def _hook_only(hook: TxHook) -> None:
    """Commit the caller's rows alone (the event marker of an event that changes nothing)."""
    if hook is not _no_hook:
        with transaction() as tx:
            hook(tx)


def _catalog_lookup() -> Callable[[list[str]], dict]:
    from chalicelib.catalog.service import get_live_listings

    return get_live_listings


def _deterministic_id(prefix: str, *parts: str) -> str:
    """An id derived from a caller's idempotency key: two racing retries build the same order."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return f"{prefix}_" + base64.b32encode(digest).decode("ascii")[:26]


# --- presentation ----------------------------------------------------------------------------------
def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def line_dict(line: OrderLine, currency: str) -> dict:
    return {
        "line_id": line.line_id, "listing_id": line.listing_id, "type": line.type, "name": line.name,
        "price": money(line.price, currency), "refunded": money(line.refunded, currency),
        "parts": [{"listing_id": p.listing_id, "partner_id": p.partner_id, "amount": money(p.amount, currency),
                   "commission_bps": p.commission_bps} for p in line.parts],
    }


def refund_dict(refund: Refund, currency: str) -> dict:
    return {
        "refund_id": refund.refund_id, "order_id": refund.order_id, "amount": money(refund.amount, currency),
        "lines": [{"line_id": k, "amount": money(v, currency)} for k, v in sorted(refund.line_amounts.items())],
        "stripe_refund_id": refund.stripe_refund_id, "reason": refund.reason, "created_at": refund.created_at,
    }


def order_dict(order: Order, refunds: list[Refund] | None = None) -> dict:
    payment = None
    if order.payment_intent_id:
        # The client secret lets the buyer (re)confirm with Stripe.js; it is useless once paid.
        payment = {"payment_intent_id": order.payment_intent_id,
                   "client_secret": order.client_secret if order.status in model.PAYABLE else None}
    out = {
        "order_id": order.order_id, "status": order.status, "customer_sub": order.customer_sub,
        "currency": order.currency, "total": money(order.total, order.currency),
        "refunded": money(order.refunded, order.currency),
        "lines": [line_dict(line, order.currency) for line in order.lines],
        "payment": payment, "created_at": order.created_at, "paid_at": order.paid_at,
        "updated_at": order.updated_at, "failure_reason": order.failure_reason,
    }
    if refunds is not None:
        out["refunds"] = [refund_dict(r, order.currency) for r in refunds]
    return out


# --- placing an order ------------------------------------------------------------------------------
def _validate_items(listing_ids: list[str], live: dict) -> tuple[str, list]:
    """The order's currency and its listings, or a 400 naming each unusable item."""
    problems = []
    listings = []
    for index, listing_id in enumerate(listing_ids):
        listing = live.get(listing_id)
        if listing is None or listing.status != PUBLISHED:
            problems.append({"field": f"items.{index}.listing_id", "in": "body",
                             "message": f"{listing_id} is not a published listing"})
        else:
            listings.append(listing)
    if problems:
        raise ValidationFailed("Some items cannot be ordered.", problems)
    currencies = sorted({listing.price.currency for listing in listings})
    if len(currencies) > 1:
        raise ValidationFailed("All items of an order must be priced in one currency.", [
            {"field": "items", "in": "body", "message": f"mixes currencies {', '.join(currencies)}"}])
    # A listing may reach the order twice: an app and a bundle holding it, or two bundles sharing an app.
    seen: dict[str, str] = {}
    for listing in listings:
        for granted in (listing.listing_id, *(c.listing_id for c in listing.components)):
            if granted in seen:
                raise ValidationFailed("An app would be bought twice in this order.", [
                    {"field": "items", "in": "body",
                     "message": f"{granted} is in both {seen[granted]} and {listing.listing_id}"}])
            seen[granted] = listing.listing_id
    return currencies[0], listings


def _grants(listing) -> list[str]:
    return [listing.listing_id, *(c.listing_id for c in listing.components)]


def _fits_one_transaction(lines: tuple[OrderLine, ...]) -> None:
    """Paying (or refunding) an order is one transaction of at most 100 rows: refuse orders that cannot fit.

    Rows: the order, the event marker or idempotency record, the audit record, the refund and its guard,
    one entitlement per granted listing, and the ledger's 6 + 3 per partner.
    """
    grants = sum(len(line.grants) for line in lines)
    partners = len({p.partner_id for line in lines for p in line.parts})
    if grants + 3 * partners + 12 > TRANSACTION_LIMIT:
        raise ValidationFailed("This order is too large to be paid in one step; split it into smaller orders.", [
            {"field": "items", "in": "body", "message": f"grants {grants} listings from {partners} partners"}])


def _build_lines(listings: list, partners: dict, on) -> tuple[OrderLine, ...]:
    def bps(partner_id: str) -> int:
        partner = partners.get(partner_id)
        if partner is None:
            raise ValidationFailed(f"The seller {partner_id} of an item no longer exists.")
        return partner.commission_bps(on)

    lines = []
    for number, listing in enumerate(listings, start=1):
        price = listing.price.amount
        if listing.type == "bundle":
            comps = [Component(c.listing_id, c.partner_id, c.list_price) for c in listing.components]
            parts = tuple(LinePart(p.listing_id, p.partner_id, p.amount, bps(p.partner_id))
                          for p in split_bundle(price, comps, dict(listing.split or {"method": "pro_rata"})))
        else:
            parts = (LinePart(listing.listing_id, listing.partner_id, price, bps(listing.partner_id)),)
        lines.append(OrderLine(f"L{number}", listing.listing_id, listing.type, listing.name, price, parts))
    return tuple(lines)


def place_order(*, user: Principal, body: dict, headers: dict[str, str],
                gateway: PaymentGateway | None = None,
                catalog: Callable[[list[str]], dict] | None = None) -> tuple[int, dict]:
    """Create an order (and its PaymentIntent) for `body["items"]`; replays by Idempotency-Key."""
    key = idempotency.key_from(headers, scope="orders", caller=user.sub, body=body, target="POST /orders")
    listing_ids = [item["listing_id"] for item in body["items"]]
    live = (catalog or _catalog_lookup())(listing_ids)

    # One BatchGetItem: the idempotency record, the sellers (for their commission today) and what the
    # customer already owns among everything the order would grant.
    partner_ids = {lst.partner_id for lst in live.values()} | {
        c.partner_id for lst in live.values() for c in lst.components}
    granted = sorted({g for lst in live.values() for g in _grants(lst)})
    wanted = [key.item_key] + [(keys.partner_pk(p), keys.PROFILE_SK) for p in sorted(partner_ids)] + [
        (keys.user_pk(user.sub), keys.entitlement_sk(g)) for g in granted]
    found = list(MarketItem.batch_get(wanted, consistent_read=True))
    stored = next((i for i in found if isinstance(i, idempotency.IdempotencyItem)), None)
    replayed = idempotency.replay(stored, key)
    if replayed is not None:
        return replayed

    from chalicelib.partners.repository import PartnerItem

    partners = {i.partner_id: i for i in found if isinstance(i, PartnerItem)}
    owned = sorted(i.listing_id for i in found if isinstance(i, entitlements.EntitlementItem))
    currency, listings = _validate_items(listing_ids, live)
    if owned:
        raise AlreadyOwned("You already own some of these items.", [
            {"field": "items", "in": "body", "message": f"{lid} is already yours"} for lid in owned])

    now = clock.now()
    at = clock.iso(now)
    lines = _build_lines(listings, partners, now.date())
    _fits_one_transaction(lines)
    order_id = _deterministic_id("ord", user.sub, key.key)
    total = model.order_total(lines)
    order = Order(order_id=order_id, customer_sub=user.sub, currency=currency, total=total,
                  status=model.PENDING_PAYMENT, lines=lines, payment_intent_id=None, created_at=at, updated_at=at)
    if total > 0:
        intent = (gateway or pay.get_gateway()).create_payment_intent(
            order_id=order_id, amount=total, currency=currency, customer_ref=user.sub,
            # Per order and body: a retry after a failed write reuses the PaymentIntent, while the same
            # Idempotency-Key sent later with another body (nothing was stored) is not refused by Stripe.
            idempotency_key=f"order-{order_id}-payment-intent-{key.request_hash[:16]}",
        )
        order = replace(order, payment_intent_id=intent.payment_intent_id, client_secret=intent.client_secret)
    else:
        order = replace(order, status=model.PAID, paid_at=at)

    response = order_dict(order)
    try:
        with transaction() as tx:
            repository.put_new(tx, order)
            tx.save(key.record(201, response), condition=idempotency.IdempotencyItem.pk.does_not_exist())
            tx.save(audit_item(actor=user.sub, actor_roles=user.groups, action="order.placed", entity_type="order",
                               entity_id=order_id, at=at, data={"total": total, "currency": currency,
                                                                 "listing_ids": listing_ids,
                                                                 "payment_intent_id": order.payment_intent_id}))
            if order.status == model.PAID:
                entitlements.grant(tx, order, at=at)
                money_seam.record_sale(tx, order)
    except ConditionsFailed:
        # The same key raced us: answer as the winner did (or 409 if it carried another body).
        replayed = idempotency.replay(idempotency.lookup(key), key)
        if replayed is None:
            raise
        return replayed
    return 201, response


# --- reading ---------------------------------------------------------------------------------------
def _visible(order: Order | None, user: Principal) -> Order:
    if order is None or (order.customer_sub != user.sub and not user.has_any(STAFF)):
        raise NotFound("No such order.")
    return order


def get_order(*, user: Principal, order_id: str) -> dict:
    order, refunds = repository.get_with_refunds(order_id)
    return order_dict(_visible(order, user), refunds)


def list_orders(*, user: Principal, limit: int, cursor: str | None, customer: str | None = None) -> dict:
    """The caller's orders; admin and finance see every order (or one customer's with `customer`)."""
    if user.has_any(STAFF):
        if customer:
            page = repository.list_for_customer(customer, limit=limit, cursor=cursor,
                                                scope=f"orders:staff:{customer}")
        else:
            page = repository.list_all(limit=limit, cursor=cursor, scope="orders:staff:*")
    else:
        if customer and customer != user.sub:
            raise NotFound("No such customer.")
        page = repository.list_for_customer(user.sub, limit=limit, cursor=cursor, scope=f"orders:{user.sub}")
    return {"items": [order_dict(repository.from_item(i)) for i in page.items], "next_cursor": page.next_cursor}


# --- canceling -------------------------------------------------------------------------------------
def cancel_order(*, user: Principal, order_id: str, gateway: PaymentGateway | None = None) -> dict:
    """Cancel an unpaid order of the caller's; its PaymentIntent is canceled first so it cannot be paid."""
    order = repository.get(order_id)
    if order is None or order.customer_sub != user.sub:
        raise NotFound("No such order.")
    if order.status not in model.CANCELABLE:
        raise InvalidState(f"A {order.status} order cannot be canceled.")
    if order.payment_intent_id:
        gw = gateway or pay.get_gateway()
        intent = gw.retrieve_payment_intent(order.payment_intent_id)
        if intent.status in (pay.PI_SUCCEEDED, pay.PI_PROCESSING):
            # Paid meanwhile: the webhook will (or did) mark it paid. Never cancel money already taken.
            raise InvalidState("This order has just been paid; it can no longer be canceled.")
        if intent.status != pay.PI_CANCELED:
            try:
                gw.cancel_payment_intent(order.payment_intent_id, idempotency_key=f"order-{order_id}-cancel")
            except PaymentFailed as exc:
                # Stripe refuses to cancel an intent that was confirmed a moment ago.
                raise InvalidState("This order has just been paid; it can no longer be canceled.") from exc
    at = clock.now_iso()
    changed = model.with_status(order, model.CANCELED, at=at, version=order.version + 1)
    try:
        with transaction() as tx:
            repository.put_changed(tx, changed, read_version=order.version)
            tx.save(audit_item(actor=user.sub, actor_roles=user.groups, action="order.canceled",
                               entity_type="order", entity_id=order_id, at=at, data={"from": order.status}))
    except ConditionsFailed as exc:
        raise InvalidState("The order changed meanwhile; reload it.") from exc
    return order_dict(changed)


# --- payment (webhooks) ----------------------------------------------------------------------------
def sync_payment(order: Order, intent: PaymentIntentView, *, hook: TxHook = _no_hook,
                 actor: str = "stripe") -> tuple[Order, str]:
    """Move `order` to what its PaymentIntent says now; returns (order, outcome). Forward-only.

    Paying grants the entitlements and records the sale in the same transaction. `hook` adds the
    caller's rows (the webhook's event marker) so they commit with the effect, or alone when there is
    no effect to apply.
    """
    at = clock.now_iso()
    changed: Order | None = None
    action = ""
    if intent.payment_intent_id != order.payment_intent_id:
        outcome = "ignored:other_payment_intent"
    elif intent.status == pay.PI_SUCCEEDED:
        if intent.amount != order.total or intent.currency != order.currency:
            log.error("payment %s amount %s %s != order %s total", intent.payment_intent_id, intent.amount,
                      intent.currency, order.order_id)
            outcome = "ignored:amount_mismatch"
        elif order.status in model.PAYABLE:
            changed = model.with_status(order, model.PAID, at=at, paid_at=at, failure_reason=None,
                                        version=order.version + 1)
            action, outcome = "order.paid", "paid"
        else:
            if order.status == model.CANCELED:
                log.error("payment %s succeeded for canceled order %s: refund it", intent.payment_intent_id,
                          order.order_id)
            outcome = f"noop:{order.status}"
    elif intent.status == pay.PI_REQUIRES_PAYMENT_METHOD and intent.failure_code:
        if order.status == model.PENDING_PAYMENT:
            changed = model.with_status(order, model.FAILED, at=at, failure_reason=intent.failure_code,
                                        version=order.version + 1)
            action, outcome = "order.payment_failed", "failed"
        else:
            outcome = f"noop:{order.status}"
    else:
        outcome = f"noop:intent_{intent.status}"

    if changed is None:
        _hook_only(hook)
        return order, outcome
    with transaction() as tx:
        hook(tx)
        if changed is not None:
            repository.put_changed(tx, changed, read_version=order.version)
            tx.save(audit_item(actor=actor, action=action, entity_type="order", entity_id=order.order_id, at=at,
                               data={"payment_intent_id": intent.payment_intent_id, "amount": intent.amount,
                                     "from": order.status, "failure_code": intent.failure_code}))
            if changed.status == model.PAID:
                entitlements.grant(tx, changed, at=at)
                money_seam.record_sale(tx, changed)
    return (changed or order), outcome


# --- refunds ---------------------------------------------------------------------------------------
ALLOC_PREFIX = "line_"


def _allocation_metadata(line_amounts: dict[str, int]) -> dict[str, str]:
    return {f"{ALLOC_PREFIX}{line_id}": str(amount) for line_id, amount in line_amounts.items()}


def _allocation_from(metadata: dict[str, str], order: Order, amount: int) -> dict[str, int] | None:
    """The allocation a refund of ours carried, if it still fits the order; else None (spread it)."""
    alloc = {k[len(ALLOC_PREFIX):]: int(v) for k, v in metadata.items()
             if k.startswith(ALLOC_PREFIX) and v.isdigit()}
    if not alloc or sum(alloc.values()) != amount:
        return None
    try:
        if any(order.line(line_id).refundable < share for line_id, share in alloc.items()):
            return None
    except KeyError:
        return None
    return alloc


def record_stripe_refund(order: Order, stripe_refund: RefundView, *, actor: str, reason: str | None,
                         refund_id: str | None = None, hook: TxHook = _no_hook,
                         respond: Callable[[Any, Order, Refund], None] | None = None,
                         audit_roles: frozenset[str] = frozenset()) -> tuple[Order, Refund | None]:
    """Count a Stripe refund against the order once: refund row, order totals, revocations, ledger, audit.

    Returns (order after, refund) or (order, None) when this Stripe refund was already counted. `respond`
    adds rows that depend on the result (the API's idempotency record) to the same transaction.
    """
    if stripe_refund.refund_id in order.stripe_refund_ids:
        _hook_only(hook)
        return order, None
    amount = min(stripe_refund.amount, order.refundable)
    alloc = _allocation_from(stripe_refund.metadata, order, amount) or money_seam.allocate_refund(order, amount, None)
    at = clock.now_iso()
    refund = Refund(
        refund_id=refund_id or stripe_refund.metadata.get("refund_id") or _deterministic_id(
            "ref", order.order_id, stripe_refund.refund_id),
        order_id=order.order_id, amount=amount, line_amounts=alloc, stripe_refund_id=stripe_refund.refund_id,
        reason=reason or stripe_refund.metadata.get("reason") or "refunded in Stripe", created_at=at, actor=actor,
    )
    after = model.apply_refund(order, refund, at=at)
    after = replace(after, version=order.version + 1,
                    stripe_refund_ids=(*order.stripe_refund_ids, stripe_refund.refund_id))
    completed = model.lines_completed_by(order, refund)
    skip: set[str] = set()
    for _attempt in range(MAX_RETRIES):
        try:
            with transaction() as tx:
                hook(tx)
                repository.put_changed(tx, after, read_version=order.version)
                repository.put_refund(tx, refund)
                revoked = entitlements.revoke(tx, order, completed, skip=frozenset(skip))
                tx.save(audit_item(
                    actor=actor, actor_roles=audit_roles, action="order.refunded", entity_type="order",
                    entity_id=order.order_id, reason=refund.reason, at=at,
                    data={"refund_id": refund.refund_id, "amount": amount, "lines": alloc,
                          "stripe_refund_id": stripe_refund.refund_id, "revoked": revoked,
                          "status": after.status}))
                money_seam.record_refund(tx, order, refund)
                if respond is not None:
                    respond(tx, after, refund)
            return after, refund
        except ConditionsFailed as exc:
            # An entitlement another order granted is not this refund's to revoke: keep it and retry.
            theirs = {sk[len(keys.ENTITLEMENT_PREFIX):] for pk, sk in exc.keys
                      if pk == keys.user_pk(order.customer_sub) and sk.startswith(keys.ENTITLEMENT_PREFIX)}
            if not theirs or theirs <= skip:
                raise
            skip |= theirs
    raise Conflict("The refund could not be recorded; try again.")


def refund_order(*, actor: Principal, order_id: str, body: dict, headers: dict[str, str],
                 gateway: PaymentGateway | None = None) -> tuple[int, dict]:
    """Refund part or all of a paid order through Stripe, then record it (admin, finance)."""
    key = idempotency.key_from(headers, scope=f"refund:{order_id}", caller=actor.sub, body=body,
                               target=f"POST /admin/orders/{order_id}/refunds")
    found = list(MarketItem.batch_get([key.item_key, (keys.order_pk(order_id), keys.ORDER_SK)],
                                      consistent_read=True))
    replayed = idempotency.replay(
        next((i for i in found if isinstance(i, idempotency.IdempotencyItem)), None), key)
    if replayed is not None:
        return replayed
    item = next((i for i in found if isinstance(i, repository.OrderItem)), None)
    if item is None:
        raise NotFound("No such order.")
    order = repository.from_item(item)
    if order.status not in model.REFUNDABLE:
        raise InvalidState(f"A {order.status} order cannot be refunded.")
    if not order.payment_intent_id:
        raise InvalidState("A free order has nothing to refund.")
    amount = body.get("amount")
    listing_ids = body.get("listing_ids")
    if amount is not None and amount > order.refundable:
        raise Conflict(f"Refund of {amount} exceeds what is left to refund ({order.refundable}).")
    alloc = money_seam.allocate_refund(order, amount, listing_ids)
    total = sum(alloc.values())
    refund_id = _deterministic_id("ref", order_id, actor.sub, key.key)
    metadata = {"order_id": order_id, "refund_id": refund_id, "reason": body["reason"][:500],
                **_allocation_metadata(alloc)}
    stripe_refund = (gateway or pay.get_gateway()).create_refund(
        payment_intent_id=order.payment_intent_id, amount=total, metadata=metadata,
        idempotency_key=f"refund-{refund_id}",
    )
    # localstripe drops nothing, but be sure the allocation travels with the object we record.
    stripe_refund = replace(stripe_refund, metadata={**metadata, **stripe_refund.metadata})

    def respond(tx, after: Order, refund: Refund) -> None:
        response = {"refund": refund_dict(refund, after.currency), "order": order_dict(after)}
        tx.save(key.record(201, response), condition=idempotency.IdempotencyItem.pk.does_not_exist())

    for _attempt in range(MAX_RETRIES):
        try:
            after, refund = record_stripe_refund(
                order, stripe_refund, actor=actor.sub, reason=body["reason"], refund_id=refund_id,
                audit_roles=actor.groups, respond=respond,
            )
            if refund is not None:
                return 201, {"refund": refund_dict(refund, after.currency), "order": order_dict(after)}
            break  # counted already (a retry after a crash, or the webhook got there first)
        except ConditionsFailed as exc:
            if exc.hit(key.pk):
                replayed = idempotency.replay(idempotency.lookup(key), key)
                if replayed is not None:
                    return replayed
            if exc.hit(keys.stripe_refund_pk(stripe_refund.refund_id)):
                break  # the webhook recorded it first
            order = repository.get(order_id) or order  # changed meanwhile: recount against the new state
    else:
        raise Conflict("The order kept changing; the refund was made in Stripe and its webhook will record it.")
    order, refunds = repository.get_with_refunds(order_id)
    assert order is not None
    recorded = next((r for r in refunds if r.stripe_refund_id == stripe_refund.refund_id), None)
    response = {"refund": refund_dict(recorded, order.currency) if recorded else None, "order": order_dict(order)}
    try:
        with transaction() as tx:
            tx.save(key.record(201, response), condition=idempotency.IdempotencyItem.pk.does_not_exist())
    except ConditionsFailed:
        replayed = idempotency.replay(idempotency.lookup(key), key)
        if replayed is not None:
            return replayed
    return 201, response


# --- disputes (webhooks) ---------------------------------------------------------------------------
def sync_dispute(order: Order, dispute, *, hook: TxHook = _no_hook) -> tuple[Order, str]:
    """Record what a dispute *is* now (re-read from Stripe): opened, won or lost; forward-only.

    While a dispute is open the order is `disputed`; winning restores the status it had. A dispute first
    seen already closed is recorded as opened and closed at once, so the ledger stays balanced.
    """
    recorded = order.disputes.get(dispute.dispute_id)
    if dispute.status in pay.DISPUTE_OPEN:
        stripe_state = "open"
    elif dispute.status in pay.DISPUTE_WON:
        stripe_state = "won"
    elif dispute.status in pay.DISPUTE_LOST:
        stripe_state = "lost"
    else:
        stripe_state = "unknown"
    if stripe_state == "unknown" or recorded in ("won", "lost") or recorded == stripe_state \
            or (recorded is None and order.status not in model.DISPUTABLE and order.status != model.DISPUTED):
        _hook_only(hook)
        return order, f"noop:dispute_{stripe_state}"

    at = clock.now_iso()
    disputes = {**order.disputes, dispute.dispute_id: stripe_state}
    before = order.status_before_dispute if order.status == model.DISPUTED else order.status
    still_open = any(state == "open" for state in disputes.values())
    if stripe_state == "open" or stripe_state == "lost" or still_open:
        status = model.DISPUTED
    else:
        status = before or model.PAID
    changed = replace(order, status=status, disputes=disputes, updated_at=at, version=order.version + 1,
                      status_before_dispute=before if status == model.DISPUTED else None)
    with transaction() as tx:
        hook(tx)
        repository.put_changed(tx, changed, read_version=order.version)
        if recorded is None:
            money_seam.record_dispute(tx, order, dispute_id=dispute.dispute_id, amount=dispute.amount, opened=True)
        if stripe_state in ("won", "lost"):
            money_seam.record_dispute(tx, order, dispute_id=dispute.dispute_id, amount=dispute.amount,
                                      opened=False, won=stripe_state == "won")
        tx.save(audit_item(actor="stripe", action=f"order.dispute_{stripe_state}", entity_type="order",
                           entity_id=order.order_id, at=at,
                           data={"dispute_id": dispute.dispute_id, "amount": dispute.amount,
                                 "stripe_status": dispute.status, "from": order.status, "to": status}))
    return changed, f"dispute_{stripe_state}"
