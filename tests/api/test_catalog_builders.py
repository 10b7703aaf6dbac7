"""Builders for catalog API tests (draft, submit, publish with overridable defaults), and their own check."""
from __future__ import annotations

import pytest

from tests.api.helpers import ADMIN, Api


def app_body(**overrides) -> dict:
    body = {
        "type": "app", "name": "Chart Wizard", "summary": "Charts for everyone", "category": "analytics",
        "tags": ["charts", "BI"], "price": {"amount": 1000, "currency": "usd"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def create_listing(api: Api, sub: str, **overrides) -> dict:
    response = api.post("/partner/listings", app_body(**overrides), sub=sub)
    assert response.status_code == 201, response.body
    return response.data


def publish(api: Api, sub: str, **overrides) -> dict:
    listing = create_listing(api, sub, **overrides)
    submitted = api.post(f"/partner/listings/{listing['listing_id']}/submit", {}, sub=sub)
    assert submitted.status_code == 200, submitted.body
    approved = api.post(f"/admin/listings/{listing['listing_id']}/approve", {}, **ADMIN)
    assert approved.status_code == 200, approved.body
    return approved.data


def bundle_body(components: list[str], **overrides) -> dict:
    defaults = {"type": "bundle", "name": "Starter Pack", "tags": ["bundle"], "components": components,
                "price": {"amount": 1500, "currency": "usd"}}
    return app_body(**{**defaults, **overrides})


def test_builders_publish_a_listing_the_catalog_shows(client):
    from tests.api.helpers import approved_partner

    api = Api(client)
    approved_partner(api, "builder")
    listing = publish(api, "builder")
    assert listing["status"] == "published"
    assert [c["listing_id"] for c in api.get("/listings").data["items"]] == [listing["listing_id"]]


@pytest.fixture(autouse=True)
def _fast_moto_transactions():
    """Kept for the modules that import it; tests/conftest.py now applies scripts/moto_speedups.py to the
    whole suite (one table copy per transaction), which this fixture used to patch in locally."""
    yield
