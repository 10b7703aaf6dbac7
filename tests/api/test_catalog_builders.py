"""The catalog builders of tests/factories.py make what the catalog shows: a check the other tests rely on."""
from __future__ import annotations

from tests.factories import Api, approved_partner, publish


def test_builders_publish_a_listing_the_catalog_shows(client):
    api = Api(client)
    approved_partner(api, "builder")
    listing = publish(api, "builder")
    assert listing["status"] == "published"
    assert [c["listing_id"] for c in api.get("/listings").data["items"]] == [listing["listing_id"]]
