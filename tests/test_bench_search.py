"""The search benchmark's corpus loader and labels (bench/search_corpus.py), on a tiny
documentation tree written here in the shape of the Python docs' reST sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.search import quality, synthetic_memory
from bench.search_corpus import Section, build_corpus, load_sections, parse_page

FILLER = "It is documented here at enough length to be worth storing as a memory. " * 2

SPAM = f"""\
:mod:`spam` --- Canned meat
===========================

.. module:: spam
   :synopsis: Canned meat.

.. index:: single: spam; tins

The :mod:`spam` module opens tins with :func:`~spam.open_tin`, as :pep:`8` says.

.. _opening:

Opening tins
------------

Use ``open_tin(key)`` to open a tin; it returns the **meat** inside, or raises
:exc:`TinError` when the key does not fit (see `the manual <https://example.org>`_)::

   meat = open_tin(key)
   Not a heading
   -------------

.. versionadded:: 3.2

Examples
--------

{FILLER}

Keys and locks
^^^^^^^^^^^^^^

{FILLER}
Keys are *cut* to fit.
"""

EGGS = f"""\
******************************
Eggs --- boiling and poaching
******************************

{FILLER}

Examples
--------

{FILLER} Boiled eggs.

Notes
-----

{FILLER} A generic heading.

Boiling time
------------

{FILLER} Ten minutes.
"""

FAQ = f"""\
:tocdepth: 2

===========
General FAQ
===========

.. only:: html

   .. contents::

General Questions
=================

Why is spam sold in tins?
-------------------------

Because a tin keeps it for years. {FILLER}

Is spam tasty?
--------------

Yes.

A statement, not a question
---------------------------

{FILLER}
"""

CHANGELOG = f"""\
Changelog
=========

Python 3.11.2 final
-------------------

{FILLER}
"""


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    for name, text in {
        "library/spam.rst.txt": SPAM,
        "library/eggs.rst.txt": EGGS,
        "faq/general.rst.txt": FAQ,
        "whatsnew/changelog.rst.txt": CHANGELOG,
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_page_splits_into_sections_on_its_headings() -> None:
    sections = parse_page(SPAM, "library/spam")
    assert [(s.heading, s.level) for s in sections] == [
        ("spam — Canned meat", 0),
        ("Opening tins", 1),
        ("Examples", 1),
        ("Keys and locks", 2),
    ]
    assert {s.page_title for s in sections} == {"spam — Canned meat"}
    assert {s.folder for s in sections} == {"library"}
    assert sections[1].key == "library/spam#1"


def test_markup_is_reduced_to_what_a_reader_sees() -> None:
    intro, opening, _, keys = parse_page(SPAM, "library/spam")
    assert intro.body == "The spam module opens tins with spam.open_tin, as PEP 8 says."
    assert opening.body.startswith(
        "Use open_tin(key) to open a tin; it returns the meat inside, or raises\n"
        "TinError when the key does not fit (see the manual):"
    )
    # The literal block stays as text; its indented "underline" is not a heading.
    assert "   Not a heading\n   -------------" in opening.body
    assert opening.body.endswith("New in version 3.2.")
    assert keys.body.endswith("Keys are cut to fit.")
    for gone in (".. ", "index", "synopsis", "opening:", ":func:", "``", "**", "https"):
        assert gone not in intro.body + opening.body, gone


def test_an_overlined_title_and_the_faq_shape_parse() -> None:
    eggs = parse_page(EGGS, "library/eggs")
    assert eggs[0].heading == "Eggs — boiling and poaching"
    assert [s.level for s in eggs] == [0, 1, 1, 1]
    faq = parse_page(FAQ, "faq/general")
    assert [s.heading for s in faq] == [
        "General FAQ",
        "General Questions",
        "Why is spam sold in tins?",
        "Is spam tasty?",
        "A statement, not a question",
    ]
    assert faq[0].body == ""  # the contents directive and its block are gone
    assert faq[2].body.startswith("Because a tin keeps it for years.")


def test_the_changelog_is_left_out(docs: Path) -> None:
    pages, sections = load_sections(docs)
    assert pages == 3
    assert all(not s.page.startswith("whatsnew/") for s in sections)


def test_labels_come_from_unique_specific_headings_and_faq_questions(docs: Path) -> None:
    corpus = build_corpus(docs, size=100, title_queries=50, seed=1)
    titles = {q.text: q.answer for q in corpus.queries if q.style == "title"}
    sentences = {q.text: q.answer for q in corpus.queries if q.style == "sentence"}
    # Not page titles, not FAQ headings, not repeated ("Examples"), not generic ("Notes").
    assert titles == {
        "Opening tins": "library/spam#1",
        "Keys and locks": "library/spam#3",
        "Boiling time": "library/eggs#3",
    }
    # FAQ questions with an answer long enough to store; statements are not questions.
    assert sentences == {"Why is spam sold in tins?": "faq/general#2"}
    stored = {s.key for s in corpus.sections}
    assert set(titles.values()) | set(sentences.values()) <= stored
    assert "faq/general#3" not in stored  # "Yes." is too short to store
    assert len({s.body for s in corpus.sections}) == len(corpus.sections)
    assert corpus.pages == 3


def test_the_sample_is_fixed_by_its_seed_and_keeps_every_answer(docs: Path) -> None:
    small = build_corpus(docs, size=5, title_queries=2, seed=3)
    again = build_corpus(docs, size=5, title_queries=2, seed=3)
    assert small == again
    assert [q.style for q in small.queries] == ["title", "title", "sentence"]
    assert len(small.sections) == 5
    assert {q.answer for q in small.queries} <= {s.key for s in small.sections}
    # Asked for fewer sections than there are answers: every answer is still stored.
    tiny = build_corpus(docs, size=1, title_queries=3, seed=3)
    assert {s.key for s in tiny.sections} == {q.answer for q in tiny.queries}


def test_synthetic_memories_are_distinct_and_repeatable() -> None:
    pool = [
        Section("library/a", "A", "One", 1, 1, "First paragraph.\n\nSecond paragraph."),
        Section("howto/b", "B", "Two", 1, 1, "Another body entirely."),
    ]
    made = [synthetic_memory(pool, n, seed=5) for n in range(1, 50)]
    assert len({content for _, content, _ in made}) == len(made)
    assert synthetic_memory(pool, 7, seed=5) == made[6]
    title, content, tags = made[0]
    assert title.endswith("(1)")
    assert content.endswith("[1]")
    assert tags in (["library"], ["howto"])


def test_recall_and_mrr_count_only_the_top_ten() -> None:
    # Ranks of the right answer for four queries: first, third, eleventh, not found.
    r1, r10, mrr, empty = quality([1, 3, 11, None], [10, 10, 10, 0])
    assert (r1, r10, empty) == (0.25, 0.5, 0.25)
    assert mrr == pytest.approx((1 + 1 / 3) / 4)
