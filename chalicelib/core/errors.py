"""Domain errors: what went wrong, in the vocabulary of the product contract.

Services raise these; the HTTP layer maps each to its status and the `{"error": {...}}` shape.
They carry no HTTP knowledge beyond the stable error code the contract names.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class ValidationFailed(DomainError):
    code, status = "validation_error", 400


class BadCursor(DomainError):
    code, status = "bad_cursor", 400


class Unauthorized(DomainError):
    code, status = "unauthorized", 401


class Forbidden(DomainError):
    code, status = "forbidden", 403


class NotFound(DomainError):
    code, status = "not_found", 404


class Conflict(DomainError):
    code, status = "conflict", 409


class InvalidState(DomainError):
    code, status = "invalid_state", 409


class AlreadyOwned(DomainError):
    code, status = "already_owned", 409


class IdempotencyConflict(DomainError):
    code, status = "idempotency_conflict", 409


class PayloadTooLarge(DomainError):
    code, status = "payload_too_large", 413


class PaymentFailed(DomainError):
    code, status = "payment_failed", 402


class UpstreamUnavailable(DomainError):
    code, status = "upstream_unavailable", 503


def field_error(field: str, message: str) -> ValidationFailed:
    """A validation error about one named field."""
    return ValidationFailed(message, [{"field": field, "message": message}])
