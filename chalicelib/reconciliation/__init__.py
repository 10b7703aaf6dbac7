"""Reconciliation: the ledger compared with Stripe's payments, refunds and transfers for a period."""
