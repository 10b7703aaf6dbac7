"""Partner API keys: scoped credentials a partner's own systems use instead of a person's token."""
