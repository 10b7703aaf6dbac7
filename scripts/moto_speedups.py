"""Patches to moto's DynamoDB: transactions isolated from each other, and one table copy per transaction.

**Isolation.** moto_server serves requests on threads, and moto applies a TransactWriteItems item by item
(check a condition, write, next item) with a whole-table snapshot to roll back to, under no lock. Two
concurrent transactions can then both pass their conditions (a Stripe event delivered twice at once
recorded its sale twice), and a failing one's rollback restores a snapshot that erases what another
committed meanwhile. DynamoDB applies each request, and each transaction as a whole, atomically and in
isolation. So every DynamoDB request is dispatched under one lock: reads never see half a transaction,
writes and transactions never interleave. Parsing the request happens before the lock, and the app's own
concurrency (its reads, Stripe calls and decisions between requests) is untouched. Measured cost on
moto_server: none on a lone client's GetItem; concurrent clients queue for the backend, which the GIL
mostly serialised already (docs/testing.md, "The local DynamoDB is isolated").

**Speed.** moto 5.2.5 backs up a table before a transaction so it can roll back on failure, but it
deep-copies the whole table once for *every item* of the transaction. With a single-table design every
item names the same table, so a 20-item transaction copies the entire table 20 times: the local stack and
the test suite slow down with the square of what they hold (a seeded catalog made one partner suspension
take 20 s). The copies are identical, so we let the first one serve the rest of the same call. Rollback
behaviour is unchanged.

Used by the test suite (in-process moto) and by `scripts/moto_local.py` (the moto_server that `make run`,
the fuzz test, the end-to-end tests and the benchmarks start).
"""
from __future__ import annotations

import copy
import functools
import threading

_state = threading.local()
# Re-entrant: a DynamoDB call made while one is being served on the same thread must not deadlock.
DYNAMODB_LOCK = threading.RLock()


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


def _copy_once_per_transaction() -> None:
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


def _one_request_at_a_time() -> None:
    """Run every DynamoDB action (GetItem ... TransactWriteItems) under `DYNAMODB_LOCK`.

    `DynamoHandler.call_action` is where moto_server (and in-process `mock_aws`) hands a parsed DynamoDB
    request to the backend and serialises its answer: the one door every DynamoDB operation goes through.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_isolated", False):
        return

    @functools.wraps(original)
    def call_action(self):
        with DYNAMODB_LOCK:
            return original(self)

    call_action._isolated = True
    DynamoHandler.call_action = call_action


def apply() -> None:
    """Patch moto (idempotent)."""
    _copy_once_per_transaction()
    _one_request_at_a_time()
