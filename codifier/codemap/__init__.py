"""Code maps of a packed repository: outlines, search chunks, central modules, a digest.

Pure functions over text (no database, no server):

- `outline(language, text)`: a file's definitions (kind, name, signature, lines, depth);
- `chunks(language, text)`: line ranges for semantic search, one per function or method;
- `rank(texts)`: the most central modules, by PageRank over the import graph;
- `build_digest(result, budget_tokens)`: a token-budgeted markdown overview of a pack.

Parsing uses the tree-sitter grammars compiled into their PyPI wheels (`languages`), each
parse bounded in size and time (`ParseLimits`).
"""

from codifier.codemap.chunks import Chunk, chunks
from codifier.codemap.digest import DEFAULT_BUDGET, MIN_BUDGET, Digest, build_digest
from codifier.codemap.languages import SUPPORTED, ParseLimits, parser_for
from codifier.codemap.outline import Symbol, outline
from codifier.codemap.references import Ranked, rank

__all__ = [
    "DEFAULT_BUDGET",
    "MIN_BUDGET",
    "SUPPORTED",
    "Chunk",
    "Digest",
    "ParseLimits",
    "Ranked",
    "Symbol",
    "build_digest",
    "chunks",
    "outline",
    "parser_for",
    "rank",
]
