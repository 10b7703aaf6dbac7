"""Patches to moto's DynamoDB: transactions isolated from each other, and as cheap as their items.

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
take 20 s). A transaction is instead applied in two phases, as DynamoDB describes it: every condition is
checked first against the current items (each item may appear once, so no operation sees another's
write); if any fails, the transaction is cancelled with the same reasons moto gives and nothing was
written. Only then are the writes applied, with a copy of just the items they touch, restored if a write
fails validation half way. A transaction now costs what its items cost, whatever the table holds.

Used by the test suite (in-process moto) and by `scripts/moto_local.py` (the moto_server that `make run`,
the fuzz test, the end-to-end tests and the benchmarks start).
"""
from __future__ import annotations

import copy
import functools
import threading

# Re-entrant: a DynamoDB call made while one is being served on the same thread must not deadlock.
DYNAMODB_LOCK = threading.RLock()


def _two_phase_transact_write_items(self, transact_items):
    """moto's `DynamoDBBackend.transact_write_items`, checking every condition before writing anything."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed, MockValidationException, MultipleTransactionsException,
        TooManyTransactionsException, TransactionCanceledException, TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    planned = []  # (op_type, op, table_name, key)
    errors = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        original_item = None
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            if op_type == "Put":
                table = self.get_table(table_name)
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(condition, op.get("ExpressionAttributeNames"),
                                              op.get("ExpressionAttributeValues"))
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            planned.append((op_type, op, table_name, key))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise  # nothing written yet
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # noqa: BLE001 - moto reports any other failure as a cancellation reason
            errors.append((type(exc).__name__, str(exc), original_item))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    touched = []
    for _op_type, _op, table_name, key in planned:
        table = self.get_table(table_name)
        hash_key, range_key = self.get_keys_value(table, key)
        touched.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        for op_type, op, table_name, key in planned:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(table_name, op["Item"], expression_attribute_names=names,
                              expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, expression_attribute_names=names,
                                 expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 expression_attribute_names=names, expression_attribute_values=values)
    except Exception:
        for table, hash_key, range_key, before in reversed(touched):
            _restore(table, hash_key, range_key, before)
        raise


def _restore(table, hash_key, range_key, before) -> None:
    """Put one item back as it was before the transaction (absent if it did not exist)."""
    if table.range_key_attr is not None:
        if before is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = before
    elif before is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = before


def _two_phase_transactions() -> None:
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, "_two_phase", False):
        return
    _two_phase_transact_write_items._two_phase = True
    backend.transact_write_items = _two_phase_transact_write_items


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
    _two_phase_transactions()
    _one_request_at_a_time()
