"""`codifier lsp`: a language server for playbooks over stdio, on the checker `codifier
check` uses (diagnostics, completion, hover, go-to-definition, quick fixes)."""
