"""Run one DynamoDB transaction and, if a condition fails, say which rows (by key) refused.

pynamodb sends a TransactWrite's operations grouped by kind, not in the order they were added, and the
ledger adds its own rows to the same transaction, so "which operation failed" is answered by key rather
than by position: the caller knows what the order row, the event marker or an entitlement row is keyed by.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import DomainError
from chalicelib.db.transact import transaction


class ConditionsFailed(DomainError):
    """Some rows' conditions failed; `keys` holds their (pk, sk). Callers turn this into a domain answer."""

    code, status = "conflict", 409

    def __init__(self, keys: set[tuple[str, str]]):
        super().__init__("The resource was changed by another request; nothing was written.")
        self.keys = keys

    def hit(self, pk: str, sk: str | None = None) -> bool:
        return any(k[0] == pk and (sk is None or k[1] == sk) for k in self.keys)


def _ordered_keys(tx: TransactWrite) -> list[tuple[str, str]]:
    out = []
    for group in (tx._condition_check_items, tx._delete_items, tx._put_items, tx._update_items):  # noqa: SLF001
        for op in group:
            key = op.get("Key") or op.get("Item") or {}
            out.append((key.get("pk", {}).get("S", ""), key.get("sk", {}).get("S", "")))
    return out


@contextmanager
def keyed_transaction() -> Iterator[TransactWrite]:
    holder: dict[str, TransactWrite] = {}

    def failed(indexes: list[int]) -> DomainError:
        ordered = _ordered_keys(holder["tx"])
        return ConditionsFailed({ordered[i] for i in indexes if 0 <= i < len(ordered)})

    with transaction(on_condition_failed=failed) as tx:
        holder["tx"] = tx
        yield tx
