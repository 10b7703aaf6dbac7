"""Twenty customers review one listing at the same time: every review counts, exactly once.

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

from chalicelib.catalog import service as catalog
from chalicelib.catalog.model import Rating
from chalicelib.db.table import MarketItem, create_table
from chalicelib.http.auth import Principal
from chalicelib.reviews import service
from chalicelib.reviews.repository import all_reviews_of
from tests.test_reviews_factories import give, published_listing_direct

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


@pytest.fixture
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
    listing = published_listing_direct("vendor")
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
    assert catalog.get_listing_for_owner_check(lid).rating == expected
    assert len(all_reviews_of(lid)) == WRITERS
    card = catalog.public_listing(lid)["rating"]
    assert card == expected.to_dict()
