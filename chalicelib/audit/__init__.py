"""Audit trail: who did what to which entity, when and why."""
