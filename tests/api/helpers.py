"""Small helpers for calling the API through chalice.test.Client with JSON and tokens."""
from __future__ import annotations

import json
from typing import Any

from tests.conftest import make_token


class Api:
    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, body: Any = None, *, sub: str | None = None,
             groups: list[str] | None = None, headers: dict | None = None, raw: str | bytes | None = None):
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if sub:
            all_headers["Authorization"] = f"Bearer {make_token(sub, groups)}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)
        response.data = json.loads(response.body) if response.body and response.headers.get(
            "Content-Type", "").startswith("application/json") else response.body
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


ADMIN = {"sub": "admin-1", "groups": ["admin"]}
FINANCE = {"sub": "finance-1", "groups": ["finance"]}


def apply_partner(api: Api, sub: str, **overrides) -> dict:
    body = {"display_name": f"Vendor {sub}", "contact_email": f"{sub}@example.com", "country": "DE", **overrides}
    response = api.post("/partners", body, sub=sub)
    assert response.status_code == 201, response.body
    return response.data


def approved_partner(api: Api, sub: str, **overrides) -> dict:
    partner = apply_partner(api, sub, **overrides)
    response = api.post(f"/admin/partners/{partner['partner_id']}/approve", {}, **ADMIN)
    assert response.status_code == 200, response.body
    return response.data
