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


def largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Split `total` minor units in proportion to `weights`; the parts sum exactly to `total`.

    Each part gets the floor of its exact share; the units left over go one each to the largest
    remainders, ties to the earlier position. All-zero weights split equally.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    if not weights or any(w < 0 for w in weights):
        raise ValueError("weights must be a non-empty list of non-negative integers")
    if sum(weights) == 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left = total - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts


def commission_fee(amount: int, bps: int) -> int:
    """The platform fee on a partner part: `floor((a * bps + 5000) / 10000)`, half up, sign kept."""
    if not 0 <= bps <= 10000:
        raise ValueError("bps must be within 0..10000")
    fee = (abs(amount) * bps + 5000) // 10000
    return fee if amount >= 0 else -fee


@dataclass(frozen=True)
class Component:
    listing_id: str
    partner_id: str
    list_price: int


@dataclass(frozen=True)
class PartnerPart:
    listing_id: str
    partner_id: str
    amount: int


def split_bundle(price: int, components: list[Component], split: dict) -> list[PartnerPart]:
    """Split a bundle line's price over its components (pro rata by list price, or by integer weights)."""
    if split.get("method", "pro_rata") == "weights":
        weights = [int(split["weights"][c.listing_id]) for c in components]
    else:
        weights = [c.list_price for c in components]
    amounts = largest_remainder(price, weights)
    return [PartnerPart(c.listing_id, c.partner_id, a) for c, a in zip(components, amounts)]


def capped_largest_remainder(total: int, weights: list[int], caps: list[int]) -> list[int]:
    """Split `total` in proportion to `weights` without giving any position more than its cap.

    Positions with no room left (cap 0) take no share; when a largest-remainder share would exceed a
    position's cap it is held at the cap and the excess is spread again over the others by the same
    rule, so the parts still sum exactly to `total` (which must not exceed the sum of the caps).
    """
    if len(weights) != len(caps) or any(c < 0 for c in caps):
        raise ValueError("caps must be non-negative, one per weight")
    if total < 0 or total > sum(caps):
        raise ValueError("total must be within 0..sum(caps)")
    parts = [0] * len(weights)
    left = total
    while left:
        open_ = [i for i in range(len(weights)) if parts[i] < caps[i]]
        shares = largest_remainder(left, [weights[i] for i in open_])
        for i, share in zip(open_, shares):
            given = min(share, caps[i] - parts[i])
            parts[i] += given
            left -= given
    return parts
