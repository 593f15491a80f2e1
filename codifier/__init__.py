"""Codifier: the application around the playbook language (CLI, server, store, skills)."""

__version__ = "0.1.0"
