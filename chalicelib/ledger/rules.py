"""Pure revenue-share rules: where each minor unit of a sale, refund, dispute or payout goes.

Nothing here touches storage. A business event becomes a `JournalEntry` (balanced lines on named
accounts, each line saying where its amount came from) plus the per-partner counter changes the
recorder adds to balances. Refunds are spread over lines and parts with the largest-remainder rule
and reverse commission at the order's frozen rate; the refund that completes a part reverses exactly
what remains of it, so a sale refunded in any number of steps ends at zero, never below.

Accounts (signed amounts: positive = debit, negative = credit; every entry sums to zero):
- `platform:cash:<cur>`          money held on the platform's Stripe balance (asset)
- `platform:fees:<cur>`          commission earned by the marketplace (revenue)
- `partner:<id>:<cur>`           what the marketplace owes a partner (liability; balance = -sum)
- `platform:payouts_in_transit:<cur>`  payouts debited from a partner but not yet confirmed by Stripe
- `platform:disputes:<cur>`      money Stripe withholds while a dispute is open
- `platform:dispute_losses:<cur>` disputes lost (the platform bears them; see docs/money.md)
- `platform:adjustments:<cur>`   manual corrections by finance
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from chalicelib.core.errors import Conflict, InvalidState, ValidationFailed
from chalicelib.core.money import capped_largest_remainder, commission_fee

SALE, REFUND, DISPUTE_OPENED, DISPUTE_CLOSED = "sale", "refund", "dispute_opened", "dispute_closed"
PAYOUT, PAYOUT_PAID, PAYOUT_FAILED, ADJUSTMENT = "payout", "payout_paid", "payout_failed", "adjustment"
KINDS = (SALE, REFUND, DISPUTE_OPENED, DISPUTE_CLOSED, PAYOUT, PAYOUT_PAID, PAYOUT_FAILED, ADJUSTMENT)

# Counters kept per partner and currency, both lifetime (balance row) and per day (day rows).
COUNTERS = (
    "sales_gross", "sales_fees", "sales_net", "refunds_gross", "refunds_fees", "refunds_net",
    "payouts", "payout_returns", "adjustments", "delta", "held",
)


def cash_account(currency: str) -> str:
    return f"platform:cash:{currency}"


def fees_account(currency: str) -> str:
    return f"platform:fees:{currency}"


def transit_account(currency: str) -> str:
    return f"platform:payouts_in_transit:{currency}"


def disputes_account(currency: str) -> str:
    return f"platform:disputes:{currency}"


def dispute_losses_account(currency: str) -> str:
    return f"platform:dispute_losses:{currency}"


def adjustments_account(currency: str) -> str:
    return f"platform:adjustments:{currency}"


def partner_account(partner_id: str, currency: str) -> str:
    return f"partner:{partner_id}:{currency}"


def partner_of_account(account: str) -> str | None:
    parts = account.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "partner" else None


@dataclass(frozen=True)
class JournalLine:
    account: str
    amount: int  # positive = debit, negative = credit
    memo: str
    source: dict = field(default_factory=dict)  # order, line, listing, part, rate: where the amount came from

    def to_dict(self) -> dict:
        return {
            "account": self.account, "debit": max(self.amount, 0), "credit": max(-self.amount, 0),
            "memo": self.memo, "source": dict(self.source),
        }


@dataclass(frozen=True)
class JournalEntry:
    txn_id: str  # derived from the business id, so the same event cannot be journaled twice
    kind: str
    currency: str
    lines: tuple[JournalLine, ...]
    refs: dict = field(default_factory=dict)  # order_id, refund_id, payout_id, stripe ids, dispute_id

    @property
    def balanced(self) -> bool:
        return sum(line.amount for line in self.lines) == 0

    def accounts(self) -> list[str]:
        seen: dict[str, None] = {}
        for line in self.lines:
            seen.setdefault(line.account, None)
        return list(seen)

    def lines_of(self, account: str) -> list[JournalLine]:
        return [line for line in self.lines if line.account == account]


@dataclass
class PartnerEffect:
    """How one entry changes one partner's counters in one currency."""

    partner_id: str
    currency: str
    counters: dict[str, int] = field(default_factory=lambda: {name: 0 for name in COUNTERS})

    def add(self, **amounts: int) -> None:
        for name, value in amounts.items():
            self.counters[name] += value


