"""Key builders for the single table: the only place key strings are made.

Every entity lives in one table under `pk`/`sk`, and reaches the generic overloaded indexes
`gsi1`..`gsi3` through `gsiNpk`/`gsiNsk`. Each function here names an access pattern; the README's
access-pattern table lists which route uses which.
"""
from __future__ import annotations

SEP = "#"


def _k(*parts: object) -> str:
    return SEP.join(str(p) for p in parts)


# --- users and partners -------------------------------------------------------------------------
def user_pk(sub: str) -> str:
    return _k("USER", sub)


USER_PARTNER_SK = "PARTNER"  # the membership row: which partner a user belongs to (one per user)


def partner_pk(partner_id: str) -> str:
    return _k("PARTNER", partner_id)


PROFILE_SK = "PROFILE"


def partners_by_status_pk(status: str) -> str:
    """gsi1: the admin applications queue for one status, oldest first."""
    return _k("PARTNERS", status)


PARTNERS_ALL_PK = "PARTNERS"  # gsi2: every partner, oldest first


def created_sk(created_at: str, entity_id: str) -> str:
    return _k(created_at, entity_id)


# --- audit --------------------------------------------------------------------------------------
def audit_pk(entity_id: str) -> str:
    return _k("AUDIT", entity_id)


AUDIT_ALL_PK = "AUDIT"  # gsi1: every audit record, newest first


def audit_sk(at: str, audit_id: str) -> str:
    return _k(at, audit_id)


# --- idempotency --------------------------------------------------------------------------------
def idempotency_pk(scope: str, caller: str, key: str) -> str:
    return _k("IDEMPOTENCY", scope, caller, key)


IDEMPOTENCY_SK = "RESPONSE"
