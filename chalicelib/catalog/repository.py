"""Catalog rows in the single table, the row builders for them, and the queries that read them.

Rows (README "Catalog" has the access-pattern table):
- `LISTING#<id>/LISTING` (ListingItem): the live version of a listing (or its draft before it was
  first published), its status, counters and timestamps. gsi2 `PLISTINGS#<partner>` and gsi3
  `PLISTINGS#<partner>#<status>` serve the partner's own lists; gsi1 `REVIEWQ` holds it while submitted.
- `LISTING#<id>/REVISION` (RevisionItem): the proposed next version of a published listing, with the
  field-by-field changes; on gsi1 `REVIEWQ` while pending.
- `SLUG#<slug>/SLUG` (SlugItem): the claim on a slug, written with attribute_not_exists.
- Catalog projection rows (CatalogEntryItem) of published listings, one per filter combination
  (`CAT#<category|*>#<type|*>#<partner|*>`) and one per search prefix (`CATQ#<prefix>`), each carrying
  the card and three sort keys: gsi1 newest, gsi2 top rated, gsi3 price. A page of any filter and sort
  is then one Query on one partition of one index.
"""
from __future__ import annotations

from typing import Any, Iterable

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.catalog import model
from chalicelib.core.money import Component, Money
from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem


class ContentAttrs:
    """The editable fields, shared by the listing row and the revision row."""

    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    summary = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    category = UnicodeAttribute()
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    price_amount = NumberAttribute()
    price_currency = UnicodeAttribute()
    components = JSONAttribute(null=True)  # [{listing_id, partner_id, list_price}] for bundles
    split = JSONAttribute(null=True)

    def content(self) -> model.Content:
        return model.Content(
            name=self.name, slug=self.slug, summary=self.summary, description=self.description or "",
            category=self.category, tags=tuple(self.tags or ()),
            price=Money(int(self.price_amount), self.price_currency),
            components=tuple(
                Component(c["listing_id"], c["partner_id"], int(c["list_price"])) for c in (self.components or [])
            ),
            split=self.split or {"method": "pro_rata"},
        )

    def set_content(self, content: model.Content, listing_type: str) -> None:
        for name, value in content_attributes(content, listing_type).items():
            setattr(self, name, value)


def content_attributes(content: model.Content, listing_type: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "name": content.name, "slug": content.slug, "summary": content.summary,
        "description": content.description, "category": content.category, "tags": list(content.tags),
        "price_amount": content.price.amount, "price_currency": content.price.currency,
        "components": None, "split": None,
    }
    if listing_type == model.BUNDLE:
        attrs["components"] = content.bundle_dict()["components"]
        attrs["split"] = content.split
    return attrs


class RatingAttrs:
    rating_count = NumberAttribute(default=0)
    rating_sum = NumberAttribute(default=0)
    rating_h1 = NumberAttribute(default=0)
    rating_h2 = NumberAttribute(default=0)
    rating_h3 = NumberAttribute(default=0)
    rating_h4 = NumberAttribute(default=0)
    rating_h5 = NumberAttribute(default=0)

    def rating(self) -> model.Rating:
        hist = (int(self.rating_h1 or 0), int(self.rating_h2 or 0), int(self.rating_h3 or 0),
                int(self.rating_h4 or 0), int(self.rating_h5 or 0))
        return model.Rating(int(self.rating_count or 0), int(self.rating_sum or 0), hist)


def rating_attributes(rating: model.Rating) -> dict[str, int]:
    h = rating.histogram
    return {
        "rating_count": rating.count, "rating_sum": rating.total,
        "rating_h1": h[0], "rating_h2": h[1], "rating_h3": h[2], "rating_h4": h[3], "rating_h5": h[4],
    }


class ListingItem(ContentAttrs, RatingAttrs, MarketItem, discriminator="Listing"):
    listing_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    type = UnicodeAttribute()
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)  # why it was suspended
    rejection_reason = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)  # the live version's number; +1 per approved revision
    rev = NumberAttribute(default=0)  # +1 on every write: the optimistic guard of every change
    revision_status = UnicodeAttribute(null=True)  # pending / rejected while a revision row exists
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    submitted_at = UnicodeAttribute(null=True)
    published_at = UnicodeAttribute(null=True)  # first publication: the `newest` order

    def to_dict(self, *, partner_name: str | None = None, private: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "listing_id": self.listing_id, "partner_id": self.partner_id, "type": self.type,
            **self.content().to_dict(), "status": self.status, "version": int(self.version),
            "rating": self.rating().to_dict(),
            "created_at": self.created_at, "updated_at": self.updated_at, "published_at": self.published_at,
        }
        if partner_name is not None:
            out["partner_name"] = partner_name
        if self.type == model.BUNDLE:
            out.update(self.content().bundle_dict())
        if private:
            out.update({
                "rejection_reason": self.rejection_reason, "status_reason": self.status_reason,
                "submitted_at": self.submitted_at, "revision_status": self.revision_status,
            })
        return out


