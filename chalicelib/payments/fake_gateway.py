"""An in-memory `PaymentGateway` that behaves like Stripe where localstripe cannot serve.

Tests use it for what localstripe lacks (disputes, real idempotency, over-refund refusal, outages) and
to count provider calls. It keeps Stripe's rules that matter to the marketplace: idempotency keys
replay the first result, a PaymentIntent moves through Stripe's statuses, refunds cannot exceed the
charge. Thread-safe, so the concurrency tests can share one.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import replace

from chalicelib.core.errors import DomainError, NotFound, PaymentFailed
from chalicelib.payments import gateway as g
from chalicelib.payments.gateway import ChargeView, DisputeView, PaymentIntentView, RefundView


class FakeGateway:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.intents: dict[str, PaymentIntentView] = {}
        self.refunds: dict[str, RefundView] = {}
        self.disputes: dict[str, DisputeView] = {}
        self._idempotent: dict[str, object] = {}
        self.calls: list[str] = []
        self.fail_next: DomainError | None = None

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
