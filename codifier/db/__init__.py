"""The database: where it runs (embedded or external) and its migrations."""
