"""The moto speed-up keeps transactions atomic: a failed condition still rolls every write back."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import Conflict
from chalicelib.db.transact import transaction
from chalicelib.partners.repository import MembershipItem


def _row(sub: str) -> MembershipItem:
    return MembershipItem(pk=f"USER#{sub}", sk="PARTNER", partner_id=f"ptn_{sub}", created_at="t")


def test_failed_transaction_writes_nothing(ddb):
    _row("taken").save()
    with pytest.raises(Conflict):
        with transaction() as tx:
            tx.save(_row("new-1"))
            tx.save(_row("new-2"))
            tx.save(_row("taken"), condition=MembershipItem.pk.does_not_exist())
    assert MembershipItem.count("USER#new-1") == 0
    assert MembershipItem.count("USER#new-2") == 0


def test_successful_transaction_writes_everything(ddb):
    with transaction() as tx:
        for i in range(30):
            tx.save(_row(f"u{i}"))
    assert all(MembershipItem.count(f"USER#u{i}") == 1 for i in range(30))
