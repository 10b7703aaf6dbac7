"""Where reconciliation reads Stripe's side from, per stage.

AWS stages read everything from Stripe (`StripeConnect`). The local stage reads payment intents and
refunds from localstripe through the same adapter, and transfers from the Connect sandbox (localstripe
has none). Tests install a fake listing with `use_listing`.
"""
from __future__ import annotations

from typing import Iterator, Protocol

from chalicelib.reconciliation.model import TRANSFER, StripeRecord


class StripeListing(Protocol):
    def payments(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]: ...

    def refunds(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]: ...

    def transfers(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]: ...

    def retrieve(self, kind: str, stripe_id: str) -> StripeRecord | None: ...


class LocalListing:
    """localstripe for payments and refunds, the Connect sandbox for transfers."""

    def __init__(self, stripe, sandbox):
        self.stripe, self.sandbox = stripe, sandbox

    def payments(self, gte, lt):
        return self.stripe.payments(gte, lt)

    def refunds(self, gte, lt):
        return self.stripe.refunds(gte, lt)

    def transfers(self, gte, lt):
        for page in self.sandbox.list_transfers(created_gte=gte, created_lt=lt):
            yield [StripeRecord(TRANSFER, t.transfer_id, t.amount, t.currency, t.status, t.created) for t in page]

    def retrieve(self, kind, stripe_id):
        if kind == TRANSFER:
            found = self.sandbox.transfer_by_id(stripe_id)
            return found and StripeRecord(TRANSFER, found.transfer_id, found.amount, found.currency, found.status,
                                          found.created)
        return self.stripe.retrieve(kind, stripe_id)


_override: StripeListing | None = None


def use_listing(listing: StripeListing | None) -> None:
    global _override
    _override = listing


def stripe_listing() -> StripeListing:
    if _override is not None:
        return _override
    from chalicelib.config import get_settings
    from chalicelib.payouts.stripe_connect import StripeConnect

    if get_settings().is_local:
        from chalicelib.payouts.sandbox import ConnectSandbox

        return LocalListing(StripeConnect.from_settings(created_filter=False), ConnectSandbox())
    return StripeConnect.from_settings()
