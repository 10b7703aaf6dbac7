"""Stripe's webhook signature scheme: what verifies, what does not, and the replay window."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from chalicelib.webhooks.signature import TOLERANCE_SECONDS, BadSignature, sign, verify

SECRET = "whsec_unit"
BODY = b'{"id":"evt_1","type":"payment_intent.succeeded"}'
NOW = 1_800_000_000


def test_a_signature_made_like_stripes_verifies():
    digest = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    verify(BODY, f"t={NOW},v1={digest}", SECRET, now=NOW)
    assert sign(BODY, SECRET, NOW) == f"t={NOW},v1={digest}"


def test_any_of_several_v1_signatures_may_match_during_a_secret_roll():
    good = sign(BODY, SECRET, NOW).split("v1=")[1]
    verify(BODY, f"t={NOW},v1={'0' * 64},v0=abc,v1={good}", SECRET, now=NOW)


@pytest.mark.parametrize("header", [
    None, "", "garbage", f"t={NOW}", "v1=abc", f"t=abc,v1={'0' * 64}", f"t={NOW},v1={'0' * 64}",
    f"t={NOW},v0=" + sign(BODY, SECRET, NOW).split("v1=")[1],
])
def test_missing_malformed_or_wrong_signatures_are_refused(header):
    with pytest.raises(BadSignature):
        verify(BODY, header, SECRET, now=NOW)


def test_the_body_and_the_secret_are_both_bound():
    header = sign(BODY, SECRET, NOW)
    with pytest.raises(BadSignature):
        verify(BODY + b" ", header, SECRET, now=NOW)
    with pytest.raises(BadSignature):
        verify(BODY, header, "whsec_other", now=NOW)
    with pytest.raises(BadSignature):
        verify(BODY, header, "", now=NOW)


@pytest.mark.parametrize("age,ok", [(0, True), (TOLERANCE_SECONDS, True), (TOLERANCE_SECONDS + 1, False),
                                    (-TOLERANCE_SECONDS - 1, False)])
def test_replay_window_is_300_seconds_either_way(age, ok):
    header = sign(BODY, SECRET, NOW - age)
    if ok:
        verify(BODY, header, SECRET, now=NOW)
    else:
        with pytest.raises(BadSignature):
            verify(BODY, header, SECRET, now=NOW)


def test_connect_endpoint_secret_is_accepted_alongside_the_platform_secret():
    connect_secret = "whsec_connect_endpoint"
    header = sign(BODY, connect_secret, timestamp=NOW)
    verify(BODY, header, (SECRET, connect_secret), now=NOW)
    with pytest.raises(BadSignature):
        verify(BODY, header, (SECRET,), now=NOW)
    with pytest.raises(BadSignature):
        verify(BODY, header, ("", ""), now=NOW)


def test_secrets_list_skips_unset_placeholders():
    from chalicelib.secrets import StripeSecrets

    assert StripeSecrets("sk", "whsec_a", "whsec_b").webhook_secrets == ("whsec_a", "whsec_b")
    assert StripeSecrets("sk", "whsec_a").webhook_secrets == ("whsec_a",)
    assert StripeSecrets("sk", "unset", "unset").webhook_secrets == ()
