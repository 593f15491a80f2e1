"""The `codifier` command line."""
