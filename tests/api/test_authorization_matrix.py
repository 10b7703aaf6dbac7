"""Runs the authorization matrix (`authz_matrix.CASES`) against the app, and holds it to `app.routes`.

The world (the partner, the customer with a paid order and a review, the other customer and partner,
an applicant; moto table, fake Stripe, Connect sandbox) is built once per module through the API, and
each case starts from a copy of it, so cases that change state cannot disturb each other (~0.3 s a case
instead of ~3 s for a rebuild). Personas expected to be refused call first, and the stored items and
Stripe calls must be the same after them as before; every refusal must carry the contract's error
code. All mismatches of a case are reported together (persona: got, expected) so one run shows the row.

The two key personas call with `Bearer mpk_...` secrets of the partner's keys made when the world is
built: one key per scope holding only it, one per scope holding all the others, and one holding all.
Which one a persona uses follows from the route's declared `key_scope`. A key persona that the matrix
allows acts as the partner would, so it calls on a fresh copy of the world (the partner's own call may
already have moved a listing along its lifecycle).
"""
from __future__ import annotations

import copy
import itertools
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest

from tests import ddb_calls
from tests.api import authz_matrix as m
from tests.factories import (
    Api, apply_partner, approved_partner, new_key, pay, place_order, publish_app, signed_event, use_test_secrets,
)
from tests.conftest import make_token

ERROR_CODES = {401: {"unauthorized"}, 403: {"forbidden"}, 404: {"not_found"}, 400: {"validation_error"},
               409: {"conflict", "invalid_state", "already_owned", "idempotency_conflict"}}
CASE_IDS = [c.id for c in m.CASES]


def _sub(persona: str) -> str:
    identity = m.IDENTITIES[persona]
    assert identity is not None
    return identity[0]


class Builder:
    """Builds the world and the few states a case needs first (a reply to edit, a hidden review...)."""

    def __init__(self, api: Api, gateway):
        self.api, self.gateway = api, gateway
        self.world = m.World()

    def ok(self, response, *statuses: int):
        assert response.status_code in (statuses or (200, 201)), response.body
        return response.data

    def build_world(self) -> m.World:
        api, w = self.api, m.World()
        partner, other, customer = _sub(m.PARTNER), _sub(m.OTHER_PARTNER), _sub(m.CUSTOMER)
        w.partner_id = approved_partner(api, partner)["partner_id"]
        w.other_partner_id = approved_partner(api, other)["partner_id"]
        w.applicant_id = apply_partner(api, m.APPLICANT)["partner_id"]
        w.listing_id = publish_app(api, partner, name="Authz App", price=1000)["listing_id"]
        w.second_listing_id = publish_app(api, partner, name="Authz Second App", price=300)["listing_id"]
        w.other_listing_id = publish_app(api, other, name="Authz Other App", price=500)["listing_id"]
        w.draft_id = self.ok(api.post("/partner/listings", m._app_body(w, "draft"), sub=partner))["listing_id"]
        w.submitted_id = self.ok(api.post("/partner/listings", m._app_body(w, "submitted"), sub=partner))["listing_id"]
        self.ok(api.post(f"/partner/listings/{w.submitted_id}/submit", {}, sub=partner))
        order = self.ok(place_order(api, customer, [w.listing_id]), 201)
        self.ok(pay(api, self.gateway, order))
        w.order_id = order["order_id"]
        assert self.ok(api.get(f"/orders/{w.order_id}", sub=customer))["status"] == "paid"
        w.review_id = self.ok(api.post(f"/listings/{w.listing_id}/reviews", m.REVIEW, sub=customer), 201)["review_id"]
        account = self.ok(api.post("/partners/me/payout-account", {}, sub=partner), 201)
        w.account_id = account["stripe_account_id"]
        w.onboarding_token = parse_qs(urlparse(account["onboarding_url"]).query)["token"][0]
        w.extra["signed_event"] = self.signed_unknown_event
        w.extra["keys"] = self.make_keys(partner)
        w.key_id = self.ok(api.post("/partner/api-keys", {"name": "Revocable", "scopes": ["sales:read"]},
                                    sub=partner), 201)["key_id"]
        w.licence = self.ok(api.get(f"/me/entitlements/{w.listing_id}/licence", sub=customer))["licence"]
        return w

    def make_keys(self, partner: str) -> dict:
        """The partner's keys for the two key personas, by (kind, scope)."""
        from chalicelib.core.vocabulary import API_KEY_SCOPES

        def key(scopes) -> str:
            body = {"name": "Matrix key", "scopes": list(scopes)}
            return self.ok(self.api.post("/partner/api-keys", body, sub=partner), 201)["secret"]

        keys: dict = {("all", None): key(API_KEY_SCOPES)}
        for scope in API_KEY_SCOPES:
            keys[("only", scope)] = key([scope])
            keys[("without", scope)] = key([s for s in API_KEY_SCOPES if s != scope])
        return keys

    def fresh(self) -> None:
        """Put the world back as it was built (a key persona then acts on it as the partner did)."""
        self.restore()

    @staticmethod
    def signed_unknown_event(persona: str) -> tuple[bytes, dict[str, str]]:
        raw, header = signed_event("customer.created", {"id": f"cus_{persona}", "object": "customer"},
                                   event_id=f"evt_authz_{persona}_{time.time_ns()}")
        return raw, {"Stripe-Signature": header}

    # --- prepare steps named by the matrix ---------------------------------------------------------
    def reply(self, w: m.World) -> None:
        self.ok(self.api.post(f"/partner/reviews/{w.review_id}/reply", {"body": "Thanks!"}, sub=_sub(m.PARTNER)), 201)

    def hide(self, w: m.World) -> None:
        self.ok(self.api.post(f"/admin/reviews/{w.review_id}/hide", m.REASON, sub=_sub(m.ADMIN), groups=["admin"]))

    def pending_order(self, w: m.World) -> str:
        return self.ok(place_order(self.api, _sub(m.CUSTOMER), [w.other_listing_id]), 201)["order_id"]

    def run(self, w: m.World) -> str:
        started = self.api.post("/finance/payout-runs", {}, sub=_sub(m.FINANCE), groups=["finance"])
        return self.ok(started, 202)["payout_run_id"]

    def reconciliation(self, w: m.World) -> str:
        body = {"from": "2026-01-01", "to": "2026-01-31"}
        created = self.ok(self.api.post("/finance/reconciliations", body, sub=_sub(m.FINANCE), groups=["finance"]), 202)
        return created["reconciliation_id"]


