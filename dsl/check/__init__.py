"""The checker: structure (pydantic), expressions and types, instructions, references."""
