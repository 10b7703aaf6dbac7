"""Schemas of the licence routes: a customer's licence, the JWKS, and a partner's verify and holders list."""
from __future__ import annotations

from chalicelib.schemas.common import ID, TIMESTAMP, list_query, page_of

LICENCE = {
    "type": "object",
    "required": ["licence", "expires_at"],
    "properties": {
        "licence": {"type": "string", "description": "A compact JWS (ES256): iss, aud (partner id), sub (the "
                                                     "customer's id at that partner), listing_id, iat, exp, jti"},
        "expires_at": TIMESTAMP,
    },
}

JWK = {
    "type": "object",
    "required": ["kty", "crv", "x", "y", "kid", "alg", "use"],
    "properties": {"kty": {"const": "EC"}, "crv": {"const": "P-256"}, "x": {"type": "string"},
                   "y": {"type": "string"}, "kid": {"type": "string"}, "alg": {"const": "ES256"},
                   "use": {"const": "sig"}},
}
JWKS = {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": JWK}}}

VERIFY_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["licence"],
    "properties": {"licence": {"type": "string", "minLength": 1, "maxLength": 4096}},
}

_NULLABLE = {"type": ["string", "null"]}
VERIFIED = {
    "type": "object",
    "required": ["active", "listing_id", "customer", "expires_at"],
    "properties": {
        "active": {"type": "boolean", "description": "signature, aud (the caller), exp hold and the customer "
                                                    "still holds the app now"},
        "listing_id": _NULLABLE, "customer": _NULLABLE,
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

HOLDERS_QUERY = {**list_query(listing_id=ID), "required": ["listing_id"]}

HOLDER = {
    "type": "object",
    "required": ["customer", "listing_id", "granted_at", "via"],
    "properties": {"customer": {"type": "string"}, "listing_id": {"type": "string"}, "granted_at": TIMESTAMP,
                   "via": {"type": "string", "enum": ["order", "subscription"]}},
}
HOLDER_PAGE = page_of(HOLDER)
