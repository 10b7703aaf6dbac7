"""Cancel an unpaid order: its PaymentIntent first (so it can no longer be paid), then the order."""
from __future__ import annotations

from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import InvalidState, NotFound, PaymentFailed
from chalicelib.core.identity import Principal
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.orders import model, repository
from chalicelib.orders.views import order_dict
from chalicelib.payments import gateway as pay
from chalicelib.payments.gateway import PaymentGateway


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
