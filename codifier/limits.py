"""Bounds on what one call may store, and per-project quotas, from the environment.

Every bound is a setting with a safe default: a deployment may raise one (open a door),
but no setting removes a bound. Two of them cannot go past the database's own CHECKs.
Sizes are refused as `[invalid]`, quotas as `[quota]`; a refusal writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from codifier.config import whole_number

KB = 1024
TITLE_CHARS_IN_DATABASE = 500  # memories.title CHECK (migrations/0001_init.sql)
PROJECT_NAME_CHARS_IN_DATABASE = 200  # projects.name CHECK


@dataclass(frozen=True, slots=True)
class Limits:
    memory_bytes: int = 256 * KB  # a memory's content, UTF-8
    title_chars: int = TITLE_CHARS_IN_DATABASE
    tags: int = 50  # tags on one memory (and in one fetch_context filter)
    tag_chars: int = 100
    label_chars: int = 100  # source_role and other short labels
    metadata_bytes: int = 16 * KB  # a memory's metadata, as JSON
    query_chars: int = 2_000  # fetch_context's full-text query
    offset: int = 100_000  # fetch_context's offset
    project_name_chars: int = PROJECT_NAME_CHARS_IN_DATABASE
    project_description_chars: int = 10_000
    answer_bytes: int = 256 * KB  # one advance_step input, as JSON
    inputs_bytes: int = 256 * KB  # run_playbook's inputs, as JSON
    session_state_bytes: int = 8 * KB * KB  # a run's whole saved state, as JSON
    memories_per_project: int = 100_000
    open_sessions_per_project: int = 1_000  # runs awaiting input or generation

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits the environment sets (ENV_NAMES), the defaults for the rest.

        Raises ValueError naming the setting when a value is not a positive whole number,
        or passes the database's own bound."""
        env = os.environ if environ is None else environ
        defaults = cls()
        limits = cls(
            **{
                field.name: whole_number(env, ENV_NAMES[field.name], getattr(defaults, field.name))
                for field in fields(cls)
            }
        )
        if limits.title_chars > TITLE_CHARS_IN_DATABASE:
            raise ValueError(
                f"CODIFIER_MAX_TITLE_CHARS can be at most {TITLE_CHARS_IN_DATABASE} "
                "(the database's own limit)"
            )
        if limits.project_name_chars > PROJECT_NAME_CHARS_IN_DATABASE:
            raise ValueError(
                f"CODIFIER_MAX_PROJECT_NAME_CHARS can be at most {PROJECT_NAME_CHARS_IN_DATABASE}"
                " (the database's own limit)"
            )
        return limits

    def setting(self, name: str) -> str:
        """The environment variable behind limit `name` (for messages that say how to
        get more)."""
        return ENV_NAMES[name]


ENV_NAMES: dict[str, str] = {
    "memory_bytes": "CODIFIER_MAX_MEMORY_BYTES",
    "title_chars": "CODIFIER_MAX_TITLE_CHARS",
    "tags": "CODIFIER_MAX_TAGS",
    "tag_chars": "CODIFIER_MAX_TAG_CHARS",
    "label_chars": "CODIFIER_MAX_LABEL_CHARS",
    "metadata_bytes": "CODIFIER_MAX_METADATA_BYTES",
    "query_chars": "CODIFIER_MAX_QUERY_CHARS",
    "offset": "CODIFIER_MAX_OFFSET",
    "project_name_chars": "CODIFIER_MAX_PROJECT_NAME_CHARS",
    "project_description_chars": "CODIFIER_MAX_PROJECT_DESCRIPTION_CHARS",
    "answer_bytes": "CODIFIER_MAX_ANSWER_BYTES",
    "inputs_bytes": "CODIFIER_MAX_INPUTS_BYTES",
    "session_state_bytes": "CODIFIER_MAX_SESSION_STATE_BYTES",
    "memories_per_project": "CODIFIER_MAX_MEMORIES_PER_PROJECT",
    "open_sessions_per_project": "CODIFIER_MAX_OPEN_SESSIONS_PER_PROJECT",
}

DEFAULT_LIMITS = Limits()
