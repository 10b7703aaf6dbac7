"""The HTTP platform: health, the OpenAPI document matching the routes, auth at the edge, error shape."""
from __future__ import annotations

import pytest

from tests.factories import Api


@pytest.fixture
def api(client):
    return Api(client)


def test_health(api):
    response = api.get("/health")
    assert response.status_code == 200
    assert response.data["status"] == "ok" and response.data["version"]


def _app_routes() -> set[tuple[str, str]]:
    from app import app

    return {(path, method) for path, methods in app.routes.items() for method in methods}


def _document_routes(document) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}


def test_openapi_document_names_exactly_the_routes(api):
    document = api.get("/openapi.json").data
    assert document["openapi"].startswith("3.1")
    assert _document_routes(document) == _app_routes()


def test_openapi_document_is_valid():
    from openapi_spec_validator import validate

    from chalicelib.http.openapi import build_document

    validate(build_document())


def test_route_missing_from_document_is_detected(monkeypatch):
    """The check above would catch a route registered outside Router (and so outside the document)."""
    from chalicelib.http import routing
    from chalicelib.http.openapi import build_document

    monkeypatch.setattr(routing, "ROUTES", routing.ROUTES[1:])
    import chalicelib.http.openapi as openapi

    monkeypatch.setattr(openapi, "ROUTES", routing.ROUTES)
    assert _document_routes(build_document()) != _app_routes()


def test_request_schemas_in_document_are_the_validators():
    from chalicelib.http.openapi import build_document
    from chalicelib.http.routing import ROUTES

    document = build_document()
    for spec in ROUTES:
        if spec.body is not None:
            op = document["paths"][spec.path][spec.method.lower()]
            assert op["requestBody"]["content"]["application/json"]["schema"] is spec.body


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer garbage", "Token abc"])
def test_protected_route_without_valid_token_is_401_in_contract_shape(api, header):
    headers = {"Authorization": header} if header is not None else {}
    response = api.get("/partners/me", headers=headers)
    assert response.status_code == 401
    assert response.data["error"]["code"] == "unauthorized"
    assert isinstance(response.data["error"]["message"], str)
    assert response.data["error"]["details"] == []


def test_unknown_query_parameter_on_route_without_query_is_400(api):
    response = api.get("/partners/me?x=1", sub="alice")
    assert response.status_code == 400
    assert response.data["error"]["details"][0]["field"] == "x"


def test_body_on_bodyless_route_is_refused(api):
    response = api.call("GET", "/health", {"unexpected": True})
    assert response.status_code == 400
