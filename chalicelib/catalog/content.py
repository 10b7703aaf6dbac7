"""A listing's content from a request: the fields applied to the current version, bundles checked.

Creating, editing, revising, submitting and approving all need the same answer to "what would this
listing show, and is it valid?"; for a bundle that includes reading its components (one BatchGet) to
check them and freeze their current list prices.
"""
from __future__ import annotations

from typing import Any

from chalicelib.catalog import model
from chalicelib.catalog import repository as repo
from chalicelib.catalog.repository import ListingItem
from chalicelib.core.errors import InvalidState, ValidationFailed
from chalicelib.core.money import Component, Money


def check_type_fields(listing_type: str, fields: dict) -> None:
    """Only bundles have components and a split."""
    if listing_type == model.APP:
        extra = [n for n in ("components", "split") if n in fields]
        if extra:
            raise ValidationFailed(
                "Only bundles have components and a split.",
                [{"field": n, "message": "is only allowed on bundles", "in": "body"} for n in extra],
            )


def resolve_components(
    component_ids: list[str], split: dict, currency: str, owner_partner_id: str | None, *, error=ValidationFailed,
) -> tuple[Component, ...]:
    """Validate a bundle's components and split; return them with their current list prices."""
    found_items = repo.batch_get_listings(component_ids)
    found = {
        i: model.ComponentInfo(i, it.partner_id, it.type, it.status, Money(int(it.price_amount), it.price_currency))
        for i, it in found_items.items()
    }
    problems = model.component_problems(component_ids, found, currency=currency, owner_partner_id=owner_partner_id)
    problems += model.split_problems(split, component_ids)
    if problems:
        raise error("The bundle's components or split are not valid.", [{**p, "in": "body"} for p in problems])
    return model.to_components(component_ids, found)


def build_content(listing_type: str, base: model.Content | None, fields: dict, owner: str | None) -> model.Content:
    """The content after applying `fields` to `base` (None for a new listing), bundles re-validated."""
    def pick(name: str, default: Any) -> Any:
        return fields[name] if name in fields else default

    price = Money.from_dict(fields["price"]) if "price" in fields else base.price  # type: ignore[union-attr]
    # A new price replaces the whole price, terms included (a one-time price has no interval).
    interval, trial_days = (model.price_terms(fields["price"]) if "price" in fields
                            else (base.interval, base.trial_days))  # type: ignore[union-attr]
    component_ids = fields.get("components")
    if component_ids is None and base is not None:
        component_ids = [c.listing_id for c in base.components]
    split = pick("split", base.split if base else {"method": "pro_rata"})
    content = model.Content(
        name=pick("name", base.name if base else ""), slug=pick("slug", base.slug if base else ""),
        summary=pick("summary", base.summary if base else ""),
        description=pick("description", base.description if base else ""),
        category=pick("category", base.category if base else ""),
        tags=tuple(dict.fromkeys(pick("tags", list(base.tags) if base else []))), price=price,
        split=split if listing_type == model.BUNDLE else {"method": "pro_rata"},
        interval=interval, trial_days=trial_days,
    )
    if listing_type == model.BUNDLE:
        touched = base is None or any(n in fields for n in ("components", "split", "price"))
        if touched:
            components = resolve_components(list(component_ids or []), split, price.currency, owner)
        else:
            components = base.components  # type: ignore[union-attr]
        content = model.Content(**{**content.__dict__, "components": components})
    return content


def refresh_components(after: ListingItem, owner: str | None) -> None:
    """Freeze the components' current list prices into a bundle being submitted or published (409 if invalid)."""
    content = after.content()
    components = resolve_components([c.listing_id for c in content.components], content.split,
                                    content.price.currency, owner, error=InvalidState)
    after.set_content(model.Content(**{**content.__dict__, "components": components}), after.type)
