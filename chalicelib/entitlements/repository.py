"""Entitlement rows: `USER#<sub>` / `ENT#<listing_id>`, one per owned listing.

The key makes "each entitlement exists once" true by construction. A grant is an update that only fills
an empty row (`if_not_exists`), so a second paid order for the same listing (two pending orders raced)
never steals the row from the first: the row remembers the order line that granted it, and a refund
revokes only the rows its own line granted (a conditional delete). Other aggregates ask `owns()` (reviews).
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from chalicelib.db.transact import Transaction

from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.orders.model import Order, OrderLine


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

    def to_dict(self) -> dict:
        return {
            "listing_id": self.listing_id, "type": self.listing_type, "name": self.name,
            "order_id": self.order_id, "via_bundle": self.via_bundle, "granted_at": self.granted_at,
        }


def _grants_of(line: OrderLine) -> list[tuple[str, str, str | None, str | None]]:
    """(listing_id, type, name, via_bundle) for every listing a line entitles its buyer to."""
    if line.type == "bundle":
        return [(line.listing_id, "bundle", line.name, None)] + [
            (part.listing_id, "app", None, line.listing_id) for part in line.parts
        ]
    return [(line.listing_id, line.type, line.name, None)]


def grant(tx: Transaction, order: Order, *, at: str) -> int:
    """Add to `tx` the grants of every line of a paid order; returns how many rows it touches."""
    count = 0
    seen: set[str] = set()
    for line in order.lines:
        for listing_id, listing_type, name, via in _grants_of(line):
            if listing_id in seen:
                continue
            seen.add(listing_id)
            row = EntitlementItem(keys.user_pk(order.customer_sub), keys.entitlement_sk(listing_id))
            tx.update(row, actions=[
                EntitlementItem.kind.set(EntitlementItem.kind | EntitlementItem),
                EntitlementItem.customer_sub.set(EntitlementItem.customer_sub | order.customer_sub),
                EntitlementItem.listing_id.set(EntitlementItem.listing_id | listing_id),
                EntitlementItem.listing_type.set(EntitlementItem.listing_type | listing_type),
                EntitlementItem.name.set(EntitlementItem.name | (name or "")),
                EntitlementItem.order_id.set(EntitlementItem.order_id | order.order_id),
                EntitlementItem.line_id.set(EntitlementItem.line_id | f"{order.order_id}/{line.line_id}"),
                EntitlementItem.via_bundle.set(EntitlementItem.via_bundle | (via or "")),
                EntitlementItem.granted_at.set(EntitlementItem.granted_at | at),
            ])
            count += 1
    return count


def revoke(tx: Transaction, order: Order, lines: tuple[OrderLine, ...], *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Add to `tx` the deletion of the rows these lines granted; returns the listing ids, in tx order."""
    revoked: list[str] = []
    for line in lines:
        for listing_id, *_ in _grants_of(line):
            if listing_id in skip or listing_id in revoked:
                continue
            row = EntitlementItem(keys.user_pk(order.customer_sub), keys.entitlement_sk(listing_id))
            tx.delete(row, condition=(
                EntitlementItem.line_id == f"{order.order_id}/{line.line_id}"
            ) | EntitlementItem.pk.does_not_exist())
            revoked.append(listing_id)
    return revoked


def _clean(item: EntitlementItem) -> EntitlementItem:
    # if_not_exists cannot write a null, so absent optional values are stored as "".
    item.name = item.name or None
    item.via_bundle = item.via_bundle or None
    return item


def get(sub: str, listing_id: str) -> EntitlementItem | None:
    try:
        return _clean(EntitlementItem.get(keys.user_pk(sub), keys.entitlement_sk(listing_id)))
    except EntitlementItem.DoesNotExist:
        return None


def owned_among(sub: str, listing_ids: list[str]) -> set[str]:
    """Which of `listing_ids` the customer owns, in one BatchGetItem."""
    if not listing_ids:
        return set()
    found = EntitlementItem.batch_get([(keys.user_pk(sub), keys.entitlement_sk(i)) for i in set(listing_ids)])
    return {item.listing_id for item in found}


def owns(sub: str, listing_id: str) -> bool:
    """Whether the customer owns the listing, directly or through a bundle (reviews ask this)."""
    return get(sub, listing_id) is not None


def list_for(sub: str, *, limit: int, cursor: str | None, scope: str) -> Page[EntitlementItem]:
    page = query_page(
        lambda size, start: EntitlementItem.query(
            keys.user_pk(sub), EntitlementItem.sk.startswith(keys.ENTITLEMENT_PREFIX),
            limit=size, last_evaluated_key=start,
        ),
        limit=limit, cursor=cursor, scope=scope,
    )
    page.items = [_clean(i) for i in page.items]
    return page
