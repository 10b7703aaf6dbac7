"""Schemas of the review routes: reviews, replies, flags and the moderation queue.

Text is plain text, stored and returned exactly as sent: titles are one line, bodies may have line
breaks and tabs, and any other control character is refused (`single_line` / `multi_line`).
"""
from __future__ import annotations

from chalicelib.core import vocabulary as words
from chalicelib.schemas.common import REASON, list_query, multi_line, page_of, reason_body, single_line

STARS = {"type": "integer", "minimum": words.MIN_STARS, "maximum": words.MAX_STARS}

REVIEW_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rating"],
    "properties": {
        "rating": STARS,
        "title": single_line(words.TITLE_MAX),
        "body": multi_line(words.BODY_MAX),
    },
}

LIST_QUERY = list_query(sort={"type": "string", "enum": list(words.REVIEW_SORTS), "default": words.NEWEST})

REPLY_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["body"],
    "properties": {"body": multi_line(words.REPLY_MAX)},
}

FLAG_BODY = reason_body()
HIDE_BODY = reason_body()
RESTORE_BODY = {"type": "object", "additionalProperties": False, "properties": {"reason": REASON}}

_TEXT_OR_NULL = {"type": ["string", "null"]}

REPLY = {
    "type": "object",
    "required": ["body", "partner_id", "created_at", "updated_at"],
    "properties": {
        "body": {"type": "string"}, "partner_id": {"type": "string"},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"},
    },
}

REVIEW = {
    "type": "object",
    "required": ["review_id", "listing_id", "rating", "title", "body", "listing_version", "reply", "created_at"],
    "properties": {
        "review_id": {"type": "string"}, "listing_id": {"type": "string"}, "author_id": {"type": "string"},
        "rating": STARS, "title": _TEXT_OR_NULL, "body": _TEXT_OR_NULL,
        "listing_version": {"type": "integer"}, "verified_purchase": {"type": "boolean"},
        "reply": {"anyOf": [REPLY, {"type": "null"}]},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"}, "edited": {"type": "boolean"},
        # Only to the author and to admins:
        "status": {"type": "string", "enum": list(words.REVIEW_STATUSES)},
        "hidden_reason": _TEXT_OR_NULL, "hidden_at": _TEXT_OR_NULL,
    },
}
REVIEW_PAGE = page_of(REVIEW)

DELETED = {
    "type": "object",
    "required": ["review_id", "deleted"],
    "properties": {"review_id": {"type": "string"}, "deleted": {"const": True}},
}

FLAG_RESPONSE = {
    "type": "object",
    "required": ["review_id", "flagged"],
    "properties": {"review_id": {"type": "string"}, "flagged": {"const": True}},
}

FLAGGED_REVIEW = {
    "type": "object",
    "required": ["review", "pending_flags", "first_flagged_at"],
    "properties": {
        "review": REVIEW, "pending_flags": {"type": "integer"}, "total_flags": {"type": "integer"},
        "first_flagged_at": _TEXT_OR_NULL, "last_flagged_at": _TEXT_OR_NULL, "last_flag_reason": _TEXT_OR_NULL,
    },
}
FLAGGED_PAGE = page_of(FLAGGED_REVIEW)
FLAGGED_QUERY = list_query()
