"""The job engine against moto's SQS: send, run, redeliver, dead-letter, run later, partial batch failures."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core import clock
from chalicelib.jobs import queue, registry, worker
from chalicelib.jobs.envelope import BadEnvelope, Job, decode
from scripts.job_poller import MAX_RECEIVES, drain, receive, sqs_client

RAN: list[tuple[str, dict, int]] = []


def record_job(data, context):
    RAN.append((context.job_id, data, context.receive_count))


def failing_job(data, context):
    RAN.append((context.job_id, data, context.receive_count))
    raise RuntimeError("boom")


def later_job(data, context):
    RAN.append((context.job_id, data, context.receive_count))
    if data.get("step", 0) < 2:
        raise worker.RunLater(0, {"step": data.get("step", 0) + 1})


@pytest.fixture(autouse=True)
def kinds(ddb):
    RAN.clear()
    registry.register("test.record", f"{__name__}:record_job")
    registry.register("test.fail", f"{__name__}:failing_job")
    registry.register("test.later", f"{__name__}:later_job")
    yield
    RAN.clear()


def _dead_letters() -> list[str]:
    client = sqs_client()
    url = client.get_queue_url(QueueName="marketplace-jobs-dlq")["QueueUrl"]
    return [r["body"] for r in receive(client, url)]


def test_a_job_runs_once_and_leaves_the_queue(ddb):
    job_id = queue.enqueue("test.record", {"n": 1})
    assert drain(record_job_handler()) == 1
    assert RAN == [(job_id, {"n": 1}, 1)]
    assert drain(record_job_handler()) == 0


def record_job_handler():
    from app import jobs_worker

    return jobs_worker


def test_a_batch_of_many_jobs_is_sent_in_tens_and_each_runs(ddb):
    queue.send([queue.job("test.record", {"n": i}) for i in range(23)])
    assert drain(record_job_handler()) == 23
    assert sorted(data["n"] for _, data, _ in RAN) == list(range(23))


def test_a_failing_job_is_delivered_again_then_dead_lettered(ddb):
    queue.enqueue("test.fail", {"n": 2})
    drain(record_job_handler())
    assert [count for _, _, count in RAN] == list(range(1, MAX_RECEIVES + 1))
    [body] = _dead_letters()
    assert json.loads(body)["kind"] == "test.fail"


def test_a_message_that_is_no_job_goes_to_the_dead_letter_queue(ddb):
    client = sqs_client()
    client.send_message(QueueUrl=queue.queue_url(), MessageBody="not json")
    drain(record_job_handler())
    assert _dead_letters() == ["not json"]
    assert RAN == []


def test_an_unknown_kind_is_reported_failed_not_lost(ddb):
    queue.enqueue("test.nobody", {})
    drain(record_job_handler())
    assert [json.loads(b)["kind"] for b in _dead_letters()] == ["test.nobody"]


def test_run_later_sends_the_job_back_with_new_data(ddb):
    job_id = queue.enqueue("test.later", {"step": 0})
    drain(record_job_handler())
    assert [(jid, data["step"]) for jid, data, _ in RAN] == [(job_id, 0), (job_id, 1), (job_id, 2)]


def test_a_job_not_yet_due_is_sent_back_until_it_is(ddb):
    start = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    clock.set_now(lambda: start)
    try:
        queue.enqueue("test.record", {"n": 3}, delay_seconds=3600)  # longer than SQS's 15 minutes
        client = sqs_client()
        # SQS holds it 900 s; moto honours DelaySeconds, so read it as SQS would hand it over later.
        body = client.receive_message(QueueUrl=queue.queue_url(), MaxNumberOfMessages=1,
                                      AttributeNames=["All"]).get("Messages")
        assert body is None
        job = Job(kind="test.record", data={"n": 3}, job_id="job_x", not_before=clock.iso(start + timedelta(hours=1)))
        ok = worker.run_record({"messageId": "m1", "body": job.encode()}, time_left=worker.TimeLeft.for_seconds(60))
        assert ok and RAN == []  # early: sent back, not run
        clock.set_now(lambda: start + timedelta(hours=1, seconds=1))
        assert worker.run_record({"messageId": "m2", "body": job.encode()}, time_left=worker.TimeLeft.for_seconds(60))
        assert RAN == [("job_x", {"n": 3}, 1)]
    finally:
        clock.set_now(None)


def test_the_lambda_handler_reports_only_the_failed_messages(ddb):
    from chalice.test import Client

    from app import app

    good, bad = Job("test.record", {"n": 4}, "job_a").encode(), Job("test.fail", {"n": 5}, "job_b").encode()
    with Client(app) as client:
        event = client.events.generate_sqs_event(message_bodies=[good, bad], queue_name="marketplace-jobs")
        ids = [r["messageId"] for r in event["Records"]]
        answer = client.lambda_.invoke("jobs-worker", event).payload
    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}


def test_envelopes_are_checked():
    with pytest.raises(BadEnvelope):
        decode(json.dumps({"v": 2, "kind": "x", "job_id": "j", "data": {}}))
    with pytest.raises(BadEnvelope):
        decode(json.dumps({"v": 1, "kind": "x", "job_id": "j", "data": []}))
    with pytest.raises(BadEnvelope):
        decode(json.dumps({"v": 1, "kind": "x", "job_id": "j", "data": {}, "not_before": "soon"}))
    job = decode(Job("x", {"a": [1]}, "j").encode())
    assert (job.kind, job.data, job.job_id) == ("x", {"a": [1]}, "j")


def test_the_local_poller_fires_the_minute_schedule(ddb, monkeypatch):
    """`chalice local` never fires schedules: the poller calls the sweep's handler with a scheduled event."""
    import threading
    import time

    import app
    from scripts import job_poller

    fired = []
    monkeypatch.setattr(app, "partner_events_sweep", lambda event, context: fired.append(event["detail-type"]))
    stop = threading.Event()
    thread = threading.Thread(target=job_poller.minute_schedules, args=(stop, 0.05))
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not fired and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(5)
    assert fired and fired[0] == "Scheduled Event"
