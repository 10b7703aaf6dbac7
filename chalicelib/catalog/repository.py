"""Catalog rows in the single table: their builders, the guarded writes and the queries that read them.

Rows (docs/architecture.md has the access-pattern table):
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
from chalicelib.core import clock
from chalicelib.core.identity import Principal
from chalicelib.core.money import Component, Money
from chalicelib.db import keys
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem, get_rows
from chalicelib.db.transact import Transaction


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
    price_interval = UnicodeAttribute(null=True)  # "month" | "year" for a subscription price
    price_trial_days = NumberAttribute(null=True)
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
            interval=self.price_interval or None, trial_days=int(self.price_trial_days or 0),
        )

    def set_content(self, content: model.Content, listing_type: str) -> None:
        for name, value in content_attributes(content, listing_type).items():
            setattr(self, name, value)


def content_attributes(content: model.Content, listing_type: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "name": content.name, "slug": content.slug, "summary": content.summary,
        "description": content.description, "category": content.category, "tags": list(content.tags),
        "price_amount": content.price.amount, "price_currency": content.price.currency,
        "price_interval": content.interval, "price_trial_days": content.trial_days if content.interval else None,
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
    # Copies of the partner's display name and status, so a public read needs no partner read (None on
    # rows written before the copies existed); `partner_copy_at` orders renames (the newest one wins).
    partner_name = UnicodeAttribute(null=True)
    partner_status = UnicodeAttribute(null=True)
    partner_copy_at = UnicodeAttribute(null=True)


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
    card = JSONAttribute()  # with `partner_name` once the listing row carries the copy
    partner_status = UnicodeAttribute(null=True)  # the partner's status copied from the listing row

    def to_card(self, partner_name: str | None = None) -> dict[str, Any]:
        card = dict(self.card)
        count, total, *histogram = card.pop("rating_counters")
        card["rating"] = model.Rating(count, total, tuple(histogram)).to_dict()  # type: ignore[arg-type]
        return {**card, "partner_name": card.pop("partner_name", None) if partner_name is None else partner_name}


def card_of(item: ListingItem, rating: model.Rating) -> dict[str, Any]:
    return {
        "listing_id": item.listing_id, "slug": item.slug, "type": item.type, "name": item.name,
        "summary": item.summary, "category": item.category, "tags": list(item.tags or ()),
        "price": model.price_dict(Money(int(item.price_amount), item.price_currency), item.price_interval,
                                  int(item.price_trial_days or 0)),
        "partner_id": item.partner_id, "published_at": item.published_at,
        # integers only in storage: count, sum, histogram 1..5 (the average is computed for display)
        "rating_counters": [rating.count, rating.total, *rating.histogram],
        "version": int(item.version),
        **({"partner_name": item.partner_name} if item.partner_name is not None else {}),
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


# --- new rows ------------------------------------------------------------------------------------
def listing_key(listing_id: str) -> tuple[str, str]:
    return keys.listing_pk(listing_id), keys.LISTING_SK


def set_index_keys(item: ListingItem, *, in_queue: bool) -> None:
    """Point the row's gsi keys at its current status (and at the review queue while `in_queue`)."""
    for name, value in listing_index_keys(item, item.status, in_queue=in_queue).items():
        setattr(item, name, value)


def new_listing_item(*, listing_id: str, partner_id: str, listing_type: str, content: model.Content, status: str,
                     actor: Principal) -> ListingItem:
    """The row of a new listing at version 1 with no ratings (published now when born published)."""
    now = clock.now_iso()
    item = ListingItem(
        pk=keys.listing_pk(listing_id), sk=keys.LISTING_SK, listing_id=listing_id, partner_id=partner_id,
        type=listing_type, status=status, version=1, rev=0, created_by=actor.sub, created_at=now, updated_at=now,
        **content_attributes(content, listing_type), **rating_attributes(model.Rating()),
    )
    if status == model.PUBLISHED:
        item.published_at = item.submitted_at = now
    set_index_keys(item, in_queue=False)
    return item


def new_revision_item(listing: ListingItem, proposed: model.Content, *, changes: list[dict], submitted_at: str,
                      now: str) -> RevisionItem:
    """A pending revision of a published listing, waiting in the review queue since `submitted_at`."""
    return RevisionItem(
        pk=keys.listing_pk(listing.listing_id), sk=keys.REVISION_SK, listing_id=listing.listing_id,
        partner_id=listing.partner_id, type=listing.type, status=model.REVISION_PENDING,
        base_version=int(listing.version), changes=changes, submitted_at=submitted_at, updated_at=now,
        gsi1pk=keys.REVIEW_QUEUE_PK, gsi1sk=keys.created_sk(submitted_at, listing.listing_id),
        **content_attributes(proposed, listing.type),
    )


