"""Shared steps of the fault tests: the error shape, a paid order, a payout run, "the table is unchanged"."""
from __future__ import annotations

from tests.factories import FINANCE, deliver, place_order, publish_app, signed_event
from tests.faults.inject import diff, table_rows


def assert_error(response, status: int, code: str) -> None:
    """The contract's error shape with this status and code (and a human message)."""
    assert response.status_code == status, response.body
    assert response.data["error"]["code"] == code, response.body
    assert response.data["error"]["message"]


def assert_unchanged(before: dict) -> None:
    after = table_rows()
    assert after == before, diff(before, after)


def paid_order(api, stub, *, price: int = 1000) -> dict:
    """An order of a fresh app by `carol`, paid through the stub and its `payment_intent.succeeded` event."""
    app = publish_app(api, "vendor", price=price)
    placed = place_order(api, "carol", [app["listing_id"]])
    assert placed.status_code == 201, placed.body
    pi_id = placed.data["payment"]["payment_intent_id"]
    stub.succeed(pi_id)
    raw, header = signed_event("payment_intent.succeeded", {"id": pi_id, "object": "payment_intent"})
    assert deliver(api, raw, header).status_code == 200
    return api.get(f"/orders/{placed.data['order_id']}", sub="carol").data


def run_payouts(api):
    """Start a usd payout run and let the job worker run every queued job (redeliveries included) to the end.

    Returns the start's answer when it was not 202, else the run as `GET /finance/payout-runs/{id}` shows it.
    """
    from scripts.job_poller import drain

    started = api.post("/finance/payout-runs", {"currency": "usd"}, **FINANCE)
    if started.status_code != 202:
        return started
    drain()
    return api.get(f"/finance/payout-runs/{started.data['payout_run_id']}", **FINANCE)
