"""Partner routes: apply, own profile, the admin queue, decisions and commission rates."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from chalicelib.config import get_settings
from chalicelib.http.routing import Request, Router
from chalicelib.schemas import partners as schemas

if TYPE_CHECKING:
    from chalicelib.partners.model import Partner

router = Router("partners", tag="partners")
ADMIN = ("admin",)


def _dict(partner: Partner) -> dict:
    from chalicelib.partners.views import partner_dict

    return partner_dict(partner, get_settings().default_commission_bps)


@router.route(
    "/partners", "POST", summary="Apply to become a partner; the caller becomes its owner", body=schemas.APPLY_BODY,
    status=201, response=schemas.APPLY_RESPONSE, errors=(409,),
)
def apply_as_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.apply(user=req.user, **req.body))


@router.route("/partners/me", "GET", summary="The caller's partner profile", response=schemas.PARTNER, errors=(404,))
def get_my_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.partner_of(req.user))


@router.route(
    "/partners/me", "PATCH", summary="Edit the caller's partner profile (pending or approved partners)",
    body=schemas.UPDATE_BODY, response=schemas.PARTNER, errors=(404, 409),
)
def update_my_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.update_mine(user=req.user, changes=req.body))


@router.route(
    "/admin/partners", "GET", summary="Partners by status, oldest first (the applications queue)", auth=ADMIN,
    query=schemas.ADMIN_LIST_QUERY, response=schemas.PARTNER_PAGE,
)
def list_partners(req: Request) -> dict:
    from chalicelib.partners import service

    status = req.query.get("status")
    page = service.list_partners(status=status, limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))
    return {"items": [_dict(p) for p in page.items], "next_cursor": page.next_cursor}


@router.route(
    "/admin/partners/{partner_id}", "GET", summary="One partner, with its commission history", auth=ADMIN,
    response=schemas.PARTNER, errors=(404,),
)
def get_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.require_partner(req.params["partner_id"]))


@router.route(
    "/admin/partners/{partner_id}/approve", "POST", summary="Approve a pending partner", auth=ADMIN,
    body=schemas.EMPTY_OR_REASON, response=schemas.PARTNER, errors=(404, 409),
)
def approve_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.decide(
        admin=req.user, partner_id=req.params["partner_id"], action="approve", reason=req.body.get("reason"),
    ))


@router.route(
    "/admin/partners/{partner_id}/reject", "POST", summary="Reject a pending partner, with a reason", auth=ADMIN,
    body=schemas.REASON_BODY, response=schemas.PARTNER, errors=(404, 409),
)
def reject_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.decide(
        admin=req.user, partner_id=req.params["partner_id"], action="reject", reason=req.body["reason"],
    ))


@router.route(
    "/admin/partners/{partner_id}/suspend", "POST", summary="Suspend an approved partner, with a reason",
    auth=ADMIN, body=schemas.REASON_BODY, response=schemas.PARTNER, errors=(404, 409),
)
def suspend_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.decide(
        admin=req.user, partner_id=req.params["partner_id"], action="suspend", reason=req.body["reason"],
    ))


@router.route(
    "/admin/partners/{partner_id}/reinstate", "POST",
    summary="Reinstate a suspended partner, with a reason (its listings stay suspended until each is relisted)",
    auth=ADMIN, body=schemas.REASON_BODY, response=schemas.PARTNER, errors=(404, 409),
)
def reinstate_partner(req: Request) -> dict:
    from chalicelib.partners import service

    return _dict(service.decide(
        admin=req.user, partner_id=req.params["partner_id"], action="reinstate", reason=req.body["reason"],
    ))


@router.route(
    "/admin/partners/{partner_id}/commission", "PUT",
    summary="Schedule a commission rate (basis points) from a date on; history is kept",
    auth=("admin", "finance"), body=schemas.COMMISSION_BODY, response=schemas.PARTNER, errors=(404,),
)
def set_partner_commission(req: Request) -> dict:
    from chalicelib.partners import service

    partner = service.set_commission(
        actor=req.user, partner_id=req.params["partner_id"], bps=req.body["bps"],
        effective_from=date.fromisoformat(req.body["effective_from"]),
    )
    return _dict(partner)
