"""The journal and partner balances as rows of the single table, added to the caller's transaction.

A journal transaction is written as:
- a header `JOURNAL#<txn_id>/TXN` holding every line; it is saved with `attribute_not_exists`, and the
  txn id comes from the business id (`sale-<order>`, `refund-<refund>`, `payout-<id>`), so an event
  can never be journaled twice; gsi1 `JOURNAL` lists every transaction in time order;
- one posting per account touched `ACCOUNT#<account>/<at>#<txn_id>` with that account's lines, so an
  account's history (a partner's statement, the platform's cash) is one Query;
- per partner and currency, ADD updates on the balance row `PARTNER#<id>/BALANCE#<cur>` and on the
  day row `PARTNER#<id>/DAY#<cur>#<date>`. ADD is commutative, so concurrent sales stay exact and no
  read precedes the write. One item per partner+currency even when a partner has several parts.

Rows are append-only: headers and postings are never updated or deleted; corrections are new entries.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import keys
from chalicelib.db.table import MarketItem
from chalicelib.ledger.rules import COUNTERS, JournalEntry, PartnerEffect, partner_of_account


class JournalItem(MarketItem, discriminator="Journal"):
    txn_id = UnicodeAttribute()
    txn_kind = UnicodeAttribute()
    at = UnicodeAttribute()
    currency = UnicodeAttribute()
    lines = JSONAttribute()
    refs = JSONAttribute(null=True)

    def to_dict(self) -> dict:
        return {"txn_id": self.txn_id, "kind": self.txn_kind, "at": self.at, "currency": self.currency,
                "lines": list(self.lines), "refs": dict(self.refs or {})}


class PostingItem(MarketItem, discriminator="Posting"):
    txn_id = UnicodeAttribute()
    txn_kind = UnicodeAttribute()
    at = UnicodeAttribute()
    account = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount = NumberAttribute()  # signed sum of this account's lines: + debit, - credit
    lines = JSONAttribute()
    refs = JSONAttribute(null=True)

    def to_dict(self) -> dict:
        amount = int(self.amount)
        return {"txn_id": self.txn_id, "kind": self.txn_kind, "at": self.at, "account": self.account,
                "currency": self.currency, "debit": max(amount, 0), "credit": max(-amount, 0),
                "lines": list(self.lines), "refs": dict(self.refs or {})}


class BalanceItem(MarketItem, discriminator="Balance"):
    """A partner's lifetime counters in one currency; `delta` is the balance (what we owe it)."""

    partner_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    open_payout = UnicodeAttribute(null=True)  # the payout in flight: at most one per partner and currency
    sales_gross = NumberAttribute(default=0)
    sales_fees = NumberAttribute(default=0)
    sales_net = NumberAttribute(default=0)
    refunds_gross = NumberAttribute(default=0)
    refunds_fees = NumberAttribute(default=0)
    refunds_net = NumberAttribute(default=0)
    payouts = NumberAttribute(default=0)
    payout_returns = NumberAttribute(default=0)
    adjustments = NumberAttribute(default=0)
    delta = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    paid_out = NumberAttribute(default=0)


class BalanceDayItem(MarketItem, discriminator="BalanceDay"):
    """A partner's counters for one UTC day and currency; `held` is what that day's sales earned."""

    partner_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    day = UnicodeAttribute()
    sales_gross = NumberAttribute(default=0)
    sales_fees = NumberAttribute(default=0)
    sales_net = NumberAttribute(default=0)
    refunds_gross = NumberAttribute(default=0)
    refunds_fees = NumberAttribute(default=0)
    refunds_net = NumberAttribute(default=0)
    payouts = NumberAttribute(default=0)
    payout_returns = NumberAttribute(default=0)
    adjustments = NumberAttribute(default=0)
    delta = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    paid_out = NumberAttribute(default=0)


def counters_of(item) -> dict[str, int]:
    return {name: int(getattr(item, name) or 0) for name in (*COUNTERS, "paid_out")}


def _bump(tx, model, pk: str, sk: str, counters: dict[str, int], fixed: dict, *, more: tuple = (),
          condition=None) -> None:
    actions = [getattr(model, name).add(value) for name, value in counters.items() if value]
    actions.extend(more)
    if not actions:
        return
    actions.append(MarketItem.kind.set(model))
    actions.extend(getattr(model, name).set(value) for name, value in fixed.items())
    tx.update(model(pk, sk), actions=actions, condition=condition)