@pytest.fixture(scope="module")
def built():
    """One world per module: built once, then each case starts from a copy of it (see `builder`)."""
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from chalicelib.db.table import MarketItem, create_table
    from chalicelib.payments.gateway import set_gateway
    from chalicelib.reconciliation.sources import use_listing
    from tests.fakes import FakeGateway, FakeStripeListing

    from chalicelib.jobs import queue
    from scripts.job_poller import ensure_queues

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        MarketItem._connection = None
        queue.reset()
        create_table()
        ensure_queues()  # routes that hand work to the job queue (a rename's catalog copies) need it
        use_test_secrets(patch)
        use_listing(FakeStripeListing())
        gateway = FakeGateway()
        set_gateway(gateway)
        try:
            with Client(app) as client:
                builder = Builder(Api(client), gateway)
                world = builder.build_world()
                yield builder, world, copy.deepcopy(_moto_tables()), _gateway_state(gateway)
        finally:
            set_gateway(None)
            use_listing(None)
            MarketItem._connection = None
            queue.reset()


def _moto_tables() -> dict:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables


def _gateway_state(gateway) -> dict:
    return {name: dict(getattr(gateway, name)) for name in ("intents", "refunds", "disputes", "_idempotent")}


@pytest.fixture
def builder(built):
    """The module's world as it was built: the table copied back, a fake Stripe with the same state."""
    from chalicelib.payments.gateway import set_gateway
    from tests.fakes import FakeGateway

    builder, world, tables, gateway_state = built
    live = _moto_tables()
    live.clear()
    live.update(copy.deepcopy(tables))
    gateway = FakeGateway()
    for name, value in gateway_state.items():
        setattr(gateway, name, dict(value))
    gateway._seq = itertools.count(next(_fresh_ids))  # never reuse an id the world already holds
    set_gateway(gateway)
    builder.gateway = gateway
    builder.world = world
    builder.restore = lambda: (live.clear(), live.update(copy.deepcopy(tables)))
    with ddb_calls.recording() as log:
        yield builder
    assert "Scan" not in log.calls, "a request path issued a DynamoDB Scan"


