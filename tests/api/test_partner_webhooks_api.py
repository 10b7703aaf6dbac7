"""Partner webhooks end to end: a local receiver gets a signed sale.completed, retries, the log, replay, SSRF."""
from __future__ import annotations

import dataclasses
import json
import time

import pytest

from chalicelib.partner_webhooks import ssrf
from tests.factories import ADMIN, pay, place_order, publish_app, request_refund
from tests.webhook_receiver import Receiver, verify


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(statuses=()):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.close()


def run_jobs_until(jobs, done, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        jobs()
        if done():
            return
        time.sleep(0.3)
    raise AssertionError("the jobs did not get there in time")


def _endpoint(api, sub, url, events=("sale.completed",)):
    response = api.post("/partner/webhook-endpoints", {"url": url, "events": list(events)}, sub=sub)
    assert response.status_code == 201, response.body
    return response.data


def test_receiver_gets_a_signed_sale_after_two_failures(api, fake_gateway, jobs, receiver):
    app = publish_app(api, "vendor", price=1500)
    hook = receiver([500, 500])
    created = _endpoint(api, "vendor", hook.url)
    assert created["secret"].startswith("whsec_") and created["url"] == hook.url
    listed = api.get("/partner/webhook-endpoints", sub="vendor").data["items"]
    assert [e["endpoint_id"] for e in listed] == [created["endpoint_id"]] and "secret" not in listed[0]

    order = place_order(api, "carol", [app["listing_id"]]).data
    assert pay(api, fake_gateway, order).data["outcome"] == "paid"
    assert hook.received == []  # nothing is sent inside the request that caused the event

    run_jobs_until(jobs, lambda: len(hook.received) >= 3)
    first, _, third = hook.received
    assert first["body"] == third["body"]
    event = verify(created["secret"], third["headers"], third["body"])
    assert third["headers"]["Marketplace-Event-Id"] == event["event_id"]
    assert event["type"] == "sale.completed"
    assert event["data"]["source"] == {"type": "order", "id": order["order_id"]}
    assert event["data"]["gross"] == {"amount": 1500, "currency": "usd"}
    assert event["data"]["fee"]["amount"] + event["data"]["net"]["amount"] == 1500
    assert event["data"]["customer"].startswith("cref_") and "carol" not in json.dumps(event)

    log = api.get(f"/partner/webhook-endpoints/{created['endpoint_id']}/deliveries", sub="vendor").data["items"]
    assert [(d["event_id"], d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        (event["event_id"], "delivered", 3, 200)]
    assert log[0]["next_attempt_at"] is None

    feed = api.get("/partner/events", sub="vendor").data
    assert [e["event_id"] for e in feed["items"] if e["type"] == "sale.completed"] == [event["event_id"]]

    replay = api.post(f"/partner/webhook-endpoints/{created['endpoint_id']}/replay", {}, sub="vendor")
    assert replay.status_code == 202, replay.body
    run_jobs_until(jobs, lambda: len(hook.received) >= 4)
    assert json.loads(hook.received[3]["body"])["event_id"] == event["event_id"]
    jobs()
    assert len(hook.received) == 4  # delivered once more, not more


def test_endpoints_take_only_their_types_and_only_later_events(api, fake_gateway, jobs, receiver):
    app = publish_app(api, "vendor", price=1000)  # listing.approved before any endpoint: not delivered
    sales, refunds = receiver(), receiver()
    _endpoint(api, "vendor", sales.url, ["sale.completed"])
    _endpoint(api, "vendor", refunds.url, ["refund.completed"])
    order = place_order(api, "carol", [app["listing_id"]]).data
    pay(api, fake_gateway, order)
    assert request_refund(api, order["order_id"], {"reason": "asked", "amount": 400}).status_code == 201
    run_jobs_until(jobs, lambda: sales.received and refunds.received)
    jobs()
    assert [json.loads(r["body"])["type"] for r in sales.received] == ["sale.completed"]
    [refund] = [json.loads(r["body"]) for r in refunds.received]
    assert refund["type"] == "refund.completed" and refund["data"]["gross"]["amount"] == 400


def test_a_receiver_that_never_answers_2xx_ends_failed(api, fake_gateway, jobs, receiver, monkeypatch):
    from chalicelib.partner_webhooks import delivery

    monkeypatch.setattr(delivery, "backoff", lambda: delivery.model.Backoff(1, 1, 8))
    app = publish_app(api, "vendor", price=1000)
    hook = receiver([503] * 20)
    created = _endpoint(api, "vendor", hook.url)
    pay(api, fake_gateway, place_order(api, "carol", [app["listing_id"]]).data)
    path = f"/partner/webhook-endpoints/{created['endpoint_id']}/deliveries"
    run_jobs_until(jobs, lambda: api.get(path, sub="vendor").data["items"][0]["status"] == "failed", seconds=40)
    [row] = api.get(path, sub="vendor").data["items"]
    assert row["attempts"] == 8 and row["last_status_code"] == 503 and len(hook.received) == 8


def test_ssrf_refusals_at_registration(api, monkeypatch):
    publish_app(api, "vendor")
    monkeypatch.setattr(ssrf, "_resolver", lambda host, port: [(2, 1, 6, "", ("127.0.0.1", port))])
    for url in ("https://10.1.2.3/hook", "https://169.254.169.254/latest/meta-data", "https://[::1]:8443/x",
                "https://[::ffff:10.0.0.1]/x", "https://192.168.1.10/x", "https://224.0.0.1/x",
                "http://example.com/hook", "https://user:pw@example.com/x", "https://internal.example/hook",
                "http://127.0.0.1/no-port", "ftp://example.com/x"):
        response = api.post("/partner/webhook-endpoints", {"url": url, "events": ["*"]}, sub="vendor")
        assert response.status_code == 400, (url, response.body)
        assert response.data["error"]["code"] == "validation_error"
    assert api.get("/partner/webhook-endpoints", sub="vendor").data["items"] == []


def test_aws_stages_take_https_to_public_addresses_only(api, monkeypatch, receiver):
    from chalicelib.config import get_settings
    from chalicelib.partner_webhooks import endpoints

    aws = dataclasses.replace(get_settings(), stage="prod")
    monkeypatch.setattr(endpoints, "get_settings", lambda: aws)
    publish_app(api, "vendor")
    public = [(2, 1, 6, "", ("93.184.215.14", 443))]
    monkeypatch.setattr(ssrf, "_resolver", lambda host, port: public if host == "hooks.example.com" else
                        [(2, 1, 6, "", ("127.0.0.1", port))])
    assert api.post("/partner/webhook-endpoints", {"url": receiver().url, "events": ["*"]},
                    sub="vendor").status_code == 400  # http://127.0.0.1:<port> is for the local stage only
    assert api.post("/partner/webhook-endpoints", {"url": "https://sneaky.example.com/x", "events": ["*"]},
                    sub="vendor").status_code == 400  # resolves to 127.0.0.1
    ok = api.post("/partner/webhook-endpoints", {"url": "https://hooks.example.com/x", "events": ["*"]}, sub="vendor")
    assert ok.status_code == 201, ok.body


def test_delivery_checks_dns_again_and_never_connects_to_a_private_answer(monkeypatch):
    target = ssrf.parse("https://rebind.example.com/hook", local_stage=False)
    monkeypatch.setattr(ssrf, "_resolver", lambda host, port: [(2, 1, 6, "", ("93.184.215.14", port)),
                                                                (2, 1, 6, "", ("10.0.0.7", port))])
    from chalicelib.partner_webhooks import sender

    outcome = sender.post(target, b"{}", {}, timeout=1)
    assert outcome.status_code is None and outcome.error.startswith("blocked")
    assert ssrf.is_public_address("93.184.215.14")
    for address in ("10.0.0.1", "172.16.0.1", "192.168.0.1", "127.0.0.1", "169.254.169.254", "::1", "fe80::1",
                    "fc00::1", "224.0.0.1", "0.0.0.0", "100.64.0.1", "::ffff:127.0.0.1", "240.0.0.1"):
        assert not ssrf.is_public_address(address), address


def test_endpoints_are_per_partner(api, receiver):
    publish_app(api, "vendor")
    publish_app(api, "other")
    mine = _endpoint(api, "vendor", receiver().url)
    path = f"/partner/webhook-endpoints/{mine['endpoint_id']}"
    assert api.get(f"{path}/deliveries", sub="other").status_code == 404
    assert api.delete(path, sub="other").status_code == 404
    assert api.post(f"{path}/replay", {}, sub="other").status_code == 404
    assert api.get("/partner/webhook-endpoints", sub="other").data["items"] == []
    assert api.post(f"{path}/replay", {"after": "evt_1_aaaaaaaaaaaaaaaa"}, sub="vendor").status_code == 400
    assert api.delete(path, sub="vendor").status_code == 200
    assert api.get(f"{path}/deliveries", sub="vendor").status_code == 404
    assert api.get("/partner/webhook-endpoints/whe_nonsense/deliveries", sub="vendor").status_code == 404
    assert api.get("/partner/webhook-endpoints", sub="carol-not-a-partner").status_code == 404
    assert api.post("/partner/webhook-endpoints", {"url": receiver().url, "events": ["*"]},
                    **ADMIN).status_code == 404
