"""The OpenAPI document as a reader and a client rely on it: examples everywhere and valid, error codes with
their statuses, shared components, servers per stage, links a stateful client can follow, Stripe's
webhooks, and the `/docs` page's assets. (`tests/browser/` renders `/docs` in Chromium.)"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chalicelib.core import errors
from chalicelib.http.openapi_examples import example_of

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def document():
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        return json.loads(client.http.get("/openapi.json").body)


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]
    for name, item in document.get("webhooks", {}).items():
        yield f"webhook {name}", item["post"]


def _resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        node = _at(document, node["$ref"])
    return node


def _expand(document, node, depth: int = 0):
    """`node` with the `$ref`s into components inlined (a few levels: enough to find a field name)."""
    if depth > 6:
        return node
    if isinstance(node, dict):
        if "$ref" in node:
            return _expand(document, _at(document, node["$ref"]), depth + 1)
        return {k: _expand(document, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(document, v, depth + 1) for v in node]
    return node


def _at(document, pointer: str):
    node = document
    for part in pointer.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _validator(document, schema) -> Draft202012Validator:
    """A validator whose `#/components/...` references resolve inside the document."""
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, DRAFT202012))
    return Draft202012Validator({"$ref": "urn:openapi#/__schema__"},
                                registry=registry.with_resource(
                                    "urn:openapi", Resource.from_contents({**document, "__schema__": schema},
                                                                          DRAFT202012)))


def _examples(document):
    """(where, schema, example) for every example of the document."""
    for name, op in _operations(document):
        for param in op.get("parameters", []):
            if "example" in param:
                yield f"{name} parameter {param['name']}", param["schema"], param["example"]
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "example" in body:
            yield f"{name} request", body["schema"], body["example"]
        for status, response in op["responses"].items():
            media = _resolve(document, response).get("content", {}).get("application/json", {})
            if "example" in media:
                yield f"{name} {status}", media["schema"], media["example"]


def test_every_operation_has_an_example_request_and_response(document):
    missing = []
    for name, op in _operations(document):
        body = op.get("requestBody", {}).get("content", {})
        if body and not any("example" in media for media in body.values()):
            missing.append(f"{name}: request body")
        for param in op.get("parameters", []):
            if param["in"] == "path" and "example" not in param:
                missing.append(f"{name}: path parameter {param['name']}")
        success = [s for s in op["responses"] if s.startswith("2")]
        shown = [s for s in success if "example" in op["responses"][s].get("content", {}).get("application/json", {})
                 or "application/json" not in op["responses"][s].get("content", {})]
        if not shown:
            missing.append(f"{name}: success response")
    assert missing == []


def test_every_example_validates_against_its_schema(document):
    checked, wrong = 0, []
    for where, schema, example in _examples(document):
        checked += 1
        problems = [e.message[:200] for e in _validator(document, schema).iter_errors(example)]
        if problems:
            wrong.append((where, problems[:3]))
    assert wrong == []
    assert checked > 3 * len(list(_operations(document)))  # params, requests, successes and errors


def test_the_validator_catches_a_wrong_example(document):
    """The check above is not vacuous: `$ref`s resolve and a bad value is refused."""
    money = {"$ref": "#/components/schemas/Money"}
    assert _validator(document, money).is_valid({"amount": 1999, "currency": "eur"})
    assert not _validator(document, money).is_valid({"amount": 19.99, "currency": "eur"})


def test_error_codes_are_an_enum_each_with_its_status(document):
    declared = {}
    pending = list(errors.DomainError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        declared[cls.code] = cls.status
    code = document["components"]["schemas"]["ErrorCode"]
    assert set(code["enum"]) == set(declared) | {"internal_error"}
    for name, status in declared.items():
        assert f"`{name}` {status}" in code["description"]
        response = document["components"]["responses"][f"Error{status}"]
        narrowed = response["content"]["application/json"]["schema"]["allOf"][1]
        assert narrowed["properties"]["error"]["properties"]["code"]["enum"] == sorted(
            c for c, s in declared.items() if s == status)
    error = document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert error["code"] == {"$ref": "#/components/schemas/ErrorCode"}


def test_an_error_code_with_the_wrong_status_breaks_the_schema(document):
    not_found = document["components"]["responses"]["Error404"]["content"]["application/json"]["schema"]
    body = {"error": {"code": "not_found", "message": "No such listing.", "details": [], "request_id": "r1"}}
    assert _validator(document, not_found).is_valid(body)
    body["error"]["code"] = "conflict"
    assert not _validator(document, not_found).is_valid(body)


def test_money_and_pages_are_shared_components(document):
    schemas = document["components"]["schemas"]
    assert {"Money", "Currency", "Page", "Error", "ErrorCode"} <= set(schemas)
    text = json.dumps(document["paths"])
    assert text.count('"#/components/schemas/Page"') >= 10
    assert text.count('"#/components/schemas/Money"') + text.count('"#/components/schemas/Currency"') >= 5
    browse = document["paths"]["/listings"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert browse["allOf"][0] == {"$ref": "#/components/schemas/Page"}


def _call_through_api_gateway(path: str, called_as: str) -> dict:
    """Invoke the app as API Gateway would, with `requestContext.path` as the client called it."""
    from app import app

    event = {
        "resource": path, "path": path, "httpMethod": "GET", "headers": {"Accept": "application/json"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": path, "httpMethod": "GET", "path": called_as, "stage": "api",
                           "requestId": "req-1", "identity": {"sourceIp": "127.0.0.1"}},
    }
    return json.loads(app(event, None)["body"])


def test_servers_follow_the_path_the_api_is_called_under(document):
    assert document["servers"][0]["url"] == "/"  # chalice local, no stage in the path
    assert _call_through_api_gateway("/openapi.json", "/api/openapi.json")["servers"][0]["url"] == "/api"
    assert _call_through_api_gateway("/openapi.json", "/prod/openapi.json")["servers"][0]["url"] == "/prod"
    assert _call_through_api_gateway("/openapi.json", "/openapi.json")["servers"][0]["url"] == "/"


def test_links_join_each_create_to_the_operations_that_use_its_id(document):
    by_id = {op["operationId"]: (name, op) for name, op in _operations(document)}
    linked = 0
    for name, op in _operations(document):
        for status, response in op["responses"].items():
            for link_name, link in response.get("links", {}).items():
                linked += 1
                assert link["operationId"] in by_id, (name, link_name)
                target_name, target = by_id[link["operationId"]]
                path_params = {p["name"] for p in target["parameters"] if p["in"] == "path"}
                given = link.get("parameters", {})
                assert {key.split(".", 1)[1] for key in given} == path_params, (name, link_name)
                for value in [*given.values(), *re.findall(r'"(\$response[^"]+)"', json.dumps(link))]:
                    if value.startswith("$response.body#/"):
                        field = value.rsplit("/", 1)[1]
                        schema = _resolve(document, response)["content"]["application/json"]["schema"]
                        assert f'"{field}"' in json.dumps(_expand(document, schema)), (name, field)
    assert linked >= 20
    creates = {"apply_as_partner": "approve_partner", "create_listing": "submit_my_listing",
               "place_order": "get_order", "create_review": "flag_review"}
    for create, target in creates.items():
        _, op = by_id[create]
        assert target in op["responses"]["201"]["links"], create


def test_webhooks_list_every_stripe_event_the_api_acts_on(document):
    from chalicelib.webhooks.service import HANDLERS

    assert set(document["webhooks"]) == set(HANDLERS)
    for event_type, item in document["webhooks"].items():
        example = item["post"]["requestBody"]["content"]["application/json"]["example"]
        assert example["type"] == event_type


@pytest.mark.parametrize("schema, name, expected", [
    ({"type": "string", "pattern": "^mpk_[a-z0-9]+$"}, "secret", "mpk_"),
    ({"type": "string", "format": "date"}, "", "2026-11-22"),
    ({"type": "integer", "minimum": 0, "maximum": 10000}, "bps", 2000),
    ({"type": "array", "minItems": 2, "uniqueItems": True, "items": {"type": "string"}}, "", None),
    ({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}},
                {"required": ["a"], "properties": {"a": {"minimum": 5}}}]}, "", {"a": 5}),
])
def test_generated_examples_fit_their_schema(schema, name, expected):
    value = example_of(schema, name)
    assert Draft202012Validator(schema).is_valid(value)
    if isinstance(expected, str):
        assert str(value).startswith(expected)
    elif expected is not None:
        assert value == expected


def test_the_docs_page_loads_only_its_own_assets():
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        page = client.http.get("/docs")
        script = client.http.get("/docs/redoc.standalone.js")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    html = page.body.decode()
    assert 'spec-url="openapi.json"' in html and 'src="docs/redoc.standalone.js"' in html
    assert "http://" not in html and "https://" not in html  # relative: works under /api/docs too
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert len(script.body) < 6 * 1024 * 1024 / 2  # far under Lambda's 6 MB response limit


def test_the_vendored_redoc_bundle_is_the_pinned_one():
    manifest = json.loads((ROOT / "chalicelib/docs_page/redoc.json").read_text())
    bundle = (ROOT / "chalicelib/docs_page" / manifest["file"]).read_bytes()
    assert hashlib.sha256(bundle).hexdigest() == manifest["sha256"]
    assert manifest["package"] == "redoc" and manifest["integrity"].startswith("sha512-")
    assert "MIT" in (ROOT / "chalicelib/docs_page/LICENSE.redoc").read_text()