_fresh_ids = itertools.count(100_000, 100_000)


def key_scope(case: m.Case) -> str | None:
    """The scope the route declares for API keys (None: keys may not call it)."""
    from chalicelib.http.routing import ROUTES

    return next((s.key_scope for s in ROUTES if (s.method, s.path) == case.route), None)


def key_secret(world: m.World, case: m.Case, persona: str) -> str:
    scope = key_scope(case)
    if scope is None:
        return world.extra["keys"][("all", None)]
    return world.extra["keys"][("only" if persona == m.SCOPED_KEY else "without", scope)]


def call(api: Api, case: m.Case, world: m.World, persona: str, params: dict[str, str]):
    path = case.path.format(**params) + case.query(world)
    headers: dict[str, str] = {}
    identity = m.IDENTITIES[persona]
    if identity is not None:
        headers["Authorization"] = f"Bearer {make_token(identity[0], identity[1])}"
    if persona in m.KEY_PERSONAS:
        headers["Authorization"] = f"Bearer {key_secret(world, case, persona)}"
    if case.idempotency_key:
        headers["Idempotency-Key"] = new_key()
    if case.raw is not None:
        raw, extra = case.raw(world, persona)
        return api.call(case.method, path, headers={**headers, **extra}, raw=raw)
    body = case.body(world, persona) if case.body else None
    return api.call(case.method, path, body, headers=headers)


REFUSALS = (400, 401, 403, 404)


def _order(case: m.Case) -> list[str]:
    """Refusals first: they must change nothing, which is checked before the allowed calls run."""
    return sorted(m.PERSONAS, key=lambda p: (case.expect[p] not in REFUSALS, m.PERSONAS.index(p)))


def _stored_state(builder: Builder) -> tuple:
    """Every stored item (read from moto's memory, not through DynamoDB calls) and Stripe's call count."""
    items = sorted(json.dumps(item.to_json(), sort_keys=True, default=str)
                   for table in _moto_tables().values() for item in table.all_items())
    return tuple(items), len(builder.gateway.calls)


@pytest.mark.parametrize("case", m.CASES, ids=CASE_IDS)
def test_route_answers_each_persona_as_the_matrix_says(builder, case):
    mismatches = run_case(builder, case)
    assert not mismatches, "\n".join(mismatches)


def run_case(builder: Builder, case: m.Case) -> list[str]:
    """Every persona's call of one case, in order; the mismatches, or [] when the row holds."""
    world = builder.world
    params = case.params(world)
    if case.prepare is not None:
        params = {**params, **case.prepare(builder, world)}
    mismatches = []
    before = _stored_state(builder)
    refused = True
    for persona in _order(case):
        if refused and case.expect[persona] not in REFUSALS:
            refused = False
            if _stored_state(builder) != before:
                mismatches.append("a refused call changed the stored state or called Stripe")
        if persona in m.KEY_PERSONAS and case.expect[persona] not in REFUSALS and hasattr(builder, "restore"):
            builder.fresh()  # the key acts as the partner would, on the world as it was built
            params = case.params(world)
            if case.prepare is not None:
                params = {**params, **case.prepare(builder, world)}
        response = call(builder.api, case, world, persona, params)
        want, got = case.expect[persona], response.status_code
        if got != want:
            mismatches.append(f"{persona}: got {got}, expected {want}: {str(response.body)[:200]}")
        elif got in ERROR_CODES and case.raw is None:
            code = (response.data or {}).get("error", {}).get("code") if isinstance(response.data, dict) else None
            if code not in ERROR_CODES[got]:
                mismatches.append(f"{persona}: {got} with error code {code!r}, expected one of {ERROR_CODES[got]}")
    if refused and _stored_state(builder) != before:
        mismatches.append("a refused call changed the stored state or called Stripe")
    return [f"{case.id}: {x}" for x in mismatches]


# --- the matrix against the app's own routes --------------------------------------------------------
def _app_routes() -> set[tuple[str, str]]:
    from app import app

    return {(method, path) for path, methods in app.routes.items() for method in methods}


def test_every_route_of_the_app_is_in_the_matrix():
    missing = _app_routes() - {c.route for c in m.CASES}
    assert not missing, "routes nobody decided the authorization of: " + ", ".join(
        f"{mth} {p}" for mth, p in sorted(missing, key=lambda r: (r[1], r[0])))


