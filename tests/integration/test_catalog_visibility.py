"""What the catalog hides when a partner stops being approved, even before the suspension cascade ran."""
from __future__ import annotations

import pytest

from chalicelib.catalog import service
from chalicelib.catalog.browse import browse
from chalicelib.core.errors import InvalidState, NotFound
from chalicelib.http.auth import Principal
from chalicelib.partners import service as partners
from chalicelib.partners.repository import PartnerItem, get_partner
from tests.api.test_catalog_builders import _fast_moto_transactions  # noqa: F401 - autouse

ADMIN = Principal("admin-1", groups=frozenset({"admin"}))
OWNER = Principal("owner-1")
BODY = {"type": "app", "summary": "s", "category": "security", "price": {"amount": 100, "currency": "gbp"}}


@pytest.fixture
def partner_id(ddb):
    partner = partners.apply(user=OWNER, display_name="Owner Co", contact_email="o@example.com", country="DE")
    partners.decide(admin=ADMIN, partner_id=partner.partner_id, action="approve")
    return partner.partner_id


def _create(name, slug):
    return service.create_listing(user=OWNER, body={**BODY, "name": name, "slug": slug})["listing_id"]


def _suspend_without_cascade(partner_id):
    """As if the partner's suspension committed and the process died before hiding its listings."""
    partner = get_partner(partner_id)
    partner.update(actions=[PartnerItem.status.set("suspended")])


def test_cards_and_pages_of_a_non_approved_partner_are_hidden_before_the_cascade(partner_id):
    listing_id = _create("Shield", "shield")
    service.partner_action(user=OWNER, listing_id=listing_id, action="submit")
    service.decide(admin=ADMIN, listing_id=listing_id, action="approve")
    assert [c["slug"] for c in browse()["items"]] == ["shield"]
    _suspend_without_cascade(partner_id)
    assert browse()["items"] == [] and browse(q="shield")["items"] == []
    for ref in (listing_id, "shield"):
        with pytest.raises(NotFound):
            service.public_listing(ref)
    # the cascade is re-runnable and finishes the job
    assert service.hide_partner_listings(partner_id=partner_id, actor=ADMIN) == 1
    assert service.hide_partner_listings(partner_id=partner_id, actor=ADMIN) == 0
    assert service.get_listing_for_owner_check(listing_id).status == "suspended"
    assert service.get_live_listings([listing_id]) == {}


def test_approval_checks_the_partner_inside_its_transaction(partner_id):
    listing_id = _create("Vault", "vault")
    service.partner_action(user=OWNER, listing_id=listing_id, action="submit")
    _suspend_without_cascade(partner_id)
    with pytest.raises(InvalidState):
        service.decide(admin=ADMIN, listing_id=listing_id, action="approve")
    assert service.get_listing_for_owner_check(listing_id).status == "submitted"
    assert browse()["items"] == []
