"""`GET /partner/events`: the caller's partner's events in commit order, for pollers (user token or an
`events:read` key)."""
from __future__ import annotations

from chalicelib.core.errors import field_error
from chalicelib.core.vocabulary import PARTNER_EVENT_TYPES
from chalicelib.http.routing import Request, Router
from chalicelib.schemas import partner_feed as schemas

router = Router("partner_feed", tag="partner-pathways")


@router.route(
    "/partner/events", "GET",
    summary="The caller's partner's events in commit order after the event `after`, optionally of some `types`; "
            "pass `next_cursor` back as `after` to follow the feed without gaps",
    query=schemas.EVENTS_QUERY, response=schemas.EVENTS_PAGE, errors=(403, 404), key_scope="events:read",
)
def list_partner_events(req: Request) -> dict:
    from chalicelib.partner_feed import feed
    from chalicelib.partners.service import partner_of

    types = None
    if req.query.get("types"):
        types = [t for t in req.query["types"].split(",") if t]
        unknown = sorted(set(types) - set(PARTNER_EVENT_TYPES))
        if unknown:
            raise field_error("types", f"unknown event types: {', '.join(unknown)}")
    partner = partner_of(req.user)
    return feed.list_events(partner.partner_id, after=req.query.get("after"), types=types,
                            limit=req.query.get("limit", 20))
