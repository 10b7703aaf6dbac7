"""Pure building blocks shared by every aggregate: errors, ids, clock, money."""
