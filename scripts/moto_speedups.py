"""Make moto's TransactWriteItems cost one table copy per call instead of one per item.

moto 5.2.5 backs up a table before a transaction so it can roll back on failure, but it deep-copies
the whole table once for *every item* of the transaction. With a single-table design every item names
the same table, so a 20-item transaction copies the entire table 20 times: the local stack and the test
suite slow down with the square of what they hold (a seeded catalog made one partner suspension take
20 s). The copies are identical, so we let the first one serve the rest of the same call. Rollback
behaviour is unchanged. Used by the test suite (in-process moto) and by `scripts/moto_local.py`
(the moto_server that `make run`, the fuzz test and the benchmarks start).
"""
from __future__ import annotations

import copy
import functools
import threading

_state = threading.local()


class _CopyOncePerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB models."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj, memo=None):
        cache = getattr(_state, "tables", None)
        if cache is None or type(obj).__name__ != "Table":
            return copy.deepcopy(obj, memo)
        if id(obj) not in cache:
            cache[id(obj)] = copy.deepcopy(obj, memo)
        return cache[id(obj)]


def apply() -> None:
    """Patch moto (idempotent)."""
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, "_copies_once", False):
        return
    original = backend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self, *args, **kwargs):
        _state.tables = {}
        try:
            return original(self, *args, **kwargs)
        finally:
            _state.tables = None

    transact_write_items._copies_once = True
    backend.transact_write_items = transact_write_items
    models.copy = _CopyOncePerTransaction()
