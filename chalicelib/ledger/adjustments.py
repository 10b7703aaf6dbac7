"""Finance adjustments: a correction to a partner's balance is a new balanced entry, never an edit."""
from __future__ import annotations

from chalicelib.audit.repository import audit_item
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.db.transact import transaction
from chalicelib.core.identity import Principal
from chalicelib.ledger import recorder
from chalicelib.partners.service import require_partner


def adjust(*, actor: Principal, partner_id: str, amount: int, currency: str, reason: str) -> dict:
    """Credit (positive) or debit (negative) a partner's balance, with its journal entry and audit record."""
    if amount == 0:
        raise ValidationFailed("An adjustment must move money.",
                               [{"field": "amount.amount", "message": "must not be zero", "in": "body"}])
    require_partner(partner_id)
    adjustment_id = new_id("adj")
    with transaction() as tx:
        entry = recorder.record_adjustment(tx, adjustment_id=adjustment_id, partner_id=partner_id,
                                           currency=currency, amount=amount, reason=reason)
        tx.save(audit_item(actor=actor.sub, actor_roles=actor.groups, action="ledger.adjusted",
                           entity_type="partner", entity_id=partner_id, reason=reason,
                           data={"adjustment_id": adjustment_id, "amount": amount, "currency": currency}))
    return {"adjustment_id": adjustment_id, "partner_id": partner_id,
            "amount": {"amount": amount, "currency": currency}, "reason": reason, "txn_id": entry.txn_id}
