"""Pure catalog rules: the listing lifecycle, categories, search terms, ratings, bundles and diffs.

Nothing here touches DynamoDB or HTTP: the repository turns these values into rows and the routes
into JSON, so every rule of the contract can be tested with plain examples.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Iterable

from chalicelib.core.errors import ValidationFailed
from chalicelib.core.money import Component, Money
from chalicelib.core.vocabulary import (  # noqa: F401 - the catalog's words, fixed by the contract
    APP, BUNDLE, CATEGORIES, CATEGORY_IDS, DRAFT, MAX_COMPONENTS, MIN_COMPONENTS, PUBLISHED, REJECTED,
    REVIEWED_FIELDS, REVISION_PENDING, REVISION_REJECTED, SORTS, STATUSES, SUBMITTED, SUSPENDED, TYPES, UNLISTED,
)

# Admin bundles across partners belong to the marketplace itself, not to one partner.
PLATFORM_PARTNER_ID = "platform"
PLATFORM_DISPLAY_NAME = "Marketplace"

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({DRAFT}), SUBMITTED),
    "withdraw": (frozenset({SUBMITTED}), DRAFT),
    "approve": (frozenset({SUBMITTED}), PUBLISHED),
    "reject": (frozenset({SUBMITTED}), REJECTED),
    "suspend": (frozenset({PUBLISHED}), SUSPENDED),
    "unlist": (frozenset({PUBLISHED}), UNLISTED),
}

# Where PATCH is allowed: a draft is edited in place, a rejected submission goes back to draft, a
# published listing gets a pending revision and keeps serving its live version.
EDIT_IN_PLACE = frozenset({DRAFT, REJECTED})
EDIT_AS_REVISION = frozenset({PUBLISHED})

# Search prefixes are indexed up to this length; longer query words are keyed on their first
# characters and checked in full against the row's search text.
TERM_PREFIX_LENGTH = 3
# At most this many search-prefix rows per listing, which bounds every catalog write (a listing's
# projection rows must fit one transaction together with the rows of the change that moves them).
MAX_SEARCH_TERMS = 32
MAX_QUERY_WORDS = 5


def next_status(action: str, current: str) -> str | None:
    """The status `action` leads to from `current`, or None when it is not allowed."""
    allowed_from, target = TRANSITIONS[action]
    return target if current in allowed_from else None


@dataclass(frozen=True)
class Content:
    """The editable part of a listing: what a revision proposes and what the catalog shows."""

    name: str
    slug: str
    summary: str
    description: str
    category: str
    tags: tuple[str, ...]
    price: Money
    components: tuple[Component, ...] = ()
    split: dict = field(default_factory=lambda: {"method": "pro_rata"})
    # A subscription price: billed every `interval` ("month" | "year"), after `trial_days` free days.
    interval: str | None = None
    trial_days: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "slug": self.slug, "summary": self.summary, "description": self.description,
            "category": self.category, "tags": list(self.tags),
            "price": price_dict(self.price, self.interval, self.trial_days),
        }
        return out

    def bundle_dict(self) -> dict[str, Any]:
        return {
            "components": [
                {"listing_id": c.listing_id, "partner_id": c.partner_id, "list_price": c.list_price}
                for c in self.components
            ],
            "split": self.split,
        }


@dataclass(frozen=True)
class LiveListing:
    """The published version of a listing, as checkout freezes it into an order line."""

    listing_id: str
    partner_id: str
    type: str
    name: str
    slug: str
    price: Money
    status: str
    version: int
    components: tuple[Component, ...] = ()
    split: dict = field(default_factory=lambda: {"method": "pro_rata"})
    interval: str | None = None  # a subscription listing's billing interval; None: a one-time price
    trial_days: int = 0


def price_dict(price: Money, interval: str | None, trial_days: int) -> dict[str, Any]:
    """A listing's price as the API shows it: money, plus `interval` and `trial_days` for a subscription."""
    out: dict[str, Any] = price.to_dict()
    if interval:
        out.update(interval=interval, trial_days=int(trial_days or 0))
    return out


def price_terms(price: dict) -> tuple[str | None, int]:
    """(interval, trial_days) of a request's `price`; trial days only make sense with an interval."""
    interval = price.get("interval")
    trial_days = int(price.get("trial_days") or 0)
    if trial_days and not interval:
        raise ValidationFailed("A trial needs a subscription price.", [
            {"field": "price.trial_days", "message": "is only allowed with price.interval", "in": "body"}])
    return interval, trial_days


# --- search --------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """Case-insensitive words (letters and digits) of a text, in order."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in _WORD.findall(folded) if w != "_"]


def search_tokens(name: str, tags: Iterable[str]) -> tuple[str, ...]:
    """The distinct words a listing can be found by: its name's words first, then its tags' words."""
    seen: dict[str, None] = {}
    for word in words_of(name) + [w for tag in tags for w in words_of(tag)]:
        seen.setdefault(word, None)
    return tuple(seen)


def search_terms(tokens: Iterable[str]) -> tuple[str, ...]:
    """The indexed prefixes (1..TERM_PREFIX_LENGTH characters) of the tokens, capped at MAX_SEARCH_TERMS.

    Name words come first, so when a listing has more words than the cap the ones left out are the
    last tags' words.
    """
    terms: dict[str, None] = {}
    for token in tokens:
        new = [token[:n] for n in range(1, min(len(token), TERM_PREFIX_LENGTH) + 1) if token[:n] not in terms]
        if len(terms) + len(new) > MAX_SEARCH_TERMS:
            break
        for term in new:
            terms[term] = None
    return tuple(terms)


