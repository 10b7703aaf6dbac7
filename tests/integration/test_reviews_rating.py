"""The listing's rating is always a recount of its visible reviews (DynamoDB under moto).

A hypothesis state machine runs random sequences of create, edit, delete, flag, hide and restore
through the review use cases and, after every step, compares the rating stored on the listing row
and on its catalog card with a recount of the review rows and with the machine's own model. It
also checks each step's outcome (a second review is a conflict, editing a hidden review is refused,
...) and that the public lists show exactly the visible reviews.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from chalicelib.catalog import repository as catalog_repo
from chalicelib.catalog import ratings as catalog
from chalicelib.core.errors import Conflict, Forbidden, InvalidState, NotFound
from chalicelib.db import keys
from chalicelib.db.table import MarketItem, create_table
from chalicelib.core.identity import Principal
from chalicelib.reviews import model, service
from chalicelib.reviews.model import Counted, recount
from chalicelib.reviews.repository import all_reviews_of, list_visible
from tests.factories import ADMIN_USER, give, publish_app_directly

CUSTOMERS = ("ann", "ben", "cat")
who = st.sampled_from(CUSTOMERS)
stars = st.integers(model.MIN_STARS, model.MAX_STARS)


class ReviewRatingMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # A fresh table per run: moto copies the whole table on every transaction, so a table that
        # grew over earlier runs would only make later ones slower.
        MarketItem.delete_table()
        MarketItem._connection = None
        create_table()
        self.listing = publish_app_directly("vendor")
        self.lid = self.listing["listing_id"]
        for customer in CUSTOMERS:
            give(customer, self.listing)
        # customer -> [status, stars, review_id, pending flags, set of flaggers]
        self.model: dict[str, list] = {}

    def _user(self, sub: str) -> Principal:
        return Principal(sub)

    @initialize(authors=st.lists(who, unique=True), ratings=st.lists(stars, min_size=3, max_size=3))
    def some_reviews_already_written(self, authors, ratings):
        """Start with a few reviews, so moderation moves are drawn on real reviews from the first step."""
        for author, rating in zip(authors, ratings):
            self.create(author, rating)

    @rule(author=who, rating=stars)
    def create(self, author, rating):
        if author in self.model:
            with pytest.raises(Conflict):
                service.create_review(user=self._user(author), listing_id=self.lid, rating=rating)
            return
        review = service.create_review(user=self._user(author), listing_id=self.lid, rating=rating, title="t")
        self.model[author] = [model.VISIBLE, rating, review.review_id, 0, set()]

    @rule(author=who, rating=stars)
    def edit(self, author, rating):
        state = self.model.get(author)
        call = lambda: service.edit_my_review(  # noqa: E731
            user=self._user(author), listing_id=self.lid, rating=rating, body="edited")
        if state is None:
            with pytest.raises(NotFound):
                call()
        elif state[0] == model.HIDDEN:
            with pytest.raises(InvalidState):
                call()
        else:
            call()
            state[1] = rating

    @rule(author=who)
    def delete(self, author):
        if author not in self.model:
            with pytest.raises(NotFound):
                service.delete_my_review(user=self._user(author), listing_id=self.lid)
            return
        service.delete_my_review(user=self._user(author), listing_id=self.lid)
        del self.model[author]

    @rule(author=who, flagger=who)
    def flag(self, author, flagger):
        state = self.model.get(author)
        if state is None:
            return
        call = lambda: service.flag(user=self._user(flagger), review_id=state[2], reason="why")  # noqa: E731
        if state[0] == model.HIDDEN:
            with pytest.raises(NotFound):
                call()
        elif flagger == author:
            with pytest.raises(Forbidden):
                call()
        elif flagger in state[4]:
            with pytest.raises(Conflict):
                call()
        else:
            call()
            state[3] += 1
            state[4].add(flagger)

    @rule(author=who)
    def hide(self, author):
        state = self.model.get(author)
        if state is None:
            return
        call = lambda: service.hide(admin=ADMIN_USER, review_id=state[2], reason="moderated")  # noqa: E731
        if state[0] == model.HIDDEN:
            with pytest.raises(InvalidState):
                call()
            return
        call()
        state[0], state[3] = model.HIDDEN, 0

    @rule(author=who)
    def restore(self, author):
        state = self.model.get(author)
        if state is None:
            return
        call = lambda: service.restore(admin=ADMIN_USER, review_id=state[2])  # noqa: E731
        if state[0] == model.VISIBLE and state[3] == 0:
            with pytest.raises(InvalidState):
                call()
            return
        call()
        state[0], state[3] = model.VISIBLE, 0

    @invariant()
    def rating_is_a_recount_of_the_visible_reviews(self):
        expected = recount(Counted(s[0], s[1]) for s in self.model.values())
        stored = catalog.get_listing_for_owner_check(self.lid).rating
        assert stored == expected
        assert stored == recount(r.counted for r in all_reviews_of(self.lid))
        card = catalog_repo.CatalogEntryItem.get(keys.catalog_filter_pk(None, None, None), self.lid)
        assert card.to_card(None)["rating"] == expected.to_dict()

    @invariant()
    def lists_show_exactly_the_visible_reviews(self):
        visible = {s[2] for s in self.model.values() if s[0] == model.VISIBLE}
        for sort in model.SORTS:
            page = list_visible(listing_id=self.lid, sort=sort, limit=100, cursor=None, scope="t")
            assert {r.review_id for r in page.items} == visible
            ratings = [int(r.stars) for r in page.items]
            if sort == model.HIGHEST:
                assert ratings == sorted(ratings, reverse=True)
            elif sort == model.LOWEST:
                assert ratings == sorted(ratings)


def test_rating_always_equals_a_recount(ddb):
    run_state_machine_as_test(ReviewRatingMachine, settings=settings(
        max_examples=8, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))


def test_a_moderation_based_on_a_stale_read_starts_over(ddb, monkeypatch):
    """The admin read the review before its author changed the stars: the hide is recomputed, not failed."""
    from chalicelib.reviews import repository

    listing = publish_app_directly("vendor")
    lid = listing["listing_id"]
    give("ann", listing)
    review = service.create_review(user=Principal("ann"), listing_id=lid, rating=5)
    stale = repository.get_by_id(review.review_id)
    service.edit_my_review(user=Principal("ann"), listing_id=lid, rating=1)
    reads = []

    def read_once_stale(review_id):
        reads.append(review_id)
        return stale if len(reads) == 1 else repository.get_by_id(review_id)

    monkeypatch.setattr(service, "get_by_id", read_once_stale)
    hidden = service.hide(admin=ADMIN_USER, review_id=review.review_id, reason="spam")
    assert hidden.status == model.HIDDEN and len(reads) == 2
    assert catalog.get_listing_for_owner_check(lid).rating == recount([])
