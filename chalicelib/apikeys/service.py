"""API-key use cases: create (the secret shown once), list, revoke; and the edge's `KeyPort`.

Keys are managed only by a person (the partner's owner, with a user token): the routes declare no
`key_scope`, so a key can never mint or revoke keys. A key acts as its partner: its principal carries the
owner's `sub` (every partner route finds "the caller's partner" from it), no staff role, and its scopes.

Audit of key use (decided here, see docs/partner-keys-and-licences.md): every request made with a key writes the
request's one log line with `principal: "api_key"` and its `key_id` (refusals included); a request that
succeeded and may have changed something (any method but GET, status < 400) also writes an `apikey.used`
audit record under `AUDIT#<key_id>` (method, route, status), after the answer is decided. Reads are not
written to DynamoDB, so a key polling a list costs one GetItem more than a person's token, plus at most
one `last_used_at` update a minute (successful uses only). A refused call writes nothing.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.apikeys import model, repository
from chalicelib.apikeys.model import ApiKey
from chalicelib.audit.repository import audit_item
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, InvalidState, NotFound, Unauthorized
from chalicelib.core.identity import Principal
from chalicelib.db.pages import Page
from chalicelib.db.transact import Refusal, transaction
from chalicelib.partners.service import partner_of

TOUCH_EVERY = timedelta(minutes=1)
_KEY_STATES = ("pending", "approved")  # a rejected or suspended partner gets no new keys


def create_key(*, user: Principal, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key for the caller's partner; returns it with its secret (never stored, never shown again)."""
    partner = partner_of(user)
    if partner.status not in _KEY_STATES:
        raise InvalidState(f"A {partner.status} partner cannot create API keys.")
    key_id, secret = model.new_secret()
    key = ApiKey(key_id=key_id, partner_id=partner.partner_id, owner_sub=partner.owner_sub, name=name,
                 scopes=model.normalise_scopes(scopes), created_at=clock.now_iso())

    def refused(refusal: Refusal):
        if refusal.has(repository.CAP_LABEL):
            return Conflict(f"A partner may hold at most {model.MAX_ACTIVE_KEYS} active API keys; revoke one first.")
        return Conflict("The key could not be created; try again.")

    with transaction(on_condition_failed=refused) as tx:
        repository.add_key(tx, key, secret_hash=model.hash_secret(secret), created_by=user.sub,
                           cap=model.MAX_ACTIVE_KEYS)
        tx.save(audit_item(actor=user.sub, actor_roles=user.groups, action="apikey.created", entity_type="api_key",
                           entity_id=key_id, at=key.created_at,
                           data={"partner_id": partner.partner_id, "name": name, "scopes": list(key.scopes)}))
    return key, secret


def list_keys(*, user: Principal, limit: int, cursor: str | None) -> Page[ApiKey]:
    return repository.list_keys(partner_of(user).partner_id, limit=limit, cursor=cursor)


def revoke_key(*, user: Principal, key_id: str) -> ApiKey:
    """Revoke one of the caller's partner's keys; revoking a revoked key answers it as it is."""
    partner = partner_of(user)
    found = repository.get_key(key_id, consistent=True) if model.KEY_ID.match(key_id) else None
    if found is None or found[0].partner_id != partner.partner_id:
        raise NotFound("No such API key.")
    key = found[0]
    if not key.active:
        return key
    at = clock.now_iso()
    try:
        with transaction() as tx:
            repository.revoke_key(tx, key, at=at)
            tx.save(audit_item(actor=user.sub, actor_roles=user.groups, action="apikey.revoked",
                               entity_type="api_key", entity_id=key_id, at=at,
                               data={"partner_id": partner.partner_id}))
    except Conflict:
        again = repository.get_key(key_id, consistent=True)
        if again is None or again[0].active:
            raise
        return again[0]  # a concurrent revoke won: the key is revoked all the same
    return replace(key, revoked_at=at)


class DynamoKeys:
    """The edge's `KeyPort`: resolve a bearer secret to its principal, and audit each use."""

    def resolve(self, secret: str) -> Principal:
        key_id = model.key_id_of(secret)
        found = repository.get_key(key_id, consistent=True) if key_id else None
        if found is None or not model.matches(secret, found[1]):
            raise Unauthorized("The API key is not valid.")
        key = found[0]
        if not key.active:
            raise Unauthorized("The API key was revoked.")
        _last_used[key.key_id] = key.last_used_at
        return Principal(sub=key.owner_sub, key_id=key.key_id, partner_id=key.partner_id,
                         scopes=frozenset(key.scopes))

    def record_use(self, principal: Principal, *, method: str, path: str, status: int) -> None:
        assert principal.key_id is not None
        if status >= 400:
            return  # refused or failed: nothing was done with the key; the request's log line has it
        now = clock.now()
        previous = _last_used.pop(principal.key_id, None)
        if previous is None or clock.parse_iso(previous) < now - TOUCH_EVERY:
            repository.touch(principal.key_id, at=clock.iso(now), unless_after=clock.iso(now - TOUCH_EVERY))
        if method != "GET":
            audit_item(actor=f"apikey:{principal.key_id}", action="apikey.used", entity_type="api_key",
                       entity_id=principal.key_id, at=clock.iso(now),
                       data={"partner_id": principal.partner_id, "method": method, "route": path,
                             "status": status}).save()


# What `resolve` read, for `record_use` of the same request (Lambda runs one request at a time; the
# entry is popped by the use it belongs to, so a threaded `chalice local` at worst touches once more).
_last_used: dict[str, str | None] = {}
