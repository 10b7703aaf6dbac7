"""Entitlement rows: `USER#<sub>` / `ENT#<listing_id>`, one per owned listing.

The key makes "each entitlement exists once" true by construction. A grant is an update that only fills
an empty row (`if_not_exists`), so a second paid order for the same listing (two pending orders raced)
never steals the row from the first: the row remembers the order line that granted it, and a refund
revokes only the rows its own line granted (a conditional delete). Other aggregates ask `owns()` (reviews).
Writers hand in `Grant` values, so this module needs no other aggregate's types.
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import UnicodeAttribute

from chalicelib.core import clock
from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import Refusal, Transaction
from chalicelib.entitlements.model import Entitlement, Grant, SubscriptionGrant

REVOKE_LABEL = "entitlement.revoke"
SUBSCRIPTION_LABEL = "entitlement.subscription"
SUBSCRIPTION_LINE_PREFIX = "sub:"


class EntitlementItem(MarketItem, discriminator="Entitlement"):
    customer_sub = UnicodeAttribute()
    listing_id = UnicodeAttribute()
    listing_type = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    # The bundle this app came with, if it came with one.
    via_bundle = UnicodeAttribute(null=True)
    granted_at = UnicodeAttribute()
    # Rows a subscription holds: its id, and the time access ends unless a later status change extends it
    # (absent on rows an order granted: those last until a refund revokes them).
    subscription_id = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute(null=True)

    def to_model(self) -> Entitlement:
        # if_not_exists cannot write a null, so absent optional values are stored as "".
        return Entitlement(
            customer_sub=self.customer_sub, listing_id=self.listing_id, listing_type=self.listing_type,
            name=self.name or None, order_id=self.order_id or None if self.subscription_id else self.order_id,
            via_bundle=self.via_bundle or None, granted_at=self.granted_at,
            subscription_id=self.subscription_id or None, expires_at=self.expires_at or None,
        )

    def expired(self, now: str | None = None) -> bool:
        """A subscription's row past its `expires_at` (the subscription ended or lapsed): not owned."""
        return bool(self.expires_at) and self.expires_at <= (now or clock.now_iso())


def key(sub: str, listing_id: str) -> tuple[str, str]:
    """The (pk, sk) of one entitlement, for a caller that reads several aggregates' rows at once."""
    return keys.user_pk(sub), keys.entitlement_sk(listing_id)


def holders_pk(listing_id: str) -> str:
    """gsi1 on entitlement rows: who holds a listing (its partner's licence list), oldest grant first."""
    return f"HOLDERS#{listing_id}"


def holder_sk(granted_at: str, customer_sub: str) -> str:
    return f"{granted_at}#{customer_sub}"


