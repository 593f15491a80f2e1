"""The read-only SQL guard against a data-driven corpus: tests/testdata/sql/hostile.yaml
holds texts it must refuse, tests/testdata/sql/legit.yaml analytic queries it must accept.
A case the guard cannot refuse or accept yet carries `xfail: "reason"` and is expected to
fail (strictly, so a fix is noticed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from codifier.sql_guard import check_read_only

DATA = Path(__file__).resolve().parent / "testdata" / "sql"
CASE_KEYS = {"name", "sql", "note", "xfail"}


def load_cases(kind: str) -> list[dict[str, Any]]:
    cases = yaml.safe_load((DATA / f"{kind}.yaml").read_text(encoding="utf-8"))
    assert isinstance(cases, list), f"{kind}.yaml must hold a list of cases"
    for case in cases:
        assert isinstance(case, dict), f"{kind}.yaml: every case is a mapping: {case!r}"
        assert set(case) <= CASE_KEYS, f"{kind}.yaml: unknown keys in {case!r}"
        assert isinstance(case.get("name"), str), f"{kind}.yaml: a case has no name: {case!r}"
        assert isinstance(case.get("sql"), str), f"{kind}.yaml: {case['name']} has no sql"
        assert isinstance(case.get("note"), str), f"{kind}.yaml: {case['name']} has no note"
    return cases


def params(kind: str) -> list[Any]:
    """One pytest.param per case, named after it; `xfail` cases are marked strict."""
    out: list[Any] = []
    for case in load_cases(kind):
        marks = []
        if "xfail" in case:
            marks.append(pytest.mark.xfail(strict=True, reason=str(case["xfail"])))
        out.append(pytest.param(case["sql"], id=case["name"], marks=marks))
    return out


@pytest.mark.parametrize("sql", params("hostile"))
def test_hostile_is_refused(sql: str) -> None:
    reason = check_read_only(sql)
    assert reason is not None, "the guard accepted it"
    assert reason.strip(), "the reason is empty"
    assert len(reason.splitlines()) == 1, f"the reason is not one line: {reason!r}"


@pytest.mark.parametrize("sql", params("legit"))
def test_legit_is_accepted(sql: str) -> None:
    assert check_read_only(sql) is None


@pytest.mark.parametrize(("kind", "minimum"), [("hostile", 60), ("legit", 30)])
def test_corpus_is_large_and_names_are_unique(kind: str, minimum: int) -> None:
    names = [case["name"] for case in load_cases(kind)]
    assert len(names) >= minimum, f"{kind}.yaml holds {len(names)} cases, fewer than {minimum}"
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"{kind}.yaml repeats names: {duplicates}"


def test_names_are_unique_across_files() -> None:
    hostile = {case["name"] for case in load_cases("hostile")}
    legit = {case["name"] for case in load_cases("legit")}
    assert not hostile & legit, f"names in both files: {sorted(hostile & legit)}"
