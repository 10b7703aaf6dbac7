"""The `data` of partner events, built in one place so every producer sends the contract's shape.

Sale and refund events (`sale.completed`, `refund.completed`) carry only the receiving partner's lines and
totals, as Money, and name the customer by the partner's pseudonymous id (`core.pseudonyms.customer_ref`),
never by e-mail or marketplace user id.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from chalicelib.core.money import Money, commission_fee

SOURCE_TYPES = ("order", "invoice")


def money_event(source_type: str, source_id: str, customer: str, currency: str,
                lines: Iterable[Mapping[str, Any]]) -> dict:
    """`{source, customer, currency, gross, fee, net, lines}`; lines are `{listing_id, gross, fee, net}` ints."""
    if source_type not in SOURCE_TYPES:
        raise ValueError(f"source type must be one of {SOURCE_TYPES}")
    if not customer.startswith("cref_"):
        raise ValueError("customer must be the partner's pseudonymous customer id (core.pseudonyms.customer_ref)")
    out_lines = []
    totals = {"gross": 0, "fee": 0, "net": 0}
    for line in lines:
        amounts = {name: int(line[name]) for name in ("gross", "fee", "net")}
        if isinstance(line["gross"], bool) or amounts["gross"] != amounts["fee"] + amounts["net"]:
            raise ValueError(f"line {line.get('listing_id')}: gross must equal fee + net")
        for name, amount in amounts.items():
            totals[name] += amount
        out_lines.append({"listing_id": str(line["listing_id"]),
                          **{name: Money(amount, currency).to_dict() for name, amount in amounts.items()}})
    if not out_lines:
        raise ValueError("a money event needs at least one line")
    return {
        "source": {"type": source_type, "id": source_id},
        "customer": customer,
        "currency": currency,
        **{name: Money(amount, currency).to_dict() for name, amount in totals.items()},
        "lines": out_lines,
    }


def sale_lines_by_partner(parts: Iterable[tuple[str, str, int, int]]) -> dict[str, list[dict]]:
    """partner -> its `{listing_id, gross, fee, net}` lines, from (partner, listing, amount, commission bps)
    parts of an order or invoice; the fee is the ledger's (half-up basis points), net = gross - fee."""
    out: dict[str, list[dict]] = {}
    for partner_id, listing_id, amount, bps in parts:
        fee = commission_fee(amount, bps)
        out.setdefault(partner_id, []).append({"listing_id": listing_id, "gross": amount, "fee": fee,
                                               "net": amount - fee})
    return out


def refund_lines_by_partner(sources: Iterable[Mapping[str, Any]]) -> dict[str, list[dict]]:
    """partner -> its refunded `{listing_id, gross, fee, net}` lines, from the `source` of a refund journal
    entry's lines (each reversed part appears on up to two journal lines: counted once)."""
    out: dict[str, list[dict]] = {}
    seen: set[tuple[str, str, str]] = set()
    for src in sources:
        if "refunded_part" not in src:
            continue
        key = (str(src.get("line_id")), str(src["listing_id"]), str(src["partner_id"]))
        if key in seen:
            continue
        seen.add(key)
        out.setdefault(key[2], []).append({"listing_id": key[1], "gross": int(src["refunded_part"]),
                                           "fee": int(src["fee_reversed"]), "net": int(src["net_reversed"])})
    return out


def listing_event(*, listing_id: str, name: str, version: int | None, status: str,
                  reason: str | None = None, revision: bool = False) -> dict:
    """`listing.approved` / `.rejected` / `.suspended`: which listing, its version and status, and why.

    `revision` says the decision was on a pending revision of a published listing (its live `status`
    stays `published`; an approval makes the revision the live `version`)."""
    data: dict[str, Any] = {"listing_id": listing_id, "name": name, "version": version, "status": status,
                            "revision": revision}
    if reason is not None:
        data["reason"] = reason
    return data


def review_event(*, review_id: str, listing_id: str, rating: int, title: str, body: str, version: Any,
                 customer: str, created_at: str, updated_at: str | None = None) -> dict:
    """`review.created` / `review.updated`: the review as the partner may see it (the author as `customer`)."""
    return {"review_id": review_id, "listing_id": listing_id, "rating": rating, "title": title, "body": body,
            "version": version, "customer": customer, "created_at": created_at, "updated_at": updated_at}
