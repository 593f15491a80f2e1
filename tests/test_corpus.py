"""actionlint-style corpus: good playbooks check clean; each bad one produces exactly the
diagnostics written beside it; docs/diagnostics.md is generated from those examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.codes import CATALOGUE
from dsl.library import Library
from tests.corpus import (
    DOCS,
    actual_lines,
    check,
    corpus_library,
    diagnostics_doc,
    err_files,
    expected_path,
    ok_files,
    read_expected,
)

UPDATE_HINT = "if the change is intended: python tests/corpus.py --update, then review the diff"


@pytest.fixture(scope="module")
def corpus() -> Library:
    return corpus_library()


def test_corpus_sizes() -> None:
    assert len(ok_files()) >= 10
    assert len(err_files()) >= 40


@pytest.mark.parametrize("path", ok_files(), ids=lambda p: p.stem)
def test_good_playbook_checks_clean(path: Path, corpus: Library) -> None:
    result = check(path, corpus)
    assert actual_lines(result) == []
    assert result.program is not None


@pytest.mark.parametrize("path", err_files(), ids=lambda p: p.stem)
def test_bad_playbook_gives_exactly_the_expected_diagnostics(path: Path, corpus: Library) -> None:
    assert expected_path(path).is_file(), f"{path.name} has no .expected file"
    expected = read_expected(path)
    assert expected, f"{path.name} expects no diagnostics; it belongs in ok/"
    assert actual_lines(check(path, corpus)) == expected, UPDATE_HINT


def test_every_code_is_demonstrated_by_the_err_corpus() -> None:
    seen = {
        line.split("[", 1)[1].split("]", 1)[0] for p in err_files() for line in read_expected(p)
    }
    assert set(CATALOGUE) - seen == set()


def test_every_bad_file_is_named_after_a_code_it_produces() -> None:
    for path in err_files():
        code = path.stem.split("-", 1)[0].upper()
        assert any(f"[{code}]" in line for line in read_expected(path)), path.name


def test_no_expected_file_without_its_playbook() -> None:
    for expected in Path(err_files()[0].parent).glob("*.expected"):
        assert expected.with_suffix(".yaml").is_file(), expected.name


def test_diagnostics_doc_is_generated_from_the_corpus() -> None:
    assert DOCS.read_text(encoding="utf-8") == diagnostics_doc(), (
        "docs/diagnostics.md drifted: run python tests/corpus.py --docs"
    )
