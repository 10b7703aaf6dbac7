"""Scheduled invocations get what a request gets: a log scope with an id, and their metrics flushed.

Registered in `app.py` as Chalice middleware for `scheduled` events. The id is the Lambda invocation's
(`aws_request_id`) where there is a context, a fresh UUID otherwise (a test calling the handler).
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.telemetry import logs, metrics

log = logs.get("marketplace.jobs")


def job_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for scheduled events: scope the logs, log failures, flush the metrics."""
    context = getattr(event, "context", None)
    request_id = getattr(context, "aws_request_id", None)
    name = getattr(context, "function_name", None) or "scheduled"
    logs.begin(request_id if isinstance(request_id, str) and request_id else logs.new_request_id(), job=name)
    try:
        return get_response(event)
    except Exception as exc:
        logs.annotate(cause=repr(exc)[:500])
        log.exception("scheduled job %s failed", name)
        raise
    finally:
        metrics.flush()
        logs.end()
