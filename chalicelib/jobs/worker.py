"""The worker: run each job of an SQS batch and report the ones that failed (Lambda's partial batch response).

Lambda's SQS event source hands the worker up to ten messages (`app.py`, `jobs_worker`); the worker runs
them one by one under the job deadline budget, each in a log scope of its own (the job id is the request
id of its lines), and answers `{"batchItemFailures": [...]}` with the message ids that failed. Only those
come back (after the queue's visibility timeout); after `maxReceiveCount` deliveries SQS moves a message
to the dead-letter queue, whose depth raises an alarm. A message that is not a job at all is reported
as failed too, so a person sees it in the dead-letter queue instead of it vanishing.

A handler that wants to run again later (a webhook endpoint that answered 500) raises `RunLater`: the
job is sent back with its delay and the message counts as done. A job that arrives before its
`not_before` is sent back with the time still to wait.
"""
from __future__ import annotations

from typing import Any, Iterable

from chalicelib.config import JOB_DEADLINES, JOB_STOP_MARGIN_SECONDS
from chalicelib.core import deadlines
from chalicelib.core.deadlines import TimeLeft
from chalicelib.jobs import queue, registry
from chalicelib.jobs.envelope import BadEnvelope, Job, decode
from chalicelib.telemetry import logs, metrics

log = logs.get("marketplace.jobs")


class RunLater(Exception):
    """Raised by a handler: run this job again after `delay_seconds` (with `data` if given)."""

    def __init__(self, delay_seconds: float, data: dict[str, Any] | None = None):
        super().__init__(f"run again in {delay_seconds:.0f} s")
        self.delay_seconds = delay_seconds
        self.data = data


def handle(event: Any) -> dict[str, list[dict[str, str]]]:
    """Chalice's SQSEvent (or its records as dicts) -> the partial batch response Lambda expects."""
    context = getattr(event, "context", None)
    time_left = TimeLeft.of_lambda(context, margin_seconds=JOB_STOP_MARGIN_SECONDS)
    records = [r.to_dict() if hasattr(r, "to_dict") else r for r in _records(event)]
    failures = []
    with deadlines.use(JOB_DEADLINES):
        for record in records:
            if not run_record(record, time_left=time_left):
                failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}


def _records(event: Any) -> Iterable[Any]:
    if isinstance(event, dict):
        return event.get("Records") or []
    return iter(event)


def run_record(record: dict[str, Any], *, time_left: TimeLeft) -> bool:
    """Run one message's job; True when the message may be deleted."""
    message_id = str(record.get("messageId", ""))
    receive_count = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
    try:
        job = decode(record.get("body", ""))
    except BadEnvelope as exc:
        logs.begin(logs.new_request_id(), job="invalid", message_id=message_id)
        log.error("job message %s is not a job (%s): left for the dead-letter queue", message_id, exc)
        logs.end()
        return False
    logs.begin(job.job_id, job=job.kind, receive_count=receive_count)
    try:
        return _run(job, registry.JobContext(job.job_id, message_id, receive_count, time_left))
    finally:
        metrics.flush()
        logs.end()


def _run(job: Job, context: registry.JobContext) -> bool:
    wait = job.seconds_to_wait()
    try:
        if wait > 0:
            queue.send([job], delay_seconds=wait)
            return True
        handler = registry.handler_for(job.kind)
        handler(job.data, context)
        log.info("job %s done", job.kind)
        return True
    except RunLater as later:
        again = queue.job(job.kind, later.data if later.data is not None else job.data,
                          delay_seconds=later.delay_seconds, job_id=job.job_id)
        try:
            queue.send([again], delay_seconds=later.delay_seconds)
        except Exception:  # noqa: BLE001 - the queue itself failed: let SQS deliver the original again
            log.exception("job %s could not be sent back for later", job.kind)
            return False
        log.info("job %s runs again in %.0f s", job.kind, later.delay_seconds)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure: SQS delivers the message again, then dead-letters it
        logs.annotate(cause=repr(exc)[:500])
        log.exception("job %s failed (delivery %d)", job.kind, context.receive_count)
        return False
