"""Simultaneous review writes on one listing: every change counts, exactly once.

moto's in-process DynamoDB is not safe under threads (a transaction deep-copies the tables while
another thread writes them), and the threaded `moto_server` can roll one transaction back over
another's committed write. So this test starts its own moto server process on a free loopback port,
serving one request at a time the way DynamoDB applies each request atomically, and stops it by PID.
The twenty clients still interleave freely between their requests: each reads the listing, then
writes its transaction, which is exactly the race the optimistic guard and the retries must win.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.catalog import queries, ratings
from chalicelib.catalog.model import Rating
from chalicelib.core.errors import DomainError
from chalicelib.db.table import MarketItem, create_table
from chalicelib.core.identity import Principal
from chalicelib.reviews import service
from chalicelib.reviews.model import recount
from chalicelib.reviews.repository import all_reviews_of
from tests.factories import ADMIN_USER, give, publish_app_directly

WRITERS = 20

# moto's WSGI app in a single-threaded werkzeug server (HTTP/1.0: one connection per request).
SERVER = """
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False,
           request_handler=MotoRequestHandler)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _forget_connections() -> None:
    """Drop every cached pynamodb connection (subclasses may hold their own)."""
    pending = [MarketItem]
    while pending:
        cls = pending.pop()
        if "_connection" in cls.__dict__:
            cls._connection = None
        pending.extend(cls.__subclasses__())


@pytest.fixture(scope="module")
def serial_dynamodb():
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the moto server did not start")
                time.sleep(0.1)
        MarketItem.Meta.host = f"http://127.0.0.1:{port}"
        _forget_connections()
        create_table()
        yield
    finally:
        MarketItem.Meta.host = None
        _forget_connections()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_twenty_simultaneous_reviews_give_an_exact_rating(serial_dynamodb):
    listing = publish_app_directly("vendor")
    lid = listing["listing_id"]
    customers = [f"buyer{i:02d}" for i in range(WRITERS)]
    for sub in customers:
        give(sub, listing)
    stars = {sub: 1 + (i * 7) % 5 for i, sub in enumerate(customers)}
    start = threading.Barrier(WRITERS)

    def write(sub: str) -> str:
        start.wait()
        return service.create_review(user=Principal(sub), listing_id=lid, rating=stars[sub]).review_id

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        review_ids = list(pool.map(write, customers))

    assert len(set(review_ids)) == WRITERS
    expected = Rating()
    for value in stars.values():
        expected = expected.change(added=value)
    assert expected.count == WRITERS and expected.histogram == (4, 4, 4, 4, 4)
    assert ratings.get_listing_for_owner_check(lid).rating == expected
    assert len(all_reviews_of(lid)) == WRITERS
    card = queries.public_listing(lid)["rating"]
    assert card == expected.to_dict()


def test_simultaneous_edits_deletes_hides_and_restores_keep_the_rating_a_recount(serial_dynamodb):
    """Authors and moderators race on the same reviews; whoever wins, the rating is the recount."""
    listing = publish_app_directly("vendor2", name="Contended App")
    lid = listing["listing_id"]
    authors = [f"author{i}" for i in range(6)]
    ids = {}
    for i, sub in enumerate(authors):
        give(sub, listing)
        ids[sub] = service.create_review(user=Principal(sub), listing_id=lid, rating=1 + i % 5).review_id
    for sub in authors[:2]:
        service.hide(admin=ADMIN_USER, review_id=ids[sub], reason="start hidden")
    # Each author's review gets two competing writes: one from its author, one from a moderator.
    operations = []
    for i, sub in enumerate(authors):
        user = Principal(sub)
        if i % 3 == 0:
            operations.append(lambda u=user: service.edit_my_review(user=u, listing_id=lid, rating=5))
        elif i % 3 == 1:
            operations.append(lambda u=user: service.delete_my_review(user=u, listing_id=lid))
        else:
            operations.append(lambda u=user: service.edit_my_review(user=u, listing_id=lid, rating=2))
        moderation = service.restore if i < 2 else service.hide
        operations.append(lambda r=ids[sub], m=moderation: m(admin=ADMIN_USER, review_id=r, reason="race"))
    start = threading.Barrier(len(operations))
    outcomes = []

    def run(operation):
        start.wait()
        try:
            operation()
            outcomes.append("ok")
        except DomainError as exc:  # a refused move (hidden review edited, deleted review hidden) is fine
            outcomes.append(exc.code)

    with ThreadPoolExecutor(max_workers=len(operations)) as pool:
        list(pool.map(run, operations))

    assert "conflict" not in outcomes  # nobody ran out of retries
    rows = all_reviews_of(lid)
    assert ratings.get_listing_for_owner_check(lid).rating == recount(r.counted for r in rows)
    assert queries.public_listing(lid)["rating"] == recount(r.counted for r in rows).to_dict()
