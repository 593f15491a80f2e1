"""`codifier schema`: print the JSON Schema of the playbook format."""

from __future__ import annotations

import argparse
import sys

from dsl.schema import playbook_schema_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(playbook_schema_text())
    return 0
