"""Licence signing with KMS (the AWS stages' path) against moto's KMS: the signature PyJWT accepts, the JWKS
built from `kms:GetPublicKey`, and a rotation that keeps licences signed by the old key verifiable."""
from __future__ import annotations

import jwt
import pytest


@pytest.fixture
def kms_keys(ddb, monkeypatch):
    """Two ECC_NIST_P256 signing keys in moto's KMS; the settings name them (new first, as in a rotation)."""
    import boto3

    from chalicelib.config import reset_settings
    from chalicelib.licences import signing

    kms = boto3.client("kms", region_name="us-east-1")
    old, new = (kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
                for _ in range(2))

    def use(*ids: str) -> None:
        monkeypatch.setenv("MARKET_LICENCE_KMS_KEYS", ",".join(ids))
        reset_settings()
        signing.forget_keys()

    yield old, new, use
    monkeypatch.delenv("MARKET_LICENCE_KMS_KEYS")
    reset_settings()
    signing.forget_keys()


def _claims() -> dict:
    return {"iss": "https://marketplace.local", "aud": "ptn_x", "sub": "cref_y", "listing_id": "lst_z",
            "iat": 1_700_000_000, "exp": 4_102_444_800}


def test_a_kms_signed_licence_verifies_with_the_published_key(kms_keys):
    from chalicelib.licences import signing

    old, _new, use = kms_keys
    use(old)
    token = signing.compact_jws(_claims(), signing.signing_key())
    jwks = jwt.PyJWKSet.from_dict(signing.jwks())
    kid = jwt.get_unverified_header(token)["kid"]
    assert [k.key_id for k in jwks.keys] == [kid]
    assert jwt.decode(token, jwks[kid].key, algorithms=["ES256"], audience="ptn_x")["sub"] == "cref_y"
    assert _stored_keys() == []  # no local key is made in a KMS stage


def test_rotation_keeps_the_old_key_published_until_it_is_dropped(kms_keys):
    from chalicelib.licences import signing

    old, new, use = kms_keys
    use(old)
    before = signing.compact_jws(_claims(), signing.signing_key())
    use(new, old)  # step 1 of a rotation: the new key signs, the old one stays in the JWKS
    after = signing.compact_jws(_claims(), signing.signing_key())
    jwks = jwt.PyJWKSet.from_dict(signing.jwks())
    assert len(jwks.keys) == 2
    for token in (before, after):
        kid = jwt.get_unverified_header(token)["kid"]
        assert jwt.decode(token, jwks[kid].key, algorithms=["ES256"], audience="ptn_x")["listing_id"] == "lst_z"
    assert jwt.get_unverified_header(before)["kid"] != jwt.get_unverified_header(after)["kid"]
    use(new)  # step 2, a day later: the old key's licences have all expired
    assert [k["kid"] for k in signing.jwks()["keys"]] == [jwt.get_unverified_header(after)["kid"]]


def _stored_keys() -> list:
    from chalicelib.licences.signing import LOCAL_PK, LOCAL_SK, LocalSigningKeyItem

    try:
        return [LocalSigningKeyItem.get(LOCAL_PK, LOCAL_SK)]
    except LocalSigningKeyItem.DoesNotExist:
        return []
