"""Every skill declared in stdlib/ is bound to an implementation whose parameters agree,
and a server refuses to start when one is not."""

from __future__ import annotations

from typing import Any

import pytest

from codifier.skills import IMPLEMENTATIONS, BindingError, RunContext, bind
from dsl.library import Library


def test_declared_skills_and_implementations_agree(library: Library) -> None:
    bind(library.skills, IMPLEMENTATIONS)  # raises on any disagreement
    assert set(library.skills) == set(IMPLEMENTATIONS)


def test_a_missing_implementation_is_refused(library: Library) -> None:
    partial = {k: v for k, v in IMPLEMENTATIONS.items() if k != "fetch_context"}
    with pytest.raises(BindingError, match="'fetch_context' is declared in stdlib/ but not"):
        bind(library.skills, partial)


def test_a_disagreeing_signature_is_refused(library: Library) -> None:
    async def fetch_context(run: RunContext, query: str) -> Any:
        return []

    with pytest.raises(BindingError, match="skill 'fetch_context': stdlib declares"):
        bind(library.skills, {**IMPLEMENTATIONS, "fetch_context": fetch_context})


def test_an_undeclared_implementation_is_refused(library: Library) -> None:
    async def extra(run: RunContext) -> Any:
        return None

    with pytest.raises(BindingError, match="'extra' is implemented but not declared"):
        bind(library.skills, {**IMPLEMENTATIONS, "extra": extra})
