"""API-key rows in the single table, and the reads and writes on them.

- `APIKEY#<key_id>` / `KEY`: the key (partner, owner, name, scopes, SHA-256 of the secret, timestamps); on
  gsi1 under `PARTNERKEYS#<partner_id>` (sort `<created_at>#<key_id>`), so a partner's keys are one Query.
  The edge reads it with one consistent GetItem per request, so a revocation holds from the next request.
- `PARTNERKEYS#<partner_id>` / `COUNT`: the partner's number of active keys, changed in the transaction that
  creates or revokes a key and capped there (a condition), so the cap holds under concurrent creates.

Key strings for these rows are built here (not in `db/keys.py`, which other aggregates own) and nowhere else.
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.apikeys.model import ApiKey
from chalicelib.db.pages import Page, query_page
from chalicelib.db.table import MarketItem
from chalicelib.db.transact import Transaction

KEY_SK = "KEY"
COUNT_SK = "COUNT"
CAP_LABEL = "apikeys.cap"
REVOKE_LABEL = "apikeys.revoke"


def key_pk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def partner_keys_pk(partner_id: str) -> str:
    """gsi1 on key rows (a partner's keys, oldest first) and the table key of the active-key counter."""
    return f"PARTNERKEYS#{partner_id}"


class ApiKeyItem(MarketItem, discriminator="ApiKey"):
    key_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    owner_sub = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = ListAttribute(of=UnicodeAttribute, default=list)
    secret_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    last_used_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)

    def to_model(self) -> ApiKey:
        return ApiKey(key_id=self.key_id, partner_id=self.partner_id, owner_sub=self.owner_sub, name=self.name,
                      scopes=tuple(self.scopes), created_at=self.created_at, last_used_at=self.last_used_at,
                      revoked_at=self.revoked_at)


class ApiKeyCountItem(MarketItem, discriminator="ApiKeyCount"):
    active = NumberAttribute(default=0)


def add_key(tx: Transaction, key: ApiKey, *, secret_hash: str, created_by: str, cap: int) -> None:
    """Add the key row (new by construction) and the capped counter increment to `tx`."""
    tx.save(ApiKeyItem(
        key_pk(key.key_id), KEY_SK, gsi1pk=partner_keys_pk(key.partner_id), gsi1sk=f"{key.created_at}#{key.key_id}",
        key_id=key.key_id, partner_id=key.partner_id, owner_sub=key.owner_sub, name=key.name,
        scopes=list(key.scopes), secret_hash=secret_hash, created_at=key.created_at, created_by=created_by,
    ), condition=ApiKeyItem.pk.does_not_exist())
    tx.update(ApiKeyCountItem(partner_keys_pk(key.partner_id), COUNT_SK), actions=[
        ApiKeyCountItem.kind.set(ApiKeyCountItem), ApiKeyCountItem.active.add(1)],
        condition=ApiKeyCountItem.active.does_not_exist() | (ApiKeyCountItem.active < cap), label=CAP_LABEL)


def revoke_key(tx: Transaction, key: ApiKey, *, at: str) -> None:
    """Add to `tx` the revocation (once: the key must still be active) and the counter decrement."""
    tx.update(ApiKeyItem(key_pk(key.key_id), KEY_SK), actions=[ApiKeyItem.revoked_at.set(at)],
              condition=ApiKeyItem.revoked_at.does_not_exist() & (ApiKeyItem.partner_id == key.partner_id),
              label=REVOKE_LABEL)
    tx.update(ApiKeyCountItem(partner_keys_pk(key.partner_id), COUNT_SK),
              actions=[ApiKeyCountItem.active.add(-1)])


def get_key(key_id: str, *, consistent: bool = False) -> tuple[ApiKey, str] | None:
    """The key and its stored hash, or None."""
    try:
        item = ApiKeyItem.get(key_pk(key_id), KEY_SK, consistent_read=consistent)
    except ApiKeyItem.DoesNotExist:
        return None
    return item.to_model(), item.secret_hash


def touch(key_id: str, *, at: str, unless_after: str) -> None:
    """Set `last_used_at` unless it is already later than `unless_after` (a concurrent request did it)."""
    from pynamodb.exceptions import UpdateError

    try:
        ApiKeyItem(key_pk(key_id), KEY_SK).update(
            actions=[ApiKeyItem.last_used_at.set(at)],
            condition=ApiKeyItem.pk.exists() & (ApiKeyItem.last_used_at.does_not_exist()
                                                | (ApiKeyItem.last_used_at < unless_after)))
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise


def list_keys(partner_id: str, *, limit: int, cursor: str | None) -> Page[ApiKey]:
    page = query_page(
        lambda size, start: ApiKeyItem.gsi1.query(partner_keys_pk(partner_id), limit=size, last_evaluated_key=start),
        limit=limit, cursor=cursor, scope=f"apikeys:{partner_id}", index="gsi1",
    )
    return Page([item.to_model() for item in page.items], page.next_cursor)
