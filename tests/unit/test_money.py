"""Money rules by example and by property: splits are exact, fees round half up."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.money import Component, Money, commission_fee, format_decimal, largest_remainder, split_bundle


@pytest.mark.parametrize("total,weights,expected", [
    (100, [1, 1, 1], [34, 33, 33]),
    (100, [1, 1], [50, 50]),
    (1000, [3000, 1000], [750, 250]),
    (1, [1, 1, 1], [1, 0, 0]),
    (2, [1, 1, 1], [1, 1, 0]),
    (10, [0, 0], [5, 5]),
    (10, [0, 5], [0, 10]),
    (0, [3, 7], [0, 0]),
    (7, [1, 2, 4], [1, 2, 4]),
    (101, [1, 2, 2], [20, 41, 40]),
])
def test_largest_remainder_examples(total, weights, expected):
    assert largest_remainder(total, weights) == expected


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_largest_remainder_sums_exactly_and_is_never_negative(total, weights):
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    if sum(weights):
        for part, weight in zip(parts, weights):
            exact = total * weight / sum(weights)
            assert abs(part - exact) < 1 + 1e-9


@pytest.mark.parametrize("amount,bps,fee", [
    (1000, 2000, 200), (5, 1000, 1), (4, 1000, 0), (15, 3333, 5), (1, 5000, 1), (0, 2000, 0),
    (999, 0, 0), (999, 10000, 999), (-5, 1000, -1),
])
def test_commission_fee_half_up(amount, bps, fee):
    assert commission_fee(amount, bps) == fee


def test_invalid_inputs_are_refused():
    with pytest.raises(ValueError):
        largest_remainder(-1, [1])
    with pytest.raises(ValueError):
        largest_remainder(1, [])
    with pytest.raises(ValueError):
        commission_fee(1, 10001)
    with pytest.raises(TypeError):
        Money(1.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "jpy")


def test_split_bundle_pro_rata_and_weights():
    comps = [Component("a", "p1", 1000), Component("b", "p2", 3000)]
    assert [p.amount for p in split_bundle(2999, comps, {"method": "pro_rata"})] == [750, 2249]
    weighted = split_bundle(100, comps, {"method": "weights", "weights": {"a": 1, "b": 2}})
    assert [(p.partner_id, p.amount) for p in weighted] == [("p1", 33), ("p2", 67)]


def test_format_decimal():
    assert [format_decimal(a, "usd") for a in (0, 5, 1234, -5, -1234)] == ["0.00", "0.05", "12.34", "-0.05", "-12.34"]