class RevisionItem(ContentAttrs, MarketItem, discriminator="ListingRevision"):
    listing_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    type = UnicodeAttribute()
    status = UnicodeAttribute()  # pending / rejected
    rejection_reason = UnicodeAttribute(null=True)
    base_version = NumberAttribute()
    changes = JSONAttribute(default=list)
    submitted_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "status": self.status, "rejection_reason": self.rejection_reason,
            "base_version": int(self.base_version), "submitted_at": self.submitted_at,
            "updated_at": self.updated_at, "changes": self.changes or [], **self.content().to_dict(),
        }
        if self.type == model.BUNDLE:
            out.update(self.content().bundle_dict())
        return out


class SlugItem(MarketItem, discriminator="Slug"):
    slug = UnicodeAttribute()
    listing_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()


class CatalogEntryItem(MarketItem, discriminator="CatalogEntry"):
    """One card of a published listing in one catalog partition (a filter combination or a prefix).

    The filterable fields are attributes (a `q` page filters on them); everything the card shows is
    one JSON attribute, so a row stays small and cheap to rewrite when the rating moves.
    """

    partner_id = UnicodeAttribute()
    category = UnicodeAttribute()
    type = UnicodeAttribute()
    search_text = UnicodeAttribute()  # ` word1 word2`: the other query words are checked against it
    card = JSONAttribute()

    def to_card(self, partner_name: str | None) -> dict[str, Any]:
        card = dict(self.card)
        count, total, *histogram = card.pop("rating_counters")
        card["rating"] = model.Rating(count, total, tuple(histogram)).to_dict()  # type: ignore[arg-type]
        return {**card, "partner_name": partner_name}


def card_of(item: ListingItem, rating: model.Rating) -> dict[str, Any]:
    return {
        "listing_id": item.listing_id, "slug": item.slug, "type": item.type, "name": item.name,
        "summary": item.summary, "category": item.category, "tags": list(item.tags or ()),
        "price": {"amount": int(item.price_amount), "currency": item.price_currency},
        "partner_id": item.partner_id, "published_at": item.published_at,
        # integers only in storage: count, sum, histogram 1..5 (the average is computed for display)
        "rating_counters": [rating.count, rating.total, *rating.histogram],
        "version": int(item.version),
    }


# --- index keys ----------------------------------------------------------------------------------
def listing_index_keys(item: ListingItem, status: str, *, in_queue: bool) -> dict[str, str | None]:
    """The gsi keys of a listing row in `status` (gsi1 only while it waits in the review queue)."""
    created = keys.created_sk(item.created_at, item.listing_id)
    return {
        "gsi1pk": keys.REVIEW_QUEUE_PK if in_queue else None,
        "gsi1sk": keys.created_sk(item.submitted_at, item.listing_id) if in_queue else None,
        "gsi2pk": keys.partner_listings_pk(item.partner_id), "gsi2sk": created,
        "gsi3pk": keys.partner_listings_pk(item.partner_id, status), "gsi3sk": created,
    }


# --- projection rows -----------------------------------------------------------------------------
def projection_partitions(item: ListingItem) -> list[str]:
    """Every catalog partition a published listing's card lives in."""
    tokens = model.search_tokens(item.name, item.tags or ())
    partitions = [keys.catalog_filter_pk(*combo) for combo in model.filter_combinations(
        item.category, item.type, item.partner_id)]
    partitions += [keys.catalog_term_pk(term) for term in model.search_terms(tokens)]
    return partitions


def projection_rows(item: ListingItem, rating: model.Rating | None = None) -> list[CatalogEntryItem]:
    """The cards of a published listing, one per partition, each with its three sort keys."""
    return [CatalogEntryItem.from_raw_data(raw) for raw in serialized_projection(item, rating)]


