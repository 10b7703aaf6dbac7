"""Deadlines: which time budget the code runs under, and when a long job must stop starting new work.

Every call to DynamoDB or Stripe has a connect timeout, a read timeout and a bounded number of retries
(`config.CallBudget`). A request of the API runs under `config.API_DEADLINES`, sized so that a request
whose dependency is down answers 503 well inside API Gateway's 29 s; the scheduled payout run, which no
client waits for, runs under `config.JOB_DEADLINES` (`use(JOB_DEADLINES)` around it). The adapters read
`current()` when they build a client, and keep one client per budget, so a process that serves both
contexts (tests, a local script) never mixes them up. The reasoning behind the numbers is in
docs/decisions.md ("Deadlines").

`TimeLeft` answers "may I start one more unit of work?" for a job that must not be cut off mid-way by
its Lambda's timeout: it stops with a margin left, and what it did not reach waits for the next run.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from chalicelib.config import API_DEADLINES, CallBudget, Deadlines

_current: ContextVar[Deadlines] = ContextVar("deadlines", default=API_DEADLINES)

# Backoff between attempts, at most: botocore's standard mode sleeps up to 2**i s before retry i+1
# after throttling (25 ms scale otherwise); Stripe's SDK sleeps 0.5 s doubling, capped at 5 s.
_BOTOCORE_MAX_SLEEP = 20.0
_STRIPE_FIRST_SLEEP, _STRIPE_MAX_SLEEP = 0.5, 5.0


def current() -> Deadlines:
    """The budget of the work running now (the API's unless a job said otherwise)."""
    return _current.get()


@contextmanager
def use(deadlines: Deadlines) -> Iterator[Deadlines]:
    """Run the block under `deadlines` (a job's own budget); the previous budget returns afterwards."""
    token = _current.set(deadlines)
    try:
        yield deadlines
    finally:
        _current.reset(token)


def worst_call_seconds(budget: CallBudget, *, service: str) -> float:
    """The longest one call can take before it gives up: every attempt times out, every backoff is full."""
    attempts = 1 + budget.retries
    if service == "stripe":
        sleeps = sum(min(_STRIPE_FIRST_SLEEP * 2 ** i, _STRIPE_MAX_SLEEP) for i in range(budget.retries))
    else:
        sleeps = sum(min(2.0 ** i, _BOTOCORE_MAX_SLEEP) for i in range(budget.retries))
    return attempts * (budget.connect_seconds + budget.read_seconds) + sleeps


@dataclass(frozen=True)
class TimeLeft:
    """How much time a piece of work has left, and the margin below which it starts nothing new."""

    remaining_ms: Callable[[], int]
    margin_ms: int = 0

    def running_low(self) -> bool:
        return self.remaining_ms() <= self.margin_ms

    @classmethod
    def of_lambda(cls, context: Any, *, margin_seconds: float) -> "TimeLeft":
        """The Lambda's own clock (`context.get_remaining_time_in_millis`); no limit without a context."""
        if context is None or not hasattr(context, "get_remaining_time_in_millis"):
            return UNLIMITED
        return cls(context.get_remaining_time_in_millis, int(margin_seconds * 1000))

    @classmethod
    def for_seconds(cls, seconds: float) -> "TimeLeft":
        """A budget that starts now and runs low after `seconds` (work started from an API request)."""
        end = time.monotonic() + seconds
        return cls(lambda: int((end - time.monotonic()) * 1000))


UNLIMITED = TimeLeft(lambda: 2 ** 31)
