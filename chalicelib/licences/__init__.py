"""Licences: short-lived signed statements that a customer holds an app, verifiable by its partner offline."""
