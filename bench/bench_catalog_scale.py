"""Catalog page cost at 100 and at 10,000 listings: DynamoDB calls and items read, not latency.

moto's Query reads its whole table, so its latency grows with the table while DynamoDB's does not: the
figures that carry over are the calls a page makes and the items they return. The listings are loaded
as tests/integration/test_catalog_scale.py does (the repository's own row builders, written straight
into moto's in-process backend); the pages are the shapes the catalog serves (no filter, filters with
each sort, a word search) and a listing detail by slug.

    .venv/bin/python bench/bench_catalog_scale.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tests.conftest  # noqa: E402,F401  - the test environment (local stage, secrets, no endpoint override)


def main() -> None:
    from moto import mock_aws

    from chalicelib.db import keys
    from chalicelib.db.table import MarketItem, create_table
    from chalicelib.partners.repository import PartnerItem
    from tests.integration.test_catalog_scale import PAGES, PARTNERS, _load, _measure

    with mock_aws():
        MarketItem._connection = None
        create_table()
        for partner_id in PARTNERS:
            PartnerItem(pk=keys.partner_pk(partner_id), sk=keys.PROFILE_SK, partner_id=partner_id,
                        owner_sub=partner_id, display_name=partner_id, contact_email="x@example.com", country="DE",
                        status="approved", created_at="2026-01-01T00:00:00.000Z",
                        updated_at="2026-01-01T00:00:00.000Z").save()
        _load(0, 100)
        small, _ = _measure()
        started = time.monotonic()
        _load(100, 10_000)
        loaded = time.monotonic() - started
        large, _ = _measure()
        MarketItem._connection = None
    print(f"catalog page cost (limit 20) at 100 and 10,000 listings (10,000 loaded in {loaded:.0f} s)")
    print(f"{'page':<26} {'calls @100':>10} {'items @100':>10} {'calls @10k':>10} {'items @10k':>10}  operations")
    for name in [*PAGES, "detail_by_slug"]:
        (calls_s, items_s), (calls_l, items_l) = small[name], large[name]
        same = "" if (calls_s, items_s) == (calls_l, items_l) else "   <- GREW"
        print(f"{name:<26} {len(calls_s):>10} {items_s:>10} {len(calls_l):>10} {items_l:>10}  "
              f"{', '.join(calls_l)}{same}")


if __name__ == "__main__":
    main()
