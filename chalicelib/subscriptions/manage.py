"""What a subscriber and staff do with existing subscriptions: list them, read one, cancel at period end.

Reading follows the orders' rules: a customer sees only their own (another customer's id is 404, its
existence not leaked), admin and finance see every one. Canceling asks Stripe to stop at the period's end
(an `incomplete` one, never paid, ends at once) and applies Stripe's answer through `sync`, the same path
its `customer.subscription.updated` webhook takes, so whichever comes first does the work once.
"""
from __future__ import annotations

from chalicelib.core.errors import InvalidState, NotFound
from chalicelib.core.identity import Principal
from chalicelib.db.transact import ConditionsFailed
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway
from chalicelib.subscriptions import model, repository, sync
from chalicelib.subscriptions.model import InvoiceSummary, Subscription
from chalicelib.subscriptions.views import subscription_dict


def _is_staff(user: Principal) -> bool:
    return user.is_admin or user.is_finance


def _visible(user: Principal, subscription_id: str) -> Subscription:
    sub = repository.get(subscription_id)
    if sub is None or (sub.customer_sub != user.sub and not _is_staff(user)):
        raise NotFound("No such subscription.")
    return sub


def list_subscriptions(*, user: Principal, limit: int, cursor: str | None) -> dict:
    """The caller's subscriptions, newest first (admin and finance: every subscription)."""
    if _is_staff(user):
        page = repository.list_all(limit=limit, cursor=cursor, scope="subscriptions:*")
    else:
        page = repository.list_for_customer(user.sub, limit=limit, cursor=cursor, scope=f"subscriptions:{user.sub}")
    return {"items": [subscription_dict(s) for s in page.items], "next_cursor": page.next_cursor}


def get_subscription(*, user: Principal, subscription_id: str) -> dict:
    """One subscription with every invoice it recorded (one Query of its partition)."""
    sub, invoices = repository.get_with_invoices(subscription_id)
    if sub is None or (sub.customer_sub != user.sub and not _is_staff(user)):
        raise NotFound("No such subscription.")
    return subscription_dict(sub, [InvoiceSummary(i.invoice_id, int(i.amount), i.paid_at, int(i.refunded or 0))
                                   for i in invoices])


def cancel(*, user: Principal, subscription_id: str, gateway: PaymentGateway | None = None) -> dict:
    """Cancel at the period's end (the owner); access lasts until `current_period_end`. Repeating is harmless."""
    sub = repository.get(subscription_id)
    if sub is None or sub.customer_sub != user.sub:
        raise NotFound("No such subscription.")
    if sub.status not in model.CANCELABLE:
        raise InvalidState(f"A {sub.status} subscription cannot be canceled.")
    if sub.cancel_at_period_end:
        return subscription_dict(sub)
    view = (gateway or pay.get_gateway()).cancel_subscription(
        sub.stripe_subscription_id, at_period_end=sub.status != model.INCOMPLETE,
        idempotency_key=f"cancel-{sub.subscription_id}")
    for _attempt in range(sync.MAX_ATTEMPTS):
        current = repository.get(subscription_id) or sub
        try:
            done, _ = sync.sync_from_stripe(current, view, actor=user.sub, roles=user.groups,
                                            action="subscription.cancel_requested")
            return subscription_dict(done)
        except ConditionsFailed as exc:
            if not exc.has("subscription:rev"):
                raise
    return subscription_dict(repository.get(subscription_id) or sub)
