"""The search benchmark's corpus: the Python 3.11 documentation, split into titled
sections, with queries whose answers the documentation's own authors chose.

Source: Debian's `python3.11-doc` package (PSF License), whose reST sources are installed
at /usr/share/doc/python3.11/html/_sources/**/*.rst.txt. Nothing here is written by us:
the sections are the docs' own, and so are both kinds of label.

- Sections: every reST heading (a title line with an underline, or an overline and an
  underline, of one repeated punctuation character) starts a section; a section's body is
  its text up to the next heading of any level (its subsections are sections of their own).
  Markup is reduced to the text a reader sees (roles, links, emphasis, directive names;
  index entries, labels, comments and tables of contents go). The page title is the
  page's first heading. `whatsnew/changelog` is left out: it is a generated list of issue
  numbers, not documentation.
- Stored: a section is kept when its body has at least MIN_BODY_CHARS characters and no
  other kept section has the same body (the server stores identical content once).
- Title-style queries: a section's heading -> that section. Eligible: not a page title
  (all of a page's sections are stored under that title), not in the FAQ (those are the
  sentence-style queries), a heading no other section in the whole documentation has
  (compared case-insensitively; this removes "Examples", "Notes", "Introduction", ...),
  and not one of the GENERIC_HEADINGS. A fixed-seed sample of them is used.
- Sentence-style queries: every FAQ heading (faq/*.rst.txt) that is a question (ends with
  "?") -> the answer beneath it, when that answer is stored and the question is unique.

Each section is stored as a memory of type "document" whose title is its PAGE's title
(e.g. "Programming FAQ", "json — JSON encoder and decoder"), whose content is the
section's body and whose tag is the top folder of the page ("library", "faq", ...). The
heading itself is stored nowhere: a title-style query must be found through the words
of the body or its meaning, a sentence-style query (a question) through its answer.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DOCS_ROOT = Path("/usr/share/doc/python3.11/html/_sources")
DOCS_PACKAGE = "python3.11-doc"
MIN_BODY_CHARS = 60
LEFT_OUT_PAGES = frozenset({"whatsnew/changelog"})
# Unique in these docs today, but they name no subject: a query of just this word asks
# for nothing in particular.
GENERIC_HEADINGS = frozenset(
    {
        "example",
        "examples",
        "note",
        "notes",
        "introduction",
        "overview",
        "summary",
        "usage",
        "background",
        "details",
        "footnotes",
        "see also",
        "reference",
        "references",
        "contents",
        "api",
        "functions",
        "classes",
        "constants",
        "exceptions",
        "methods",
        "attributes",
        "other",
        "miscellaneous",
    }
)

QueryStyle = Literal["title", "sentence"]

_ADORNMENT = re.compile(r"""^([!-/:-@\[-`{-~])\1+\s*$""")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:.-]+)::(.*)$")
_COMMENT_OR_TARGET = re.compile(r"^(\s*)\.\.(\s|$)")
_OPTION = re.compile(r"^\s+:[\w-]+:(\s.*)?$")
# Directives whose argument and body say nothing a reader reads as text.
_DROPPED_DIRECTIVES = frozenset(
    {
        "index",
        "toctree",
        "contents",
        "highlight",
        "sectionauthor",
        "moduleauthor",
        "testsetup",
        "testcleanup",
        "raw",
        "image",
        "figure",
        "include",
        "literalinclude",
        "tabularcolumns",
        "productionlist",
    }
)
# Directives whose argument a reader does not see (their body, when they have one, stays).
_HIDDEN_ARGUMENTS = frozenset(
    {
        "only",
        "ifconfig",
        "module",
        "currentmodule",
        "code-block",
        "sourcecode",
        "code",
        "doctest",
        "testcode",
        "testoutput",
        "cssclass",
        "rst-class",
    }
)
_ROLE = re.compile(r":([\w:.+-]+):`([^`]*)`")
# Roles whose text Sphinx shows with a prefix (":pep:`8`" reads "PEP 8").
_ROLE_PREFIXES = {"pep": "PEP ", "rfc": "RFC "}
# Directives Sphinx shows as a sentence around their argument.
_VERSION_DIRECTIVES = {
    "versionadded": "New in version {}.",
    "versionchanged": "Changed in version {}:",
    "deprecated": "Deprecated since version {}:",
    "deprecated-removed": "Deprecated since version {}.",
}
_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]*>`__?")
_REFERENCE = re.compile(r"`([^`]+)`__?")
_LITERAL = re.compile(r"``(.+?)``")
_STRONG = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])")
_DEFAULT_ROLE = re.compile(r"(?<![`\w])`([^`]+)`(?![`\w])")


@dataclass(frozen=True, slots=True)
class Section:
    page: str  # the page's path under the sources, without ".rst.txt": "faq/programming"
    page_title: str
    heading: str  # as a reader sees it (markup removed)
    level: int  # 0 for the page title, then 1, 2, ... in the page's own order of styles
    position: int  # the section's place in its page
    body: str

    @property
    def key(self) -> str:
        return f"{self.page}#{self.position}"

    @property
    def folder(self) -> str:
        return self.page.split("/", 1)[0] if "/" in self.page else "root"


@dataclass(frozen=True, slots=True)
class Query:
    style: QueryStyle
    text: str
    answer: str  # the answer section's key


@dataclass(frozen=True, slots=True)
class Corpus:
    sections: list[Section]  # to store, in storing order; every answer is among them
    queries: list[Query]
    pages: int  # pages read
    parsed: int  # sections found in them
    eligible: int  # sections that could be stored (MIN_BODY_CHARS, unique bodies)


def clean_inline(text: str) -> str:
    """reST inline markup reduced to the text a reader sees."""

    def role(match: re.Match[str]) -> str:
        name, inner = match.group(1).split(":")[-1], match.group(2)
        titled = re.fullmatch(r"(.*?)\s*<[^<>]*>", inner, re.S)
        if titled and titled.group(1):
            return titled.group(1)
        return _ROLE_PREFIXES.get(name, "") + inner.lstrip("~!")

    text = _ROLE.sub(role, text)
    text = _LITERAL.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE.sub(r"\1", text)
    text = _STRONG.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\1", text)
    text = _DEFAULT_ROLE.sub(r"\1", text)
    return text.replace("\\", "")


def clean_heading(text: str) -> str:
    heading = clean_inline(text).replace("---", "—")
    return " ".join(heading.split())


def clean_body(lines: list[str]) -> str:
    """A section's lines as plain text: directive names, labels, comments, index entries
    and options go; what a reader sees stays (code blocks included)."""
    out: list[str] = []
    skip_indent: int | None = None  # inside a dropped block: lines indented deeper go
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not stripped or indent > skip_indent:
                continue
            skip_indent = None
        directive = _DIRECTIVE.match(line)
        if directive:
            name = directive.group(2).split(":")[-1]
            if name in _DROPPED_DIRECTIVES or name == "replace":
                skip_indent = indent
                continue
            argument = "" if name in _HIDDEN_ARGUMENTS else directive.group(3).strip()
            if name in _VERSION_DIRECTIVES:
                argument = _VERSION_DIRECTIVES[name].format(argument.split()[0] if argument else "")
            if argument:
                out.append(" " * indent + clean_inline(argument))
            continue
        if _COMMENT_OR_TARGET.match(line):
            # A label (.. _name:), a substitution or a comment, with its indented lines.
            skip_indent = indent
            continue
        if _OPTION.match(line):
            continue
        if stripped == "::":
            continue
        if line.rstrip().endswith("::"):
            line = line.rstrip()[:-1]
        out.append(clean_inline(line.rstrip()))
    text = "\n".join(out).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _underline_of(line: str, title: str) -> bool:
    return bool(_ADORNMENT.match(line)) and len(line.rstrip()) >= len(title.rstrip())


def parse_page(text: str, page: str) -> list[Section]:
    """The page's sections, in order; the first heading is the page title."""
    lines = text.splitlines()
    headings: list[tuple[int, int, str, tuple[str, bool]]] = []  # start, end, title, style
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else ""
        after = lines[i + 2] if i + 2 < len(lines) else ""
        if (
            _ADORNMENT.match(line)
            and following.strip()
            and _underline_of(after, following.strip())
            and after.rstrip()[0] == line.rstrip()[0]
            and (i == 0 or not lines[i - 1].strip())
        ):
            headings.append((i, i + 3, following.strip(), (line.rstrip()[0], True)))
            i += 3
            continue
        if (
            line.strip()
            and not line[0].isspace()
            and not _ADORNMENT.match(line)
            and not _COMMENT_OR_TARGET.match(line)
            and _underline_of(following, line)
            and (i == 0 or not lines[i - 1].strip())
        ):
            headings.append((i, i + 2, line.strip(), (following.rstrip()[0], False)))
            i += 2
            continue
        i += 1
    styles: list[tuple[str, bool]] = []
    sections: list[Section] = []
    page_title = ""
    for position, (_, body_start, title, style) in enumerate(headings):
        if style not in styles:
            styles.append(style)
        heading = clean_heading(title)
        if position == 0:
            page_title = heading
        body_end = headings[position + 1][0] if position + 1 < len(headings) else len(lines)
        sections.append(
            Section(
                page=page,
                page_title=page_title,
                heading=heading,
                level=styles.index(style),
                position=position,
                body=clean_body(lines[body_start:body_end]),
            )
        )
    return sections


def load_sections(root: Path = DOCS_ROOT) -> tuple[int, list[Section]]:
    """(pages read, every section of every page under `root`), in path order."""
    pages = 0
    sections: list[Section] = []
    for path in sorted(root.rglob("*.rst.txt")):
        page = path.relative_to(root).as_posix().removesuffix(".rst.txt")
        if page in LEFT_OUT_PAGES:
            continue
        pages += 1
        sections.extend(parse_page(path.read_text(encoding="utf-8"), page))
    return pages, sections


def _is_faq(section: Section) -> bool:
    return section.page.startswith("faq/")


def build_corpus(
    root: Path = DOCS_ROOT, size: int = 3_000, title_queries: int = 300, seed: int = 11
) -> Corpus:
    """`size` sections to store (every labelled one, then a fixed-seed sample of the
    rest), with the title-style and sentence-style queries (module docstring)."""
    pages, sections = load_sections(root)
    headings = Counter(s.heading.casefold() for s in sections)
    bodies = Counter(s.body for s in sections)
    eligible = [s for s in sections if len(s.body) >= MIN_BODY_CHARS and bodies[s.body] == 1]
    rng = random.Random(seed)

    sentence = [
        Query("sentence", s.heading, s.key)
        for s in eligible
        if _is_faq(s) and s.heading.endswith("?") and headings[s.heading.casefold()] == 1
    ]
    titled = [
        s
        for s in eligible
        if s.level > 0
        and not _is_faq(s)
        and headings[s.heading.casefold()] == 1
        and s.heading.casefold() not in GENERIC_HEADINGS
    ]
    chosen = rng.sample(titled, min(title_queries, len(titled)))
    title = [Query("title", s.heading, s.key) for s in chosen]

    answers = {q.answer for q in sentence} | {q.answer for q in title}
    labelled = [s for s in eligible if s.key in answers]
    others = [s for s in eligible if s.key not in answers]
    filler = rng.sample(others, max(0, min(len(others), size - len(labelled))))
    stored = labelled + filler
    rng.shuffle(stored)
    return Corpus(
        sections=stored,
        queries=title + sentence,
        pages=pages,
        parsed=len(sections),
        eligible=len(eligible),
    )
