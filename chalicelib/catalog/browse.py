"""The public catalog page: which projection partition and index answer a filter and sort, and one Query.

Structured filters (any combination of `category`, `type`, `partner_id`) name one partition exactly,
so a page reads `limit + 1` rows. With `q`, the partition is the one of the longest query word's
first letters (`CATQ#<prefix>`) and the rest (every query word in full, the structured filters) is a
FilterExpression; such a page evaluates at most a fixed budget of rows in at most two Queries and
may come back short with a `next_cursor` to continue, so its cost stays bounded whatever the size of
the catalog. Every page also makes one BatchGetItem for the partners' display names.
"""
from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.catalog import model
from chalicelib.catalog.repository import CatalogEntryItem
from chalicelib.catalog.queries import entry_cards
from chalicelib.core.errors import ValidationFailed
from chalicelib.db import keys
from chalicelib.db.pages import index_keys, position_of
from chalicelib.db.cursors import decode_cursor, encode_cursor

# sort -> (index, read forwards?)
SORT_INDEX: dict[str, tuple[str, bool]] = {
    "newest": ("gsi1", False),
    "top_rated": ("gsi2", False),
    "price_asc": ("gsi3", True),
    "price_desc": ("gsi3", False),
}
# Rows a filtered (`q`) page may evaluate: a constant, so the page's cost does not grow with the catalog.
SEARCH_BUDGET = 300


def _filters(words: list[str], category: str | None, listing_type: str | None, partner_id: str | None):
    condition: Condition | None = None

    def both(extra: Condition) -> None:
        nonlocal condition
        condition = extra if condition is None else condition & extra

    for word in words:
        both(CatalogEntryItem.search_text.contains(f" {word}"))
    if category:
        both(CatalogEntryItem.category == category)
    if listing_type:
        both(CatalogEntryItem.type == listing_type)
    if partner_id:
        both(CatalogEntryItem.partner_id == partner_id)
    return condition


def browse(
    *, category: str | None = None, listing_type: str | None = None, partner_id: str | None = None,
    q: str | None = None, sort: str = "newest", limit: int = 20, cursor: str | None = None,
) -> dict[str, Any]:
    """One page of published listings as cards: `{"items": [...], "next_cursor": ...}`."""
    words = model.query_words(q)[:model.MAX_QUERY_WORDS] if q is not None else []
    if q is not None and not words:
        raise ValidationFailed("The search needs at least one letter or digit.",
                               [{"field": "q", "message": "has no words to search for", "in": "query"}])
    index_name, forwards = SORT_INDEX[sort]
    scope = "catalog:" + "|".join([sort, category or "", listing_type or "", partner_id or "", " ".join(words)])
    start = decode_cursor(cursor, scope) if cursor else None
    if words:
        partition = keys.catalog_term_pk(model.key_term(words[0]))
        condition = _filters(words, category, listing_type, partner_id)
    else:
        partition = keys.catalog_filter_pk(category, listing_type, partner_id)
        condition = None
    index = getattr(CatalogEntryItem, index_name)
    entries: list[CatalogEntryItem] = []
    last_key = start
    # Without a filter one Query of `limit + 1` rows is exact. With one, ask for `limit + 1` rows
    # first (enough when most rows match) and then for the rest of a fixed budget, so a page never
    # evaluates more than SEARCH_BUDGET rows nor makes more than two calls.
    for size in (limit + 1, SEARCH_BUDGET - (limit + 1)) if condition is not None else (limit + 1,):
        if size <= 0 or len(entries) > limit:
            break
        page_iter = index.query(
            partition, scan_index_forward=forwards, filter_condition=condition, page_size=size,
            last_evaluated_key=last_key,
        ).page_iter
        raw_page = page_iter.next()
        entries += [CatalogEntryItem.from_raw_data(raw) for raw in raw_page.get("Items", [])]
        last_key = page_iter.last_evaluated_key
        if not last_key:
            break
    if len(entries) > limit:
        entries = entries[:limit]
        next_cursor = encode_cursor(position_of(entries[-1], index_keys(index_name)), scope)
    elif condition is not None and last_key:
        next_cursor = encode_cursor(last_key, scope)
    else:
        next_cursor = None
    return {"items": entry_cards(entries), "next_cursor": next_cursor}
