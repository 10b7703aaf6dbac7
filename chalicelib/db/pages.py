"""One page of a Query, with an opaque signed cursor for the next one.

Asks DynamoDB for one item more than the page so the cursor is built from the page's last item and a
full final page does not lead to an empty one (real DynamoDB may also return a `LastEvaluatedKey`
followed by an empty page; asking for `limit + 1` absorbs that too).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Iterable, TypeVar

from chalicelib.db.cursors import decode_cursor, encode_cursor

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def position_of(item, key_names: tuple[str, ...]) -> dict:
    """The `ExclusiveStartKey` that resumes a Query just after `item`."""
    return {name: {"S": getattr(item, name)} for name in key_names}


def index_keys(index: str | None) -> tuple[str, ...]:
    if index is None:
        return ("pk", "sk")
    return ("pk", "sk", f"{index}pk", f"{index}sk")


def query_page(
    run_query: Callable[[int, dict | None], Iterable[T]],
    *,
    limit: int,
    cursor: str | None,
    scope: str,
    index: str | None = None,
) -> Page[T]:
    """Run `run_query(page_size, exclusive_start_key)` and cut one page from it."""
    start = decode_cursor(cursor, scope) if cursor else None
    found: list[T] = []
    for item in run_query(limit + 1, start):
        found.append(item)
        if len(found) > limit:
            break
    if len(found) <= limit:
        return Page(found, None)
    page = found[:limit]
    return Page(page, encode_cursor(position_of(page[-1], index_keys(index)), scope))