def _entry(txn_id: str, kind: str, currency: str, lines: Iterable[JournalLine], refs: dict) -> JournalEntry:
    kept = tuple(line for line in lines if line.amount != 0)
    entry = JournalEntry(txn_id, kind, currency, kept, refs)
    if not entry.balanced:  # a bug, never an input problem: refuse to write an unbalanced journal
        raise AssertionError(f"unbalanced journal entry {txn_id}")
    return entry


# --- per-order state: what each partner part sold and what has been reversed so far ----------------
@dataclass(frozen=True)
class PartState:
    listing_id: str
    partner_id: str
    amount: int
    bps: int
    fee: int
    net: int
    refunded: int = 0
    fee_refunded: int = 0
    net_refunded: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LineState:
    line_id: str
    listing_id: str
    price: int
    parts: tuple[PartState, ...]

    @property
    def refunded(self) -> int:
        return sum(p.refunded for p in self.parts)

    def to_dict(self) -> dict:
        return {"line_id": self.line_id, "listing_id": self.listing_id, "price": self.price,
                "parts": [p.to_dict() for p in self.parts]}


def state_from_dicts(lines: list[dict]) -> tuple[LineState, ...]:
    return tuple(
        LineState(d["line_id"], d["listing_id"], int(d["price"]),
                  tuple(PartState(**{k: (int(v) if k not in ("listing_id", "partner_id") else v)
                                     for k, v in p.items()}) for p in d["parts"]))
        for d in lines
    )


def sale_state(order) -> tuple[LineState, ...]:
    """Freeze what the sale recorded per part: amount, rate, fee and net."""
    out = []
    for line in order.lines:
        parts = []
        for part in line.parts:
            fee = commission_fee(part.amount, part.commission_bps)
            parts.append(PartState(part.listing_id, part.partner_id, part.amount, part.commission_bps,
                                   fee, part.amount - fee))
        if sum(p.amount for p in parts) != line.price:
            raise InvalidState(f"Line {line.line_id}: its parts do not add up to its price.")
        out.append(LineState(line.line_id, line.listing_id, line.price, tuple(parts)))
    return tuple(out)


def _source(order_id: str, line: LineState, part: PartState, **extra) -> dict:
    return {"order_id": order_id, "line_id": line.line_id, "line_listing_id": line.listing_id,
            "line_price": line.price, "listing_id": part.listing_id, "partner_id": part.partner_id,
            "part_amount": part.amount, "commission_bps": part.bps, **extra}


def sale_entry(order, state: tuple[LineState, ...]) -> tuple[JournalEntry, list[PartnerEffect]]:
    """Customer paid `total`: cash in, commission to fees, the rest owed to each partner."""
    currency = order.currency
    lines: list[JournalLine] = [JournalLine(cash_account(currency), order.total, "payment received",
                                            {"order_id": order.order_id,
                                             "payment_intent_id": order.payment_intent_id})]
    effects: dict[str, PartnerEffect] = {}
    for line in state:
        for part in line.parts:
            src = _source(order.order_id, line, part, fee=part.fee, net=part.net)
            lines.append(JournalLine(fees_account(currency), -part.fee, "commission", src))
            lines.append(JournalLine(partner_account(part.partner_id, currency), -part.net, "sale net", src))
            effect = effects.setdefault(part.partner_id, PartnerEffect(part.partner_id, currency))
            effect.add(sales_gross=part.amount, sales_fees=part.fee, sales_net=part.net, delta=part.net,
                       held=part.net)
    if sum(line.price for line in state) != order.total:
        raise InvalidState("The order's lines do not add up to its total.")
    entry = _entry(f"sale-{order.order_id}", SALE, currency, lines,
                   {"order_id": order.order_id, "payment_intent_id": order.payment_intent_id})
    return entry, list(effects.values())


