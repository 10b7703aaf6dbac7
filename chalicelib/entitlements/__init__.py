"""Entitlements: what each customer owns, granted when an order is paid and revoked by a full refund."""
