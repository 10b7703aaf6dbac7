"""Counts the DynamoDB calls (and items read) that the code under test makes, through botocore.

Both boto3 and pynamodb end in `BaseClient._make_api_call`, so one wrapper sees every call.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

import botocore.client

_original = botocore.client.BaseClient._make_api_call
_lock = threading.Lock()
_active: list["CallLog"] = []


@dataclass(eq=False)  # identity, not contents: nested recordings remove their own log
class CallLog:
    calls: list[str] = field(default_factory=list)
    items_read: int = 0

    def count(self, operation: str | None = None) -> int:
        return len(self.calls) if operation is None else self.calls.count(operation)


def _recording(self, operation_name, api_params):
    result = _original(self, operation_name, api_params)
    if self.meta.service_model.service_name == "dynamodb":
        read = 0
        if isinstance(result, dict):
            if "Items" in result:
                read = len(result["Items"])
            elif "Item" in result:
                read = 1
            elif isinstance(result.get("Responses"), list):  # TransactGetItems
                read = sum(1 for r in result["Responses"] if r.get("Item"))
            elif isinstance(result.get("Responses"), dict):  # BatchGetItem: table -> items
                read = sum(len(items) for items in result["Responses"].values())
        with _lock:
            for log in _active:
                log.calls.append(operation_name)
                log.items_read += read
    return result


botocore.client.BaseClient._make_api_call = _recording


@contextlib.contextmanager
def recording():
    log = CallLog()
    with _lock:
        _active.append(log)
    try:
        yield log
    finally:
        with _lock:
            _active.remove(log)
