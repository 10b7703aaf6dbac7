"""Subscriptions: recurring apps and bundles billed by Stripe, each paid invoice an exactly-once split sale."""
