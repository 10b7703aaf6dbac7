"""Finance adjustments: a correction to a partner's balance is a new balanced entry, never an edit.

An adjustment moves money, so it is replayable by `Idempotency-Key` like an order or a refund: the
adjustment id is derived from the caller and the key, and the journal entry (whose header is written
once per txn id), the audit record and the key's record commit in one transaction. Two retries of one
request, sequential or racing, therefore credit the partner once; the loser answers with the winner's
stored response, or 409 `idempotency_conflict` if it carried another body.
"""
from __future__ import annotations

from chalicelib.audit.repository import audit_item
from chalicelib.core.errors import IdempotencyConflict, ValidationFailed
from chalicelib.core.identity import Principal
from chalicelib.db import idempotency
from chalicelib.db.idempotency import Answer
from chalicelib.db.transact import ConditionsFailed, transaction
from chalicelib.ledger import recorder
from chalicelib.partners.service import require_partner

TARGET = "POST /finance/adjustments"


def adjust(*, actor: Principal, body: dict, headers: dict[str, str]) -> Answer:
    """Credit (positive) or debit (negative) a partner's balance once per Idempotency-Key."""
    key = idempotency.key_from(headers, scope="adjustments", caller=actor.sub, body=body, target=TARGET)
    replayed = idempotency.replay_stored(key)
    if replayed is not None:
        return replayed
    partner_id, reason = body["partner_id"], body["reason"]
    amount, currency = body["amount"]["amount"], body["amount"]["currency"]
    if amount == 0:
        raise ValidationFailed("An adjustment must move money.",
                               [{"field": "amount.amount", "message": "must not be zero", "in": "body"}])
    require_partner(partner_id)
    adjustment_id = key.derived_id("adj")
    try:
        with transaction() as tx:
            entry = recorder.record_adjustment(tx, adjustment_id=adjustment_id, partner_id=partner_id,
                                               currency=currency, amount=amount, reason=reason)
            response = {"adjustment_id": adjustment_id, "partner_id": partner_id,
                        "amount": {"amount": amount, "currency": currency}, "reason": reason,
                        "txn_id": entry.txn_id}
            tx.save(audit_item(actor=actor.sub, actor_roles=actor.groups, action="ledger.adjusted",
                               entity_type="partner", entity_id=partner_id, reason=reason,
                               data={"adjustment_id": adjustment_id, "amount": amount, "currency": currency}))
            tx.save(key.record(201, response), condition=idempotency.IdempotencyItem.pk.does_not_exist(),
                    label="idempotency")
    except ConditionsFailed:
        # A retry with this key committed first (the key's record or the journal header already exists).
        replayed = idempotency.replay_stored(key)
        if replayed is not None:
            return replayed
        # The journal entry exists but the key's record has expired (24 h): the key was spent long ago.
        raise IdempotencyConflict("This Idempotency-Key was used for an earlier adjustment; use a new key.") from None
    return Answer(201, response)
