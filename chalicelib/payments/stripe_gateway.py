"""The Stripe adapter of `PaymentGateway`: the only module that imports the `stripe` SDK.

Built on `StripeClient` with bounded network retries (Stripe's own, which resend the same idempotency
key), connect and read timeouts from the running context's budget (`core.deadlines`: 2 s / 6 s and one
retry for the API, so a request whose Stripe call fails answers 503 within 16.5 s, inside API Gateway's
29 s; Stripe's defaults are 80 s and no retry), and one idempotency key of ours on every write.
Stripe's errors become the contract's: a refused card or a request Stripe rejects is `PaymentFailed`
(402), anything that says "try again later" (network, 5xx, rate limit, bad credentials) is
`UpstreamUnavailable` (503), an unknown object is `NotFound`. The decision is made by exception class and
HTTP status, never by message text.

localstripe (the local stage) answers in an older API shape; the differences are absorbed here so that no
caller can tell: `latest_charge` may be an expanded object rather than an id; `refund.charge` likewise;
it rejects PaymentIntent `description`/`transfer_group`/`automatic_payment_methods` and refund `reason`,
so none of those are sent (the reason travels in metadata); it ignores idempotency keys and never
checks over-refunds, so callers check amounts themselves before calling.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from chalicelib.config import CallBudget
from chalicelib.core import deadlines
from chalicelib.core.errors import NotFound, PaymentFailed, UpstreamUnavailable
from chalicelib.payments.billing_shapes import invoice_view, subscription_view
from chalicelib.payments.gateway import (
    ChargeView, DisputeView, InvoiceView, PaymentIntentView, PriceRef, RefundView, SubscriptionView,
)

if TYPE_CHECKING:  # the SDK's parameter types, for mypy only (the SDK itself is imported lazily)
    from stripe.params import PaymentIntentCreateParams, SubscriptionCreateParams

log = logging.getLogger("marketplace.stripe")

T = TypeVar("T")


def _id(value: Any) -> str | None:
    """An id whether Stripe sent the id or (localstripe, or an expansion) the whole object."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value["id"])


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    return dict(obj)


def _payment_intent(obj: Any) -> PaymentIntentView:
    data = _as_dict(obj)
    error = data.get("last_payment_error") or {}
    metadata = data.get("metadata") or {}
    return PaymentIntentView(
        payment_intent_id=data["id"], status=data["status"], amount=int(data["amount"]),
        currency=str(data["currency"]).lower(), order_id=metadata.get("order_id"),
        client_secret=data.get("client_secret"), latest_charge_id=_id(data.get("latest_charge")),
        failure_code=error.get("decline_code") or error.get("code"), failure_message=error.get("message"),
    )


