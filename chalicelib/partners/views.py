"""The API's partner dict, built from the `Partner` model (the routes' answers and the OpenAPI schema agree)."""
from __future__ import annotations

from datetime import date

from chalicelib.core import clock
from chalicelib.partners.model import Partner


def partner_dict(partner: Partner, default_bps: int, *, on: date | None = None) -> dict:
    """`partner` as the API shows it, with the commission rate in force `on` (default: today)."""
    return {
        "partner_id": partner.partner_id, "status": partner.status, "display_name": partner.display_name,
        "contact_email": partner.contact_email, "country": partner.country, "website": partner.website,
        "status_reason": partner.status_reason,
        "commission_bps": partner.commission_bps(on or clock.today(), default_bps),
        "commission_history": [
            {"bps": e.bps, "effective_from": e.effective_from.isoformat(), "set_at": e.set_at, "set_by": e.set_by}
            for e in partner.commission_history
        ],
        "payouts_enabled": partner.payouts_enabled, "stripe_account_id": partner.stripe_account_id,
        "owner_sub": partner.owner_sub, "created_at": partner.created_at, "updated_at": partner.updated_at,
    }
