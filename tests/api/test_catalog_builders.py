"""Builders for catalog API tests (draft, submit, publish with overridable defaults), and their own check."""
from __future__ import annotations

from contextlib import contextmanager

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


@contextmanager
def moto_copies_each_table_once():
    """Make moto back up each table once per TransactWriteItems instead of once per operation.

    moto 5.2.5 deep-copies the whole table for every operation of a transaction (to roll back on
    failure), so a publish, whose transaction writes the listing's ~20 catalog rows, costs ~20 table
    copies. Copying once gives the same rollback state (every copy is taken before anything changes)
    and keeps catalog tests fast; behaviour under test is unchanged.
    """
    import copy

    import moto.dynamodb.models as moto_models

    original = moto_models.DynamoDBBackend.transact_write_items

    class _OncePerTable:
        def __init__(self):
            self.copies: dict[int, object] = {}

        def deepcopy(self, obj, memo=None):
            if not isinstance(obj, moto_models.Table):
                return copy.deepcopy(obj, memo)
            if id(obj) not in self.copies:
                self.copies[id(obj)] = copy.deepcopy(obj, memo)
            return self.copies[id(obj)]

    def transact_write_items(self, transact_items):
        moto_models.copy = _OncePerTable()
        try:
            return original(self, transact_items)
        finally:
            moto_models.copy = copy

    moto_models.DynamoDBBackend.transact_write_items = transact_write_items
    try:
        yield
    finally:
        moto_models.DynamoDBBackend.transact_write_items = original


@pytest.fixture(autouse=True)
def _fast_moto_transactions():
    with moto_copies_each_table_once():
        yield
