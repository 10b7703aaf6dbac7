"""Key builders of the partner event feed and the partner webhooks (kept apart from `keys.py`, which is near
its size limit; the same rule holds: key strings are made here and nowhere else).

- `PFEED#<partner>` / `SEQ`: the partner's event counter (the last sequence number used).
- `PFEED#<partner>` / `EVT#<seq, 12 digits>`: one event; a Query of the partition is the feed in commit order.
  While its webhook fan-out is not done, the event is on gsi1 `PFEEDPENDING#<shard>` (sparse), sorted by
  `<created_at>#<partner>#<seq>`, so a sweeper finds what a dead process left behind, oldest first.
- `PWH#<partner>` / `EP#<endpoint_id>`: a webhook endpoint of the partner.
- `PWHD#<endpoint_id>` / `DLV#<seq, 12 digits>`: the delivery of one event to one endpoint (its log).
"""
from __future__ import annotations

import zlib

PENDING_SHARDS = 4
COUNTER_SK = "SEQ"


def feed_pk(partner_id: str) -> str:
    return f"PFEED#{partner_id}"


def event_sk(seq: int) -> str:
    return f"EVT#{seq:012d}"


EVENT_SK_PREFIX = "EVT#"


def pending_shard(partner_id: str) -> int:
    return zlib.crc32(partner_id.encode("utf-8")) % PENDING_SHARDS


def pending_pk(shard: int) -> str:
    """gsi1: events whose webhook fan-out has not been done yet (one of `PENDING_SHARDS` partitions)."""
    return f"PFEEDPENDING#{shard}"


def pending_sk(created_at: str, partner_id: str, seq: int) -> str:
    return f"{created_at}#{partner_id}#{seq:012d}"


def endpoints_pk(partner_id: str) -> str:
    return f"PWH#{partner_id}"


def endpoint_sk(endpoint_id: str) -> str:
    return f"EP#{endpoint_id}"


ENDPOINT_SK_PREFIX = "EP#"


def deliveries_pk(endpoint_id: str) -> str:
    return f"PWHD#{endpoint_id}"


def delivery_sk(seq: int) -> str:
    return f"DLV#{seq:012d}"


DELIVERY_SK_PREFIX = "DLV#"
