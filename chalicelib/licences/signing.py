"""The keys that sign licences (ES256), wherever the stage keeps them, and the JWKS that publishes them.

- AWS stages: asymmetric KMS keys (`ECC_NIST_P256`, `SIGN_VERIFY`) named by `MARKET_LICENCE_KMS_KEYS`.
  The first key signs (`kms:Sign`: the private key never leaves KMS); every listed key's public half
  (`kms:GetPublicKey`, read once per container) is in the JWKS. Rotation = put a new key first, keep the
  old one listed until the last licence it signed has expired (24 h), then drop it (docs/partner-keys-and-licences.md).
- Local stage and tests: one P-256 key generated on first use and kept in the local DynamoDB
  (`LICENCEKEYS` / `LOCAL`, written with `attribute_not_exists`, so concurrent processes agree on one key
  and every local process, `chalice local` and the job poller alike, signs with it).

A key's `kid` is its RFC 7638 JWK thumbprint, so it is derived, never configured, and the same in every
process. The JWS is assembled here (PyJWT cannot ask KMS to sign); partners verify it with any JWT library.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable

from pynamodb.attributes import UnicodeAttribute

from chalicelib.config import SECRETS_MANAGER_BUDGET, get_settings
from chalicelib.core.errors import UpstreamUnavailable
from chalicelib.db.table import MarketItem

ALG = "ES256"
LOCAL_PK, LOCAL_SK = "LICENCEKEYS", "LOCAL"


class LocalSigningKeyItem(MarketItem, discriminator="LicenceSigningKey"):
    """The local stage's licence signing key (PEM). Never used in AWS stages."""

    private_pem = UnicodeAttribute()
    created_at = UnicodeAttribute()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: Any) -> dict:
    """The JWK of a P-256 public key (cryptography object), with its thumbprint as `kid`."""
    numbers = public_key.public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": b64url(numbers.x.to_bytes(32, "big")),
           "y": b64url(numbers.y.to_bytes(32, "big"))}
    thumbprint = b64url(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**jwk, "kid": thumbprint, "use": "sig", "alg": ALG}


@dataclass(frozen=True)
class SigningKey:
    """One key: its public JWK and how to sign with it (returns a DER ECDSA signature)."""

    jwk: dict
    sign_der: Callable[[bytes], bytes]

    @property
    def kid(self) -> str:
        return self.jwk["kid"]


def compact_jws(claims: dict, key: SigningKey) -> str:
    """`header.payload.signature`, the signature as JWS wants it (raw r || s, 64 bytes)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    header = {"alg": ALG, "typ": "JWT", "kid": key.kid}
    signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    r, s = decode_dss_signature(key.sign_der(signing_input.encode("ascii")))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


# --- the local stage: a key in DynamoDB ------------------------------------------------------------------
def _local_key() -> SigningKey:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pynamodb.exceptions import PutError

    from chalicelib.core import clock

    try:
        item = LocalSigningKeyItem.get(LOCAL_PK, LOCAL_SK, consistent_read=True)
    except LocalSigningKeyItem.DoesNotExist:
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        item = LocalSigningKeyItem(LOCAL_PK, LOCAL_SK, private_pem=pem, created_at=clock.now_iso())
        try:
            item.save(condition=LocalSigningKeyItem.pk.does_not_exist())
        except PutError:  # another process stored its key first: everybody uses that one
            item = LocalSigningKeyItem.get(LOCAL_PK, LOCAL_SK, consistent_read=True)
    private = serialization.load_pem_private_key(item.private_pem.encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return SigningKey(public_jwk(private.public_key()), lambda data: private.sign(data, ec.ECDSA(hashes.SHA256())))


# --- AWS stages: KMS -----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _kms():
    import boto3
    from botocore.config import Config

    budget = SECRETS_MANAGER_BUDGET
    return boto3.client("kms", region_name=get_settings().region, config=Config(
        connect_timeout=budget.connect_seconds, read_timeout=budget.read_seconds,
        retries={"max_attempts": budget.retries + 1, "mode": "standard"}))


def _kms_key(key_id: str) -> SigningKey:
    from botocore.exceptions import BotoCoreError, ClientError
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    def sign(data: bytes) -> bytes:
        try:
            return _kms().sign(KeyId=key_id, Message=data, MessageType="RAW",
                               SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        except (BotoCoreError, ClientError) as exc:
            raise UpstreamUnavailable("The licence signing key is unavailable; try again.") from exc

    try:
        der = _kms().get_public_key(KeyId=key_id)["PublicKey"]
    except (BotoCoreError, ClientError) as exc:
        raise UpstreamUnavailable("The licence signing keys are unavailable; try again.") from exc
    return SigningKey(public_jwk(load_der_public_key(der)), sign)


# --- what the service uses -----------------------------------------------------------------------------
_keys: list[SigningKey] = []


def keys() -> list[SigningKey]:
    """The stage's keys, the signing key first; read once per process."""
    if not _keys:
        ids = get_settings().licence_kms_key_ids
        _keys.extend([_kms_key(k) for k in ids] if ids else [_local_key()])
    return _keys


def signing_key() -> SigningKey:
    return keys()[0]


def jwks() -> dict:
    return {"keys": [k.jwk for k in keys()]}


def forget_keys() -> None:
    """Drop the keys read by this process (tests: a fresh table, or another stage's settings)."""
    _keys.clear()
    _kms.cache_clear()
