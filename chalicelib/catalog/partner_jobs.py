"""Partner-wide catalog work runs on the job queue, a bounded page per step, never inside the request.

A partner's suspension hides every one of its published listings; a rename rewrites the name copied onto
every listing and catalog row. Both grow with the partner's catalog, so the request that commits the
change only queues a job (`start_hiding`, `start_renaming`, wired in `bootstrap` as the reactions to
`partners.events`); the job works through pages of 100 listings while its Lambda has time, then queues
itself again with where it stopped. Each step is idempotent (a listing no longer published is skipped, a
copy already as new is left alone), so a redelivered or repeated job does nothing twice. If the queue
cannot be reached the request answers 503 and repeating it (the same suspension, the same PATCH) queues
the job again. Until the job has run, the listings not yet reached keep their old copies.
"""
from __future__ import annotations

import itertools
import logging

from chalicelib.catalog import decisions
from chalicelib.catalog import repository as repo
from chalicelib.catalog.partner_copies import rename_page
from chalicelib.core.errors import InvalidState
from chalicelib.core.identity import Principal
from chalicelib.jobs import queue
from chalicelib.jobs.registry import JobContext
from chalicelib.partners.model import SUSPENDED
from chalicelib.partners.repository import load_partners

log = logging.getLogger("marketplace.catalog")

HIDE = "catalog.hide_partner_listings"
RENAME = "catalog.rename_partner_listings"
PAGE = 100
PAGES_PER_JOB = 10  # at most ~1,000 listing transactions per delivery, well inside the worker's timeout


def start_hiding(*, partner_id: str, actor: Principal) -> None:
    queue.enqueue(HIDE, {"partner_id": partner_id, "actor": {"sub": actor.sub, "groups": sorted(actor.groups)}})


def start_renaming(*, partner_id: str, display_name: str, at: str) -> None:
    queue.enqueue(RENAME, {"partner_id": partner_id, "display_name": display_name, "at": at})


def hide_listings(data: dict, ctx: JobContext) -> None:
    """Suspend the partner's published listings, page by page; queue the rest if time or pages run out."""
    actor = Principal(sub=data["actor"]["sub"], groups=frozenset(data["actor"].get("groups") or ()))
    reason = data.get("reason") or "partner suspended"
    partner = load_partners([data["partner_id"]], consistent=True).get(data["partner_id"])
    if partner is None or partner.status != SUSPENDED:
        # Reinstated before the job ran (or a job of another deploy): an admin may already have relisted
        # some listings, which a late cascade must not suspend again.
        log.info("partner %s is no longer suspended: nothing to hide", data["partner_id"])
        return
    for _ in range(PAGES_PER_JOB):
        # Suspended listings leave the published index, so every page is read from the start.
        page = list(itertools.islice(repo.published_listings_of(data["partner_id"], page_size=PAGE), PAGE))
        for listing in page:
            try:
                decisions.decide(admin=actor, listing_id=listing.listing_id, action="suspend", reason=reason)
            except InvalidState:
                continue  # no longer published: somebody else got there first
        if len(page) < PAGE:
            return
        if ctx.time_left.running_low():
            break
    queue.enqueue(HIDE, data)
    log.info("partner %s: more listings to hide, continued in a new job", data["partner_id"])


def rename_listings(data: dict, ctx: JobContext) -> None:
    """Rewrite the partner's name on its listings, page by page, resuming after `after`."""
    after = data.get("after")
    for _ in range(PAGES_PER_JOB):
        _, after = rename_page(partner_id=data["partner_id"], display_name=data["display_name"], at=data["at"],
                               after=after, limit=PAGE)
        if not after:
            return
        if ctx.time_left.running_low():
            break
    queue.enqueue(RENAME, {**data, "after": after})
    log.info("partner %s: more listings to rename, continued in a new job", data["partner_id"])
