"""Sending jobs: SQS SendMessage / SendMessageBatch on the stage's job queue.

AWS stages read the queue URL from the environment (the template passes `Ref JobQueue`); the local stage
and tests name the queue (`MARKET_JOB_QUEUE`) and look its URL up once per process. The client lives as
long as the process and follows the deadline budget of the work that sends (a request's or a job's).
A send that fails after its retries raises `UpstreamUnavailable`: the caller decides whether that undoes
its request (a 503 that changed nothing) or is resumed later (a run's next batch).

SQS delays a message at most 15 minutes; a longer wait travels in the envelope (`not_before`) and the
worker sends the job back until it is due.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Iterable, Sequence

from chalicelib.config import get_settings
from chalicelib.core import clock, deadlines
from chalicelib.core.errors import UpstreamUnavailable
from chalicelib.core.ids import new_id
from chalicelib.jobs.envelope import Job

log = logging.getLogger("marketplace.jobs")

MAX_DELAY_SECONDS = 900  # SQS's limit
BATCH = 10  # SendMessageBatch's limit

_clients: dict[Any, Any] = {}
_urls: dict[str, str] = {}


def _client():
    import boto3
    from botocore.config import Config

    budget = deadlines.current().dynamodb  # SQS shares DynamoDB's budget: an AWS API call of the same kind
    client = _clients.get(budget)
    if client is None:
        config = Config(connect_timeout=budget.connect_seconds, read_timeout=budget.read_seconds,
                        retries={"total_max_attempts": 1 + budget.retries, "mode": "standard"})
        client = _clients[budget] = boto3.client("sqs", region_name=get_settings().region, config=config)
    return client


def queue_url() -> str:
    """The URL of the stage's job queue (configured, or looked up by name once)."""
    settings = get_settings()
    if settings.job_queue_url:
        return settings.job_queue_url
    url = _urls.get(settings.job_queue_name)
    if url is None:
        try:
            url = _client().get_queue_url(QueueName=settings.job_queue_name)["QueueUrl"]
        except Exception as exc:  # botocore's errors: the queue is missing or SQS is unreachable
            raise UpstreamUnavailable("The job queue could not be reached.") from exc
        _urls[settings.job_queue_name] = url
    return url


def reset() -> None:
    """Forget clients and looked-up URLs (tests create a queue per test)."""
    _clients.clear()
    _urls.clear()


def job(kind: str, data: dict[str, Any], *, delay_seconds: float = 0, job_id: str = "") -> Job:
    """A job to send; a delay longer than SQS's limit is carried as `not_before`."""
    not_before = None
    if delay_seconds > MAX_DELAY_SECONDS:
        not_before = clock.iso(clock.now() + timedelta(seconds=delay_seconds))
    return Job(kind=kind, data=data, job_id=job_id or new_id("job"), not_before=not_before)


def _delay_of(item: Job, delay_seconds: float) -> int:
    wait = item.seconds_to_wait() if item.not_before else delay_seconds
    return max(0, min(MAX_DELAY_SECONDS, int(round(wait))))


def enqueue(kind: str, data: dict[str, Any], *, delay_seconds: float = 0, job_id: str = "") -> str:
    """Send one job; returns its job id."""
    item = job(kind, data, delay_seconds=delay_seconds, job_id=job_id)
    send([item], delay_seconds=delay_seconds)
    return item.job_id


def send(items: Sequence[Job], *, delay_seconds: float = 0) -> None:
    """Send jobs in batches of ten; raises UpstreamUnavailable if any could not be sent after retries."""
    url = queue_url()
    for chunk in _chunks(items, BATCH):
        entries = [{"Id": str(i), "MessageBody": item.encode(), "DelaySeconds": _delay_of(item, delay_seconds)}
                   for i, item in enumerate(chunk)]
        try:
            if len(entries) == 1:
                _client().send_message(QueueUrl=url, MessageBody=entries[0]["MessageBody"],
                                       DelaySeconds=entries[0]["DelaySeconds"])
                continue
            failed = _client().send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
            if failed:  # partial failure: resend only those once (SQS's advice), then give up
                again = [entries[int(f["Id"])] for f in failed]
                failed = _client().send_message_batch(QueueUrl=url, Entries=again).get("Failed") or []
        except Exception as exc:  # botocore's errors after the client's own retries
            raise UpstreamUnavailable("The job queue could not be reached.") from exc
        if failed:
            log.warning("job queue refused %d messages: %s", len(failed), failed[:3])
            raise UpstreamUnavailable("The job queue refused some jobs.")


def _chunks(items: Iterable[Job], size: int) -> Iterable[list[Job]]:
    chunk: list[Job] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
