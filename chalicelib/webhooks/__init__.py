"""Stripe webhooks: signature check on the raw body, then each event's effect exactly once."""
