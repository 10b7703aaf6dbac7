"""Payments: the port to the payment provider (`PaymentGateway`) and its Stripe adapter; tests bring a fake."""
