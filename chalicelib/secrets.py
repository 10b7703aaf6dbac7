"""Stripe credentials, read once per cold start.

In the local stage they come from the environment that `make run` sets (localstripe's test key and the
webhook secret it registered). In AWS stages they live in one Secrets Manager secret (JSON with
`secret_key` and `webhook_secret`) named by `MARKET_STRIPE_SECRETS_PARAMETER`, fetched on first use and
kept for the life of the warm container, so no request pays for the lookup twice.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.core.errors import UpstreamUnavailable


@dataclass(frozen=True)
class StripeSecrets:
    secret_key: str
    webhook_secret: str


@functools.lru_cache(maxsize=1)
def get_stripe_secrets() -> StripeSecrets:
    settings = get_settings()
    if settings.is_local or not settings.stripe_secrets_parameter:
        return StripeSecrets(settings.stripe_secret_key, settings.stripe_webhook_secret)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        raw = boto3.client("secretsmanager", region_name=settings.region).get_secret_value(
            SecretId=settings.stripe_secrets_parameter
        )["SecretString"]
        data = json.loads(raw)
        return StripeSecrets(data["secret_key"], data["webhook_secret"])
    except (BotoCoreError, ClientError, KeyError, ValueError) as exc:
        raise UpstreamUnavailable("The payment provider's credentials could not be read.") from exc


def reset_stripe_secrets() -> None:
    """Forget the cached credentials (tests)."""
    get_stripe_secrets.cache_clear()
