"""The partner event outbox: events commit with their change, in a per-partner order without gaps."""
from __future__ import annotations

import threading

import pytest

from chalicelib.core.errors import BadCursor, Conflict
from chalicelib.db.transact import transaction
from chalicelib.partner_feed import event_ids, outbox, payloads, repository
from chalicelib.partner_feed import feed


def _write_events(partner_id: str, n: int = 1, type: str = "listing.approved"):
    def write(tx):
        return [outbox.record(tx, partner_id=partner_id, type=type, data={"i": i}) for i in range(n)]
    return outbox.commit(write)


def test_events_are_numbered_in_commit_order_per_partner(ddb):
    first = _write_events("prt_a", 2)
    second = _write_events("prt_a", 1, "sale.completed")
    other = _write_events("prt_b", 1)
    assert [event_ids.seq_of("prt_a", e) for e in first + second] == [1, 2, 3]
    assert event_ids.seq_of("prt_b", other[0]) == 1
    assert repository.read_counter("prt_a").seq == 3
    page = feed.list_events("prt_a", after=None, types=None, limit=10)
    assert [e["event_id"] for e in page["items"]] == first + second
    assert page["next_cursor"] == second[0]
    assert [e["type"] for e in page["items"]] == ["listing.approved", "listing.approved", "sale.completed"]


def test_an_event_is_never_written_without_its_change(ddb):
    from chalicelib.audit.repository import AuditItem, audit_item

    row = audit_item(actor="u", action="x", entity_type="t", entity_id="e1")

    def write(tx):
        outbox.record(tx, partner_id="prt_a", type="listing.approved", data={})
        tx.save(row, condition=AuditItem.pk.exists(), label="audit")  # refused: the row does not exist

    with pytest.raises(Conflict):
        outbox.commit(write)
    assert not repository.read_counter("prt_a").exists
    assert feed.list_events("prt_a", after=None, types=None, limit=10)["items"] == []


def test_record_outside_commit_is_a_programming_error(ddb):
    with pytest.raises(RuntimeError):
        with transaction() as tx:
            outbox.record(tx, partner_id="prt_a", type="listing.approved", data={})


def test_after_must_be_one_of_the_partners_event_ids(ddb):
    (mine,) = _write_events("prt_a")
    (theirs,) = _write_events("prt_b")
    for bad in (theirs, "evt_1_aaaaaaaaaaaaaaaa", "nonsense", mine.replace("evt_1", "evt_2")):
        with pytest.raises(BadCursor):
            feed.list_events("prt_a", after=bad, types=None, limit=10)
    empty = feed.list_events("prt_a", after=mine, types=None, limit=10)
    assert empty == {"items": [], "next_cursor": mine}


def test_type_filter_moves_the_cursor_over_what_it_skipped(ddb):
    ids = _write_events("prt_a", 5)
    (sale,) = _write_events("prt_a", 1, "sale.completed")
    more = _write_events("prt_a", 3)
    page = feed.list_events("prt_a", after=None, types=["sale.completed"], limit=10)
    assert [e["event_id"] for e in page["items"]] == [sale]
    assert page["next_cursor"] == more[-1]  # the last event examined: the poller never reads these again
    assert feed.list_events("prt_a", after=ids[1], types=["listing.approved"], limit=2)["next_cursor"] == ids[3]


def test_money_event_has_only_money_and_the_pseudonymous_customer():
    data = payloads.money_event("order", "ord_1", "cref_abc", "usd",
                                [{"listing_id": "lst_1", "gross": 1000, "fee": 200, "net": 800},
                                 {"listing_id": "lst_2", "gross": 501, "fee": 100, "net": 401}])
    assert data == {
        "source": {"type": "order", "id": "ord_1"}, "customer": "cref_abc", "currency": "usd",
        "gross": {"amount": 1501, "currency": "usd"}, "fee": {"amount": 300, "currency": "usd"},
        "net": {"amount": 1201, "currency": "usd"},
        "lines": [{"listing_id": "lst_1", "gross": {"amount": 1000, "currency": "usd"},
                   "fee": {"amount": 200, "currency": "usd"}, "net": {"amount": 800, "currency": "usd"}},
                  {"listing_id": "lst_2", "gross": {"amount": 501, "currency": "usd"},
                   "fee": {"amount": 100, "currency": "usd"}, "net": {"amount": 401, "currency": "usd"}}]}
    with pytest.raises(ValueError):
        payloads.money_event("order", "ord_1", "user-123", "usd", [{"listing_id": "l", "gross": 1, "fee": 0, "net": 1}])


def test_twenty_writers_and_a_poller_see_every_event_once_in_commit_order(ddb):
    writers, per_writer = 20, 5
    written: list[str] = []
    lock = threading.Lock()
    done = threading.Event()
    seen: list[str] = []
    errors: list[BaseException] = []
    by_writer: dict[int, list[str]] = {}

    def writer(w: int) -> None:
        try:
            for i in range(per_writer):
                (eid,) = _write_events("prt_hot", 1, "sale.completed" if i % 2 else "listing.approved")
                with lock:
                    written.append(eid)
                    by_writer.setdefault(w, []).append(eid)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def poller() -> None:
        after = None
        try:
            while True:
                finished = done.is_set()
                page = feed.list_events("prt_hot", after=after, types=None, limit=7)
                seen.extend(e["event_id"] for e in page["items"])
                after = page["next_cursor"]
                if finished and not page["items"]:
                    return
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    reader = threading.Thread(target=poller)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join(timeout=60)
    assert errors == []
    assert len(written) == writers * per_writer
    assert sorted(seen) == sorted(written) and len(set(seen)) == len(seen)
    assert [event_ids.seq_of("prt_hot", e) for e in seen] == list(range(1, writers * per_writer + 1))
    position = {eid: i for i, eid in enumerate(seen)}
    for own in by_writer.values():  # one writer's commits follow each other: the feed keeps that order
        assert [position[e] for e in own] == sorted(position[e] for e in own)