def _refund(obj: Any) -> RefundView:
    data = _as_dict(obj)
    return RefundView(
        refund_id=data["id"], amount=int(data["amount"]), currency=str(data["currency"]).lower(),
        status=str(data.get("status") or "succeeded"), payment_intent_id=_id(data.get("payment_intent")),
        charge_id=_id(data.get("charge")), metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


def _charge(obj: Any) -> ChargeView:
    data = _as_dict(obj)
    refunds = (data.get("refunds") or {}).get("data") or []
    return ChargeView(
        charge_id=data["id"], payment_intent_id=_id(data.get("payment_intent")), amount=int(data["amount"]),
        amount_refunded=int(data.get("amount_refunded") or 0), currency=str(data["currency"]).lower(),
        refunds=tuple(_refund(r) for r in refunds),
    )


def _dispute(obj: Any) -> DisputeView:
    data = _as_dict(obj)
    return DisputeView(
        dispute_id=data["id"], status=data["status"], amount=int(data["amount"]),
        currency=str(data["currency"]).lower(), charge_id=_id(data.get("charge")),
        payment_intent_id=_id(data.get("payment_intent")),
    )


class StripeGateway:
    """`PaymentGateway` over Stripe's API (or localstripe's, when `STRIPE_API_BASE` points at it)."""

    def __init__(self, secret_key: str, *, api_base: str = "", budget: CallBudget | None = None,
                 max_network_retries: int | None = None, timeout: float | None = None):
        import stripe

        budget = budget or deadlines.current().stripe
        self._stripe = stripe
        options: dict[str, Any] = {
            "max_network_retries": budget.retries if max_network_retries is None else max_network_retries,
            # requests' (connect, read) timeouts; `timeout` (tests) sets both at once.
            "http_client": stripe.new_default_http_client(
                timeout=(budget.connect_seconds, budget.read_seconds) if timeout is None else timeout),
        }
        self._api_base = api_base
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(secret_key, **options)

    @classmethod
    def from_settings(cls) -> "StripeGateway":
        from chalicelib.config import get_settings
        from chalicelib.secrets import get_stripe_secrets

        secrets = get_stripe_secrets()
        if not secrets.secret_key:
            raise UpstreamUnavailable("The payment provider is not configured.")
        return cls(secrets.secret_key, api_base=get_settings().stripe_api_base)

    # --- error translation --------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        stripe = self._stripe
        try:
            return fn()
        except stripe.CardError as exc:
            raise PaymentFailed(
                "The card was declined.", [{"field": "payment", "message": str(exc.code or "card_declined")}]
            ) from exc
        except (stripe.InvalidRequestError, stripe.APIError) as exc:
            if exc.http_status == 404:
                raise NotFound(f"The payment provider has no such object ({what}).") from exc
            if isinstance(exc, stripe.InvalidRequestError) and exc.http_status in (400, 402):
                log.warning("stripe refused %s: %s", what, exc.code)
                raise PaymentFailed(
                    "The payment provider refused the request.",
                    [{"field": "payment", "message": str(exc.code or "invalid_request")}],
                ) from exc
            log.warning("stripe failed on %s: %r", what, exc)
            raise UpstreamUnavailable("The payment provider failed; nothing was changed.") from exc
        except stripe.StripeError as exc:
            # Network, rate limit, authentication, idempotency mismatch: nothing we can fix by retrying blindly.
            log.warning("stripe unavailable on %s: %r", what, exc)
            raise UpstreamUnavailable("The payment provider is unavailable; nothing was changed.") from exc

    # --- PaymentGateway -------------------------------------------------------------------------------
    def create_payment_intent(
        self, *, order_id: str, amount: int, currency: str, customer_ref: str, idempotency_key: str
    ) -> PaymentIntentView:
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency,
            "metadata": {"order_id": order_id, "customer": customer_ref},
        }
        if self._legacy_billing:
            # localstripe speaks the API before 2026-10-28, where the parameter had its old name.
            params["payment_method_types"] = ["card"]  # type: ignore[typeddict-unknown-key]
        else:
            params["allowed_payment_method_types"] = ["card"]  # the SDK's pinned API version's name
        created = self._call("payment_intent.create", lambda: self._client.v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key},
        ))
        return _payment_intent(created)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentView:
        return _payment_intent(self._call(
            "payment_intent.retrieve", lambda: self._client.v1.payment_intents.retrieve(payment_intent_id)
        ))

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentView:
        return _payment_intent(self._call("payment_intent.cancel", lambda: self._client.v1.payment_intents.cancel(
            payment_intent_id, options={"idempotency_key": idempotency_key},
        )))

    def create_refund(
        self, *, payment_intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundView:
        return _refund(self._call("refund.create", lambda: self._client.v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )))

    def retrieve_charge(self, charge_id: str) -> ChargeView:
        # Since 2022-11-15 Stripe leaves `refunds` out unless expanded; localstripe always includes it.
        return _charge(self._call("charge.retrieve", lambda: self._client.v1.charges.retrieve(
            charge_id, params={"expand": ["refunds"]},
        )))

    def retrieve_dispute(self, dispute_id: str) -> DisputeView:
        return _dispute(self._call("dispute.retrieve", lambda: self._client.v1.disputes.retrieve(dispute_id)))

    # --- subscriptions (Stripe Billing) -------------------------------------------------------------
    # localstripe (a base address is set only for it) has Plans rather than Prices, charges a saved card at
    # once instead of `default_incomplete`, and has no trialing status: see `billing_shapes`.
    @property
    def _legacy_billing(self) -> bool:
        return self._api_base != ""

    def create_customer(self, *, user_ref: str, idempotency_key: str) -> str:
        created = self._call("customer.create", lambda: self._client.v1.customers.create(
            params={"metadata": {"marketplace_user": user_ref}}, options={"idempotency_key": idempotency_key},
        ))
        return str(created["id"])

    def create_price(self, *, listing_id: str, version: int, name: str, amount: int, currency: str, interval: str,
                     idempotency_key: str) -> PriceRef:
        metadata = {"listing_id": listing_id, "version": str(version)}
        product = self._call("product.create", lambda: self._client.v1.products.create(
            params={"name": name[:250], "metadata": metadata},
            options={"idempotency_key": f"{idempotency_key}-product"},
        ))
        product_id = str(product["id"])
        if self._legacy_billing:
            plan = self._call("plan.create", lambda: self._client.v1.plans.create(
                params={"product": product_id, "amount": amount, "currency": currency, "interval": interval,
                        "metadata": metadata},
                options={"idempotency_key": f"{idempotency_key}-plan"},
            ))
            return PriceRef(product_id=product_id, price_id=str(plan["id"]))
        price = self._call("price.create", lambda: self._client.v1.prices.create(
            params={"product": product_id, "unit_amount": amount, "currency": currency,
                    "recurring": {"interval": interval}, "metadata": metadata},
            options={"idempotency_key": f"{idempotency_key}-price"},
        ))
        return PriceRef(product_id=product_id, price_id=str(price["id"]))

    def create_subscription(self, *, customer_id: str, price_id: str, trial_days: int, metadata: dict[str, str],
                            idempotency_key: str) -> SubscriptionView:
        params: SubscriptionCreateParams
        if self._legacy_billing:
            params = {"customer": customer_id, "metadata": metadata, "items": [{"plan": price_id}]}
        else:
            # The first invoice waits for the customer to confirm its PaymentIntent with Stripe.js.
            params = {"customer": customer_id, "metadata": metadata, "items": [{"price": price_id}],
                      "payment_behavior": "default_incomplete",
                      "payment_settings": {"save_default_payment_method": "on_subscription"},
                      "expand": ["latest_invoice.confirmation_secret", "latest_invoice.payments"]}
        if trial_days:
            params["trial_period_days"] = trial_days
        try:
            created = self._call("subscription.create", lambda: self._client.v1.subscriptions.create(
                params=params, options={"idempotency_key": idempotency_key}))
        except NotFound as exc:
            # localstripe charges the customer's saved card at once and answers 404 when there is none.
            raise PaymentFailed("The customer has no saved payment method to pay the first invoice with.",
                                [{"field": "payment", "message": "no_payment_method"}]) from exc
        view = subscription_view(_as_dict(created))
        if view.latest_invoice is None and view.latest_invoice_id:  # not expanded (localstripe)
            view = replace(view, latest_invoice=self.retrieve_invoice(view.latest_invoice_id))
        invoice = view.latest_invoice
        if invoice is not None and invoice.client_secret is None and invoice.payment_intent_id \
                and invoice.status == "open":
            intent = self.retrieve_payment_intent(invoice.payment_intent_id)
            view = replace(view, latest_invoice=replace(invoice, client_secret=intent.client_secret))
        return view

    def retrieve_subscription(self, stripe_subscription_id: str) -> SubscriptionView:
        return subscription_view(_as_dict(self._call("subscription.retrieve", lambda: (
            self._client.v1.subscriptions.retrieve(stripe_subscription_id)))))

    def cancel_subscription(self, stripe_subscription_id: str, *, at_period_end: bool,
                            idempotency_key: str) -> SubscriptionView:
        if at_period_end:
            done = self._call("subscription.update", lambda: self._client.v1.subscriptions.update(
                stripe_subscription_id, params={"cancel_at_period_end": True},
                options={"idempotency_key": idempotency_key}))
        else:
            done = self._call("subscription.cancel", lambda: self._client.v1.subscriptions.cancel(
                stripe_subscription_id, options={"idempotency_key": idempotency_key}))
        return subscription_view(_as_dict(done))

    def retrieve_invoice(self, invoice_id: str) -> InvoiceView:
        expand = [] if self._legacy_billing else ["payments"]
        return invoice_view(_as_dict(self._call("invoice.retrieve", lambda: self._client.v1.invoices.retrieve(
            invoice_id, params={"expand": expand} if expand else {}))))
