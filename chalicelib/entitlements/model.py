"""What a customer owns, as plain values: the grants a paid order makes and the entitlements they become.

Entitlements know nothing of orders: checkout describes each listing a paid line entitles its buyer to
as a `Grant` (with the line that granted it, which alone may revoke it), so this package depends on no
other aggregate and orders depend on it one way.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Grant:
    """One listing an order line entitles its buyer to."""

    listing_id: str
    listing_type: str  # "app" | "bundle"
    name: str | None
    order_id: str
    # "<order_id>/<line_id>": the line that granted the row; only its full refund revokes it.
    line_ref: str
    # The bundle this app came with, if it came with one.
    via_bundle: str | None = None


@dataclass(frozen=True)
class Entitlement:
    """A listing the customer owns, as the API answers it."""

    customer_sub: str
    listing_id: str
    listing_type: str
    name: str | None
    order_id: str
    via_bundle: str | None
    granted_at: str
    # Held through a subscription (`order_id` is then None): which one, and until when at the latest.
    subscription_id: str | None = None
    expires_at: str | None = None

    def to_dict(self) -> dict:
        return {
            "listing_id": self.listing_id, "type": self.listing_type, "name": self.name,
            "order_id": self.order_id, "via_bundle": self.via_bundle, "granted_at": self.granted_at,
            "via": "subscription" if self.subscription_id else "order", "subscription_id": self.subscription_id,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True)
class SubscriptionGrant:
    """One listing a subscription entitles its subscriber to, for as long as the subscription holds."""

    listing_id: str
    listing_type: str  # "app" | "bundle"
    name: str | None
    via_bundle: str | None = None
