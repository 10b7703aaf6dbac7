"""In-memory stand-ins for the providers the marketplace talks to, so tests run without the network.

- `FakeGateway`: a `PaymentGateway` that behaves like Stripe where localstripe cannot serve. Tests use it
  for what localstripe lacks (disputes, real idempotency, over-refund refusal, outages) and to count
  provider calls. It keeps Stripe's rules that matter to the marketplace: idempotency keys replay the
  first result, a PaymentIntent moves through Stripe's statuses, refunds cannot exceed the charge.
  Stripe Billing too: customers, prices, subscriptions and their invoices, with controls for what Stripe's
  billing clock does (`pay_invoice`, `renew` paid or failing, `end`). Thread-safe, so the concurrency tests
  can share one.
- `FakeConnect`: Stripe Connect where it matters to payouts: the same idempotency key gives back the same
  transfer, never a second one; a destination can be set to refuse transfers (a permanent failure) or to
  be unreachable (an unknown outcome).
- `FakeStripeListing`: serves pages of payment intents, refunds and transfers for reconciliation
  (localstripe has no transfers).

The pytest fixture installing a `FakeGateway` (`fake_gateway`) is in tests/conftest.py.
"""
from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import replace

from chalicelib.core.errors import DomainError, NotFound, PaymentFailed, UpstreamUnavailable
from chalicelib.payments import gateway as g
from chalicelib.payments.gateway import ChargeView, DisputeView, PaymentIntentView, RefundView
from chalicelib.payouts.gateway import StripeRecord, Transfer, TransferRejected