def test_the_matrix_names_only_routes_that_exist():
    unknown = {c.route for c in m.CASES} - _app_routes()
    assert not unknown, "matrix rows for routes the app does not have: " + ", ".join(
        f"{mth} {p}" for mth, p in sorted(unknown, key=lambda r: (r[1], r[0])))


def test_each_case_decides_every_persona_and_is_listed_once():
    assert len(CASE_IDS) == len(set(CASE_IDS)), "a route is listed twice without a distinct variant"
    for case in m.CASES:
        assert set(case.expect) == set(m.PERSONAS), case.id
        assert all(100 <= s < 600 for s in case.expect.values()), case.id


def test_path_parameters_of_each_case_fill_its_template():
    import string

    world = m.World(**{f: f"x-{f}" for f in ("partner_id", "other_partner_id", "applicant_id", "listing_id",
                                            "other_listing_id", "draft_id", "submitted_id", "order_id",
                                            "review_id", "account_id", "key_id")})
    for case in m.CASES:
        names = {name for _, name, _, _ in string.Formatter().parse(case.path) if name}
        given = set(case.params(world))
        if case.prepare is None:
            assert given == names, case.id
        else:
            assert given <= names, case.id


def test_the_matrix_catches_a_route_left_out(monkeypatch):
    """The coverage check is not vacuous: drop a row and it names the route."""
    monkeypatch.setattr(m, "CASES", tuple(c for c in m.CASES if c.route != ("GET", "/partner/balance")))
    with pytest.raises(AssertionError, match="GET /partner/balance"):
        test_every_route_of_the_app_is_in_the_matrix()


def test_the_runner_reports_a_wrong_cell(builder):
    """The runner is not vacuous: a cell that expects the wrong status is reported with what came back."""
    from dataclasses import replace

    case = next(c for c in m.CASES if c.route == ("GET", "/orders/{order_id}"))
    wrong = replace(case, expect={**case.expect, m.OTHER_CUSTOMER: 200})
    reported = run_case(builder, wrong)
    assert len(reported) == 1
    assert reported[0].startswith("GET /orders/{order_id}: other_customer: got 404, expected 200: ")


def test_the_runner_reports_a_refusal_that_wrote(builder):
    """A persona the matrix expects to be refused, whose call succeeds and writes, is caught twice over."""
    from dataclasses import replace

    case = next(c for c in m.CASES if c.route == ("POST", "/partners"))
    wrong = replace(case, expect={**case.expect, m.CUSTOMER: 403})
    reported = run_case(builder, wrong)
    assert reported[0].startswith("POST /partners: customer: got 201, expected 403")
    assert reported[1:] == ["POST /partners: a refused call changed the stored state or called Stripe"]


def _forged_tokens() -> dict[str, str]:
    import jwt

    from chalicelib.config import get_settings

    settings, now = get_settings(), int(time.time())
    claims = {"sub": _sub(m.ADMIN), "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
              "exp": now + 600, "groups": ["admin", "finance"]}
    secret = settings.jwt_local_secret
    return {
        "another key": jwt.encode(claims, "not-the-stage-secret-but-long-enough", algorithm="HS256"),
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, secret, algorithm="HS256"),
        "another audience": jwt.encode({**claims, "aud": "someone-else"}, secret, algorithm="HS256"),
        "unsigned": jwt.encode(claims, None, algorithm="none"),
    }


def test_a_forged_or_expired_token_is_401_on_every_route_anonymous_callers_cannot_use(builder):
    """Every route the matrix closes to anonymous callers refuses a bad token the same way, admin claims or not."""
    world, wrong = builder.world, []
    tokens = _forged_tokens()
    for case in (c for c in m.CASES if c.expect[m.ANONYMOUS] == 401):
        names = [n for n in case.path.split("/") if n.startswith("{")]
        path = case.path.format(**{n.strip("{}"): "x" for n in names}) + case.query(world)
        for kind, token in tokens.items():
            response = builder.api.call(case.method, path, headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 401 or response.data["error"]["code"] != "unauthorized":
                wrong.append(f"{case.id} with a token ({kind}): {response.status_code}")
    assert not wrong, "\n".join(wrong)