def rejected_revision(revision: RevisionItem, *, reason: str | None, now: str) -> RevisionItem:
    """A copy of a revision marked rejected and taken out of the review queue (the partner still sees it)."""
    kept = RevisionItem.from_raw_data(revision.serialize())
    kept.status, kept.rejection_reason, kept.updated_at = model.REVISION_REJECTED, reason, now
    kept.gsi1pk = kept.gsi1sk = None
    return kept


def slug_claim(slug: str, *, listing_id: str, partner_id: str) -> SlugItem:
    return SlugItem(pk=keys.slug_pk(slug), sk=keys.SLUG_SK, slug=slug, listing_id=listing_id, partner_id=partner_id)


# --- conditional writes: the guards every change relies on ---------------------------------------
def insert_listing(tx: Transaction, item: ListingItem) -> None:
    """Write a new listing row, refused (label `new`) if the id is somehow taken."""
    item.rev = 1
    tx.save(item, condition=ListingItem.pk.does_not_exist(), label="new")


def put_listing(tx: Transaction, before: ListingItem, after: ListingItem) -> None:
    """Write the next state of a listing row, refused (label `rev`) if anything changed it since `before`."""
    after.rev = int(before.rev) + 1
    tx.save(after, condition=ListingItem.rev == int(before.rev), label="rev")


def claim_slug(tx: Transaction, slug: str, *, listing_id: str, partner_id: str) -> None:
    """Claim a slug for a listing, refused (label `slug`) when another listing holds it."""
    tx.save(slug_claim(slug, listing_id=listing_id, partner_id=partner_id),
            condition=SlugItem.pk.does_not_exist(), label="slug")


def release_slug(tx: Transaction, slug: str, *, listing_id: str) -> None:
    """Give up a listing's slug claim, refused (label `old-slug`) unless the listing still holds it."""
    tx.delete(SlugItem(pk=keys.slug_pk(slug), sk=keys.SLUG_SK), condition=SlugItem.listing_id == listing_id,
              label="old-slug")


def update_rating(tx: Transaction, item: ListingItem, rating: model.Rating, *, rev: int, label: str) -> None:
    """SET the listing row's rating counters, refused (under `label`) unless its `rev` is still `rev`."""
    actions = [getattr(ListingItem, name).set(value) for name, value in rating_attributes(rating).items()]
    actions.append(ListingItem.rev.set(rev + 1))
    tx.update(ListingItem(pk=item.pk, sk=item.sk), actions=actions, condition=ListingItem.rev == rev, label=label)


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
        partner_id=item.partner_id, category=item.category, type=item.type, partner_status=item.partner_status,
        search_text=model.search_text(tokens), card=card_of(item, rating),
    ).serialize()
    rows = []
    for partition in partitions:
        value = {"S": partition}
        rows.append({**template, "pk": value, "gsi1pk": value, "gsi2pk": value, "gsi3pk": value})
    return rows


def serialized_published_listing(item: ListingItem) -> list[dict[str, Any]]:
    """Every row of a published listing (listing, slug claim, catalog cards), for bulk loading and seeds."""
    slug = slug_claim(item.slug, listing_id=item.listing_id, partner_id=item.partner_id)
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
        return ListingItem.get(*listing_key(listing_id))
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


def batch_get_listings(listing_ids: Iterable[str]) -> dict[str, ListingItem]:
    """Listing rows by id, in one BatchGetItem per 100 ids; unknown ids are absent."""
    rows = get_rows(listing_key(i) for i in listing_ids)
    return {r.listing_id: r for r in rows if isinstance(r, ListingItem)}


def get_listing_and(listing_id: str, others: Iterable[tuple[str, str]]) -> tuple[ListingItem | None, list[MarketItem]]:
    """A listing row and other rows of any kind (say, its partner's profile) in one BatchGetItem."""
    rows = get_rows([listing_key(listing_id), *others])
    listing = next((r for r in rows if isinstance(r, ListingItem)), None)
    return listing, rows


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


def listings_of(partner_id: str, *, limit: int = 100, after: dict | None = None) -> tuple[list[ListingItem], dict | None]:
    """One page of a partner's listings in any status (gsi2) and the key to resume after (rename copies)."""
    result = ListingItem.gsi2.query(keys.partner_listings_pk(partner_id), limit=limit, last_evaluated_key=after)
    return list(result), result.last_evaluated_key
