"""`python -m codifier.lsp`: the same server as `codifier lsp`."""

from __future__ import annotations

import argparse
import sys

from codifier.lsp.command import add_arguments, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="codifier lsp")
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
