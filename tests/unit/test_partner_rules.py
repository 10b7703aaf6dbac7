"""Pure partner rules: the status machine and the commission rate in force on a day."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.partners.model import CommissionEntry, commission_in_force, next_status


@pytest.mark.parametrize("action,current,expected", [
    ("approve", "pending", "approved"), ("reject", "pending", "rejected"), ("suspend", "approved", "suspended"),
    ("approve", "approved", None), ("approve", "rejected", None), ("suspend", "pending", None),
    ("reject", "approved", None), ("suspend", "suspended", None),
])
def test_transitions(action, current, expected):
    assert next_status(action, current) == expected


def test_commission_in_force():
    history = [
        CommissionEntry(2000, date(2026, 1, 1), "2026-01-01T00:00:00.000Z", "default"),
        CommissionEntry(1500, date(2026, 6, 1), "2026-02-01T00:00:00.000Z", "fin"),
        CommissionEntry(1000, date(2026, 6, 1), "2026-03-01T00:00:00.000Z", "fin"),
        CommissionEntry(500, date(2027, 1, 1), "2026-03-02T00:00:00.000Z", "fin"),
    ]
    assert commission_in_force(history, date(2025, 12, 31), 3000) == 3000
    assert commission_in_force(history, date(2026, 5, 31), 3000) == 2000
    assert commission_in_force(history, date(2026, 6, 1), 3000) == 1000
    assert commission_in_force(history, date(2026, 12, 31), 3000) == 1000
    assert commission_in_force(history, date(2027, 1, 1), 3000) == 500
