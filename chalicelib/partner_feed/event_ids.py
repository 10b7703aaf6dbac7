"""Event ids that name a position in one partner's feed and prove they belong to that partner.

`evt_<seq>_<tag>`: `seq` is the event's place in the partner's commit order, `tag` a keyed hash of the
partner and the sequence number. So `GET /partner/events?after=<event_id>` finds its position without a
read (the sequence number is the sort key), and an id of another partner, an edited number or a made-up
id fails the tag check (400 `bad_cursor`). The key is the pseudonym secret, which is never rotated: an
event's id must stay the same forever, since receivers deduplicate on it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

from chalicelib.config import get_settings
from chalicelib.core.errors import BadCursor

PREFIX = "evt_"
_SHAPE = re.compile(r"^evt_([1-9][0-9]{0,11})_([a-z2-7]{16})$")


def _tag(partner_id: str, seq: int) -> str:
    key = get_settings().pseudonym_secret.encode("utf-8")
    digest = hmac.new(key, f"partner-event\x1f{partner_id}\x1f{seq}".encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:16]


def event_id(partner_id: str, seq: int) -> str:
    return f"{PREFIX}{seq}_{_tag(partner_id, seq)}"


def seq_of(partner_id: str, value: str) -> int:
    """The sequence number of one of `partner_id`'s event ids; BadCursor for anything else."""
    match = _SHAPE.match(value or "")
    if match is None or not hmac.compare_digest(match.group(2), _tag(partner_id, int(match.group(1)))):
        raise BadCursor("`after` is not one of your event ids; start again without it.")
    return int(match.group(1))
