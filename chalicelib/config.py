"""The only place the process environment is read.

Every setting the app uses is named here once, with its default, so a reader can see the whole
configuration surface of a stage in one screen and tests can build a `Settings` of their own.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

VERSION = "0.1.0"

LOCAL_STAGE = "local"


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    region: str
    # Auth: the local stage signs its own HS256 tokens; every other stage trusts only the issuer's JWKS.
    jwt_issuer: str
    jwt_audience: str
    jwt_local_secret: str
    jwks_url: str
    # Pagination cursors are signed so a client cannot forge a key into another tenant's partition.
    cursor_secret: str
    # Stripe.
    stripe_secret_key: str
    stripe_webhook_secret: str
    stripe_connect_webhook_secret: str
    stripe_api_base: str
    stripe_secrets_parameter: str
    # Money.
    default_commission_bps: int
    hold_days: int
    min_payout: int
    max_body_bytes: int
    # Operations: the level of the JSON logs (INFO unless the stage's environment says otherwise).
    log_level: str = "INFO"
    # Queued work (chalicelib/jobs): AWS stages get the URL from the template; the local stage and tests
    # name the queue and look its URL up once.
    job_queue_url: str = ""
    job_queue_name: str = "marketplace-jobs"
    # Keys the per-partner customer ids of events and licences (core/pseudonyms.py). Never rotated: a new
    # key would give every customer a new id at every partner.
    pseudonym_secret: str = "local-pseudonym-secret"
    # Subscriptions: how long a `past_due` subscriber keeps access (and how late a renewal may be).
    grace_days: int = 7
    # Licences (chalicelib/licences): the `iss` they carry, how long one lives (<= 24 h), and in AWS stages
    # the KMS keys (ECC_NIST_P256, SIGN_VERIFY) that sign them: the first signs, every one listed is
    # published in the JWKS (rotation: docs/partner-keys-and-licences.md). The local stage keeps its key in DynamoDB.
    licence_issuer: str = "https://marketplace.local"
    licence_ttl_seconds: int = 24 * 3600
    licence_kms_key_ids: tuple[str, ...] = ()
    # Partner webhooks (chalicelib/partner_webhooks): the first retry waits `base`, each next one twice as
    # long up to `max`; after `max_attempts` the delivery is `failed`. AWS: 30 s doubling to 6 h, 15 attempts
    # = 32.5 h; the local stage starts at 1 s so a retry is seen within seconds. A receiver has `timeout`.
    webhook_backoff_base_seconds: int = 30
    webhook_backoff_max_seconds: int = 6 * 3600
    webhook_max_attempts: int = 15
    webhook_timeout_seconds: int = 10

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE


# --- Deadlines (docs/decisions.md, "Deadlines"; applied through chalicelib/core/deadlines.py) ---------
@dataclass(frozen=True)
class CallBudget:
    """One call to a backing service: connect and read timeouts (seconds) and retries after the first try."""

    connect_seconds: float
    read_seconds: float
    retries: int


@dataclass(frozen=True)
class Deadlines:
    dynamodb: CallBudget
    stripe: CallBudget


# API: one dependency down answers 503 in <= 15 s (DynamoDB) or <= 16.5 s (Stripe), inside API Gateway's 29 s.
API_DEADLINES = Deadlines(dynamodb=CallBudget(1.0, 3.0, 2), stripe=CallBudget(2.0, 6.0, 1))
# The scheduled payout run (Lambda timeout 300 s): slower answers are waited for, more retries are made.
JOB_DEADLINES = Deadlines(dynamodb=CallBudget(2.0, 8.0, 3), stripe=CallBudget(3.0, 15.0, 2))
SECRETS_MANAGER_BUDGET = CallBudget(1.0, 2.0, 1)  # once per cold start
JWKS_TIMEOUT_SECONDS = 2.0  # once per cold start and key rotation; PyJWT makes one attempt
# The payout job starts no payout with less than this left (a transfer that exhausts its retries takes
# <= 55.5 s, its writes take milliseconds); a run started from the API starts none after 10 s (<= 16.5 s more).
JOB_STOP_MARGIN_SECONDS = 60.0
API_PAYOUT_RUN_SECONDS = 10.0


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def load_settings() -> Settings:
    """Read the environment into a Settings (no caching: see `get_settings`)."""
    env = os.environ.get
    stage = env("MARKET_STAGE", LOCAL_STAGE)
    return Settings(
        stage=stage,
        table_name=env("MARKET_TABLE", "marketplace-local"),
        region=env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1",
        jwt_issuer=env("MARKET_JWT_ISSUER", "market-local"),
        jwt_audience=env("MARKET_JWT_AUDIENCE", "market-local"),
        jwt_local_secret=env("MARKET_LOCAL_JWT_SECRET", ""),
        jwks_url=env("MARKET_JWKS_URL", ""),
        cursor_secret=env("MARKET_CURSOR_SECRET", "local-cursor-secret"),
        stripe_secret_key=env("STRIPE_SECRET_KEY", ""),
        stripe_webhook_secret=env("STRIPE_WEBHOOK_SECRET", ""),
        stripe_connect_webhook_secret=env("STRIPE_CONNECT_WEBHOOK_SECRET", ""),
        stripe_api_base=env("STRIPE_API_BASE", ""),
        stripe_secrets_parameter=env("MARKET_STRIPE_SECRETS_PARAMETER", ""),
        default_commission_bps=_int("DEFAULT_COMMISSION_BPS", 2000),
        hold_days=_int("HOLD_DAYS", 14),
        min_payout=_int("MIN_PAYOUT", 2500),
        max_body_bytes=_int("MARKET_MAX_BODY_BYTES", 256 * 1024),
        log_level=(env("MARKET_LOG_LEVEL") or "INFO").upper(),
        job_queue_url=env("MARKET_JOB_QUEUE_URL", ""),
        job_queue_name=env("MARKET_JOB_QUEUE", "marketplace-jobs"),
        pseudonym_secret=env("MARKET_PSEUDONYM_SECRET", "local-pseudonym-secret"),
        grace_days=_int("GRACE_DAYS", 7),
        licence_issuer=env("MARKET_LICENCE_ISSUER", "https://marketplace.local"),
        licence_ttl_seconds=min(_int("MARKET_LICENCE_TTL_SECONDS", 24 * 3600), 24 * 3600),
        licence_kms_key_ids=tuple(k.strip() for k in env("MARKET_LICENCE_KMS_KEYS", "").split(",") if k.strip()),
        webhook_backoff_base_seconds=_int("MARKET_WEBHOOK_BACKOFF_BASE_SECONDS", 1 if stage == LOCAL_STAGE else 30),
        webhook_backoff_max_seconds=_int("MARKET_WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600),
        webhook_max_attempts=max(8, _int("MARKET_WEBHOOK_MAX_ATTEMPTS", 15)),
        webhook_timeout_seconds=min(10, _int("MARKET_WEBHOOK_TIMEOUT_SECONDS", 10)),
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once per cold start."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
