"""The transactional outbox of partner events: an event is written in the same transaction as its change.

A use case that records events builds its transaction in a function `write(tx)` and hands it to
`commit(write)`; inside, `record(tx, partner_id=, type=, data=)` adds the event. So an event exists if and
only if its change does, and the feed has no gaps:

- each partner has a counter row (`PFEED#<partner>/SEQ`); the first `record` for a partner in a transaction
  reads it (consistent GetItem, cached for the transaction's other events of that partner) and numbers the
  events after it; `commit` adds one put of the counter with the condition "still the value read";
- the event rows are keyed by their sequence numbers (`attribute_not_exists` as well), so two transactions
  that read the same counter cannot both commit: the second is refused on the outbox's labels only, and
  `commit` runs `write` again (fresh reads, new numbers) with jittered backoff, a bounded number of times,
  then answers 503 `upstream_unavailable` having changed nothing. A refusal that names any other label is
  the caller's (re-raised as `ConditionsFailed`, or as `on_condition_failed` maps it).

Since every event of a partner is conditioned on its predecessor's counter value, sequence order is commit
order: a consistent Query of the partition after sequence n sees every event committed so far after n.

Hand-off to webhooks: the counter row also counts the partner's webhook endpoints (endpoint changes are
conditioned on it like events are). When there are some, each event row starts on the sparse gsi1
"pending fan-out" index and, after the commit, a dispatch job is sent for the new events
(`partner_webhooks.dispatch`, by name: this package does not import the webhooks); if the process dies
first or the send fails, the minute sweeper finds the rows. A partner without endpoints costs no job.
Each event adds 1 item to the transaction, plus 1 (the counter) per partner.
"""
from __future__ import annotations

import logging
import random
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from pynamodb.exceptions import TransactWriteError

from chalicelib.core import clock
from chalicelib.core.errors import DomainError, UpstreamUnavailable
from chalicelib.core.vocabulary import PARTNER_EVENT_TYPES
from chalicelib.db.transact import ConditionsFailed, Refusal, Transaction, transaction
from chalicelib.partner_feed import event_ids, repository
from chalicelib.partner_feed.repository import PartnerEventItem

log = logging.getLogger("marketplace.partner_feed")

T = TypeVar("T")
LABEL = "outbox:"
DISPATCH_JOB = "partner_webhooks.dispatch"
MAX_ATTEMPTS = 30
BACKOFF_BASE_SECONDS = 0.005
BACKOFF_CAP_SECONDS = 0.25


@dataclass
class _PartnerRun:
    read: repository.Counter  # the counter as read in this attempt
    seqs: list[int] = field(default_factory=list)


@dataclass
class _Batch:
    partners: dict[str, _PartnerRun] = field(default_factory=dict)


# The batch of each open `commit` transaction (weak: a transaction's batch dies with it).
_open: "weakref.WeakKeyDictionary[Transaction, _Batch]" = weakref.WeakKeyDictionary()


def _batch_of(tx: Transaction) -> _Batch:
    batch = _open.get(tx)
    if batch is None:
        raise RuntimeError("partner events are recorded inside outbox.commit(write), not a bare transaction()")
    return batch


def prepare(tx: Transaction, partner_ids: Iterable[str]) -> None:
    """Read the counters of several partners at once (one BatchGetItem) before recording their events."""
    batch = _batch_of(tx)
    missing = [p for p in dict.fromkeys(partner_ids) if p not in batch.partners]
    for partner_id, value in repository.read_counters(missing).items():
        batch.partners[partner_id] = _PartnerRun(read=value)


def record(tx: Transaction, *, partner_id: str, type: str, data: dict[str, Any]) -> str:
    """Add a partner event to `tx` (opened by `commit`); returns its event id."""
    batch = _batch_of(tx)
    if type not in PARTNER_EVENT_TYPES:
        raise ValueError(f"unknown partner event type {type!r}")
    run = batch.partners.get(partner_id)
    if run is None:
        run = batch.partners[partner_id] = _PartnerRun(read=repository.read_counter(partner_id))
    seq = run.read.seq + len(run.seqs) + 1
    run.seqs.append(seq)
    event_id = event_ids.event_id(partner_id, seq)
    row = repository.event_row(partner_id=partner_id, seq=seq, event_id=event_id, type=type,
                               created_at=clock.now_iso(), data=data, pending=run.read.hooks > 0)
    tx.save(row, condition=PartnerEventItem.pk.does_not_exist(), label=f"{LABEL}event:{partner_id}")
    return event_id


def _add_counters(tx: Transaction, batch: _Batch) -> None:
    for partner_id, run in batch.partners.items():
        if run.seqs:
            repository.put_counter(tx, partner_id, run.read, seq=run.read.seq + len(run.seqs),
                                   hooks=run.read.hooks, label=f"{LABEL}seq:{partner_id}")


def _only_outbox(refusal: Refusal) -> bool:
    labels = refusal.labels
    return bool(labels) and all(label.startswith(LABEL) for label in labels)


def _outbox_conflict(err: UpstreamUnavailable, tx: Transaction | None) -> bool:
    """DynamoDB cancelled the transaction because a concurrent one held the outbox's rows, and only those
    (two events of one partner at once: nothing was written). Conflicts on the caller's rows stay a 503."""
    cause = err.__cause__
    if tx is None or not isinstance(cause, TransactWriteError):
        return False
    reasons = list(cause.cancellation_reasons or [])
    failing = [i for i, r in enumerate(reasons) if r is not None and r.code not in (None, "None")]
    if not failing or any(reasons[i].code != "TransactionConflict" for i in failing):
        return False
    return _only_outbox(tx.refusal(failing))


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** attempt)))


def commit(write: Callable[[Transaction], T], *,
           on_condition_failed: Callable[[Refusal], DomainError] | None = None) -> T:
    """Run `with transaction() as tx: return write(tx)`, again while only the outbox's sequencing failed."""
    for attempt in range(MAX_ATTEMPTS):
        batch = _Batch()
        tx: Transaction | None = None
        try:
            with transaction() as tx:
                _open[tx] = batch
                result = write(tx)
                _add_counters(tx, batch)
        except ConditionsFailed as failed:
            if _only_outbox(failed.refusal):
                _pause(attempt)
                continue
            if on_condition_failed is not None:
                raise on_condition_failed(failed.refusal) from failed
            raise
        except UpstreamUnavailable as err:
            if _outbox_conflict(err, tx):
                _pause(attempt)
                continue
            raise
        announce({p: run.seqs for p, run in batch.partners.items() if run.seqs and run.read.hooks > 0})
        return result
    raise UpstreamUnavailable("Too many concurrent changes for one partner; nothing was changed. Try again.")


def announce(new_events: dict[str, list[int]]) -> None:
    """Send a dispatch job per partner for events just committed; the sweeper covers a failed send."""
    if not new_events:
        return
    from chalicelib.jobs import queue

    try:
        queue.send([queue.job(DISPATCH_JOB, {"partner_id": p, "seqs": seqs}) for p, seqs in new_events.items()])
    except Exception as exc:  # noqa: BLE001 - the change is committed; never fail its request over the hand-off
        log.warning("partner event dispatch not sent (the sweeper will): %s", exc)
