"""Money as integer minor units with an ISO currency: no floats anywhere money flows."""
from __future__ import annotations

from dataclasses import dataclass

SUPPORTED_CURRENCIES = ("usd", "eur", "gbp")


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("money amounts are integers of minor units")
        if self.currency not in SUPPORTED_CURRENCIES:
            raise ValueError(f"unsupported currency {self.currency!r}")

    def to_dict(self) -> dict:
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict) -> "Money":
        return cls(int(data["amount"]), str(data["currency"]))


def format_decimal(amount: int, currency: str) -> str:
    """Minor units as a decimal string for CSV exports: 1234 usd -> '12.34', -5 -> '-0.05'."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d}"
