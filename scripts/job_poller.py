"""The local stand-in for Lambda's SQS event source: receive jobs from the queue and hand them to the worker.

`make run` starts it as a process (`python scripts/job_poller.py --threads 2`) next to `chalice local`,
which serves HTTP only. It calls the very function Lambda calls in AWS (`app.jobs_worker`) with the same
event shape (records with messageId, receiptHandle, body and ApproximateReceiveCount), deletes what the
worker did not report as failed, and leaves the failures to come back after the visibility timeout, then
to the dead-letter queue after `MAX_RECEIVES` deliveries (moto_server honours the redrive policy).

It also stands in for the minute schedule (`partner-events-sweep`, which re-sends partner event fan-outs
and webhook deliveries a dead process left behind): `chalice local` never fires schedules, so the poller
calls that handler once a minute with a scheduled event, as EventBridge would in AWS. The daily payout run
is not fired locally: start one with `POST /finance/payout-runs`.

Tests use `ensure_queues` to create the queues in moto and `drain` to run every job that is due.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MAX_RECEIVES = 5
VISIBILITY_SECONDS = 60  # the local worker's jobs take seconds; AWS's queue waits 6x the worker's timeout

Handler = Callable[[dict[str, Any], Any], Any]


class LocalContext:
    """The part of Lambda's context the worker reads."""

    function_name = "jobs-worker"

    def __init__(self, seconds: float = 900.0):
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def sqs_client():
    import boto3

    from chalicelib.config import get_settings

    return boto3.client("sqs", region_name=get_settings().region)


def ensure_queues(client=None, name: str | None = None, *, visibility_seconds: int = VISIBILITY_SECONDS) -> str:
    """Create the job queue and its dead-letter queue (idempotent); returns the job queue's URL."""
    from chalicelib.config import get_settings

    client = client or sqs_client()
    name = name or get_settings().job_queue_name
    dlq_url = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return client.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility_seconds),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
    })["QueueUrl"]


def default_handler() -> Handler:
    from app import app, jobs_worker  # noqa: F401 - the app module wires the stage as Lambda's would

    return jobs_worker


def receive(client, url: str, *, wait_seconds: int = 0, visibility: int | None = None) -> list[dict[str, Any]]:
    """Up to ten messages as Lambda's SQS event records."""
    kwargs: dict[str, Any] = {"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": wait_seconds,
                              "AttributeNames": ["All"]}
    if visibility is not None:
        kwargs["VisibilityTimeout"] = visibility
    messages = client.receive_message(**kwargs).get("Messages") or []
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": m.get("Attributes") or {}, "messageAttributes": {}, "eventSource": "aws:sqs",
             "eventSourceARN": url, "awsRegion": "us-east-1", "md5OfBody": m.get("MD5OfBody", "")}
            for m in messages]


def run_batch(client, url: str, records: list[dict[str, Any]], handler: Handler) -> int:
    """Hand `records` to the worker, delete the ones it did not report failed; returns how many failed."""
    answer = handler({"Records": records}, LocalContext()) or {}
    failed = {f.get("itemIdentifier") for f in answer.get("batchItemFailures") or []}
    done = [r for r in records if r["messageId"] not in failed]
    for start in range(0, len(done), 10):
        client.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done[start:start + 10])])
    return len(failed)


def drain(handler: Handler | None = None, *, max_batches: int = 500, client=None) -> int:
    """Run jobs until the queue has none visible (tests); returns how many messages were handled.

    Failed messages become visible again at once (visibility 0), so a test sees SQS's redelivery and,
    after `MAX_RECEIVES`, the dead-letter queue, without waiting for a timeout.
    """
    from chalicelib.jobs.queue import queue_url

    client = client or sqs_client()
    handler = handler or default_handler()
    url = queue_url()
    handled = 0
    for _ in range(max_batches):
        records = receive(client, url, visibility=0)
        if not records:
            return handled
        handled += len(records)
        run_batch(client, url, records, handler)
    raise RuntimeError(f"the job queue did not empty within {max_batches} batches")


def scheduled_event(name: str) -> dict[str, Any]:
    """An EventBridge scheduled event, as Lambda receives it."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "us-east-1", "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{name}"],
            "detail": {}}


def minute_schedules(stop: threading.Event, period: float = 60.0) -> None:
    """Fire the minute schedule(s) of app.py until `stop` (the local stand-in for EventBridge)."""
    from app import partner_events_sweep

    while not stop.wait(period):
        try:
            partner_events_sweep(scheduled_event("partner-events-sweep"), LocalContext(seconds=30))
        except Exception as exc:  # noqa: BLE001 - keep firing; the next minute tries again
            print(f"job poller: the minute schedule failed: {exc!r}", file=sys.stderr, flush=True)


def serve(threads: int, stop: threading.Event) -> None:
    """Poll forever on `threads` threads (the local stage's event source mapping)."""
    from chalicelib.jobs.queue import queue_url

    handler = default_handler()
    url = queue_url()

    def loop() -> None:
        client = sqs_client()
        while not stop.is_set():
            try:
                records = receive(client, url, wait_seconds=1)
                if records:
                    run_batch(client, url, records, handler)
            except Exception as exc:  # noqa: BLE001 - keep polling; the message comes back by itself
                print(f"job poller: {exc!r}", file=sys.stderr, flush=True)
                time.sleep(1)

    workers = [threading.Thread(target=loop, name=f"job-poller-{i}", daemon=True) for i in range(threads)]
    workers.append(threading.Thread(target=minute_schedules, args=(stop,), name="minute-schedule", daemon=True))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="concurrent workers (Lambda's concurrency)")
    args = parser.parse_args()
    ensure_queues()
    print(f"job poller: {args.threads} worker(s) on the local job queue", flush=True)
    stop = threading.Event()
    try:
        serve(args.threads, stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
