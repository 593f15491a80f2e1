"""What `codifier run` says a server-side step produced, from the outputs the language
declares for each instruction (stdlib/types.yaml: Snapshot, QueryResult, TableSchema)."""

from __future__ import annotations

from typing import Any

from codifier.cli.run_report import produced

SNAPSHOT = {
    "url": "https://example.com/acme.git",
    "version": 2,
    "file_count": 1234,
    "token_count": 56789,
    "flagged_secrets": [],
}


def _result(rows: int, count: int | None = None, truncated: bool = False) -> dict[str, Any]:
    return {
        "sql": "SELECT 1",
        "columns": ["x"],
        "rows": [[i] for i in range(rows)],
        "row_count": rows if count is None else count,
        "truncated": truncated,
    }


def test_a_snapshot_says_files_tokens_and_secrets() -> None:
    assert produced(SNAPSHOT) == [
        "packed https://example.com/acme.git v2: 1,234 files, 56,789 tokens, no flagged secrets"
    ]
    flagged = {**SNAPSHOT, "flagged_secrets": ["a.env", "b.pem", "c.key", "d.txt"]}
    assert produced(flagged)[0].endswith("4 flagged secrets (a.env, b.pem, c.key, …)")


def test_queries_say_how_many_rows_they_returned() -> None:
    assert produced(_result(2)) == ["1 query, 2 rows"]
    assert produced([_result(2), _result(1)]) == ["2 queries, 3 rows"]
    # row_count counts what the query returned, even when the rows were capped.
    assert produced([_result(3, count=5000, truncated=True)]) == ["1 query, 5,000 rows (1 capped)"]


def test_tables_are_named_and_described_tables_count_their_columns() -> None:
    assert produced(["orders", "customers"]) == ["2 names: orders, customers"]
    schemas = [
        {"name": "orders", "columns": [{"name": "id", "type": "int"}] * 3},
        {"name": "customers", "columns": [{"name": "id", "type": "int"}] * 2},
    ]
    assert produced(schemas) == ["2 tables described (orders, customers), 5 columns"]


def test_a_skipped_step_says_so() -> None:
    assert produced(None) == ["skipped (its condition was false)"]
