"""Payout routes: a partner's payout account and payouts, finance's payout runs, the local Connect sandbox."""
from __future__ import annotations

from chalicelib.config import API_PAYOUT_RUN_SECONDS, get_settings
from chalicelib.core.deadlines import TimeLeft
from chalicelib.core.errors import NotFound
from chalicelib.http.routing import PUBLIC, Reply, Request, Router
from chalicelib.schemas import payouts as schemas

router = Router("payouts", tag="money")
FINANCE = ("finance",)


def _base_url(req: Request) -> str:
    proto = req.headers.get("x-forwarded-proto", "http")
    return f"{proto}://{req.headers.get('host', '127.0.0.1:8000')}"


@router.route(
    "/partners/me/payout-account", "POST",
    summary="Create (once) the partner's Stripe Connect Express account; returns it with an onboarding link "
            "(201 when created, 200 with a fresh link afterwards)",
    body=schemas.PAYOUT_ACCOUNT_BODY, status=201, response=schemas.PAYOUT_ACCOUNT, errors=(404, 409),
)
def create_payout_account(req: Request) -> Reply:
    from chalicelib.payouts import accounts
    from chalicelib.payouts.gateway import connect_gateway

    body, created = accounts.create_payout_account(user=req.user, base_url=_base_url(req), gateway=connect_gateway())
    return Reply(body, status=201 if created else 200)


@router.route(
    "/connect-sandbox/onboard/{account_id}", "GET",
    summary="Local stage only: the Connect sandbox's onboarding link; opening it completes onboarding as "
            "Stripe's `account.updated` would (payouts enabled)",
    auth=PUBLIC, query=schemas.SANDBOX_ONBOARD_QUERY, response=schemas.SANDBOX_ONBOARDED,
)
def complete_sandbox_onboarding(req: Request) -> dict:
    from chalicelib.payouts import accounts
    from chalicelib.payouts.gateway import connect_gateway

    if not get_settings().is_local:
        raise NotFound("There is no Connect sandbox in this stage.")
    from chalicelib.payouts.sandbox import ConnectSandbox

    gateway = connect_gateway()
    sandbox = gateway if isinstance(gateway, ConnectSandbox) else ConnectSandbox()
    account = sandbox.complete_onboarding(req.params["account_id"], req.query["token"])
    partner = accounts.apply_account_update(account.account_id, payouts_enabled=True, source="connect_sandbox")
    return {"account_id": account.account_id, "partner_id": partner.partner_id if partner else None,
            "payouts_enabled": True}


def _run_result(run) -> dict:
    from chalicelib.payouts import repository

    return {**run.to_dict(),
            "payouts": [p.to_dict() for p in repository.run_payouts(run.run_id)],
            "skipped": [s.to_dict() for s in repository.run_skips(run.run_id)]}


@router.route(
    "/finance/payout-runs", "POST",
    summary="Run payouts now: one transfer per eligible partner and currency (available >= MIN_PAYOUT); "
            "skipped partners are listed with the reason",
    auth=FINANCE, body=schemas.RUN_BODY, status=201, response=schemas.RUN,
)
def create_payout_run(req: Request) -> dict:
    from chalicelib.payouts import service
    from chalicelib.payouts.gateway import connect_gateway

    run = service.run_payouts(actor=req.user.sub, roles=req.user.groups, currency=req.body.get("currency"),
                              gateway=connect_gateway(), time_left=TimeLeft.for_seconds(API_PAYOUT_RUN_SECONDS))
    return _run_result(run)


@router.route(
    "/finance/payout-runs/{run_id}", "GET", summary="A payout run with its payouts and skipped partners",
    auth=FINANCE, response=schemas.RUN, errors=(404,),
)
def get_payout_run(req: Request) -> dict:
    from chalicelib.payouts import service

    return _run_result(service.require_run(req.params["run_id"]))


@router.route(
    "/partner/payouts", "GET", summary="The caller's partner's payouts, newest first",
    query=schemas.PAYOUTS_QUERY, response=schemas.PAYOUT_PAGE, errors=(404,),
)
def list_partner_payouts(req: Request) -> dict:
    from chalicelib.partners.service import partner_of
    from chalicelib.payouts import repository

    partner = partner_of(req.user)
    page = repository.partner_payouts(partner.partner_id, limit=req.query.get("limit", 20),
                                      cursor=req.query.get("cursor"))
    return {"items": [p.to_dict() for p in page.items], "next_cursor": page.next_cursor}
