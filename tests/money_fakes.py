"""Fakes for the money tests: an in-memory Connect gateway and a fake Stripe listing.

`FakeConnect` behaves like Stripe Connect where it matters to payouts: the same idempotency key gives
back the same transfer, never a second one; a destination can be set to refuse transfers (a permanent
failure) or to be unreachable (an unknown outcome). `FakeStripeListing` serves pages of payment
intents, refunds and transfers for reconciliation (localstripe has no transfers).
"""
from __future__ import annotations

import itertools
from collections import Counter

from chalicelib.core.errors import UpstreamUnavailable
from chalicelib.payouts.gateway import Transfer, TransferRejected
from chalicelib.reconciliation.model import StripeRecord


class FakeConnect:
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
