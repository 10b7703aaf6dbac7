"""StripeConnect sends Stripe's documented parameters: checked on the wire through an injected HTTP client."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
import stripe

from chalicelib.config import JOB_DEADLINES
from chalicelib.core import deadlines
from chalicelib.core.errors import UpstreamUnavailable
from chalicelib.payouts.gateway import TransferRejected
from chalicelib.payouts.stripe_connect import StripeConnect


class RecordingHttp(stripe.HTTPClient):
    """Answers like Stripe would and keeps every request it was given."""

    name = "recording"

    def __init__(self, replies):
        super().__init__()
        self.replies = list(replies)
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append({"method": method, "url": url, "headers": dict(headers or {}),
                              "form": parse_qs(post_data or "") if isinstance(post_data, str) else
                              parse_qs((post_data or b"").decode())})
        status, body = self.replies.pop(0)
        return json.dumps(body), status, {"request-id": "req_1"}

    def close(self):
        pass


def adapter(*replies):
    http = RecordingHttp(replies)
    return StripeConnect.from_settings(http_client=http, api_key="sk_test_123"), http


def test_transfer_sends_destination_group_metadata_and_payout_id_as_idempotency_key():
    connect, http = adapter((200, {"id": "tr_1", "object": "transfer", "amount": 4000, "currency": "usd",
                                   "destination": "acct_1", "reversed": False, "created": 1}))
    transfer = connect.create_transfer(payout_id="po_1", amount=4000, currency="usd", destination="acct_1",
                                       metadata={"partner_id": "ptn_1"})
    assert transfer.transfer_id == "tr_1" and transfer.status == "paid"
    [sent] = http.requests
    assert sent["method"] == "post" and urlparse(sent["url"]).path == "/v1/transfers"
    assert sent["headers"]["Idempotency-Key"] == "po_1"
    assert sent["form"] == {"amount": ["4000"], "currency": ["usd"], "destination": ["acct_1"],
                            "transfer_group": ["po_1"], "metadata[partner_id]": ["ptn_1"]}


def test_linked_transfer_sends_source_transaction():
    connect, http = adapter((200, {"id": "tr_2", "amount": 100, "currency": "eur", "destination": "acct_1"}))
    connect.create_transfer(payout_id="po_2", amount=100, currency="eur", destination="acct_1", metadata={},
                            source_transaction="ch_9")
    assert http.requests[0]["form"]["source_transaction"] == ["ch_9"]


def test_express_account_and_onboarding_link():
    connect, http = adapter((200, {"id": "acct_9", "object": "account"}),
                            (200, {"object": "account_link", "url": "https://connect.stripe.com/setup/x"}))
    assert connect.create_account(partner_id="ptn_1", email="a@example.com", country="DE") == "acct_9"
    url = connect.onboarding_link(account_id="acct_9", base_url="https://api.example.com")
    assert url == "https://connect.stripe.com/setup/x"
    account, link = http.requests
    assert account["form"]["type"] == ["express"] and account["form"]["capabilities[transfers][requested]"] == ["true"]
    assert account["headers"]["Idempotency-Key"] == "connect-account-ptn_1"
    assert link["form"]["type"] == ["account_onboarding"] and link["form"]["account"] == ["acct_9"]


def test_stripe_refusal_is_a_rejection_and_outage_is_unknown():
    refused = {"error": {"type": "invalid_request_error", "code": "insufficient_capabilities_for_transfer",
                         "message": "no"}}
    connect, _ = adapter((400, refused))
    with pytest.raises(TransferRejected):
        connect.create_transfer(payout_id="po", amount=1, currency="usd", destination="a", metadata={})
    outage = (500, {"error": {"type": "api_error", "message": "boom"}})
    connect, http = adapter(outage, outage, outage)  # the payout job's budget: retried twice, with the same key
    with deadlines.use(JOB_DEADLINES), pytest.raises(UpstreamUnavailable):
        connect.create_transfer(payout_id="po", amount=1, currency="usd", destination="a", metadata={})
    assert [r["headers"]["Idempotency-Key"] for r in http.requests] == ["po", "po", "po"]


def test_listings_page_with_starting_after_and_created_range():
    pi = {"object": "payment_intent", "currency": "usd", "status": "succeeded", "created": 5}
    connect, http = adapter(
        (200, {"object": "list", "has_more": True, "data": [{**pi, "id": "pi_1", "amount": 10, "amount_received": 10}]}),
        (200, {"object": "list", "has_more": False, "data": [{**pi, "id": "pi_2", "amount": 20, "amount_received": 20}]}),
    )
    pages = list(connect.payments(0, 100))
    assert [[r.stripe_id for r in page] for page in pages] == [["pi_1"], ["pi_2"]]
    first, second = (parse_qs(urlparse(r["url"]).query) for r in http.requests)
    assert first["created[gte]"] == ["0"] and first["created[lt]"] == ["100"] and "starting_after" not in first
    assert second["starting_after"] == ["pi_1"]


def test_one_reconciliation_page_at_a_time_resumes_after_the_position_it_returned():
    tr = {"object": "transfer", "currency": "usd", "created": 5, "destination": "acct_1", "reversed": False}
    connect, http = adapter(
        (200, {"object": "list", "has_more": True, "data": [{**tr, "id": "tr_1", "amount": 10}]}),
        (200, {"object": "list", "has_more": False, "data": [{**tr, "id": "tr_2", "amount": 20, "reversed": True}]}),
    )
    first, position = connect.page("transfer", 0, 100, None)
    assert [(r.stripe_id, r.amount, r.status) for r in first] == [("tr_1", 10, "paid")] and position == "tr_1"
    second, position = connect.page("transfer", 0, 100, position)
    assert [(r.stripe_id, r.status) for r in second] == [("tr_2", "reversed")] and position is None
    one, two = (parse_qs(urlparse(r["url"]).query) for r in http.requests)
    assert one["created[gte]"] == ["0"] and one["created[lt]"] == ["100"] and one["limit"] == ["100"]
    assert "starting_after" not in one and two["starting_after"] == ["tr_1"]
    assert all(urlparse(r["url"]).path == "/v1/transfers" for r in http.requests)
