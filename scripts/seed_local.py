"""Create the table and seed demo data into the local stage, idempotently.

Run by `make run` against moto_server (AWS_ENDPOINT_URL_DYNAMODB points at it) and localstripe. Each demo
thing has a stable owner, slug or idempotency key, so running the seed twice leaves the same data: partners
are found by their owner's membership row, the catalog by slug, and the history (scripts/seed_history.py:
sales, refunds, reviews and replies, a paid payout, a reconciliation) by its keys.
`MARKET_SEED_HISTORY=0` seeds partners and the catalog only.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEMO_PARTNERS = [
    # owner sub, display name, country
    ("acme-owner", "Acme Software", "US"),
    ("globex-owner", "Globex Apps", "DE"),
    ("initech-owner", "Initech Tools", "GB"),
]
ADMIN_SUB = "admin"


def seed_partners() -> dict[str, str]:
    """Approved demo partners; returns owner sub -> partner id."""
    from chalicelib.core.identity import Principal
    from chalicelib import bootstrap
    from chalicelib.partners import repository, service

    bootstrap.configure()

    admin = Principal(sub=ADMIN_SUB, groups=frozenset({"admin"}))
    created: dict[str, str] = {}
    for owner, name, country in DEMO_PARTNERS:
        membership = repository.get_membership(owner)
        if membership is None:
            partner = service.apply(
                user=Principal(sub=owner), display_name=name, contact_email=f"{owner}@example.com",
                country=country, website=f"https://{owner.split('-')[0]}.example.com",
            )
            partner_id = partner.partner_id
        else:
            partner_id = membership.partner_id
        if service.require_partner(partner_id).status == "pending":
            service.decide(admin=admin, partner_id=partner_id, action="approve", reason="demo partner")
        created[owner] = partner_id
    return created


def main() -> int:
    from chalicelib.db.table import create_table

    create_table()
    partners = seed_partners()
    summary = [f"{len(partners)} approved partners"]
    try:
        from scripts.seed_catalog import seed as seed_catalog  # provided by the catalog package
    except ImportError:
        seed_catalog = None
    if seed_catalog is not None:
        result = seed_catalog(partners)
        summary.append(f"catalog: {len(result['listings'])} listings")
        if os.environ.get("MARKET_SEED_HISTORY", "1") != "0":
            from scripts.seed_history import seed_history

            history = seed_history(result["listings"])
            summary.append("history: " + ", ".join(f"{k} {v}" for k, v in history.items()))
    print("seeded: " + "; ".join(summary), flush=True)
    return 0


if __name__ == "__main__":
    if not os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
        print("refusing to seed: AWS_ENDPOINT_URL_DYNAMODB is not set (this seeds the local stage only)")
        sys.exit(2)
    sys.exit(main())
