"""Partner payouts: Stripe Connect accounts, payout runs and the transfers that pay partners."""
