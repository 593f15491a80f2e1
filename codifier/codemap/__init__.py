"""Code maps of a packed repository: outlines, search chunks, central modules, a digest.

Pure functions over text (no database, no server), each in its own module, imported from
there (this package imports nothing: a process that never packs never loads tree-sitter
or numpy):

- `outline.outline(language, text)`: a file's definitions (kind, name, signature, lines,
  depth);
- `chunks.chunks(language, text)`: line ranges for semantic search, one per function or
  method;
- `references.rank(texts)`: the most central modules, by PageRank over the import graph;
- `digest.build_digest(result, budget_tokens)`: a token-budgeted markdown overview of a
  pack.

Parsing uses the tree-sitter grammars compiled into their PyPI wheels (`languages`), each
parse bounded in size and time (`ParseLimits`).
"""
