"""The listing port: where reconciliation reads Stripe's side of the money from.

`chalicelib.bootstrap` says which adapter each stage uses (`StripeConnect` in AWS stages; locally
`payouts.sandbox.LocalListing`: localstripe for payment intents and refunds, the Connect sandbox for
transfers); this module never imports one. Tests install a fake listing with `use_listing`.
"""
from __future__ import annotations

from typing import Callable, Iterator, Protocol

from chalicelib.payouts.gateway import StripeRecord


class StripeListing(Protocol):
    def payments(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]: ...

    def refunds(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]: ...

    def transfers(self, gte: int, lt: int) -> Iterator[list[StripeRecord]]: ...

    def retrieve(self, kind: str, stripe_id: str) -> StripeRecord | None: ...

    def page(self, kind: str, gte: int, lt: int, after: str | None) -> tuple[list[StripeRecord], str | None]:
        """One page of `kind` created in `[gte, lt)` resuming at `after` (None: the first), and the position
        of the next page (None: none). Positions are the adapter's own (a Stripe id, a sort key)."""
        ...


_override: StripeListing | None = None
_factory: Callable[[], StripeListing] | None = None


def provide(factory: Callable[[], StripeListing]) -> None:
    """Say how this process builds its listing (`bootstrap` does, once); built anew for each reconciliation."""
    global _factory
    _factory = factory


def use_listing(listing: StripeListing | None) -> None:
    """Install a listing (tests, benchmarks); None goes back to the provided adapter."""
    global _override
    _override = listing


def stripe_listing() -> StripeListing:
    if _override is not None:
        return _override
    if _factory is None:
        raise RuntimeError("No Stripe listing: call chalicelib.bootstrap.configure() first.")
    return _factory()
