"""The Connect port: what payouts need from Stripe Connect, in the marketplace's own words.

`ConnectSandbox` (local stage, state in the local DynamoDB) and `StripeConnect` (AWS stages) both
implement it; `chalicelib.bootstrap` chooses one per stage and tests install fakes with `use_connect`.
Errors are domain errors: `TransferRejected` means Stripe refused the transfer for good (the payout
fails and the money returns to the balance); `UpstreamUnavailable` means we do not know (the payout
stays pending and the next run retries it with the same idempotency key, so it is never sent twice).

The same adapters list Stripe's side of the money for reconciliation, as `StripeRecord`s: the record
type lives here, with the port, so reconciliation depends on payouts and never the other way round.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from chalicelib.core.errors import DomainError


class TransferRejected(DomainError):
    code, status = "payment_failed", 402


# The kinds of Stripe object reconciliation compares with the ledger.
PAYMENT, REFUND, TRANSFER = "payment", "refund", "transfer"


@dataclass(frozen=True)
class StripeRecord:
    """One Stripe object as reconciliation sees it (normalised by the adapter that listed it)."""

    kind: str
    stripe_id: str
    amount: int
    currency: str
    status: str
    created: int


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    amount: int
    currency: str
    destination: str
    status: str = "paid"  # paid | reversed
    created: int = 0
    metadata: dict = field(default_factory=dict)

    def record(self) -> StripeRecord:
        """This transfer as reconciliation compares it with the ledger."""
        return StripeRecord(TRANSFER, self.transfer_id, self.amount, self.currency, self.status, self.created)


class ConnectGateway(Protocol):
    def create_account(self, *, partner_id: str, email: str, country: str) -> str: ...

    def onboarding_link(self, *, account_id: str, base_url: str) -> str: ...

    def find_transfer(self, *, payout_id: str) -> Transfer | None: ...

    def create_transfer(self, *, payout_id: str, amount: int, currency: str, destination: str,
                        metadata: dict, source_transaction: str | None = None) -> Transfer: ...

    def list_transfers(self, *, created_gte: int, created_lt: int) -> Iterator[list[Transfer]]: ...


_override: ConnectGateway | None = None
_factory: Callable[[], ConnectGateway] | None = None
_default: ConnectGateway | None = None


def provide(factory: Callable[[], ConnectGateway]) -> None:
    """Say how this process builds its Connect adapter (`bootstrap` does, once); built on first use."""
    global _factory, _default
    _factory, _default = factory, None


def use_connect(gateway: ConnectGateway | None) -> None:
    """Install a gateway (tests, benchmarks); None goes back to the provided adapter."""
    global _override
    _override = gateway


def connect_gateway() -> ConnectGateway:
    """The installed gateway, else the stage's adapter that `bootstrap` provided, built on first use."""
    global _default
    if _override is not None:
        return _override
    if _default is None:
        if _factory is None:
            raise RuntimeError("No Connect adapter: call chalicelib.bootstrap.configure() first.")
        _default = _factory()
    return _default
