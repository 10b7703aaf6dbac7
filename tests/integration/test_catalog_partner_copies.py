"""A partner rename rewrites the name copied onto its listing and catalog rows, on the job queue, page by page:
resumable and idempotent; the request itself touches no listing."""
from __future__ import annotations

import pytest

from chalicelib.catalog import decisions, lifecycle, queries
from chalicelib.catalog.browse import browse
from chalicelib.catalog.partner_copies import rename_partner_listings
from chalicelib.catalog.repository import ListingItem, get_listing
from chalicelib.core.identity import Principal
from chalicelib.partners import service as partners
from tests.factories import approved_partner_directly
from tests import ddb_calls

ADMIN = Principal("admin-1", groups=frozenset({"admin"}))
OWNER = Principal("owner-1")
BODY = {"type": "app", "summary": "s", "category": "security", "price": {"amount": 100, "currency": "gbp"}}


@pytest.fixture
def partner_id(ddb):
    return approved_partner_directly(OWNER, display_name="Owner Co")


def _listing(name, slug, *, publish=True):
    listing_id = lifecycle.create_listing(user=OWNER, body={**BODY, "name": name, "slug": slug})["listing_id"]
    if publish:
        lifecycle.partner_action(user=OWNER, listing_id=listing_id, action="submit")
        decisions.decide(admin=ADMIN, listing_id=listing_id, action="approve")
    return listing_id


def test_a_rename_reaches_every_listing_card_and_page(partner_id, jobs):
    shown = _listing("Shield", "shield")
    draft = _listing("Vault", "vault", publish=False)
    with ddb_calls.recording() as log:
        partners.update_mine(user=OWNER, changes={"display_name": "Owner Group"})
    assert log.calls == ["Query", "TransactWriteItems"]  # the owner's partner, the profile: no listing read
    assert [c["partner_name"] for c in browse()["items"]] == ["Owner Co"]
    assert jobs() == 1
    assert [c["partner_name"] for c in browse()["items"]] == ["Owner Group"]
    assert [c["partner_name"] for c in browse(q="shield")["items"]] == ["Owner Group"]
    with ddb_calls.recording() as log:
        assert queries.public_listing(shown)["partner_name"] == "Owner Group"
    assert log.calls == ["GetItem"]
    assert get_listing(draft).partner_name == "Owner Group"
    # the draft published later carries the new name too
    lifecycle.partner_action(user=OWNER, listing_id=draft, action="submit")
    decisions.decide(admin=ADMIN, listing_id=draft, action="approve")
    assert sorted(c["partner_name"] for c in browse()["items"]) == ["Owner Group", "Owner Group"]


def test_the_rewrite_is_idempotent_and_an_older_rename_never_overwrites_a_newer_one(partner_id, jobs):
    listing_id = _listing("Shield", "shield")
    partners.update_mine(user=OWNER, changes={"display_name": "Owner Group"})
    jobs()
    at = get_listing(listing_id).partner_copy_at
    assert rename_partner_listings(partner_id=partner_id, display_name="Owner Group", at=at) == 0
    rev = int(get_listing(listing_id).rev)
    # a slow rewrite of an earlier rename arrives late: it changes nothing
    assert rename_partner_listings(partner_id=partner_id, display_name="Owner Co", at="2000-01-01T00:00:00Z") == 0
    assert int(get_listing(listing_id).rev) == rev
    assert [c["partner_name"] for c in browse()["items"]] == ["Owner Group"]


def test_an_interrupted_rewrite_resumes_where_it_stopped(partner_id):
    first, second = _listing("Shield", "shield"), _listing("Vault", "vault")
    # as if the rename committed and the rewrite died after the first listing
    rename_partner_listings(partner_id=partner_id, display_name="Owner Group", at="2999-01-01T00:00:00Z",
                            page_size=1)
    get_listing(second).update(actions=[ListingItem.partner_name.set("Owner Co"),
                                        ListingItem.partner_copy_at.set("2026-01-01T00:00:00Z")])
    assert rename_partner_listings(partner_id=partner_id, display_name="Owner Group",
                                   at="2999-01-01T00:00:00Z") == 1
    assert {get_listing(i).partner_name for i in (first, second)} == {"Owner Group"}


def test_a_profile_edit_without_a_name_queues_nothing(partner_id, jobs):
    listing_id = _listing("Shield", "shield")
    rev = int(get_listing(listing_id).rev)
    partners.update_mine(user=OWNER, changes={"country": "FR"})
    assert jobs() == 0
    assert int(get_listing(listing_id).rev) == rev


def test_repeating_a_rename_whose_job_was_lost_queues_it_again(partner_id, jobs, monkeypatch):
    from chalicelib.core.errors import UpstreamUnavailable
    from chalicelib.jobs import queue

    listing_id = _listing("Shield", "shield")

    def queue_down(*_a, **_k):
        raise UpstreamUnavailable("The job queue could not be reached.")

    with monkeypatch.context() as m:
        m.setattr(queue, "send", queue_down)
        with pytest.raises(UpstreamUnavailable):  # committed, but the rewrite was not queued: a 503
            partners.update_mine(user=OWNER, changes={"display_name": "Owner Group"})
    assert jobs() == 0 and get_listing(listing_id).partner_name == "Owner Co"
    partners.update_mine(user=OWNER, changes={"display_name": "Owner Group"})  # the client repeats it
    jobs()
    assert get_listing(listing_id).partner_name == "Owner Group"


def test_a_large_partner_is_renamed_over_several_jobs(partner_id, jobs, monkeypatch):
    from chalicelib.catalog import partner_jobs

    monkeypatch.setattr(partner_jobs, "PAGE", 2)
    monkeypatch.setattr(partner_jobs, "PAGES_PER_JOB", 1)
    ids = [_listing(f"App {i}", f"app-{i}", publish=False) for i in range(5)]
    partners.update_mine(user=OWNER, changes={"display_name": "Owner Group"})
    assert jobs() == 3  # pages of 2, one page per job: 2 + 2 + 1
    assert {get_listing(i).partner_name for i in ids} == {"Owner Group"}