def add_effect(tx, effect: PartnerEffect, *, day: str, extra: dict[str, int] | None = None,
               balance_actions: tuple = (), balance_condition=None) -> None:
    """ADD one partner's counter changes to its balance row and its day row.

    `balance_actions` / `balance_condition` let payouts set or clear their in-flight marker on the same
    balance row (a transaction may touch an item only once).
    """
    counters = {**effect.counters, **(extra or {})}
    pk = keys.partner_pk(effect.partner_id)
    _bump(tx, BalanceItem, pk, keys.balance_sk(effect.currency), counters, {
        "partner_id": effect.partner_id, "currency": effect.currency,
        "gsi1pk": keys.balances_pk(effect.currency), "gsi1sk": effect.partner_id,
    }, more=balance_actions, condition=balance_condition)
    _bump(tx, BalanceDayItem, pk, keys.balance_day_sk(effect.currency, day), counters, {
        "partner_id": effect.partner_id, "currency": effect.currency, "day": day,
    })


def add_entry(tx, entry: JournalEntry, *, at: str) -> None:
    """Add the header (guarded: once per txn id) and one posting per account to `tx`."""
    lines = [line.to_dict() for line in entry.lines]
    tx.save(JournalItem(
        keys.journal_pk(entry.txn_id), keys.JOURNAL_SK,
        gsi1pk=keys.JOURNAL_ALL_PK, gsi1sk=keys.posting_sk(at, entry.txn_id),
        txn_id=entry.txn_id, txn_kind=entry.kind, at=at, currency=entry.currency, lines=lines, refs=entry.refs,
    ), condition=JournalItem.pk.does_not_exist())
    for account in entry.accounts():
        mine = entry.lines_of(account)
        tx.save(PostingItem(
            keys.account_pk(account), keys.posting_sk(at, entry.txn_id),
            txn_id=entry.txn_id, txn_kind=entry.kind, at=at, account=account, currency=entry.currency,
            amount=sum(line.amount for line in mine), lines=[line.to_dict() for line in mine], refs=entry.refs,
        ))


def partner_accounts(entry: JournalEntry) -> list[str]:
    return [p for p in (partner_of_account(a) for a in entry.accounts()) if p]


class OrderLedgerItem(MarketItem, discriminator="OrderLedger"):
    """Per order: each part's sale (amount, rate, fee, net) and what refunds have reversed so far.

    Refunds read it and write it back under a `revision` condition, so two concurrent refunds of one
    order cannot both reverse the same minor units.
    """

    order_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    lines = JSONAttribute()
    revision = NumberAttribute(default=0)


class StripeRefItem(MarketItem, discriminator="StripeRef"):
    """The ledger's side of one Stripe object: what we recorded for it, to compare with Stripe."""

    stripe_id = UnicodeAttribute()
    ref_kind = UnicodeAttribute()  # payment | refund | transfer
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    txn_id = UnicodeAttribute()
    at = UnicodeAttribute()
    entity_id = UnicodeAttribute()  # order, refund or payout id

    def to_dict(self) -> dict:
        return {"stripe_id": self.stripe_id, "kind": self.ref_kind, "amount": int(self.amount),
                "currency": self.currency, "status": self.status, "txn_id": self.txn_id, "at": self.at,
                "entity_id": self.entity_id}


def add_stripe_ref(tx, *, stripe_id: str, kind: str, amount: int, currency: str, status: str, txn_id: str,
                   at: str, entity_id: str) -> None:
    tx.save(StripeRefItem(
        keys.stripe_ref_pk(stripe_id), keys.STRIPE_REF_SK,
        gsi1pk=keys.STRIPE_REFS_PK, gsi1sk=keys.posting_sk(at, stripe_id),
        stripe_id=stripe_id, ref_kind=kind, amount=amount, currency=currency, status=status, txn_id=txn_id,
        at=at, entity_id=entity_id,
    ), condition=StripeRefItem.pk.does_not_exist())


# --- what reconciliation reads: the ledger's Stripe references ---------------------------------------
def stripe_refs(stripe_ids: Iterable[str]) -> dict[str, StripeRefItem]:
    """The ledger's references of these Stripe ids (one BatchGetItem per 100), by id; unknown ids are absent."""
    found = StripeRefItem.batch_get([(keys.stripe_ref_pk(i), keys.STRIPE_REF_SK) for i in set(stripe_ids)])
    return {item.stripe_id: item for item in found}


def stripe_ref_pages(lo: str, hi: str, *, size: int = 100) -> Iterator[list[StripeRefItem]]:
    """The references recorded between `lo` and `hi` (gsi1 sort keys), one Query page at a time."""
    start = None
    while True:
        result = StripeRefItem.gsi1.query(keys.STRIPE_REFS_PK, StripeRefItem.gsi1sk.between(lo, hi),
                                          limit=size, last_evaluated_key=start)
        page = list(result)
        if page:
            yield page
        start = result.last_evaluated_key
        if not start:
            return
