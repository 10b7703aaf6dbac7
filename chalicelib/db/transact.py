"""Atomic multi-item writes whose operations carry the name of the business step they perform.

Every business event is written as one `TransactWriteItems`: the state change, its journal or audit
record, and the guard rows that make it happen once (uniqueness, idempotency, event ids). A failed
condition means "somebody got there first"; the caller decides which domain error that is from the
`Refusal`, which names the labels and the keys of the operations whose condition failed.

This is the only module that knows how pynamodb 6 sends a TransactWrite: grouped by kind (condition
checks, then deletes, then puts, then updates), not in the order the operations were added, so the
index DynamoDB reports for a cancelled operation is only meaningful with that grouping. `Transaction`
records each operation's label and key per kind and maps the reported indexes back itself.
Throttling and transaction conflicts after pynamodb's retries are `upstream_unavailable`, and then
nothing was written.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict, DomainError, UpstreamUnavailable
from chalicelib.db.table import connection

# The order in which pynamodb 6.1 sends the operations of one TransactWrite.
_SENT_ORDER = ("check", "delete", "put", "update")


@dataclass(frozen=True)
class Operation:
    label: str
    pk: str
    sk: str


@dataclass(frozen=True)
class Refusal:
    """The operations of a cancelled transaction whose condition failed."""

    operations: tuple[Operation, ...]

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(op.label for op in self.operations)

    def has(self, label: str) -> bool:
        return label in self.labels

    def hit(self, pk: str, sk: str | None = None) -> bool:
        """Did the operation on this row (any row of this partition when `sk` is None) fail?"""
        return any(op.pk == pk and (sk is None or op.sk == sk) for op in self.operations)


class ConditionsFailed(Conflict):
    """Raised when the caller gave no `on_condition_failed`: carries the refusal for it to inspect."""

    def __init__(self, refusal: Refusal):
        super().__init__("The resource was changed by another request; nothing was written.")
        self.refusal = refusal

    def has(self, label: str) -> bool:
        return self.refusal.has(label)

    def hit(self, pk: str, sk: str | None = None) -> bool:
        return self.refusal.hit(pk, sk)


OnConditionFailed = Callable[[Refusal], DomainError]


def _key_of(item: Any) -> tuple[str, str]:
    return str(getattr(item, "pk", "") or ""), str(getattr(item, "sk", "") or "")


class Transaction:
    """One TransactWrite whose operations are labelled; add operations, the context manager commits."""

    def __init__(self, tx: TransactWrite):
        self._tx = tx
        self._sent: dict[str, list[Operation]] = {kind: [] for kind in _SENT_ORDER}

    def _record(self, kind: str, label: str, key: tuple[str, str]) -> None:
        self._sent[kind].append(Operation(label, *key))

    def save(self, item: Any, *, condition: Any = None, label: str = "") -> None:
        """Put `item` (replacing the row), if `condition` holds."""
        self._tx.save(item, condition=condition)
        self._record("put", label, _key_of(item))

    def update(self, item: Any, *, actions: list, condition: Any = None, label: str = "") -> None:
        """Apply update `actions` to the row keyed like `item`, if `condition` holds."""
        self._tx.update(item, actions=actions, condition=condition)
        self._record("update", label, _key_of(item))

    def delete(self, item: Any, *, condition: Any = None, label: str = "") -> None:
        self._tx.delete(item, condition=condition)
        self._record("delete", label, _key_of(item))

    def condition_check(self, model_cls: Any, hash_key: str, range_key: str, *, condition: Any,
                        label: str = "") -> None:
        """Make the whole transaction depend on `condition` holding for another row, without writing it."""
        self._tx.condition_check(model_cls, hash_key, range_key, condition=condition)
        self._record("check", label, (hash_key, range_key))

    @property
    def size(self) -> int:
        """How many operations the transaction holds (DynamoDB accepts at most 100)."""
        return sum(len(ops) for ops in self._sent.values())

    def refusal(self, indexes: Iterable[int]) -> Refusal:
        sent = [op for kind in _SENT_ORDER for op in self._sent[kind]]
        return Refusal(tuple(sent[i] for i in sorted(set(indexes)) if 0 <= i < len(sent)))


def _raise_refusal(refusal: Refusal) -> DomainError:
    return ConditionsFailed(refusal)


@contextmanager
def transaction(
    *, on_condition_failed: OnConditionFailed = _raise_refusal, token: str | None = None
) -> Iterator[Transaction]:
    """Yield a `Transaction`; commit on exit and translate its failures.

    When conditions fail, `on_condition_failed(refusal)` chooses the domain error to raise (by default
    `ConditionsFailed`, a 409 `conflict` that carries the refusal). `token` is DynamoDB's
    `ClientRequestToken`, for a retry of the very same transaction.
    """
    try:
        with TransactWrite(connection=connection(), client_request_token=token) as raw:
            tx = Transaction(raw)
            yield tx
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        failed = [i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"]
        if failed:
            raise on_condition_failed(tx.refusal(failed)) from exc
        raise UpstreamUnavailable("The database could not complete the request; nothing was changed.") from exc
    except PynamoDBException as exc:
        raise UpstreamUnavailable("The database could not complete the request; nothing was changed.") from exc
