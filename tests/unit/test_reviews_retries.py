"""The review use cases' retry policy: run again when something changed under us, and only then."""
from __future__ import annotations

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.core.errors import Conflict, Forbidden, UpstreamUnavailable
from chalicelib.reviews import service


def _upstream(reason_code: str) -> UpstreamUnavailable:
    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}}, "TransactWriteItems",
        cancellation_reasons=[None, CancellationReason(code=reason_code)],
    )
    error = UpstreamUnavailable("db failed")
    error.__cause__ = TransactWriteError("Failed to write transaction items", cause)
    return error


def _flaky(failures: list[Exception]):
    calls = []

    def attempt():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "done"

    return attempt, calls


def test_a_failed_guard_or_a_transaction_conflict_runs_the_use_case_again():
    attempt, calls = _flaky([service._Retry("raced"), _upstream("TransactionConflict"), service._Retry("raced")])
    slept = []
    assert service._with_retries(attempt, sleep=slept.append) == "done"
    assert len(calls) == 4 and len(slept) == 3
    assert all(0 <= s <= service.BACKOFF_CAP for s in slept)


def test_it_gives_up_with_a_conflict_and_wrote_nothing():
    attempt, calls = _flaky([service._Retry("raced")] * (service.MAX_ATTEMPTS + 5))
    with pytest.raises(Conflict) as caught:
        service._with_retries(attempt, sleep=lambda _s: None)
    assert not isinstance(caught.value, service._Retry)
    assert len(calls) == service.MAX_ATTEMPTS


@pytest.mark.parametrize("error", [Forbidden("no"), Conflict("already reviewed"), _upstream("ThrottlingError"),
                                   UpstreamUnavailable("no cause")])
def test_other_errors_are_not_retried(error):
    attempt, calls = _flaky([error])
    with pytest.raises(type(error)):
        service._with_retries(attempt, sleep=lambda _s: None)
    assert len(calls) == 1
