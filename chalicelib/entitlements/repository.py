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

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import Refusal, Transaction
from chalicelib.entitlements.model import Entitlement, Grant

REVOKE_LABEL = "entitlement.revoke"


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

    def to_model(self) -> Entitlement:
        # if_not_exists cannot write a null, so absent optional values are stored as "".
        return Entitlement(
            customer_sub=self.customer_sub, listing_id=self.listing_id, listing_type=self.listing_type,
            name=self.name or None, order_id=self.order_id, via_bundle=self.via_bundle or None,
            granted_at=self.granted_at,
        )


def key(sub: str, listing_id: str) -> tuple[str, str]:
    """The (pk, sk) of one entitlement, for a caller that reads several aggregates' rows at once."""
    return keys.user_pk(sub), keys.entitlement_sk(listing_id)


def owned_in(rows: Iterable[MarketItem]) -> list[str]:
    """The listing ids of the entitlement rows among rows of any kind (from `db.table.get_rows`), sorted."""
    return sorted(row.listing_id for row in rows if isinstance(row, EntitlementItem))


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


def refused_revocations(refusal: Refusal, customer_sub: str) -> set[str]:
    """The listing ids whose revocation `refusal` names: rows another order's line granted."""
    pk = keys.user_pk(customer_sub)
    return {op.sk[len(keys.ENTITLEMENT_PREFIX):] for op in refusal.operations
            if op.pk == pk and op.sk.startswith(keys.ENTITLEMENT_PREFIX)}


# --- reads -----------------------------------------------------------------------------------------
def get(sub: str, listing_id: str) -> Entitlement | None:
    try:
        return EntitlementItem.get(*key(sub, listing_id)).to_model()
    except EntitlementItem.DoesNotExist:
        return None


def owned_among(sub: str, listing_ids: list[str]) -> set[str]:
    """Which of `listing_ids` the customer owns, in one BatchGetItem."""
    if not listing_ids:
        return set()
    found = EntitlementItem.batch_get([key(sub, i) for i in set(listing_ids)])
    return {item.listing_id for item in found}


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
    page.items = [i.to_model() for i in page.items]
    return page
