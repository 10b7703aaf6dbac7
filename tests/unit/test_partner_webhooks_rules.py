"""Pure rules of partner webhooks and the feed: backoff schedule, signature, URL rules, event ids."""
from __future__ import annotations

import dataclasses
import hashlib
import hmac

import pytest

from chalicelib.config import load_settings
from chalicelib.core.errors import BadCursor, ValidationFailed
from chalicelib.partner_feed import event_ids
from chalicelib.partner_webhooks import model, ssrf


def test_the_aws_schedule_makes_at_least_8_attempts_over_at_least_24_hours(monkeypatch):
    monkeypatch.setenv("MARKET_STAGE", "prod")
    s = load_settings()
    schedule = model.Backoff(s.webhook_backoff_base_seconds, s.webhook_backoff_max_seconds, s.webhook_max_attempts)
    assert s.webhook_backoff_base_seconds == 30 and schedule.max_attempts >= 8
    assert schedule.total_seconds() >= 24 * 3600
    assert [schedule.delay_after(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert schedule.delay_after(14) == 6 * 3600  # capped
    monkeypatch.setenv("MARKET_STAGE", "local")
    assert load_settings().webhook_backoff_base_seconds == 1
    monkeypatch.setenv("MARKET_WEBHOOK_MAX_ATTEMPTS", "3")
    assert load_settings().webhook_max_attempts == 8  # never fewer than the contract's 8


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = model.sign("whsec_abc", 1700000000, b'{"a":1}')
    expected = hmac.new(b"whsec_abc", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert model.new_secret().startswith("whsec_") and model.new_secret() != model.new_secret()


@pytest.mark.parametrize("url,local,ok", [
    ("https://hooks.example.com/x?y=1", False, True),
    ("https://93.184.215.14/x", False, True),
    ("http://hooks.example.com/x", False, False),
    ("http://127.0.0.1:9000/x", False, False),
    ("http://127.0.0.1:9000/x", True, True),
    ("https://127.0.0.1:9000/x", True, True),
    ("http://127.0.0.1/x", True, False),
    ("http://localhost:9000/x", True, False),
    ("https://10.0.0.1/x", True, False),
    ("https://[fe80::1]/x", False, False),
    ("https://user@example.com/x", False, False),
    ("https://example.com:99999/x", False, False),
    ("gopher://example.com/x", False, False),
])
def test_url_rules(url, local, ok):
    if ok:
        target = ssrf.parse(url, local_stage=local)
        assert target.local == (local and target.host == "127.0.0.1")
    else:
        with pytest.raises(ValidationFailed):
            ssrf.parse(url, local_stage=local)


def test_event_ids_name_a_position_only_for_their_partner():
    eid = event_ids.event_id("prt_a", 42)
    assert eid.startswith("evt_42_") and event_ids.seq_of("prt_a", eid) == 42
    assert event_ids.event_id("prt_b", 42) != eid
    for bad in (event_ids.event_id("prt_b", 42), eid.replace("evt_42", "evt_43"), "evt_0_" + "a" * 16, eid + "x"):
        with pytest.raises(BadCursor):
            event_ids.seq_of("prt_a", bad)


def test_target_host_header_keeps_a_non_default_port():
    assert ssrf.parse("https://h.example.com:8443/p", local_stage=False).host_header == "h.example.com:8443"
    assert ssrf.parse("https://h.example.com/p", local_stage=False).host_header == "h.example.com"
    assert dataclasses.asdict(ssrf.parse("https://h.example.com", local_stage=False))["path"] == "/"
