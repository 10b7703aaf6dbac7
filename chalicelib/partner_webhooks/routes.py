"""Webhook endpoint routes: register, list, remove, the delivery log, and replay (user token or a
`webhooks:manage` key); every one acts on the caller's partner only."""
from __future__ import annotations

from chalicelib.http.routing import Request, Router
from chalicelib.schemas import partner_webhooks as schemas

router = Router("partner_webhooks", tag="partner-pathways")
ENDPOINT = "/partner/webhook-endpoints/{endpoint_id}"


def _partner_id(req: Request) -> str:
    from chalicelib.partners.service import partner_of

    return partner_of(req.user).partner_id


@router.route(
    "/partner/webhook-endpoints", "POST",
    summary="Register a webhook endpoint for some event types; the signing secret (whsec_…) is shown only here",
    body=schemas.CREATE_BODY, status=201, response=schemas.CREATED, errors=(403, 404, 409),
    key_scope="webhooks:manage",
)
def create_webhook_endpoint(req: Request) -> dict:
    from chalicelib.partner_webhooks import endpoints

    return endpoints.create(partner_id=_partner_id(req), url=req.body["url"], events=req.body["events"])


@router.route(
    "/partner/webhook-endpoints", "GET", summary="The caller's partner's webhook endpoints (never a secret)",
    response=schemas.ENDPOINT_LIST, errors=(400, 403, 404), key_scope="webhooks:manage",
)
def list_webhook_endpoints(req: Request) -> dict:
    from chalicelib.partner_webhooks import endpoints

    return endpoints.list_mine(partner_id=_partner_id(req))


@router.route(
    ENDPOINT, "DELETE", summary="Remove a webhook endpoint; its pending deliveries stop",
    response=schemas.DELETED, errors=(400, 403, 404), key_scope="webhooks:manage",
)
def delete_webhook_endpoint(req: Request) -> dict:
    from chalicelib.partner_webhooks import endpoints

    return endpoints.remove(partner_id=_partner_id(req), endpoint_id=req.params["endpoint_id"])


@router.route(
    f"{ENDPOINT}/deliveries", "GET",
    summary="The endpoint's delivery log, newest event first: attempts, status, last status code, next attempt",
    query=schemas.DELIVERIES_QUERY, response=schemas.DELIVERY_PAGE, errors=(403, 404),
    key_scope="webhooks:manage",
)
def list_webhook_deliveries(req: Request) -> dict:
    from chalicelib.partner_webhooks import endpoints

    return endpoints.deliveries(partner_id=_partner_id(req), endpoint_id=req.params["endpoint_id"],
                                limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))


@router.route(
    f"{ENDPOINT}/replay", "POST",
    summary="Deliver the endpoint's events after `after` again (absent: all since it was registered); "
            "runs on the job queue",
    body=schemas.REPLAY_BODY, status=202, response=schemas.REPLAY_ACCEPTED, errors=(403, 404),
    key_scope="webhooks:manage",
)
def replay_webhook_deliveries(req: Request) -> dict:
    from chalicelib.partner_webhooks import endpoints

    return endpoints.replay(partner_id=_partner_id(req), endpoint_id=req.params["endpoint_id"],
                            after=req.body.get("after"))
