"""Per-partner customer ids: stable for one partner, unrelated across partners, no user id inside."""
from chalicelib.core.pseudonyms import customer_ref


def test_the_same_customer_has_one_id_per_partner_and_different_ids_across_partners():
    a1, a2 = customer_ref("ptn_a", "alice"), customer_ref("ptn_a", "alice")
    b = customer_ref("ptn_b", "alice")
    assert a1 == a2 and a1 != b
    assert a1.startswith("cref_") and len(a1) == 31 and "alice" not in a1


def test_a_separator_keeps_partner_and_user_apart():
    assert customer_ref("ptn_a", "bc") != customer_ref("ptn_ab", "c")
