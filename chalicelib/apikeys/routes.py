"""API-key routes: a partner's owner creates, lists and revokes the keys its systems use.

None of them declares a `key_scope`: only a person's token manages keys (a key gets 403).
"""
from __future__ import annotations

from chalicelib.http.routing import Request, Router
from chalicelib.schemas import apikeys as schemas

router = Router("apikeys", tag="partner-pathways")


@router.route(
    "/partner/api-keys", "POST",
    summary="Create an API key for the caller's partner (owner, user token only); the secret is shown only here",
    body=schemas.CREATE_BODY, status=201, response=schemas.CREATED, errors=(403, 404, 409),
)
def create_api_key(req: Request) -> dict:
    from chalicelib.apikeys import service

    key, secret = service.create_key(user=req.user, name=req.body["name"], scopes=req.body["scopes"])
    return {**key.to_dict(), "secret": secret}


@router.route(
    "/partner/api-keys", "GET", summary="The caller's partner's API keys, oldest first (never a secret)",
    query=schemas.LIST_QUERY, response=schemas.KEY_PAGE, errors=(403, 404),
)
def list_api_keys(req: Request) -> dict:
    from chalicelib.apikeys import service

    page = service.list_keys(user=req.user, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))
    return {"items": [k.to_dict() for k in page.items], "next_cursor": page.next_cursor}


@router.route(
    "/partner/api-keys/{key_id}", "DELETE",
    summary="Revoke an API key: it answers 401 from the next request on (revoking again answers the same)",
    response=schemas.KEY, errors=(403, 404),
)
def revoke_api_key(req: Request) -> dict:
    from chalicelib.apikeys import service

    return service.revoke_key(user=req.user, key_id=req.params["key_id"]).to_dict()