def serialized_projection(item: ListingItem, rating: model.Rating | None = None) -> list[dict[str, Any]]:
    """`projection_rows` as DynamoDB items: one row is built, the others differ only in their partition."""
    rating = rating or item.rating()
    tokens = model.searchable_tokens(model.search_tokens(item.name, item.tags or ()))
    partitions = projection_partitions(item)
    template = CatalogEntryItem(
        pk=partitions[0], sk=item.listing_id,
        gsi1sk=keys.catalog_newest_sk(item.published_at, item.listing_id),
        gsi2sk=keys.catalog_rating_sk(rating.total, rating.count, item.listing_id),
        gsi3sk=keys.catalog_price_sk(int(item.price_amount), item.listing_id),
        partner_id=item.partner_id, category=item.category, type=item.type,
        search_text=model.search_text(tokens), card=card_of(item, rating),
    ).serialize()
    rows = []
    for partition in partitions:
        value = {"S": partition}
        rows.append({**template, "pk": value, "gsi1pk": value, "gsi2pk": value, "gsi3pk": value})
    return rows


def serialized_published_listing(item: ListingItem) -> list[dict[str, Any]]:
    """Every row of a published listing (listing, slug claim, catalog cards), for bulk loading and seeds."""
    slug = SlugItem(pk=keys.slug_pk(item.slug), sk=keys.SLUG_SK, slug=item.slug, listing_id=item.listing_id,
                    partner_id=item.partner_id)
    return [item.serialize(), slug.serialize(), *serialized_projection(item)]


def stale_partitions(before: ListingItem | None, after: ListingItem | None) -> list[str]:
    """Partitions the old card lived in that the new one does not (their rows must be deleted)."""
    old = set(projection_partitions(before)) if before is not None else set()
    new = set(projection_partitions(after)) if after is not None else set()
    return sorted(old - new)


def entry_key(partition: str, listing_id: str) -> CatalogEntryItem:
    """A key-only entry row, for deleting it inside a transaction."""
    return CatalogEntryItem(pk=partition, sk=listing_id)


# --- reads ---------------------------------------------------------------------------------------
def get_listing(listing_id: str) -> ListingItem | None:
    try:
        return ListingItem.get(keys.listing_pk(listing_id), keys.LISTING_SK)
    except ListingItem.DoesNotExist:
        return None


def get_listing_with_revision(listing_id: str) -> tuple[ListingItem | None, RevisionItem | None]:
    """The listing row and its revision row in one Query of the listing's partition."""
    listing = revision = None
    for row in MarketItem.query(keys.listing_pk(listing_id)):
        if isinstance(row, ListingItem):
            listing = row
        elif isinstance(row, RevisionItem):
            revision = row
    return listing, revision


def get_slug(slug: str) -> SlugItem | None:
    try:
        return SlugItem.get(keys.slug_pk(slug), keys.SLUG_SK)
    except SlugItem.DoesNotExist:
        return None


def batch_get(key_pairs: Iterable[tuple[str, str]]) -> list[MarketItem]:
    """Rows of any kind by (pk, sk), in one BatchGetItem per 100 keys (pynamodb retries unprocessed keys)."""
    unique = list(dict.fromkeys(key_pairs))
    if not unique:
        return []
    return list(MarketItem.batch_get(unique))


def batch_get_listings(listing_ids: Iterable[str]) -> dict[str, ListingItem]:
    rows = batch_get((keys.listing_pk(i), keys.LISTING_SK) for i in listing_ids)
    return {r.listing_id: r for r in rows if isinstance(r, ListingItem)}


def list_partner_listings(
    *, partner_id: str, status: str | None, limit: int, cursor: str | None, scope: str,
) -> Page[ListingItem]:
    """A partner's listings oldest first: all of them on gsi2, or one status on gsi3."""
    if status:
        return query_page(
            lambda size, start: ListingItem.gsi3.query(
                keys.partner_listings_pk(partner_id, status), limit=size, last_evaluated_key=start,
            ),
            limit=limit, cursor=cursor, scope=scope, index="gsi3",
        )
    return query_page(
        lambda size, start: ListingItem.gsi2.query(
            keys.partner_listings_pk(partner_id), limit=size, last_evaluated_key=start,
        ),
        limit=limit, cursor=cursor, scope=scope, index="gsi2",
    )


def review_queue(*, limit: int, cursor: str | None, scope: str) -> Page[MarketItem]:
    """Submitted listings and pending revisions, oldest first (gsi1 `REVIEWQ`)."""
    return query_page(
        lambda size, start: MarketItem.gsi1.query(keys.REVIEW_QUEUE_PK, limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=scope, index="gsi1",
    )


def published_listings_of(partner_id: str, *, page_size: int = 100) -> Iterable[ListingItem]:
    """Every published listing of a partner (gsi3), for cascading a partner suspension."""
    return ListingItem.gsi3.query(keys.partner_listings_pk(partner_id, model.PUBLISHED), page_size=page_size)
