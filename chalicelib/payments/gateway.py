"""The payment port: what the marketplace asks of a payment provider, in its own words.

Use cases depend on `PaymentGateway`, never on the Stripe SDK, so they can be tested against
`tests.fakes.FakeGateway` and the SDK is imported only when a request really talks to Stripe. Every write
takes an idempotency key of ours (built from a business id), so a retried request never charges or refunds twice.
The values returned are normalised: ids are strings, amounts integers of minor units, whatever the
provider (Stripe, or localstripe with its older API shapes) answered.

`get_gateway()` builds the process's gateway once per cold start from the factory `chalicelib.bootstrap`
provides; tests install a fake with `set_gateway`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol

# PaymentIntent statuses, as Stripe names them.
PI_SUCCEEDED = "succeeded"
PI_PROCESSING = "processing"
PI_CANCELED = "canceled"
PI_REQUIRES_PAYMENT_METHOD = "requires_payment_method"
PI_REQUIRES_ACTION = "requires_action"

# Dispute statuses that mean the money is still (or again) in question, and those that close it.
DISPUTE_OPEN = frozenset({"warning_needs_response", "warning_under_review", "needs_response", "under_review"})
DISPUTE_WON = frozenset({"won", "warning_closed"})
DISPUTE_LOST = frozenset({"lost"})


@dataclass(frozen=True)
class PaymentIntentView:
    payment_intent_id: str
    status: str
    amount: int
    currency: str
    order_id: str | None
    client_secret: str | None = None
    latest_charge_id: str | None = None
    # The last attempt's decline, when the customer's card was refused (the intent can still be retried).
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class RefundView:
    refund_id: str
    amount: int
    currency: str
    status: str
    payment_intent_id: str | None
    charge_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeView:
    charge_id: str
    payment_intent_id: str | None
    amount: int
    amount_refunded: int
    currency: str
    refunds: tuple[RefundView, ...] = ()


@dataclass(frozen=True)
class DisputeView:
    dispute_id: str
    status: str
    amount: int
    currency: str
    charge_id: str | None
    payment_intent_id: str | None


# Stripe subscription statuses that hold access (the marketplace maps the rest, see subscriptions/model.py).
SUB_INCOMPLETE, SUB_INCOMPLETE_EXPIRED, SUB_TRIALING, SUB_ACTIVE = "incomplete", "incomplete_expired", "trialing", "active"
SUB_PAST_DUE, SUB_UNPAID, SUB_CANCELED, SUB_PAUSED = "past_due", "unpaid", "canceled", "paused"
INVOICE_PAID = "paid"


@dataclass(frozen=True)
class PriceRef:
    """The Stripe Product and (recurring) Price of one listing version."""

    product_id: str
    price_id: str


@dataclass(frozen=True)
class InvoiceView:
    """A Stripe invoice in the marketplace's words: times are epoch seconds, amounts minor units."""

    invoice_id: str
    stripe_subscription_id: str | None
    status: str  # draft | open | paid | void | uncollectible
    total: int
    amount_paid: int
    currency: str
    payment_intent_id: str | None
    charge_id: str | None
    created: int
    paid_at: int | None = None
    period_start: int | None = None
    period_end: int | None = None
    # What the customer's browser confirms with Stripe.js while the invoice waits for its first payment.
    client_secret: str | None = None
    billing_reason: str | None = None


@dataclass(frozen=True)
class SubscriptionView:
    stripe_subscription_id: str
    status: str
    customer_id: str
    current_period_end: int
    cancel_at_period_end: bool
    metadata: dict[str, str] = field(default_factory=dict)
    trial_end: int | None = None
    latest_invoice_id: str | None = None
    latest_invoice: InvoiceView | None = None


class PaymentGateway(Protocol):
    """The provider calls the marketplace makes. Raises PaymentFailed (402) or UpstreamUnavailable (503)."""

    def create_payment_intent(
        self, *, order_id: str, amount: int, currency: str, customer_ref: str, idempotency_key: str
    ) -> PaymentIntentView: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentView: ...

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentView: ...

    def create_refund(
        self, *, payment_intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundView: ...

    def retrieve_charge(self, charge_id: str) -> ChargeView: ...

    def retrieve_dispute(self, dispute_id: str) -> DisputeView: ...

    # --- subscriptions (Stripe Billing) ------------------------------------------------------------
    def create_customer(self, *, user_ref: str, idempotency_key: str) -> str: ...

    def create_price(self, *, listing_id: str, version: int, name: str, amount: int, currency: str, interval: str,
                     idempotency_key: str) -> PriceRef: ...

    def create_subscription(self, *, customer_id: str, price_id: str, trial_days: int, metadata: dict[str, str],
                            idempotency_key: str) -> SubscriptionView: ...

    def retrieve_subscription(self, stripe_subscription_id: str) -> SubscriptionView: ...

    def cancel_subscription(self, stripe_subscription_id: str, *, at_period_end: bool,
                            idempotency_key: str) -> SubscriptionView: ...

    def retrieve_invoice(self, invoice_id: str) -> InvoiceView: ...


_lock = threading.Lock()
_factory: Callable[[], PaymentGateway] | None = None
_gateway: PaymentGateway | None = None


def provide(factory: Callable[[], PaymentGateway]) -> None:
    """Say how this process builds its gateway (`bootstrap` does, once); built on first use."""
    global _factory
    _factory = factory


def get_gateway() -> PaymentGateway:
    """The gateway of this process: the one a test installed, else the one `bootstrap` provided."""
    global _gateway
    if _gateway is None:
        with _lock:
            if _gateway is None:
                if _factory is None:
                    raise RuntimeError("No payment gateway: call chalicelib.bootstrap.configure() first.")
                _gateway = _factory()
    return _gateway


def set_gateway(gateway: PaymentGateway | None) -> None:
    """Install a gateway (tests); None makes the next `get_gateway` build the provided one again."""
    global _gateway
    _gateway = gateway
