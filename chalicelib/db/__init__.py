"""DynamoDB storage: the single-table model, key builders (the only place key strings are made), pages, transactions,
Idempotency-Key records."""
