"""Orders: checkout, the order history and refunds, with frozen prices, splits and commissions."""
