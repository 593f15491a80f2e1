"""The playbook language: source -> syntax -> check -> IR -> interpret.

Pure: this package does no network, database or MCP work, and never imports the
application (`codifier`).
"""