# --- refunds ------------------------------------------------------------------------------------
def allocate_refund(order, amount: int | None, listing_ids: list[str] | None) -> dict[str, int]:
    """Spread a refund over the order's lines: line_id -> minor units.

    Lines named by `listing_ids` (or all lines) share `amount` (or everything they have left) in
    proportion to their prices, largest remainder, never more than what a line has left.
    """
    lines = list(order.lines)
    if listing_ids:
        by_listing = {line.listing_id: line for line in lines}
        unknown = [lid for lid in listing_ids if lid not in by_listing]
        if unknown:
            raise ValidationFailed(
                "Some listings are not lines of this order.",
                [{"field": "listing_ids", "message": f"{lid} is not in this order", "in": "body"} for lid in unknown],
            )
        wanted = set(listing_ids)
        lines = [line for line in lines if line.listing_id in wanted]
    left = [line.price - line.refunded for line in lines]
    available = sum(left)
    if amount is None:
        amount = available
    if amount <= 0 and available > 0:
        raise ValidationFailed("A refund must be at least one minor unit.",
                               [{"field": "amount", "message": "must be positive", "in": "body"}])
    if available <= 0 or amount > available:
        raise Conflict(f"Refund of {amount} exceeds what is left to refund ({max(available, 0)}).")
    shares = capped_largest_remainder(amount, [line.price for line in lines], left)
    return {line.line_id: share for line, share in zip(lines, shares) if share}


def _reverse_part(part: PartState, x: int) -> tuple[int, int]:
    """(fee, net) reversed when `x` of `part` is refunded; the completing refund takes exactly the rest."""
    rem_fee, rem_net = part.fee - part.fee_refunded, part.net - part.net_refunded
    if part.refunded + x == part.amount:
        return rem_fee, rem_net
    fee = commission_fee(x, part.bps)
    # Never reverse more fee or net than the sale recorded: stay within what remains of each.
    fee = min(max(fee, x - rem_net, 0), rem_fee)
    return fee, x - fee


def refund_entry(
    order_id: str, currency: str, state: tuple[LineState, ...], refund,
) -> tuple[JournalEntry, list[PartnerEffect], tuple[LineState, ...]]:
    """Reverse `refund.line_amounts` part by part; returns the entry, partner effects and the new state."""
    amounts = dict(refund.line_amounts)
    known = {line.line_id for line in state}
    if set(amounts) - known:
        raise InvalidState("The refund names lines that the recorded sale does not have.")
    if sum(amounts.values()) != refund.amount or any(v < 0 for v in amounts.values()):
        raise InvalidState("The refund's line amounts do not add up to its amount.")
    lines: list[JournalLine] = [JournalLine(cash_account(currency), -refund.amount, "refund paid",
                                            {"order_id": order_id, "refund_id": refund.refund_id,
                                             "stripe_refund_id": refund.stripe_refund_id})]
    effects: dict[str, PartnerEffect] = {}
    new_state = []
    for line in state:
        r = amounts.get(line.line_id, 0)
        if r > line.price - line.refunded:
            raise Conflict(f"Refund of {r} on line {line.line_id} exceeds what is left of it.")
        if not r:
            new_state.append(line)
            continue
        shares = capped_largest_remainder(r, [p.amount for p in line.parts],
                                          [p.amount - p.refunded for p in line.parts])
        parts = []
        for part, x in zip(line.parts, shares):
            if not x:
                parts.append(part)
                continue
            fee, net = _reverse_part(part, x)
            src = _source(order_id, line, part, refund_id=refund.refund_id, refunded_part=x,
                          fee_reversed=fee, net_reversed=net)
            lines.append(JournalLine(fees_account(currency), fee, "commission reversed", src))
            lines.append(JournalLine(partner_account(part.partner_id, currency), net, "refund net", src))
            effect = effects.setdefault(part.partner_id, PartnerEffect(part.partner_id, currency))
            effect.add(refunds_gross=x, refunds_fees=fee, refunds_net=net, delta=-net)
            parts.append(PartState(part.listing_id, part.partner_id, part.amount, part.bps, part.fee, part.net,
                                   part.refunded + x, part.fee_refunded + fee, part.net_refunded + net))
        new_state.append(LineState(line.line_id, line.listing_id, line.price, tuple(parts)))
    entry = _entry(f"refund-{refund.refund_id}", REFUND, currency, lines,
                   {"order_id": order_id, "refund_id": refund.refund_id,
                    "stripe_refund_id": refund.stripe_refund_id})
    return entry, list(effects.values()), tuple(new_state)


