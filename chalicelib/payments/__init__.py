"""Payments: the port to the payment provider (`PaymentGateway`), its Stripe adapter and a fake for tests."""
