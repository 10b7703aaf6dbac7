"""Schemas of the catalog routes: listings, bundles, the review queue and the public catalog."""
from __future__ import annotations

from chalicelib.core import vocabulary as words
from chalicelib.schemas.common import ID, MONEY, list_query, multi_line, page_of, reason_body, single_line

NAME = single_line(80)
SLUG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
SUMMARY = single_line(200)
DESCRIPTION = multi_line(5000)
CATEGORY = {"type": "string", "enum": list(words.CATEGORY_IDS)}
TAG = single_line(30)
TAGS = {"type": "array", "maxItems": 10, "uniqueItems": True, "items": TAG}
TYPE = {"type": "string", "enum": list(words.TYPES)}
STATUS = {"type": "string", "enum": list(words.STATUSES)}
COMPONENTS = {
    "type": "array", "minItems": words.MIN_COMPONENTS, "maxItems": words.MAX_COMPONENTS, "uniqueItems": True,
    "items": ID,
}
SPLIT = {
    "oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["method"],
         "properties": {"method": {"const": "pro_rata"}}},
        {"type": "object", "additionalProperties": False, "required": ["method", "weights"],
         "properties": {
             "method": {"const": "weights"},
             "weights": {"type": "object", "minProperties": 1, "maxProperties": words.MAX_COMPONENTS,
                         "propertyNames": ID,
                         "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 1_000_000}},
         }},
    ]
}

# A listing's price: money, and for a subscription its billing `interval` and free `trial_days` (0..30).
PRICE = {
    **MONEY,
    "properties": {
        **MONEY["properties"],
        "interval": {"type": "string", "enum": list(words.PRICE_INTERVALS)},
        "trial_days": {"type": "integer", "minimum": 0, "maximum": words.MAX_TRIAL_DAYS},
    },
    "dependentRequired": {"trial_days": ["interval"]},
}

_CONTENT = {
    "name": NAME, "slug": SLUG, "summary": SUMMARY, "description": DESCRIPTION, "category": CATEGORY,
    "tags": TAGS, "price": PRICE, "components": COMPONENTS, "split": SPLIT,
}

CREATE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "name", "summary", "category", "price"],
    "properties": {"type": TYPE, **_CONTENT},
    # A bundle is its components: it cannot be created without them.
    "if": {"properties": {"type": {"const": "bundle"}}, "required": ["type"]},
    "then": {"required": ["components"]},
}

UPDATE_BODY = {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": dict(_CONTENT)}

ADMIN_BUNDLE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "summary", "category", "price", "components"],
    # the same body as a partner's bundle (`type: "bundle"` accepted, nothing else), plus an optional reason
    "properties": {"type": {"const": "bundle"}, **_CONTENT, "reason": single_line(1000)},
}

REASON_BODY = reason_body()
EMPTY_OR_REASON = {"type": "object", "additionalProperties": False, "properties": {"reason": REASON_BODY["properties"]["reason"]}}
EMPTY = {"type": "object", "additionalProperties": False, "properties": {}}

PARTNER_LIST_QUERY = list_query(status=STATUS)
QUEUE_QUERY = list_query()
CATALOG_QUERY = list_query(
    category=CATEGORY, type=TYPE, partner_id=ID, q=single_line(100),
    sort={"type": "string", "enum": list(words.SORTS), "default": "newest"},
)

RATING = {
    "type": "object",
    "required": ["count", "average", "histogram"],
    "properties": {
        "count": {"type": "integer"}, "average": {"type": "number"},
        "histogram": {"type": "object", "properties": {str(i): {"type": "integer"} for i in range(1, 6)}},
    },
}
MONEY_OUT = {"type": "object", "required": ["amount", "currency"],
             "properties": {"amount": {"type": "integer"}, "currency": {"type": "string"},
                            "interval": {"type": "string", "enum": list(words.PRICE_INTERVALS)},
                            "trial_days": {"type": "integer"}}}
COMPONENT_OUT = {
    "type": "object",
    "properties": {"listing_id": {"type": "string"}, "partner_id": {"type": "string"},
                   "list_price": {"type": "integer"}},
}
_LISTING_PROPS = {
    "listing_id": {"type": "string"}, "partner_id": {"type": "string"}, "partner_name": {"type": "string"},
    "type": TYPE, "name": {"type": "string"}, "slug": {"type": "string"}, "summary": {"type": "string"},
    "description": {"type": "string"}, "category": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string"}}, "price": MONEY_OUT, "status": STATUS,
    "version": {"type": "integer"}, "rating": RATING, "components": {"type": "array", "items": COMPONENT_OUT},
    "split": {"type": "object"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"},
    "published_at": {"type": ["string", "null"]},
}
PUBLIC_LISTING = {
    "type": "object",
    "required": ["listing_id", "partner_id", "partner_name", "type", "name", "slug", "price", "status", "version",
                 "rating"],
    "properties": _LISTING_PROPS,
}
REVISION = {
    "type": ["object", "null"],
    "properties": {
        "status": {"type": "string", "enum": [words.REVISION_PENDING, words.REVISION_REJECTED]},
        "rejection_reason": {"type": ["string", "null"]}, "base_version": {"type": "integer"},
        "submitted_at": {"type": "string"}, "updated_at": {"type": "string"},
        "changes": {"type": "array", "items": {"type": "object"}},
        **{k: v for k, v in _LISTING_PROPS.items() if k in words.REVIEWED_FIELDS},
    },
}
PRIVATE_LISTING = {
    "type": "object",
    "required": ["listing_id", "partner_id", "type", "name", "slug", "price", "status", "version", "rating"],
    "properties": {
        **_LISTING_PROPS, "rejection_reason": {"type": ["string", "null"]},
        "status_reason": {"type": ["string", "null"]}, "submitted_at": {"type": ["string", "null"]},
        "revision_status": {"type": ["string", "null"]}, "pending_revision": REVISION,
    },
}
PRIVATE_PAGE = page_of(PRIVATE_LISTING)

CARD = {
    "type": "object",
    "required": ["listing_id", "slug", "type", "name", "price", "partner_id", "rating"],
    "properties": {k: v for k, v in _LISTING_PROPS.items() if k not in ("description", "components", "split")},
}
CARD_PAGE = page_of(CARD)

QUEUE_ITEM = {
    "type": "object",
    "required": ["kind", "listing_id", "partner_id", "submitted_at", "changes"],
    "properties": {
        "kind": {"type": "string", "enum": ["submission", "revision"]}, "listing_id": {"type": "string"},
        "partner_id": {"type": "string"}, "type": TYPE, "name": {"type": "string"},
        "submitted_at": {"type": "string"}, "live_version": {"type": ["integer", "null"]},
        "changes": {"type": "array", "items": {
            "type": "object", "required": ["field"],
            "properties": {"field": {"type": "string"}, "from": {}, "to": {}},
        }},
        "proposed": {"type": "object"},
    },
}
QUEUE_PAGE = page_of(QUEUE_ITEM)

CATEGORY_OUT = {"type": "object", "properties": {"category_id": {"type": "string"}, "name": {"type": "string"}}}
CATEGORIES = {"type": "object", "required": ["items"],
              "properties": {"items": {"type": "array", "items": CATEGORY_OUT}}}
