"""Query results are capped at 100 KB of UTF-8, whole rows first, cut on a character
boundary, with a notice."""

from __future__ import annotations

import json
from collections.abc import Iterator

from codifier.sources.results import MAX_RESULT_BYTES, query_result


def _size(result: dict[str, object]) -> int:
    return len(json.dumps(result, ensure_ascii=False).encode("utf-8"))


def test_small_results_are_whole() -> None:
    result = query_result("SELECT 1", ["n"], [(1,), (2,)])
    assert result == {
        "sql": "SELECT 1",
        "columns": ["n"],
        "rows": [[1], [2]],
        "row_count": 2,
        "truncated": False,
        "notice": None,
    }


def test_many_rows_stop_at_the_cap_with_a_notice() -> None:
    rows = [(i, "ü" * 100) for i in range(5000)]  # 2 bytes a character in UTF-8
    result = query_result("SELECT *", ["i", "text"], rows)
    assert result["truncated"] is True
    assert result["row_count"] == 5000
    kept = result["rows"]
    assert isinstance(kept, list)
    assert 0 < len(kept) < 5000
    assert kept[-1][0] == len(kept) - 1  # a prefix of whole rows
    assert _size(result) <= MAX_RESULT_BYTES
    assert f"{len(kept)} of 5000 rows" in str(result["notice"])


def test_one_huge_cell_is_cut_on_a_character_boundary() -> None:
    cell = "日本語" * 100_000  # 3 bytes a character
    result = query_result("SELECT doc", ["doc"], [(cell,)])
    assert result["truncated"] is True
    (row,) = result["rows"]
    text = row[0]
    assert cell.startswith(text)
    assert 0 < len(text.encode("utf-8")) <= MAX_RESULT_BYTES
    assert _size(result) <= MAX_RESULT_BYTES
    text.encode("utf-8").decode("utf-8")  # whole characters only


def test_a_stream_is_read_only_up_to_the_cap() -> None:
    """Rows from an iterator (a DuckDB result read in batches) are not read past the first
    row that does not fit; the count is then a lower bound, and the notice says so."""
    read = 0

    def endless() -> Iterator[tuple[int, str]]:
        nonlocal read
        while True:
            read += 1
            yield (read, "x" * 100)

    result = query_result("SELECT *", ["i", "text"], endless())
    kept = result["rows"]
    assert isinstance(kept, list)
    assert result["truncated"] is True
    assert read == len(kept) + 1
    assert result["row_count"] == read
    assert f"the first {len(kept)} rows fit in 100 KB" in str(result["notice"])
    assert f"at least {read};" in str(result["notice"])
    assert _size(result) <= MAX_RESULT_BYTES


def test_a_short_stream_is_counted_exactly() -> None:
    result = query_result("SELECT 1", ["n"], iter([(1,), (2,)]))
    assert result["row_count"] == 2
    assert result["truncated"] is False
    assert result["notice"] is None