def searchable_tokens(tokens: Iterable[str]) -> tuple[str, ...]:
    """The tokens whose every indexed prefix made it under the cap (what `q` can actually find)."""
    terms = set(search_terms(tokens))
    return tuple(t for t in tokens if t[:TERM_PREFIX_LENGTH] in terms)


def search_text(tokens: Iterable[str]) -> str:
    """` word1 word2 ...`: a query word w matches a word start exactly when ` w` is a substring."""
    return "".join(f" {t}" for t in tokens)


def query_words(q: str) -> list[str]:
    """The distinct words of a `q` parameter, longest first (the longest keys the Query)."""
    distinct = list(dict.fromkeys(words_of(q)))
    return sorted(distinct, key=lambda w: (-len(w), w))


def key_term(word: str) -> str:
    return word[:TERM_PREFIX_LENGTH]


def filter_combinations(
    category: str, listing_type: str, partner_id: str
) -> list[tuple[str | None, str | None, str | None]]:
    """Every subset of the structured filters a listing answers to (None = that filter not given)."""
    return list(product((category, None), (listing_type, None), (partner_id, None)))


# --- ratings -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rating:
    """Integer rating counters; the average is only ever a display value computed from them."""

    count: int = 0
    total: int = 0
    histogram: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    def change(self, *, removed: int | None = None, added: int | None = None) -> "Rating":
        hist = list(self.histogram)
        count, total = self.count, self.total
        for stars, sign in ((removed, -1), (added, 1)):
            if stars is None:
                continue
            if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
                raise ValueError("a rating is an integer from 1 to 5")
            hist[stars - 1] += sign
            count += sign
            total += sign * stars
        if count < 0 or min(hist) < 0:
            raise ValueError("removing a rating that was never counted")
        return Rating(count, total, (hist[0], hist[1], hist[2], hist[3], hist[4]))

    @property
    def average(self) -> float:
        """Rounded half up to 2 decimals from the integers (display only; sorting uses the integers)."""
        if not self.count:
            return 0.0
        hundredths = (self.total * 100 * 2 + self.count) // (2 * self.count)
        return hundredths / 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count, "average": self.average,
            "histogram": {str(i + 1): n for i, n in enumerate(self.histogram)},
        }


# --- bundles -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComponentInfo:
    """What a bundle needs to know about a listing it wants to include."""

    listing_id: str
    partner_id: str
    type: str
    status: str
    price: Money


def component_problems(
    component_ids: list[str], found: dict[str, ComponentInfo], *, currency: str, owner_partner_id: str | None,
) -> list[dict[str, str]]:
    """Why these components cannot make a bundle (empty when they can).

    `owner_partner_id` None means an admin's cross-partner bundle; otherwise every component must be
    that partner's own app.
    """
    problems = []
    for position, listing_id in enumerate(component_ids):
        where = f"components.{position}"
        info = found.get(listing_id)
        if info is None or info.status != PUBLISHED:
            problems.append({"field": where, "message": f"{listing_id} is not a published app"})
        elif info.type != APP:
            problems.append({"field": where, "message": "a bundle cannot contain a bundle"})
        elif owner_partner_id is not None and info.partner_id != owner_partner_id:
            problems.append({"field": where, "message": "a partner's bundle may contain only its own apps"})
        elif info.price.currency != currency:
            problems.append({"field": where, "message": f"is priced in {info.price.currency}, not {currency}"})
    return problems


def split_problems(split: dict, component_ids: list[str]) -> list[dict[str, str]]:
    """A `weights` split must give every component (and nothing else) a positive integer weight."""
    if split.get("method") != "weights":
        return []
    weights = split.get("weights") or {}
    problems = []
    for listing_id in component_ids:
        if listing_id not in weights:
            problems.append({"field": f"split.weights.{listing_id}", "message": "every component needs a weight"})
    for listing_id, weight in weights.items():
        if listing_id not in component_ids:
            problems.append({"field": f"split.weights.{listing_id}", "message": "is not a component of the bundle"})
        elif isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            problems.append({"field": f"split.weights.{listing_id}", "message": "must be a positive integer"})
    return problems


def to_components(component_ids: list[str], found: dict[str, ComponentInfo]) -> tuple[Component, ...]:
    return tuple(Component(i, found[i].partner_id, found[i].price.amount) for i in component_ids)


# --- revisions -----------------------------------------------------------------------------------


def reviewable(content: Content, listing_type: str) -> dict[str, Any]:
    """The fields a reviewer compares, as JSON values."""
    out = content.to_dict()
    if listing_type == BUNDLE:
        out["components"] = [c.listing_id for c in content.components]
        out["split"] = content.split
    return out


def diff(live: dict[str, Any] | None, proposed: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field changes from `live` (None for a first submission) to `proposed`."""
    changes = []
    for name in REVIEWED_FIELDS:
        if name not in proposed:
            continue
        before = None if live is None else live.get(name)
        if before != proposed[name]:
            changes.append({"field": name, "from": before, "to": proposed[name]})
    return changes


_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """A URL slug from a name: ASCII lower-case words joined by hyphens (never empty)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_CHARS.sub("-", ascii_name).strip("-")[:60].strip("-")
    return slug or "listing"


_LISTING_ID = re.compile(r"^lst_[0-9A-Z]{26}$")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def is_listing_id(value: object) -> bool:
    """Whether `value` can be a listing id at all (anything else is unknown without a read)."""
    return isinstance(value, str) and _LISTING_ID.match(value) is not None


def is_slug(value: str) -> bool:
    """Whether `value` can be a slug (lower-case ASCII words joined by single hyphens, at most 80 chars)."""
    return _SLUG.match(value) is not None and len(value) <= 80
