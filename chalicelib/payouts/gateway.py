"""The Connect port: what payouts need from Stripe Connect, and which adapter a stage uses.

`ConnectSandbox` (local stage, state in the local DynamoDB) and `StripeConnect` (AWS stages) both
implement it; tests install fakes with `use_connect`. Errors are domain errors: `TransferRejected`
means Stripe refused the transfer for good (the payout fails and the money returns to the balance);
`UpstreamUnavailable` means we do not know (the payout stays pending and the next run retries it
with the same idempotency key, so it is never sent twice).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

from chalicelib.core.errors import DomainError


class TransferRejected(DomainError):
    code, status = "payment_failed", 402


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    amount: int
    currency: str
    destination: str
    status: str = "paid"  # paid | reversed
    created: int = 0
    metadata: dict = field(default_factory=dict)


class ConnectGateway(Protocol):
    def create_account(self, *, partner_id: str, email: str, country: str) -> str: ...

    def onboarding_link(self, *, account_id: str, base_url: str) -> str: ...

    def find_transfer(self, *, payout_id: str) -> Transfer | None: ...

    def create_transfer(self, *, payout_id: str, amount: int, currency: str, destination: str,
                        metadata: dict, source_transaction: str | None = None) -> Transfer: ...

    def list_transfers(self, *, created_gte: int, created_lt: int) -> Iterator[list[Transfer]]: ...


_override: ConnectGateway | None = None
_default: ConnectGateway | None = None


def use_connect(gateway: ConnectGateway | None) -> None:
    """Install a gateway (tests, benchmarks); None goes back to the stage's adapter."""
    global _override
    _override = gateway


def connect_gateway() -> ConnectGateway:
    """The stage's adapter, built on first use: the sandbox locally, Stripe elsewhere."""
    global _default
    if _override is not None:
        return _override
    if _default is None:
        from chalicelib.config import get_settings

        if get_settings().is_local:
            from chalicelib.payouts.sandbox import ConnectSandbox

            _default = ConnectSandbox()
        else:
            from chalicelib.payouts.stripe_connect import StripeConnect

            _default = StripeConnect.from_settings()
    return _default
