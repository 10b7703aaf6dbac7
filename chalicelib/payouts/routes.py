"""Payout routes: a partner's payout account and payouts, finance's payout runs, the local Connect sandbox."""
from __future__ import annotations

from chalicelib.config import get_settings
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


@router.route(
    "/finance/payout-runs", "POST",
    summary="Start a payout run (202 at once; queued jobs pay each eligible partner its available balance, "
            "once). Without `currency` the run pays every currency and collides with any open run; a second "
            "run for a currency while one is open is 409 `conflict`",
    auth=FINANCE, body=schemas.RUN_BODY, status=202, response=schemas.RUN_SUMMARY, errors=(409, 503),
)
def create_payout_run(req: Request) -> dict:
    from chalicelib.payouts import runs

    run = runs.start_run(actor=req.user.sub, roles=req.user.groups, currency=req.body.get("currency"))
    return run.to_dict()


@router.route(
    "/finance/payout-runs", "GET", summary="Payout runs, newest first, with their progress",
    auth=FINANCE, query=schemas.RUNS_QUERY, response=schemas.RUN_PAGE,
)
def list_payout_runs(req: Request) -> dict:
    from chalicelib.payouts import repository

    page = repository.runs_page(limit=req.query.get("limit", 20), cursor=req.query.get("cursor"))
    return {"items": [run.to_dict() for run in page.items], "next_cursor": page.next_cursor}


@router.route(
    "/finance/payout-runs/{run_id}", "GET",
    summary="A payout run: status, progress, its payouts and the partners it skipped with the reason "
            "(each list paged by its own cursor)",
    auth=FINANCE, query=schemas.RUN_QUERY, response=schemas.RUN, errors=(404,),
)
def get_payout_run(req: Request) -> dict:
    from chalicelib.payouts import repository, runs

    run = runs.require_run(req.params["run_id"])
    limit = req.query.get("limit", 20)
    payouts = repository.run_payouts_page(run.run_id, limit=limit, cursor=req.query.get("payouts_cursor"))
    skipped = repository.run_skips_page(run.run_id, limit=limit, cursor=req.query.get("skipped_cursor"))
    return {**run.to_dict(), "payouts": [p.to_dict() for p in payouts.items],
            "payouts_next_cursor": payouts.next_cursor, "skipped": [s.to_dict() for s in skipped.items],
            "skipped_next_cursor": skipped.next_cursor}


@router.route(
    "/partner/payouts", "GET", summary="The caller's partner's payouts, newest first",
    query=schemas.PAYOUTS_QUERY, response=schemas.PAYOUT_PAGE, errors=(404,), key_scope="sales:read",
)
def list_partner_payouts(req: Request) -> dict:
    from chalicelib.partners.service import partner_of
    from chalicelib.payouts import repository

    partner = partner_of(req.user)
    page = repository.partner_payouts(partner.partner_id, limit=req.query.get("limit", 20),
                                      cursor=req.query.get("cursor"))
    return {"items": [p.to_dict() for p in page.items], "next_cursor": page.next_cursor}
