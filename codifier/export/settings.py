"""Bounds on one export, from the environment; each has a safe default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from codifier.config import whole_number

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ExportSettings:
    max_rules: int = 500  # rule memories in one export: the newest are kept
    max_bytes: int = 4 * MIB  # their content together (UTF-8): the newest that fit

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExportSettings:
        """Raises ValueError naming the setting when a value is not a positive number."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            **{
                field: whole_number(env, name, getattr(defaults, field))
                for field, name in ENV_NAMES.items()
            }
        )


ENV_NAMES: dict[str, str] = {
    "max_rules": "CODIFIER_EXPORT_MAX_RULES",
    "max_bytes": "CODIFIER_EXPORT_MAX_BYTES",
}
