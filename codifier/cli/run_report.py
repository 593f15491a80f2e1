"""What `codifier run` shows of a run: one line for each server-side step with what it
produced (a snapshot's files, tokens and flagged secrets; rows; memories), and a short
summary of the outputs when the run completes."""

from __future__ import annotations

from typing import Any

_SHOWN = 60


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= _SHOWN else line[: _SHOWN - 1] + "…"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def _snapshot(value: dict[str, Any]) -> str:
    secrets = value.get("flagged_secrets") or []
    flagged = (
        f"{_plural(len(secrets), 'flagged secret')} ({', '.join(secrets[:3])}"
        f"{', …' if len(secrets) > 3 else ''})"
        if secrets
        else "no flagged secrets"
    )
    return (
        f"packed {value.get('url', '?')} v{value.get('version', '?')}:"
        f" {_plural(int(value['file_count']), 'file')},"
        f" {_plural(int(value['token_count']), 'token')}, {flagged}"
    )


def _is_snapshot(value: Any) -> bool:
    return isinstance(value, dict) and "file_count" in value and "token_count" in value


def _is_query_result(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("rows"), list)


def _rows(results: list[dict[str, Any]]) -> str:
    """Queries and their rows: `1 query, 2 rows` (row_count counts what the query
    returned; `rows` may hold fewer when capped)."""
    total = sum(int(r.get("row_count", len(r["rows"]))) for r in results)
    capped = sum(1 for r in results if r.get("truncated"))
    note = f" ({capped} capped)" if capped else ""
    return f"{_plural(len(results), 'query', 'queries')}, {_plural(total, 'row')}{note}"


def _is_table_schema(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("columns"), list) and "name" in value


def produced(value: Any) -> list[str]:
    """Lines saying what a server-side step's output holds (a skipped step's is null)."""
    if _is_snapshot(value):
        return [_snapshot(value)]
    if isinstance(value, list) and value and all(_is_snapshot(v) for v in value):
        return [_snapshot(v) for v in value]
    if _is_query_result(value):
        return [_rows([value])]
    if isinstance(value, list) and value and all(_is_query_result(v) for v in value):
        return [_rows(value)]
    if isinstance(value, list) and value and all(_is_table_schema(v) for v in value):
        columns = sum(len(v["columns"]) for v in value)
        names = ", ".join(str(v["name"]) for v in value[:3]) + (", …" if len(value) > 3 else "")
        return [f"{_plural(len(value), 'table')} described ({names}), {_plural(columns, 'column')}"]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        names = ", ".join(value[:3]) + (", …" if len(value) > 3 else "")
        return [f"{_plural(len(value), 'name')}: {_short(names)}"]
    if isinstance(value, dict) and isinstance(value.get("tables"), list):
        return [_plural(len(value["tables"]), "table")]
    if isinstance(value, dict) and isinstance(value.get("memories"), list):
        return [_plural(len(value["memories"]), "memory", "memories")]
    if isinstance(value, list):
        return [_plural(len(value), "item")]
    if isinstance(value, str):
        return [f"{_plural(len(value), 'character')}"]
    if value is None:
        return ["skipped (its condition was false)"]
    if isinstance(value, dict):
        return [f"a record ({', '.join(list(value)[:5])})"]
    return [str(value)]


def describe_output(value: Any) -> str:
    """One line for an output of the completed run."""
    if isinstance(value, str):
        lines = value.count("\n") + (0 if value.endswith("\n") or not value else 1)
        head = _short(value)
        return f"text, {_plural(lines, 'line')}" + (f": {head}" if head else "")
    return "; ".join(produced(value))


def summary(result: dict[str, Any]) -> str:
    outputs: dict[str, Any] = result.get("outputs") or {}
    lines = [f"\ncompleted; session {result['session_id']}"]
    if outputs:
        lines.append("outputs:")
        width = max(len(name) for name in outputs)
        lines += [f"  {name:<{width}}  {describe_output(v)}" for name, v in outputs.items()]
        lines.append("(codifier run --json prints them whole)")
    return "\n".join(lines) + "\n"
