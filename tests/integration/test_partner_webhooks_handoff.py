"""The hand-off from a committed event to its deliveries survives a process that dies at any step."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.partner_feed import outbox
from chalicelib.partner_feed import repository as feed
from chalicelib.partner_webhooks import dispatch, endpoints
from chalicelib.partner_webhooks import repository as repo
from tests.webhook_receiver import Receiver, verify


def _event(partner_id: str, type: str = "sale.completed") -> str:
    return outbox.commit(lambda tx: outbox.record(tx, partner_id=partner_id, type=type, data={"n": 1}))


def _later(monkeypatch, seconds: int) -> None:
    moment = clock.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_an_event_whose_dispatch_job_was_never_sent_is_found_by_the_sweeper(jobs, monkeypatch):
    hook = Receiver([])
    try:
        created = endpoints.create(partner_id="prt_x", url=hook.url, events=["*"])
        monkeypatch.setattr(outbox, "announce", lambda new_events: None)  # the process died after the commit
        event_id = _event("prt_x")
        jobs()
        assert hook.received == []
        assert dispatch.sweep() == {"dispatch": 0, "deliveries": 0}  # not a minute old yet
        _later(monkeypatch, 90)
        assert dispatch.sweep() == {"dispatch": 1, "deliveries": 0}
        monkeypatch.undo()
        jobs()
        [got] = hook.received
        assert verify(created["secret"], got["headers"], got["body"])["event_id"] == event_id
        assert [e.pending for e in feed.events_after("prt_x", 0, limit=10)] == [False]
        jobs()
        assert dispatch.sweep() == {"dispatch": 0, "deliveries": 0} and len(hook.received) == 1
    finally:
        hook.close()


def test_a_delivery_whose_job_was_lost_is_sent_again_and_a_duplicate_job_does_nothing(jobs, monkeypatch):
    hook = Receiver([])
    try:
        created = endpoints.create(partner_id="prt_y", url=hook.url, events=["sale.completed"])
        sent = []
        monkeypatch.setattr(dispatch.queue, "send", lambda items, **kw: sent.extend(items))
        _event("prt_y")
        dispatch.dispatch({"partner_id": "prt_y", "seqs": [1]}, None)  # rows made, the job "lost" below
        dispatch.dispatch({"partner_id": "prt_y", "seqs": [1]}, None)  # a second run makes nothing new
        monkeypatch.undo()
        deliver_jobs = [j for j in sent if j.kind == dispatch.DELIVER_JOB]
        assert len(deliver_jobs) == 1
        _later(monkeypatch, 180)
        assert dispatch.sweep()["deliveries"] == 1
        monkeypatch.undo()
        jobs()
        assert len(hook.received) == 1
        from chalicelib.partner_webhooks.delivery import deliver

        deliver(deliver_jobs[0].data, None)  # the "lost" job turns up after all: its attempt was made
        assert len(hook.received) == 1
        [row] = repo.list_deliveries(created["endpoint_id"], limit=10, cursor=None, scope="t").items
        assert (row.status, int(row.attempts), json.loads(hook.received[0]["body"])["type"]) == (
            "delivered", 1, "sale.completed")
    finally:
        hook.close()


def test_only_a_partner_with_endpoints_pays_for_the_fan_out(jobs):
    from chalicelib.db import feed_keys
    from chalicelib.partner_webhooks.repository import WebhookEndpointItem

    _event("prt_quiet")
    assert feed.events_after("prt_quiet", 0, limit=5)[0].pending is False and jobs() == 0  # no job at all
    made = [endpoints.create(partner_id="prt_quiet", url="http://127.0.0.1:9/h", events=["*"]) for _ in range(10)]
    with pytest.raises(Conflict):
        endpoints.create(partner_id="prt_quiet", url="http://127.0.0.1:9/h", events=["*"])
    assert feed.read_counter("prt_quiet").hooks == 10
    _event("prt_quiet")
    assert feed.events_after("prt_quiet", 1, limit=5)[0].pending is True
    assert all(int(WebhookEndpointItem.get(feed_keys.endpoints_pk("prt_quiet"), feed_keys.endpoint_sk(m["endpoint_id"])).after_seq) == 1 for m in made)
    for m in made:
        endpoints.remove(partner_id="prt_quiet", endpoint_id=m["endpoint_id"])
    assert feed.read_counter("prt_quiet") == feed.Counter(seq=2, hooks=0, exists=True)
    _event("prt_quiet")
    assert feed.events_after("prt_quiet", 2, limit=5)[0].pending is False