def holders_of(listing_id: str, *, limit: int, cursor: str | None, scope: str) -> Page[Entitlement]:
    """The current holders of a listing (revoked rows are deleted, so they drop out), one bounded page."""
    page = query_page(
        lambda size, start: EntitlementItem.gsi1.query(holders_pk(listing_id), limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope, index="gsi1",
    )
    # A lapsed subscription's row (its end not yet processed) is left out: the page may be short.
    page.items = [i.to_model() for i in page.items if not i.expired()]
    return page


def owned_in(rows: Iterable[MarketItem]) -> list[str]:
    """The listing ids of the entitlement rows among rows of any kind (from `db.table.get_rows`), sorted."""
    return sorted(row.listing_id for row in rows if isinstance(row, EntitlementItem))


def held_in(rows: Iterable[MarketItem]) -> list[str]:
    """Like `owned_in`, without a lapsed subscription's rows (a new subscription may take those over; an
    order's grant cannot, so checkout keeps counting them as owned until the subscription's end arrives)."""
    return sorted(row.listing_id for row in rows if isinstance(row, EntitlementItem) and not row.expired())


# --- writes (added to the caller's transaction) ----------------------------------------------------
def grant(tx: Transaction, customer_sub: str, grants: Iterable[Grant], *, at: str) -> int:
    """Add to `tx` each grant not already owned (the first of a listing wins); returns how many rows."""
    count = 0
    seen: set[str] = set()
    for g in grants:
        if g.listing_id in seen:
            continue
        seen.add(g.listing_id)
        tx.update(EntitlementItem(*key(customer_sub, g.listing_id)), actions=[
            EntitlementItem.kind.set(EntitlementItem.kind | EntitlementItem),
            EntitlementItem.customer_sub.set(EntitlementItem.customer_sub | customer_sub),
            EntitlementItem.listing_id.set(EntitlementItem.listing_id | g.listing_id),
            EntitlementItem.listing_type.set(EntitlementItem.listing_type | g.listing_type),
            EntitlementItem.name.set(EntitlementItem.name | (g.name or "")),
            EntitlementItem.order_id.set(EntitlementItem.order_id | g.order_id),
            EntitlementItem.line_id.set(EntitlementItem.line_id | g.line_ref),
            EntitlementItem.via_bundle.set(EntitlementItem.via_bundle | (g.via_bundle or "")),
            EntitlementItem.granted_at.set(EntitlementItem.granted_at | at),
            # the listing's holders, for its partner's licence list (`holders_of`); filled once, like the rest
            EntitlementItem.gsi1pk.set(EntitlementItem.gsi1pk | holders_pk(g.listing_id)),
            EntitlementItem.gsi1sk.set(EntitlementItem.gsi1sk | holder_sk(at, customer_sub)),
        ])
        count += 1
    return count


def revoke(tx: Transaction, customer_sub: str, grants: Iterable[Grant], *,
           skip: frozenset[str] = frozenset()) -> list[str]:
    """Add to `tx` the deletion of the rows these grants made; returns the listing ids, in tx order.

    Each deletion holds only if the row is still the one its line granted (or is gone already).
    """
    revoked: list[str] = []
    for g in grants:
        if g.listing_id in skip or g.listing_id in revoked:
            continue
        tx.delete(EntitlementItem(*key(customer_sub, g.listing_id)),
                  condition=(EntitlementItem.line_id == g.line_ref) | EntitlementItem.pk.does_not_exist(),
                  label=REVOKE_LABEL)
        revoked.append(g.listing_id)
    return revoked


def hold_for_subscription(tx: Transaction, customer_sub: str, grants: Iterable[SubscriptionGrant], *,
                          subscription_id: str, expires_at: str, at: str,
                          skip: frozenset[str] = frozenset()) -> list[str]:
    """Add to `tx` the rows a subscription holds (created or extended to `expires_at`); the listing ids.

    A row is taken only if it is free, already this subscription's, or a lapsed subscription's: a row an
    order granted, or another live subscription's, makes the transaction fail under SUBSCRIPTION_LABEL
    (the caller retries with it in `skip`).
    """
    held: list[str] = []
    now = clock.now_iso()
    for g in grants:
        if g.listing_id in skip or g.listing_id in held:
            continue
        tx.update(EntitlementItem(*key(customer_sub, g.listing_id)), actions=[
            EntitlementItem.kind.set(EntitlementItem.kind | EntitlementItem),
            EntitlementItem.customer_sub.set(customer_sub), EntitlementItem.listing_id.set(g.listing_id),
            EntitlementItem.listing_type.set(g.listing_type), EntitlementItem.name.set(g.name or ""),
            EntitlementItem.order_id.set(""), EntitlementItem.via_bundle.set(g.via_bundle or ""),
            EntitlementItem.line_id.set(f"{SUBSCRIPTION_LINE_PREFIX}{subscription_id}"),
            EntitlementItem.granted_at.set(EntitlementItem.granted_at | at),
            EntitlementItem.subscription_id.set(subscription_id), EntitlementItem.expires_at.set(expires_at),
            # the listing's holders (`holders_of`), as `grant` writes them
            EntitlementItem.gsi1pk.set(holders_pk(g.listing_id)),
            EntitlementItem.gsi1sk.set(EntitlementItem.gsi1sk | holder_sk(at, customer_sub)),
        ], condition=EntitlementItem.pk.does_not_exist() | (EntitlementItem.subscription_id == subscription_id)
            | (EntitlementItem.expires_at <= now), label=SUBSCRIPTION_LABEL)
        held.append(g.listing_id)
    return held


def release_for_subscription(tx: Transaction, customer_sub: str, listing_ids: Iterable[str], *,
                             subscription_id: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """Add to `tx` the deletion of the rows this subscription holds (a row it does not hold fails the
    transaction under SUBSCRIPTION_LABEL: retry with it in `skip`)."""
    released: list[str] = []
    for listing_id in listing_ids:
        if listing_id in skip or listing_id in released:
            continue
        tx.delete(EntitlementItem(*key(customer_sub, listing_id)),
                  condition=(EntitlementItem.subscription_id == subscription_id) | EntitlementItem.pk.does_not_exist(),
                  label=SUBSCRIPTION_LABEL)
        released.append(listing_id)
    return released


def refused_revocations(refusal: Refusal, customer_sub: str) -> set[str]:
    """The listing ids whose revocation `refusal` names: rows another order's line granted."""
    pk = keys.user_pk(customer_sub)
    return {op.sk[len(keys.ENTITLEMENT_PREFIX):] for op in refusal.operations
            if op.pk == pk and op.sk.startswith(keys.ENTITLEMENT_PREFIX)}


# --- reads -----------------------------------------------------------------------------------------
def get(sub: str, listing_id: str) -> Entitlement | None:
    try:
        item = EntitlementItem.get(*key(sub, listing_id))
    except EntitlementItem.DoesNotExist:
        return None
    return None if item.expired() else item.to_model()


def owned_among(sub: str, listing_ids: list[str]) -> set[str]:
    """Which of `listing_ids` the customer owns, in one BatchGetItem."""
    if not listing_ids:
        return set()
    found = EntitlementItem.batch_get([key(sub, i) for i in set(listing_ids)])
    return {item.listing_id for item in found if not item.expired()}


def owns(sub: str, listing_id: str) -> bool:
    """Whether the customer owns the listing, directly or through a bundle (reviews ask this)."""
    return get(sub, listing_id) is not None


def list_for(sub: str, *, limit: int, cursor: str | None, scope: str) -> Page[Entitlement]:
    page = query_page(
        lambda size, start: EntitlementItem.query(
            keys.user_pk(sub), EntitlementItem.sk.startswith(keys.ENTITLEMENT_PREFIX),
            limit=size, last_evaluated_key=start,
        ),
        limit=limit, cursor=cursor, scope=scope,
    )
    # A lapsed subscription's row (its end not yet processed) is left out: the page may be short.
    page.items = [i.to_model() for i in page.items if not i.expired()]
    return page
