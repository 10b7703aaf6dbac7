"""Atomic multi-item writes with DynamoDB's error vocabulary turned into domain errors.

Every business event is written as one `TransactWriteItems`: the state change, its journal or audit
record, and the guard rows that make it happen once (uniqueness, idempotency, event ids). A failed
condition means "somebody got there first" and the caller decides which domain error that is, by the
position of the failed operation (see `transaction` for how positions are counted); throttling and transaction conflicts after pynamodb's retries are
`upstream_unavailable` and nothing was written.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import Conflict, DomainError, UpstreamUnavailable
from chalicelib.db.table import connection

OnConditionFailed = Callable[[list[int]], DomainError]


def _default_conflict(_indexes: list[int]) -> DomainError:
    return Conflict("The resource was changed by another request; nothing was written.")


@contextmanager
def transaction(
    *, on_condition_failed: OnConditionFailed = _default_conflict, token: str | None = None
) -> Iterator[TransactWrite]:
    """Yield a pynamodb TransactWrite; commit on exit and translate its failures.

    `on_condition_failed` receives the indexes of the operations whose condition failed, as DynamoDB
    reports them: in the order pynamodb *sends* them, which groups operations by kind (condition checks,
    then deletes, then puts, then updates), not the order they were added. `catalog/ops.py` and
    `orders/tx.py` map those positions back to their own operations.
    """
    try:
        with TransactWrite(connection=connection(), client_request_token=token) as tx:
            yield tx
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        failed = [i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"]
        if failed:
            raise on_condition_failed(failed) from exc
        raise UpstreamUnavailable("The database could not complete the request; nothing was changed.") from exc
    except PynamoDBException as exc:
        raise UpstreamUnavailable("The database could not complete the request; nothing was changed.") from exc
