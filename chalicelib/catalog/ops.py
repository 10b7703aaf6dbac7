"""Named operations inside one TransactWrite, so a failed condition can be told apart by name.

pynamodb 6.1 sends a TransactWrite's operations grouped by kind (condition checks, then deletes,
then puts, then updates), not in the order they were added, so the index DynamoDB reports for a
failed condition only makes sense once you know that grouping. `Ops` records a label per operation
and answers "which labels failed" from the indexes `db.transact.transaction` hands to its callback.
"""
from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

_KINDS = ("check", "delete", "put", "update")


class Ops:
    def __init__(self, tx: TransactWrite):
        self.tx = tx
        self._labels: dict[str, list[str]] = {kind: [] for kind in _KINDS}

    def check(self, model_cls: Any, hash_key: str, range_key: str, condition: Any, label: str = "") -> None:
        self.tx.condition_check(model_cls, hash_key, range_key, condition=condition)
        self._labels["check"].append(label)

    def delete(self, item: Any, condition: Any = None, label: str = "") -> None:
        self.tx.delete(item, condition=condition)
        self._labels["delete"].append(label)

    def put(self, item: Any, condition: Any = None, label: str = "") -> None:
        self.tx.save(item, condition=condition)
        self._labels["put"].append(label)

    def update(self, item: Any, actions: list, condition: Any = None, label: str = "") -> None:
        self.tx.update(item, actions=actions, condition=condition)
        self._labels["update"].append(label)

    @property
    def size(self) -> int:
        return sum(len(v) for v in self._labels.values())

    def labels_at(self, indexes: list[int]) -> set[str]:
        ordered = [label for kind in _KINDS for label in self._labels[kind]]
        return {ordered[i] for i in indexes if 0 <= i < len(ordered)}


def final_index_of_update(tx: TransactWrite, position_among_updates: int) -> int:
    """Where the `position_among_updates`-th update of `tx` lands in the request pynamodb sends."""
    ahead = len(tx._condition_check_items) + len(tx._delete_items) + len(tx._put_items)  # noqa: SLF001
    return ahead + position_among_updates
