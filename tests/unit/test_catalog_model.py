"""Pure catalog rules: lifecycle, search terms, ratings, bundle checks, diffs and sort keys."""
from __future__ import annotations

import random

import pytest

from chalicelib.catalog import model
from chalicelib.catalog.model import ComponentInfo, Rating
from chalicelib.core.money import Money
from chalicelib.db import keys


@pytest.mark.parametrize("action,current,expected", [
    ("submit", "draft", "submitted"),
    ("submit", "rejected", None),
    ("submit", "published", None),
    ("withdraw", "submitted", "draft"),
    ("withdraw", "draft", None),
    ("approve", "submitted", "published"),
    ("approve", "draft", None),
    ("reject", "submitted", "rejected"),
    ("reject", "published", None),
    ("suspend", "published", "suspended"),
    ("suspend", "submitted", None),
    ("unlist", "published", "unlisted"),
    ("unlist", "suspended", None),
])
def test_transitions(action, current, expected):
    assert model.next_status(action, current) == expected


def test_search_tokens_are_casefolded_distinct_name_words_then_tag_words():
    assert model.search_tokens("Chart WIZARD", ["charts", "Business-Intelligence", "chart"]) == (
        "chart", "wizard", "charts", "business", "intelligence")
    assert model.search_tokens("Straße Über", []) == ("strasse", "über")


def test_search_terms_are_prefixes_up_to_three_characters_and_capped():
    assert model.search_terms(("chart", "charts", "ai")) == ("c", "ch", "cha", "a", "ai")
    many = tuple(f"{a}{b}word" for a in "abcdefghij" for b in "xyz")
    terms = model.search_terms(many)
    assert len(terms) <= model.MAX_SEARCH_TERMS
    searchable = model.searchable_tokens(many)
    assert searchable == many[:len(searchable)] and 0 < len(searchable) < len(many)
    assert all(t[:3] in terms for t in searchable)


def test_search_text_matches_word_prefixes_only():
    text = model.search_text(("chart", "wizard"))
    assert " wiz" in text and " chart" in text
    assert " izard" not in text


def test_query_words_longest_first_distinct_and_casefolded():
    assert model.query_words("  Wiz  chart CHART ") == ["chart", "wiz"]
    assert model.query_words("!!! ...") == []
    assert model.key_term("analytics") == "ana"
    assert model.key_term("ai") == "ai"


def test_filter_combinations_cover_every_subset():
    combos = model.filter_combinations("analytics", "app", "ptn_1")
    assert len(combos) == 8 and len(set(combos)) == 8
    assert ("analytics", None, "ptn_1") in combos and (None, None, None) in combos


@pytest.mark.parametrize("changes,expected", [
    ({"added": 5}, Rating(1, 5, (0, 0, 0, 0, 1))),
    ({"removed": 4, "added": 2}, Rating(1, 2, (0, 1, 0, 0, 0))),
])
def test_rating_changes_are_integer_counters(changes, expected):
    start = Rating(1, 4, (0, 0, 0, 1, 0)) if "removed" in changes else Rating()
    assert start.change(**changes) == expected


def test_rating_average_is_rounded_half_up_from_integers():
    assert Rating().average == 0.0
    assert Rating(3, 13, (0, 0, 0, 2, 1)).average == 4.33
    assert Rating(8, 37, (0, 0, 1, 1, 6)).average == 4.63  # 4.625 rounds half up
    assert Rating(2, 9, (0, 0, 0, 1, 1)).to_dict()["histogram"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}


@pytest.mark.parametrize("bad", [0, 6, True, "5", 2.5])
def test_rating_refuses_values_outside_one_to_five(bad):
    with pytest.raises(ValueError):
        Rating().change(added=bad)


def test_rating_refuses_removing_what_was_never_counted():
    with pytest.raises(ValueError):
        Rating().change(removed=3)


def _info(listing_id, partner="ptn_a", type_="app", status="published", currency="usd", amount=500):
    return ComponentInfo(listing_id, partner, type_, status, Money(amount, currency))


def test_component_problems_name_each_bad_component():
    found = {
        "ok": _info("ok"), "draft": _info("draft", status="draft"), "bundle": _info("bundle", type_="bundle"),
        "foreign": _info("foreign", partner="ptn_b"), "eur": _info("eur", currency="eur"),
    }
    ids = ["ok", "draft", "bundle", "foreign", "eur", "missing"]
    problems = model.component_problems(ids, found, currency="usd", owner_partner_id="ptn_a")
    assert [p["field"] for p in problems] == [f"components.{i}" for i in range(1, 6)]
    # an admin bundle may mix partners
    assert model.component_problems(["ok", "foreign"], found, currency="usd", owner_partner_id=None) == []


def test_split_problems():
    ids = ["a", "b"]
    assert model.split_problems({"method": "pro_rata"}, ids) == []
    assert model.split_problems({"method": "weights", "weights": {"a": 1, "b": 3}}, ids) == []
    fields = {p["field"] for p in model.split_problems({"method": "weights", "weights": {"a": 1, "c": 2}}, ids)}
    assert fields == {"split.weights.b", "split.weights.c"}
    assert model.split_problems({"method": "weights", "weights": {"a": 0, "b": 1}}, ids)


def test_diff_names_each_changed_field():
    live = {"name": "A", "tags": ["x"], "price": {"amount": 1, "currency": "usd"}}
    proposed = {"name": "B", "tags": ["x"], "price": {"amount": 2, "currency": "usd"}}
    assert model.diff(live, proposed) == [
        {"field": "name", "from": "A", "to": "B"},
        {"field": "price", "from": {"amount": 1, "currency": "usd"}, "to": {"amount": 2, "currency": "usd"}},
    ]
    assert [c["from"] for c in model.diff(None, proposed)] == [None, None, None]


@pytest.mark.parametrize("name,slug", [
    ("Chart Wizard", "chart-wizard"), ("  Crème brûlée!! 2 ", "creme-brulee-2"), ("漢字", "listing"),
])
def test_slugify(name, slug):
    assert model.slugify(name) == slug


def test_sort_keys_order_as_strings_like_their_numbers():
    rng = random.Random(7)
    prices = [rng.randrange(0, 100_000_000) for _ in range(200)] + [0, 5, 50, 500]
    by_key = sorted(prices, key=lambda a: keys.catalog_price_sk(a, "lst"))
    assert by_key == sorted(prices)
    ratings = [(rng.randrange(0, 500), rng.randrange(1, 100)) for _ in range(200)]
    ratings = [(min(s, 5 * c), c) for s, c in ratings] + [(0, 0)]
    ordered = sorted(ratings, key=lambda r: keys.catalog_rating_sk(r[0], r[1], "lst"))
    averages = [s / c if c else 0 for s, c in ordered]
    assert averages == sorted(averages)
    # equal averages: more ratings rank higher (later in ascending order, first when read backwards)
    assert keys.catalog_rating_sk(10, 2, "lst_z") < keys.catalog_rating_sk(50, 10, "lst_a")
