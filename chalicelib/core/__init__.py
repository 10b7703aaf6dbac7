"""Pure building blocks shared by every aggregate: money, errors, ids, clock, the caller's identity, contract words."""
