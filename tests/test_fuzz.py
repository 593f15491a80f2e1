"""The checker never raises: random edits of real playbooks always give either no
diagnostics or diagnostics at valid positions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codifier.resources import playbooks_dir
from dsl.codes import CATALOGUE
from dsl.compiler import compile_playbook
from dsl.library import Library
from tests.corpus import ERR_DIR, OK_DIR, corpus_library

SEEDS = [
    p.read_text(encoding="utf-8")
    for directory in (playbooks_dir(), ERR_DIR, OK_DIR)
    for p in sorted(directory.glob("*.yaml"))
]
LIBRARY: Library = corpus_library()

# Fragments that matter to YAML and to the expression language.
FRAGMENTS = [
    ":",
    ": ",
    "-",
    "- ",
    "  ",
    "\t",
    "\n",
    "#",
    "# codifier: ignore[X212]",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!!python/object ",
    "<<: ",
    "|",
    ">",
    "?",
    "---\n",
    "...",
    "${{",
    "}}",
    "${{ steps.",
    ".output",
    "inputs.",
    "(",
    ")",
    "==",
    "&&",
    "||",
    "!",
    "null",
    "true",
    "id: x\n",
    "store:",
    "generate:",
    "if: ",
    "é",
    "日本",
    "\\",
    "\x00",
    "\r\n",
    "\r",
    "\x85",
    "\u2028",
    "\u2029",
    "\x0c",
    "\x0b",
    "\ufeff",
    "{{ x }}",
    "\u043e",
    "steps.аsk",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            text = draw(st.sampled_from(FRAGMENTS))
            continue
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "line", "swap", "indent", "random"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(FRAGMENTS)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif kind == "random":
            text = text[:at] + draw(st.text(max_size=8)) + text[at:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == "line":
                lines.insert(j, lines[i])
            elif kind == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = (
                    " " * draw(st.integers(0, 3)) + lines[i].lstrip(" ")[: draw(st.integers(0, 80))]
                )
            text = "\n".join(lines)
    return text


def test_there_are_seeds() -> None:
    assert len(SEEDS) >= 3


def _editor_lines(text: str) -> list[str]:
    """The lines an editor shows, computed independently of dsl.lines: only \\n, \\r\\n
    and \\r break a line, and a leading byte-order mark is not part of the text."""
    return re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))


def _inside(lines: list[str], line: int, column: int) -> bool:
    return 1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1]) + 1


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_checker_never_raises_and_positions_are_valid(text: str) -> None:
    result = compile_playbook(text, "fuzz.yaml", LIBRARY)
    lines = _editor_lines(text)
    for d in result.diagnostics:
        assert d.code in CATALOGUE
        assert d.message
        if d.path != "fuzz.yaml":
            assert (Path("tests/testdata") / d.path).is_file() or d.path.startswith("generators/")
            continue
        # Every position lies inside the file as an editor shows it.
        assert _inside(lines, d.span.line, d.span.column), d
        assert _inside(lines, d.span.end_line, d.span.end_column), d
        assert (d.span.end_line, d.span.end_column) >= (d.span.line, d.span.column), d
        for fix in d.fixes:
            for edit in fix.edits:
                assert _inside(lines, edit.span.line, edit.span.column), (d, edit)
                assert _inside(lines, edit.span.end_line, edit.span.end_column), (d, edit)
    if result.program is not None:
        assert not result.errors


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('id: a\nname: "x\x85y"\nsteps: [1\n', (3, 8)),
        ('id: a\nname: "x\u2028y\u2029z"\nsteps: [1\n', (3, 8)),
        ("\ufeffid: a\nname: x\nsteps: [1", (3, 8)),
        ("id: a\rname: x\r\nsteps: [1", (3, 8)),
        ("id: a\nname: x\n\x0csteps: []\n", (3, 1)),
    ],
)
def test_positions_follow_the_editors_line_model(text: str, where: tuple[int, int]) -> None:
    [d] = [d for d in compile_playbook(text, "a.yaml", LIBRARY).diagnostics if d.code == "Y001"]
    assert d.span.start == where
