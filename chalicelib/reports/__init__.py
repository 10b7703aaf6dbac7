"""Finance reports: per-partner figures for a period, as JSON and CSV."""
