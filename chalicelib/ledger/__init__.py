"""The revenue-share ledger: pure rules, the double-entry journal, partner balances and statements."""
