"""Reading a partner's events in commit order: `GET /partner/events?after=&types=&limit=`.

One consistent Query of the partner's feed partition after the sequence number in `after` (no read to
find the position: see `event_ids`). With `types`, the same Query reads at most `TYPE_SCAN_BUDGET` rows and
keeps the matching ones, so a filter that matches little still costs one bounded read; the page may then
be short or empty while more events exist, and `next_cursor` is the last event *examined* (returned or
skipped by the filter), which is one of the partner's events and so a valid `after`. A poller that
always passes `next_cursor` back walks the whole feed once, and sees every event of its types.
"""
from __future__ import annotations

from typing import Iterable

from chalicelib.partner_feed import event_ids, repository

TYPE_SCAN_BUDGET = 300


def list_events(partner_id: str, *, after: str | None, types: Iterable[str] | None, limit: int) -> dict:
    """`{items, next_cursor}` for the partner, after the event `after` (BadCursor if it is not theirs)."""
    after_seq = event_ids.seq_of(partner_id, after) if after else 0
    wanted = frozenset(types or ())
    read_limit = max(limit, TYPE_SCAN_BUDGET) if wanted else limit
    items: list[dict] = []
    last_examined: str | None = None
    for event in repository.events_after(partner_id, after_seq, limit=read_limit):
        last_examined = event.event_id
        if not wanted or event.type in wanted:
            items.append(event.to_dict())
            if len(items) == limit:
                break
    return {"items": items, "next_cursor": last_examined or after}
