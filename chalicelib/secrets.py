"""Stripe credentials, read once per cold start.

In the local stage they come from the environment that `make run` sets (localstripe's test key and the
webhook secret it registered). In AWS stages they live in one Secrets Manager secret (JSON with
`secret_key`, `webhook_secret` and, optionally, `connect_webhook_secret`) named by
`MARKET_STRIPE_SECRETS_PARAMETER`, fetched on first use and kept for the life of the warm container, so
no request pays for the lookup twice. Stripe signs connected-account events (`account.updated`) with the
secret of a separate Connect endpoint, hence the second webhook secret.

The lookup is short (`config.SECRETS_MANAGER_BUDGET`: 1 s to connect, 2 s to answer, one retry): it runs
inside the first request of a container, which API Gateway abandons at 29 s.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from chalicelib.config import SECRETS_MANAGER_BUDGET, get_settings
from chalicelib.core.errors import UpstreamUnavailable


@dataclass(frozen=True)
class StripeSecrets:
    secret_key: str
    webhook_secret: str
    connect_webhook_secret: str = ""

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Every secret a genuine delivery may be signed with (platform endpoint, Connect endpoint)."""
        return tuple(s for s in (self.webhook_secret, self.connect_webhook_secret) if s and s != "unset")


@functools.lru_cache(maxsize=1)
def get_stripe_secrets() -> StripeSecrets:
    settings = get_settings()
    if settings.is_local or not settings.stripe_secrets_parameter:
        return StripeSecrets(settings.stripe_secret_key, settings.stripe_webhook_secret,
                             settings.stripe_connect_webhook_secret)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        raw = boto3.client("secretsmanager", region_name=settings.region, config=client_config()).get_secret_value(
            SecretId=settings.stripe_secrets_parameter
        )["SecretString"]
        data = json.loads(raw)
        return StripeSecrets(data["secret_key"], data["webhook_secret"], data.get("connect_webhook_secret", ""))
    except (BotoCoreError, ClientError, KeyError, ValueError) as exc:
        raise UpstreamUnavailable("The payment provider's credentials could not be read.") from exc


def client_config():
    """botocore's settings for the Secrets Manager client: short timeouts, bounded retries."""
    from botocore.config import Config

    budget = SECRETS_MANAGER_BUDGET
    return Config(connect_timeout=budget.connect_seconds, read_timeout=budget.read_seconds,
                  retries={"total_max_attempts": 1 + budget.retries, "mode": "standard"})


def reset_stripe_secrets() -> None:
    """Forget the cached credentials (tests)."""
    get_stripe_secrets.cache_clear()
