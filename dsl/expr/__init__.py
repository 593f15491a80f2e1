"""The expression language inside `${{ }}`: grammar, nodes and parser."""
