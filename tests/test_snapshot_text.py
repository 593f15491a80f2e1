"""The pieces under read_snapshot and search_snapshot, on exact inputs: line ranges,
hits and their line numbers, the layout of a snapshot's text, and the cache's bound."""

from __future__ import annotations

import time
import uuid

import pytest

from codifier.snapshots import grep, lines
from codifier.snapshots.texts import FileSpan, TextCache, layout


def _snapshot(files: dict[str, str]) -> tuple[str, list[FileSpan]]:
    text = "HEADER\n"
    spans = []
    for path, content in files.items():
        text += f"## {path}\n```\n"
        spans.append(FileSpan(path, "python", len(text), len(content)))
        text += content + ("" if content.endswith("\n") else "\n") + "```\n"
    return text, spans


FILES = {
    "a.py": "alpha\nbeta\ngamma",  # no final newline
    "b/c.py": "",  # empty
    "b/d.txt": "one\r\ntwo beta\r\n",  # CRLF stays part of the line
    "e.py": "x = 'é'\nbeta beta beta\n\nlast\n",
}


def test_layout_gives_each_files_exact_bytes() -> None:
    text, spans = _snapshot(FILES)
    laid = layout(text, spans)
    for number, (path, content) in enumerate(FILES.items()):
        assert laid.paths[number] == path
        assert laid.file_bytes(number) == content.encode()
    assert laid.blob.count(b"\n") == sum(lines.total_lines(c.encode()) for c in FILES.values())


@pytest.mark.parametrize(
    ("content", "start", "end", "text", "range_"),
    [
        ("alpha\nbeta\ngamma", None, None, "alpha\nbeta\ngamma", (1, 3)),
        ("alpha\nbeta\ngamma", 3, 3, "gamma", (3, 3)),
        ("alpha\nbeta\ngamma", 2, 99, "beta\ngamma", (2, 3)),
        ("one\r\ntwo\r\n", 2, 2, "two\r\n", (2, 2)),
        ("a\n\n\nb\n", 2, 3, "\n\n", (2, 3)),
        ("", None, None, "", (1, 0)),
    ],
)
def test_excerpts_are_exact_lines(
    content: str, start: int | None, end: int | None, text: str, range_: tuple[int, int]
) -> None:
    got = lines.excerpt(content.encode(), start, end)
    assert got.text == text
    assert (got.start_line, got.end_line) == range_
    assert got.next_start_line is None


def test_excerpts_are_capped_and_continue_exactly() -> None:
    content = "".join(f"line {n}\n" for n in range(1, 5001)).encode()
    pieces: list[str] = []
    start: int | None = 1
    calls = 0
    while start is not None:
        got = lines.excerpt(content, start, None)
        assert got.end_line - got.start_line + 1 <= lines.MAX_LINES
        pieces.append(got.text)
        start = got.next_start_line
        calls += 1
    assert "".join(pieces).encode() == content
    assert calls == 3
    wide = ("é" * 80_000 + "\n") * 3  # 160 KB a line: each is cut, never split mid-character
    got = lines.excerpt(wide.encode(), 2, None)
    assert got.line_cut
    assert got.next_start_line == 3
    assert len(got.text.encode()) <= lines.MAX_BYTES
    assert set(got.text) == {"é"}


@pytest.mark.parametrize(
    ("content", "start", "end", "message"),
    [
        ("a\nb\n", 3, None, "the file has 2 lines"),
        ("a\nb\n", 0, None, "1 or more"),
        ("a\nb\n", 2, 1, "before start_line"),
        ("", 2, None, "empty"),
    ],
)
def test_lines_that_do_not_exist_are_named(
    content: str, start: int, end: int | None, message: str
) -> None:
    with pytest.raises(lines.RangeProblem, match=message):
        lines.excerpt(content.encode(), start, end)


def _search(
    query: str, mode: grep.Mode, limit: int = 100, files: list[int] | None = None
) -> grep.Found:
    laid = layout(*_snapshot(FILES))
    return grep.search(
        laid, grep.finder(query, mode), files=files, limit=limit, deadline=time.monotonic() + 5
    )


def test_hits_are_lines_with_exact_numbers_and_columns() -> None:
    found = _search("beta", "literal")
    assert [(h.path, h.line, h.column) for h in found.hits] == [
        ("a.py", 2, 1),
        ("b/d.txt", 2, 5),
        ("e.py", 2, 1),  # one hit per line, at the first match
    ]
    assert found.hits[1].text == "two beta"  # the "\r" is not shown
    assert not found.truncated


def test_regex_lines_are_anchored_per_line_and_never_span_files() -> None:
    assert [(h.path, h.line) for h in _search(r"^gamma$", "regex").hits] == [("a.py", 3)]
    # "gamma" ends a.py without a newline: a match cannot run on into the next file.
    assert _search(r"gamma\none", "regex").hits == []
    assert [(h.path, h.line) for h in _search(r"(?i)X = 'É'", "regex").hits] == [("e.py", 1)]


def test_limit_truncates_and_files_narrow() -> None:
    found = _search("beta", "literal", limit=2)
    assert len(found.hits) == 2
    assert found.truncated
    narrowed = _search("beta", "literal", files=[3])
    assert [h.path for h in narrowed.hits] == ["e.py"]


def test_a_passed_deadline_returns_what_was_found() -> None:
    laid = layout(*_snapshot(FILES))
    found = grep.search(
        laid, grep.finder("beta", "literal"), files=None, limit=10, deadline=time.monotonic() - 1
    )
    assert found.timed_out
    assert found.truncated


def test_long_lines_show_a_window_around_the_match() -> None:
    laid = layout(*_snapshot({"min.js": "x" * 5000 + "needle" + "y" * 5000}))
    [hit] = grep.search(
        laid, grep.finder("needle", "literal"), files=None, limit=5, deadline=time.monotonic() + 5
    ).hits
    assert hit.column == 5001
    assert "needle" in hit.text
    assert len(hit.text) <= grep.MAX_HIT_CHARS + 2


def test_the_cache_keeps_at_most_its_budget() -> None:
    first = layout(*_snapshot({"a": "x" * 600}))
    second = layout(*_snapshot({"b": "y" * 600}))
    cache = TextCache(budget=1000)
    one, two = uuid.uuid4(), uuid.uuid4()
    cache.put(one, first)
    cache.put(two, second)
    assert cache.get(one) is None
    assert cache.get(two) is second
    cache.put(uuid.uuid4(), layout(*_snapshot({"big": "z" * 5000})))  # larger than the budget
    assert cache.get(two) is second
