"""The one DynamoDB table, as a pynamodb polymorphic model.

Entities subclass `MarketItem` with a `discriminator` (pynamodb polymorphism), so a Query over a
partition returns typed objects. Indexes are generic and overloaded (`gsi1`..`gsi3`, all attributes
projected) so new access patterns need new key strings in `keys.py`, not new infrastructure.
`infra/` declares the same table; a test keeps the two in step.

Every call has a connect and a read timeout and a bounded number of retries (pynamodb's defaults are
15 s / 30 s / 3 retries, longer than API Gateway waits): the budget of the running context
(`core.deadlines.current()`, the API's unless a job set its own) when the connection is made; a
connection made for another budget is replaced.
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import API_DEADLINES, CallBudget, get_settings
from chalicelib.core import deadlines

_settings = get_settings()


def _index(number: int) -> type[GlobalSecondaryIndex]:
    """Build the generic index `gsi{number}` over `gsi{number}pk` / `gsi{number}sk`."""

    class Meta:
        index_name = f"gsi{number}"
        projection = AllProjection()

    attrs = {
        "Meta": Meta,
        f"gsi{number}pk": UnicodeAttribute(hash_key=True),
        f"gsi{number}sk": UnicodeAttribute(range_key=True),
    }
    return type(f"Gsi{number}", (GlobalSecondaryIndex,), attrs)


Gsi1, Gsi2, Gsi3 = _index(1), _index(2), _index(3)


class MarketItem(Model):
    """Base of every stored entity; `kind` says which subclass a row is."""

    class Meta:
        table_name = _settings.table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        connect_timeout_seconds = API_DEADLINES.dynamodb.connect_seconds
        read_timeout_seconds = API_DEADLINES.dynamodb.read_seconds
        max_retry_attempts = API_DEADLINES.dynamodb.retries

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()

    @classmethod
    def _get_connection(cls):
        # pynamodb caches a connection per class, and each connection makes its own botocore session
        # and client (endpoint and service-model files loaded again: ~40% of a cold start). Every
        # entity lives in this one table with these keys and indexes, so they all share this class's.
        if cls is not MarketItem:
            return MarketItem._get_connection()
        budget = deadlines.current().dynamodb
        if MarketItem._connection is None or _connected_with.get("budget") != budget:
            _apply(budget)
            MarketItem._connection = None
            _connected_with["budget"] = budget
        return super()._get_connection()


# The budget the current connection was made with (a job's differs from the API's).
_connected_with: dict[str, CallBudget] = {}


def _apply(budget: CallBudget) -> None:
    """Give the next connection `budget`'s timeouts and retries (botocore's standard retry mode)."""
    meta = MarketItem.Meta
    meta.connect_timeout_seconds = budget.connect_seconds
    meta.read_timeout_seconds = budget.read_seconds
    meta.max_retry_attempts = budget.retries


INDEX_NAMES = ("gsi1", "gsi2", "gsi3")


def connection():
    """The pynamodb low-level connection shared by transactions (created lazily, reused warm)."""
    return MarketItem._get_connection().connection


def create_table(wait: bool = True) -> None:
    """Create the table if it does not exist (local stage and tests; AWS gets it from infra/)."""
    if not MarketItem.exists():
        MarketItem.create_table(wait=wait)


def get_rows(key_pairs: Iterable[tuple[str, str]], *, consistent: bool = False) -> list[MarketItem]:
    """Rows of any kind by (pk, sk), unique keys only, in one BatchGetItem per 100 keys.

    Each row comes back as its own subclass (the discriminator), so one call can read the rows of
    several aggregates; each aggregate's repository then picks out and maps its own.
    """
    unique = list(dict.fromkeys(key_pairs))
    if not unique:
        return []
    return list(MarketItem.batch_get(unique, consistent_read=consistent))
