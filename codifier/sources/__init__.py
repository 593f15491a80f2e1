"""Data sources for `data-query` and `query_data`: read-only, results capped at 100 KB."""
