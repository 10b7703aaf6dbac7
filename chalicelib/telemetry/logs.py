"""Structured logs: one JSON object per line on stdout, every line of a request carrying its id.

The stdlib logger `marketplace` *is* the Powertools logger (Powertools names its logger after the
service), so the existing `logging.getLogger("marketplace.<area>")` calls come out as JSON with the
request's keys, at the stage's level (`MARKET_LOG_LEVEL`, INFO by default). Chalice's own logging setup
(ERROR, no propagation) is switched off in `app.py` (`configure_logs=False`).

A request's keys (`request_id`, `route`, `principal`) live in a context variable (Powertools'
thread-safe keys), so the threads of `chalice local` never mix two requests' ids. Only the kind of
caller is logged, never a token, a secret or an e-mail address.
"""
from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from chalicelib.config import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.logging.logger import Logger

SERVICE = "marketplace"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The order a reader scans a line in; the remaining keys follow.
FIELD_ORDER = ["level", "timestamp", "request_id", "route", "message"]

_request_id: ContextVar[str | None] = ContextVar("market_request_id", default=None)
_logger: "Logger | None" = None


class _Stdout(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is when a line is written (a test's capture, `chalice local`'s pipe),
    not to the stream that existed when the logger was configured."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        return None


def configure() -> "Logger":
    """Make `marketplace` (and every `marketplace.*` logger) write JSON lines; idempotent."""
    global _logger
    if _logger is None:
        from aws_lambda_powertools.logging.logger import Logger

        level = get_settings().log_level
        _logger = Logger(service=SERVICE, level=level if level in LEVELS else "INFO", logger_handler=_Stdout(),
                         utc=True, use_rfc3339=True, log_record_order=FIELD_ORDER)
        # One line per record: the JSON handler above, not a second copy through the root logger.
        logging.getLogger(SERVICE).propagate = False
    return _logger


def new_request_id() -> str:
    """An id for a request that came without one (`chalice local`, `chalice.test`)."""
    return str(uuid.uuid4())


def begin(request_id: str, **keys: Any) -> None:
    """Open a request's (or a job's) scope: every line until `end` carries these keys."""
    _request_id.set(request_id)
    if _logger is not None:
        _logger.thread_safe_clear_keys()
        _logger.thread_safe_append_keys(request_id=request_id, **keys)


def annotate(**keys: Any) -> None:
    """Add keys to the lines still to come in this scope (the principal's kind once it is known)."""
    if _logger is not None:
        _logger.thread_safe_append_keys(**keys)


def end() -> None:
    _request_id.set(None)
    if _logger is not None:
        _logger.thread_safe_clear_keys()


def request_id() -> str:
    """The current scope's request id; outside one (a route called without the app), a fresh id."""
    return _request_id.get() or new_request_id()


def get(name: str = SERVICE) -> logging.Logger:
    """A stdlib logger under `marketplace` (JSON once `configure` ran)."""
    return logging.getLogger(name)
