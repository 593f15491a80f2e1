"""The checker: structure (the syntax's records), expressions and types, instructions,
references."""
