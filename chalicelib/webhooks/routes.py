"""The Stripe webhook endpoint: public, authenticated by its signature over the raw body."""
from __future__ import annotations

from chalicelib.http.routing import PUBLIC, Request, Router
from chalicelib.schemas import orders as schemas

router = Router("webhooks", tag="webhooks")


@router.route(
    "/webhooks/stripe", "POST", summary="Stripe events (signed); each takes effect once, unknown types ignored",
    auth=PUBLIC, raw=True, response=schemas.WEBHOOK_RESPONSE, errors=(400, 404),
)
def stripe_webhook(req: Request) -> dict:
    from chalicelib.webhooks import service

    return service.handle(req.raw_body, req.headers.get("stripe-signature"))
