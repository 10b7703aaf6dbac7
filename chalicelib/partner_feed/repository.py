"""The partner event rows: the per-partner counter, the events in commit order, and the pending-fan-out index.

Keys are in `db/feed_keys.py`. An event row is written once (`attribute_not_exists`) and never changed
except for dropping its gsi1 attributes once the webhook fan-out is done; the feed is a consistent Query
of the partner's partition, so a reader sees every event committed before it asked, in sequence order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.db import feed_keys as keys
from chalicelib.db.table import MarketItem


class PartnerEventCounterItem(MarketItem, discriminator="PartnerEventCounter"):
    seq = NumberAttribute()
    hooks = NumberAttribute(default=0)  # how many webhook endpoints the partner has


@dataclass(frozen=True)
class Counter:
    """The partner's counter row as read: last sequence number, webhook endpoints, and whether it exists."""

    seq: int = 0
    hooks: int = 0
    exists: bool = False


class PartnerEventItem(MarketItem, discriminator="PartnerEvent"):
    partner_id = UnicodeAttribute()
    seq = NumberAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    created_at = UnicodeAttribute()
    data = JSONAttribute()

    def to_dict(self) -> dict:
        return {"event_id": self.event_id, "type": self.event_type, "created_at": self.created_at,
                "data": self.data}


@dataclass(frozen=True)
class Event:
    """An event as the feed and the webhooks see it (the row's public part, and where it sits)."""

    partner_id: str
    seq: int
    event_id: str
    type: str
    created_at: str
    data: dict
    pending: bool

    def to_dict(self) -> dict:
        return {"event_id": self.event_id, "type": self.type, "created_at": self.created_at, "data": self.data}


def _event(item: PartnerEventItem) -> Event:
    return Event(partner_id=item.partner_id, seq=int(item.seq), event_id=item.event_id, type=item.event_type,
                 created_at=item.created_at, data=item.data or {}, pending=bool(item.gsi1pk))


def _counter(item: PartnerEventCounterItem) -> Counter:
    return Counter(int(item.seq), int(item.hooks or 0), True)


def read_counter(partner_id: str) -> Counter:
    """The partner's counter (seq 0, no hooks before its first event or endpoint); a consistent read."""
    try:
        item = PartnerEventCounterItem.get(keys.feed_pk(partner_id), keys.COUNTER_SK, consistent_read=True)
    except PartnerEventCounterItem.DoesNotExist:
        return Counter()
    return _counter(item)


def read_counters(partner_ids: Iterable[str]) -> dict[str, Counter]:
    """The counters of several partners in one consistent BatchGetItem."""
    wanted = list(dict.fromkeys(partner_ids))
    if len(wanted) <= 1:
        return {p: read_counter(p) for p in wanted}
    found = {pid: Counter() for pid in wanted}
    for item in PartnerEventCounterItem.batch_get([(keys.feed_pk(p), keys.COUNTER_SK) for p in wanted],
                                                  consistent_read=True):
        if isinstance(item, PartnerEventCounterItem):
            found[item.pk[len(keys.feed_pk("")):]] = _counter(item)
    return found


def put_counter(tx: Any, partner_id: str, read: Counter, *, seq: int, hooks: int, label: str) -> None:
    """Add to `tx` the counter's new value, on condition that it is still exactly as `read` (sequence and
    hooks): every event and every endpoint change of a partner is ordered by this one row."""
    unchanged = (PartnerEventCounterItem.pk.does_not_exist() if not read.exists
                 else (PartnerEventCounterItem.seq == read.seq) & (PartnerEventCounterItem.hooks == read.hooks))
    row = PartnerEventCounterItem(pk=keys.feed_pk(partner_id), sk=keys.COUNTER_SK, seq=seq, hooks=hooks)
    tx.save(row, condition=unchanged, label=label)


def event_row(*, partner_id: str, seq: int, event_id: str, type: str, created_at: str, data: dict,
              pending: bool) -> PartnerEventItem:
    """A new event row; `pending` (the partner has webhook endpoints) puts it on the pending-fan-out index
    until the dispatcher has handled it."""
    item = PartnerEventItem(
        pk=keys.feed_pk(partner_id), sk=keys.event_sk(seq),
        partner_id=partner_id, seq=seq, event_id=event_id, event_type=type, created_at=created_at, data=data,
    )
    if pending:
        item.gsi1pk = keys.pending_pk(keys.pending_shard(partner_id))
        item.gsi1sk = keys.pending_sk(created_at, partner_id, seq)
    return item


def events_after(partner_id: str, after_seq: int, *, limit: int) -> list[Event]:
    """Up to `limit` events after `after_seq`, in commit order (one consistent Query)."""
    query = PartnerEventItem.query(
        keys.feed_pk(partner_id), PartnerEventItem.sk > keys.event_sk(after_seq),
        consistent_read=True, limit=limit,
    )
    return [_event(item) for item in query]


def events_by_seq(partner_id: str, seqs: Iterable[int]) -> list[Event]:
    """The partner's events with these sequence numbers that exist, in order (one consistent BatchGetItem)."""
    wanted = sorted(set(int(s) for s in seqs))[:100]
    if not wanted:
        return []
    rows = PartnerEventItem.batch_get([(keys.feed_pk(partner_id), keys.event_sk(s)) for s in wanted],
                                      consistent_read=True)
    return sorted((_event(r) for r in rows if isinstance(r, PartnerEventItem)), key=lambda e: e.seq)


def get_event(partner_id: str, seq: int) -> Event | None:
    found = events_by_seq(partner_id, [seq])
    return found[0] if found else None


def clear_pending(partner_id: str, seq: int) -> None:
    """Take the event off the pending-fan-out index (its deliveries exist); harmless if already done."""
    item = PartnerEventItem(pk=keys.feed_pk(partner_id), sk=keys.event_sk(seq))
    try:
        item.update(actions=[PartnerEventItem.gsi1pk.remove(), PartnerEventItem.gsi1sk.remove()],
                    condition=PartnerEventItem.pk.exists())
    except PartnerEventItem.UpdateError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise


def pending_before(shard: int, cutoff_iso: str, *, limit: int) -> list[tuple[str, int]]:
    """(partner, seq) of events still waiting for their fan-out, created before `cutoff_iso`, oldest first."""
    query = PartnerEventItem.gsi1.query(
        keys.pending_pk(shard), PartnerEventItem.gsi1sk < cutoff_iso, limit=limit,
    )
    return [(item.partner_id, int(item.seq)) for item in query if isinstance(item, PartnerEventItem)]
