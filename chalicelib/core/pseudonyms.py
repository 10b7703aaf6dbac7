"""The id a partner knows a customer by: stable per partner, meaningless to every other partner.

Partner events (`customer`) and licences (`sub`) name the buyer without the marketplace user id or the
e-mail: a keyed hash (HMAC-SHA256 under `MARKET_PSEUDONYM_SECRET`) of the partner id and the user id. The
same customer gets the same id at one partner every time, and unrelated ids at two partners, so partners
cannot join their customer lists. Nothing is stored: the id is recomputed where it is needed, and the
marketplace maps it back by recomputing it for a known user (`customer_ref(partner, user) == ref`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.config import get_settings

PREFIX = "cref_"


def customer_ref(partner_id: str, user_id: str) -> str:
    """`cref_` + 26 base32 characters (130 bits of the HMAC) for this partner and user."""
    key = get_settings().pseudonym_secret.encode("utf-8")
    digest = hmac.new(key, f"{partner_id}\x1f{user_id}".encode("utf-8"), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:26]
