"""DynamoDB storage: the single-table model, its indexes and the only place key strings are built."""