# --- disputes -----------------------------------------------------------------------------------
def dispute_entry(order, *, dispute_id: str, amount: int, opened: bool, won: bool | None) -> JournalEntry:
    """Stripe withholds the disputed amount while open; it comes back if won, is lost otherwise.

    Disputes stay on platform accounts: partner balances are untouched (finance may adjust them).
    """
    cur = order.currency
    refs = {"order_id": order.order_id, "dispute_id": dispute_id, "payment_intent_id": order.payment_intent_id}
    src = {"order_id": order.order_id, "dispute_id": dispute_id}
    if opened:
        lines = [JournalLine(disputes_account(cur), amount, "dispute opened: funds withheld", src),
                 JournalLine(cash_account(cur), -amount, "dispute opened: funds withheld", src)]
        return _entry(f"dispute-{dispute_id}-opened", DISPUTE_OPENED, cur, lines, refs)
    target = cash_account(cur) if won in (True, None) else dispute_losses_account(cur)
    memo = "dispute closed: funds returned" if target.startswith("platform:cash") else "dispute lost"
    lines = [JournalLine(target, amount, memo, src), JournalLine(disputes_account(cur), -amount, memo, src)]
    return _entry(f"dispute-{dispute_id}-closed", DISPUTE_CLOSED, cur, lines, {**refs, "won": won})


# --- payouts and adjustments --------------------------------------------------------------------
def payout_entry(*, payout_id: str, partner_id: str, currency: str, amount: int, run_id: str | None
                 ) -> tuple[JournalEntry, PartnerEffect]:
    """The payout leaves the partner's balance when we commit to it (before the transfer is sent)."""
    src = {"payout_id": payout_id, "partner_id": partner_id, "run_id": run_id}
    lines = [JournalLine(partner_account(partner_id, currency), amount, "payout", src),
             JournalLine(transit_account(currency), -amount, "payout", src)]
    effect = PartnerEffect(partner_id, currency)
    effect.add(payouts=amount, delta=-amount)
    return _entry(f"payout-{payout_id}", PAYOUT, currency, lines, {"payout_id": payout_id, "run_id": run_id}), effect


def payout_paid_entry(*, payout_id: str, partner_id: str, currency: str, amount: int, transfer_id: str
                      ) -> JournalEntry:
    src = {"payout_id": payout_id, "partner_id": partner_id, "transfer_id": transfer_id}
    lines = [JournalLine(transit_account(currency), amount, "transfer sent", src),
             JournalLine(cash_account(currency), -amount, "transfer sent", src)]
    return _entry(f"payout-{payout_id}-paid", PAYOUT_PAID, currency, lines,
                  {"payout_id": payout_id, "transfer_id": transfer_id})


def payout_failed_entry(*, payout_id: str, partner_id: str, currency: str, amount: int, reason: str
                        ) -> tuple[JournalEntry, PartnerEffect]:
    """A failed transfer returns the amount to the partner's balance."""
    src = {"payout_id": payout_id, "partner_id": partner_id, "reason": reason}
    lines = [JournalLine(transit_account(currency), amount, "payout failed: returned", src),
             JournalLine(partner_account(partner_id, currency), -amount, "payout failed: returned", src)]
    effect = PartnerEffect(partner_id, currency)
    effect.add(payout_returns=amount, delta=amount)
    return _entry(f"payout-{payout_id}-failed", PAYOUT_FAILED, currency, lines, {"payout_id": payout_id}), effect


def adjustment_entry(*, adjustment_id: str, partner_id: str, currency: str, amount: int, reason: str
                     ) -> tuple[JournalEntry, PartnerEffect]:
    """A signed correction: positive credits the partner (the platform pays), negative debits it."""
    src = {"adjustment_id": adjustment_id, "partner_id": partner_id, "reason": reason}
    lines = [JournalLine(partner_account(partner_id, currency), -amount, "adjustment", src),
             JournalLine(adjustments_account(currency), amount, "adjustment", src)]
    effect = PartnerEffect(partner_id, currency)
    effect.add(adjustments=amount, delta=amount)
    return _entry(f"adjustment-{adjustment_id}", ADJUSTMENT, currency, lines,
                  {"adjustment_id": adjustment_id}), effect


def partner_balance_from_lines(lines: Iterable[JournalLine], partner_id: str, currency: str) -> int:
    """The partner's balance recomputed from journal lines (what we owe them: credits minus debits)."""
    account = partner_account(partner_id, currency)
    return -sum(line.amount for line in lines if line.account == account)