class FakeGateway:
    """Stripe's payments in memory, with controls for what the customer, the bank or the dashboard do."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.intents: dict[str, PaymentIntentView] = {}
        self.refunds: dict[str, RefundView] = {}
        self.disputes: dict[str, DisputeView] = {}
        self._idempotent: dict[str, object] = {}
        self.calls: list[str] = []
        self.fail_next: DomainError | None = None
        self.prices: dict[str, tuple[int, str, str]] = {}  # price id -> (amount, currency, interval)
        self.subscriptions: dict[str, g.SubscriptionView] = {}
        self.sub_prices: dict[str, str] = {}
        self.invoices: dict[str, g.InvoiceView] = {}

    def _next(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._seq):06d}"

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error

    # --- PaymentGateway -------------------------------------------------------------------------------
    def create_payment_intent(self, *, order_id, amount, currency, customer_ref, idempotency_key):
        with self._lock:
            self._enter("create_payment_intent")
            if idempotency_key in self._idempotent:
                return self.intents[self._idempotent[idempotency_key]]  # type: ignore[index]
            pi_id = self._next("pi")
            view = PaymentIntentView(pi_id, g.PI_REQUIRES_PAYMENT_METHOD, amount, currency, order_id,
                                     client_secret=f"{pi_id}_secret_fake")
            self.intents[pi_id] = view
            self._idempotent[idempotency_key] = pi_id
            return view

    def retrieve_payment_intent(self, payment_intent_id):
        with self._lock:
            self._enter("retrieve_payment_intent")
            if payment_intent_id not in self.intents:
                raise NotFound("No such payment_intent.")
            return self.intents[payment_intent_id]

    def cancel_payment_intent(self, payment_intent_id, *, idempotency_key):
        with self._lock:
            self._enter("cancel_payment_intent")
            view = self.intents.get(payment_intent_id)
            if view is None:
                raise NotFound("No such payment_intent.")
            if view.status in (g.PI_SUCCEEDED, g.PI_PROCESSING):
                raise PaymentFailed("A succeeded PaymentIntent cannot be canceled.")
            view = replace(view, status=g.PI_CANCELED)
            self.intents[payment_intent_id] = view
            return view

    def create_refund(self, *, payment_intent_id, amount, metadata, idempotency_key):
        with self._lock:
            self._enter("create_refund")
            if idempotency_key in self._idempotent:
                return self.refunds[self._idempotent[idempotency_key]]  # type: ignore[index]
            intent = self.intents.get(payment_intent_id)
            if intent is None or intent.status != g.PI_SUCCEEDED:
                raise PaymentFailed("This PaymentIntent has no successful charge to refund.")
            already = sum(r.amount for r in self.refunds.values() if r.payment_intent_id == payment_intent_id)
            if already + amount > intent.amount:
                raise PaymentFailed("Refund amount is greater than the unrefunded charge.")
            refund = RefundView(self._next("re"), amount, intent.currency, "succeeded", payment_intent_id,
                                intent.latest_charge_id, dict(metadata))
            self.refunds[refund.refund_id] = refund
            self._idempotent[idempotency_key] = refund.refund_id
            return refund

    def retrieve_charge(self, charge_id):
        with self._lock:
            self._enter("retrieve_charge")
            intent = next((i for i in self.intents.values() if i.latest_charge_id == charge_id), None)
            if intent is None:
                raise NotFound("No such charge.")
            refunds = tuple(r for r in self.refunds.values() if r.charge_id == charge_id)
            return ChargeView(charge_id, intent.payment_intent_id, intent.amount,
                              sum(r.amount for r in refunds), intent.currency, refunds)

    def retrieve_dispute(self, dispute_id):
        with self._lock:
            self._enter("retrieve_dispute")
            if dispute_id not in self.disputes:
                raise NotFound("No such dispute.")
            return self.disputes[dispute_id]

    # --- what the customer, the bank or the dashboard do (test controls) ------------------------------
    def succeed(self, payment_intent_id: str) -> PaymentIntentView:
        """The customer confirms and the card is charged."""
        with self._lock:
            view = self.intents[payment_intent_id]
            view = replace(view, status=g.PI_SUCCEEDED, latest_charge_id=f"ch_{payment_intent_id[3:]}",
                           failure_code=None, failure_message=None)
            self.intents[payment_intent_id] = view
            return view

    def decline(self, payment_intent_id: str, code: str = "card_declined") -> PaymentIntentView:
        with self._lock:
            view = replace(self.intents[payment_intent_id], status=g.PI_REQUIRES_PAYMENT_METHOD,
                           failure_code=code, failure_message="Your card was declined.")
            self.intents[payment_intent_id] = view
            return view

    def refund_in_dashboard(self, payment_intent_id: str, amount: int) -> RefundView:
        """A refund made outside the marketplace (no metadata of ours)."""
        return self.create_refund(payment_intent_id=payment_intent_id, amount=amount, metadata={},
                                  idempotency_key=self._next("dash"))

    def open_dispute(self, payment_intent_id: str, *, status: str = "needs_response",
                     amount: int | None = None) -> DisputeView:
        with self._lock:
            intent = self.intents[payment_intent_id]
            dispute = DisputeView(self._next("dp"), status, intent.amount if amount is None else amount,
                                  intent.currency, intent.latest_charge_id, payment_intent_id)
            self.disputes[dispute.dispute_id] = dispute
            return dispute

    def close_dispute(self, dispute_id: str, status: str) -> DisputeView:
        with self._lock:
            dispute = replace(self.disputes[dispute_id], status=status)
            self.disputes[dispute_id] = dispute
            return dispute


    # --- subscriptions (Stripe Billing) -----------------------------------------------------------------
    def _now(self) -> int:
        from chalicelib.core import clock

        return int(clock.now().timestamp())

    def _remember(self, key: str, make):
        if key not in self._idempotent:
            self._idempotent[key] = make()
        return self._idempotent[key]

    def create_customer(self, *, user_ref, idempotency_key):
        with self._lock:
            self._enter("create_customer")
            return self._remember(idempotency_key, lambda: self._next("cus"))

    def create_price(self, *, listing_id, version, name, amount, currency, interval, idempotency_key):
        with self._lock:
            self._enter("create_price")

            def make():
                ref = g.PriceRef(self._next("prod"), self._next("price"))
                self.prices[ref.price_id] = (amount, currency, interval)
                return ref
            return self._remember(idempotency_key, make)

    def create_subscription(self, *, customer_id, price_id, trial_days, metadata, idempotency_key):
        with self._lock:
            self._enter("create_subscription")
            if idempotency_key in self._idempotent:
                return self._sub(self._idempotent[idempotency_key])  # type: ignore[arg-type]
            amount, currency, interval = self.prices[price_id]
            sub_id, now = self._next("sub"), self._now()
            self.sub_prices[sub_id] = price_id
            if trial_days:
                view = g.SubscriptionView(sub_id, g.SUB_TRIALING, customer_id, now + trial_days * DAY, False,
                                          dict(metadata), trial_end=now + trial_days * DAY)
            else:
                invoice = self._invoice(sub_id, amount, currency, now, now + PERIOD[interval], "subscription_create")
                view = g.SubscriptionView(sub_id, g.SUB_INCOMPLETE, customer_id, now + PERIOD[interval], False,
                                          dict(metadata), latest_invoice_id=invoice.invoice_id)
            self.subscriptions[sub_id] = view
            self._idempotent[idempotency_key] = sub_id
            return self._sub(sub_id)

    def _invoice(self, sub_id, amount, currency, start, end, reason):
        pi_id = self._next("pi")
        self.intents[pi_id] = PaymentIntentView(pi_id, g.PI_REQUIRES_PAYMENT_METHOD, amount, currency, None,
                                                client_secret=f"{pi_id}_secret_fake")
        invoice = g.InvoiceView(self._next("in"), sub_id, "open", amount, 0, currency, pi_id, None, start,
                                period_start=start, period_end=end, client_secret=f"{pi_id}_secret_fake",
                                billing_reason=reason)
        self.invoices[invoice.invoice_id] = invoice
        return invoice

    def _sub(self, sub_id):
        view = self.subscriptions[sub_id]
        invoice = self.invoices.get(view.latest_invoice_id or "")
        return replace(view, latest_invoice=invoice)

    def retrieve_subscription(self, stripe_subscription_id):
        with self._lock:
            self._enter("retrieve_subscription")
            if stripe_subscription_id not in self.subscriptions:
                raise NotFound("No such subscription.")
            return self._sub(stripe_subscription_id)

    def cancel_subscription(self, stripe_subscription_id, *, at_period_end, idempotency_key):
        with self._lock:
            self._enter("cancel_subscription")
            view = self.subscriptions[stripe_subscription_id]
            if view.status == g.SUB_CANCELED:
                raise PaymentFailed("This subscription is canceled already.")
            view = replace(view, cancel_at_period_end=True) if at_period_end else replace(
                view, status=g.SUB_CANCELED)
            self.subscriptions[stripe_subscription_id] = view
            return self._sub(stripe_subscription_id)

    def retrieve_invoice(self, invoice_id):
        with self._lock:
            self._enter("retrieve_invoice")
            if invoice_id not in self.invoices:
                raise NotFound("No such invoice.")
            return self.invoices[invoice_id]

    # --- what the customer's card, Stripe's billing clock or the dashboard do (test controls) -----------
    def pay_invoice(self, invoice_id: str) -> g.InvoiceView:
        """The card is charged for the invoice: it is paid, its subscription active."""
        invoice = self.invoices[invoice_id]
        self.succeed(invoice.payment_intent_id)  # type: ignore[arg-type]
        with self._lock:
            paid = replace(invoice, status="paid", amount_paid=invoice.total, paid_at=self._now(),
                           charge_id=self.intents[invoice.payment_intent_id].latest_charge_id)  # type: ignore[index]
            self.invoices[invoice_id] = paid
            sub = self.subscriptions[invoice.stripe_subscription_id]  # type: ignore[index]
            if sub.status != g.SUB_CANCELED:
                self.subscriptions[sub.stripe_subscription_id] = replace(sub, status=g.SUB_ACTIVE)
            return paid

    def renew(self, stripe_subscription_id: str, *, pay: bool = True) -> g.InvoiceView:
        """The period ends: Stripe invoices the next one (paid at once, or failing: `past_due`)."""
        with self._lock:
            sub = self.subscriptions[stripe_subscription_id]
            amount, currency, interval = self.prices[self.sub_prices[stripe_subscription_id]]
            start = sub.current_period_end
            invoice = self._invoice(stripe_subscription_id, amount, currency, start, start + PERIOD[interval],
                                    "subscription_cycle")
            self.subscriptions[stripe_subscription_id] = replace(
                sub, current_period_end=start + PERIOD[interval], latest_invoice_id=invoice.invoice_id,
                status=g.SUB_PAST_DUE if not pay else sub.status, trial_end=None)
        return self.pay_invoice(invoice.invoice_id) if pay else invoice

    def end(self, stripe_subscription_id: str) -> g.SubscriptionView:
        """The subscription is over (period end after a cancel, or Stripe gave up): `canceled`."""
        with self._lock:
            view = replace(self.subscriptions[stripe_subscription_id], status=g.SUB_CANCELED)
            self.subscriptions[stripe_subscription_id] = view
            return view


DAY = 86400
PERIOD = {"month": 30 * DAY, "year": 365 * DAY}


class FakeConnect:
    """Stripe Connect for payouts: accounts, and transfers made at most once per idempotency key."""

    def __init__(self):
        self.accounts: dict[str, dict] = {}
        self.transfers: dict[str, Transfer] = {}  # by idempotency key (= payout id)
        self.refuse: set[str] = set()
        self.unreachable: set[str] = set()
        self.calls: list[str] = []
        self._ids = itertools.count(1)

    def create_account(self, *, partner_id, email, country):
        account_id = f"acct_fake_{partner_id}"
        self.accounts.setdefault(account_id, {"partner_id": partner_id, "email": email, "country": country})
        return account_id

    def onboarding_link(self, *, account_id, base_url):
        return f"https://connect.example/onboard/{account_id}"

    def find_transfer(self, *, payout_id):
        self.calls.append("find")
        return self.transfers.get(payout_id)

    def create_transfer(self, *, payout_id, amount, currency, destination, metadata, source_transaction=None):
        self.calls.append("create")
        if destination in self.unreachable:
            raise UpstreamUnavailable("Stripe timed out.")
        if destination in self.refuse:
            raise TransferRejected("The destination account cannot receive transfers.")
        if payout_id not in self.transfers:
            self.transfers[payout_id] = Transfer(f"tr_{next(self._ids)}", amount, currency, destination, "paid",
                                                 1_700_000_000, dict(metadata))
        return self.transfers[payout_id]

    def list_transfers(self, *, created_gte, created_lt):
        page = [t for t in self.transfers.values() if created_gte <= t.created < created_lt]
        if page:
            yield page

    def paid_by_destination(self) -> Counter:
        return Counter(t.destination for t in self.transfers.values())


class FakeStripeListing:
    """Stripe's side of a period, served page by page like Stripe's list endpoints."""

    def __init__(self, page_size: int = 2):
        self.records: list[StripeRecord] = []
        self.page_size = page_size
        self.pages_served = 0

    def add(self, kind, stripe_id, amount, currency="usd", status=None, created=1_700_000_000):
        status = status or {"payment": "succeeded", "refund": "succeeded", "transfer": "paid"}[kind]
        self.records.append(StripeRecord(kind, stripe_id, amount, currency, status, created))

    def _pages(self, kind, gte, lt):
        chosen = [r for r in self.records if r.kind == kind and gte <= r.created < lt]
        for i in range(0, len(chosen), self.page_size):
            self.pages_served += 1
            yield chosen[i:i + self.page_size]

    def payments(self, gte, lt):
        return self._pages("payment", gte, lt)

    def refunds(self, gte, lt):
        return self._pages("refund", gte, lt)

    def transfers(self, gte, lt):
        return self._pages("transfer", gte, lt)

    def retrieve(self, kind, stripe_id):
        return next((r for r in self.records if r.kind == kind and r.stripe_id == stripe_id), None)

    def page(self, kind, gte, lt, after):
        chosen = [r for r in self.records if r.kind == kind and gte <= r.created < lt]
        start = next((i + 1 for i, r in enumerate(chosen) if r.stripe_id == after), 0) if after else 0
        self.pages_served += 1
        page = chosen[start:start + self.page_size]
        return page, (page[-1].stripe_id if start + self.page_size < len(chosen) else None)
