"""Pure review rules: the rating change of each write, the recount, and the moderation moves."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.catalog.model import Rating
from chalicelib.reviews import model
from chalicelib.reviews.model import HIDDEN, VISIBLE, Counted, RatingChange, change_between, recount

V = lambda stars: Counted(VISIBLE, stars)  # noqa: E731
H = lambda stars: Counted(HIDDEN, stars)  # noqa: E731


@pytest.mark.parametrize("before, after, expected", [
    (None, V(4), RatingChange(added=4)),  # create
    (V(4), V(2), RatingChange(removed=4, added=2)),  # edit
    (V(4), V(4), RatingChange()),  # edit text only
    (V(4), None, RatingChange(removed=4)),  # delete
    (H(4), None, RatingChange()),  # delete a hidden review: it was not counted
    (V(3), H(3), RatingChange(removed=3)),  # hide
    (H(3), V(3), RatingChange(added=3)),  # restore
    (V(3), V(3), RatingChange()),  # dismiss flags
])
def test_change_between(before, after, expected):
    assert change_between(before, after) == expected


def test_noop_change_leaves_rating_alone():
    rating = Rating(2, 7, (0, 0, 1, 1, 0))
    assert RatingChange().apply_to(rating) is rating
    assert RatingChange(removed=3, added=5).apply_to(rating) == Rating(2, 9, (0, 0, 0, 1, 1))


def test_recount_counts_only_visible_reviews():
    assert recount([V(5), H(1), V(3)]) == Rating(2, 8, (0, 0, 1, 0, 1))
    assert recount([]) == Rating()
    assert recount([H(5)]).to_dict() == {"count": 0, "average": 0.0, "histogram": {str(i): 0 for i in range(1, 6)}}


states = st.one_of(st.none(), st.builds(Counted, st.sampled_from([VISIBLE, HIDDEN]), st.integers(1, 5)))


@given(st.lists(st.tuples(states, states), max_size=30))
def test_changes_applied_in_sequence_equal_the_recount_of_the_final_states(transitions):
    """Whatever each review goes through, applying each write's change keeps the recount."""
    rating = Rating()
    current: dict[int, Counted | None] = {}
    for number, (_, after) in enumerate(transitions):
        key = number % 4  # a few reviews, each rewritten many times
        rating = change_between(current.get(key), after).apply_to(rating)
        current[key] = after
    assert rating == recount(c for c in current.values() if c is not None)


def test_moderation_moves():
    assert model.can_edit(VISIBLE) and not model.can_edit(HIDDEN)
    assert model.can_hide(VISIBLE) and not model.can_hide(HIDDEN)
    assert model.can_restore(HIDDEN, 0)
    assert model.can_restore(VISIBLE, 2)  # keep it and clear the flags
    assert not model.can_restore(VISIBLE, 0)
    assert model.can_flag(VISIBLE) and not model.can_flag(HIDDEN)
