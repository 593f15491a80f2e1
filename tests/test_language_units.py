"""Units of the language: expression parsing, types, built-in functions, IR round trip."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.typo_playbook import typo_playbooks
from dsl.compiler import compile_playbook
from dsl.diagnostics import closest
from dsl.expr import nodes as n
from dsl.expr.parser import (
    ParseError,
    _fast_parse,
    parse_expression,
    parse_with_grammar,
    split_template,
)
from dsl.functions import FUNCTIONS, EvalError
from dsl.ir import Program
from dsl.library import Library
from dsl.lines import LineIndex
from dsl.source import SourceFile
from dsl.types import (
    ANY,
    INT,
    NUMBER,
    STRING,
    TEXT,
    URL,
    Fit,
    ListT,
    Opt,
    TypeSyntaxError,
    fits,
    join,
    parse_type,
)


def test_precedence_or_binds_loosest() -> None:
    tree = parse_expression("!a && b || c == d")
    assert isinstance(tree, n.Logic)
    assert tree.op == "||"
    assert isinstance(tree.left, n.Logic)
    assert tree.left.op == "&&"
    assert isinstance(tree.left.left, n.Not)
    assert isinstance(tree.right, n.Compare)


def test_postfix_chain_and_positions() -> None:
    tree = parse_expression("steps.a.output[0].name")
    assert isinstance(tree, n.Attr)
    assert (tree.start, tree.end, tree.name_start) == (0, 22, 18)
    assert isinstance(tree.target, n.Index)


def test_literals_and_escapes() -> None:
    tree = parse_expression("[1, 2.5, -3, 'it\\'s', \"a\\nb\", true, false, null]")
    assert isinstance(tree, n.ListLit)
    values = [item.value for item in tree.items if isinstance(item, n.Literal)]
    assert values == [1, 2.5, -3, "it's", "a\nb", True, False, None]


def test_keywords_are_not_prefixes_of_names() -> None:
    assert parse_expression("nullable") == n.Name(0, 8, "nullable")


@pytest.mark.parametrize(
    ("text", "start"),
    [("a ==", 4), ("a = b", 2), ("a == b == c", 7), ("(a", 0), ("f(a b)", 4), ("'open", 0)],
)
def test_syntax_errors_point_at_the_problem(text: str, start: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_expression(text)
    assert info.value.start == start


def test_interpolation_split_and_braces_inside_strings() -> None:
    parts = split_template("a ${{ 'x}}y' }} b ${{ c }}").parts
    assert parts[0] == "a "
    assert isinstance(parts[1], n.Embedded)
    assert parts[1].expr == n.Literal(1, 7, "x}}y")
    assert parts[2] == " b "


def test_unclosed_interpolation() -> None:
    with pytest.raises(ParseError, match="never closed"):
        split_template("hello ${{ name")


def test_assignability() -> None:
    assert fits(INT, NUMBER) is Fit.YES
    assert fits(NUMBER, INT) is Fit.NO
    assert fits(URL, STRING) is Fit.YES
    assert fits(TEXT, STRING) is Fit.YES
    assert fits(STRING, TEXT) is Fit.YES
    assert fits(STRING, URL) is Fit.NO
    assert fits(Opt(STRING), STRING) is Fit.IF_NOT_NULL
    assert fits(STRING, Opt(STRING)) is Fit.YES
    assert fits(ListT(INT), ListT(NUMBER)) is Fit.YES
    assert fits(ANY, ListT(INT)) is Fit.YES
    assert join(INT, NUMBER) == NUMBER
    assert join(URL, TEXT) == STRING


def test_a_repository_is_a_url_or_an_absolute_path() -> None:
    from dsl.conform import json_schema, mismatch
    from dsl.types import REPOSITORY

    assert fits(URL, REPOSITORY) is Fit.YES
    assert fits(REPOSITORY, STRING) is Fit.YES
    assert fits(STRING, REPOSITORY) is Fit.NO
    for good in ("https://github.com/acme/app", "git@github.com:acme/app.git", "/srv/code/app"):
        assert mismatch(good, REPOSITORY) is None, good
    for bad in ("not a url", "relative/path", "/a\nb", 7):
        assert mismatch(bad, REPOSITORY) is not None, bad
    assert json_schema(ListT(REPOSITORY))["items"]["pattern"].startswith("^(https?://")


def test_records_fit_by_declared_fields(library: Library) -> None:
    column = library.records["Column"]
    schema = library.records["TableSchema"]
    assert fits(schema, column) is Fit.NO
    assert fits(column, column) is Fit.YES


def test_type_syntax(library: Library) -> None:
    assert str(parse_type("list<TableSchema>?", library.records)) == "list<TableSchema>?"
    with pytest.raises(TypeSyntaxError, match="unknown type 'strin'"):
        parse_type("list<strin>", library.records)
    with pytest.raises(TypeSyntaxError):
        parse_type("list<string", library.records)


def test_functions_at_runtime() -> None:
    assert FUNCTIONS["length"].call([1, 2]) == 2
    assert FUNCTIONS["join"].call(["a", 1, True], ", ") == "a, 1, true"
    assert FUNCTIONS["default"].call(None, 3) == 3
    assert FUNCTIONS["default"].call(0, 3) == 0
    assert FUNCTIONS["contains"].call(["a"], "a") is True
    assert FUNCTIONS["contains"].call("abc", "bc") is True
    assert FUNCTIONS["lines"].call(" a \n\n b\n") == ["a", "b"]
    assert FUNCTIONS["to_json"].call({"a": [1]}) == '{"a": [1]}'
    assert FUNCTIONS["first"].call([]) is None
    with pytest.raises(EvalError, match="null"):
        FUNCTIONS["length"].call(None)


def test_sql_blocks_takes_only_sql_fences() -> None:
    text = (
        "### Q1\n```sql\nSELECT 1\n```\n"
        "```python\nprint(1)\n```\n"
        "~~~SQL\nWITH a AS (SELECT 2)\nSELECT * FROM a\n~~~\n"
        "```sql\n```\n"
    )
    assert FUNCTIONS["sql_blocks"].call(text) == [
        "SELECT 1",
        "WITH a AS (SELECT 2)\nSELECT * FROM a",
    ]


def test_program_round_trips_through_json(library: Library) -> None:
    path = "playbooks/research-and-analyze.yaml"
    from codifier.resources import playbooks_dir

    text = (playbooks_dir() / "research-and-analyze.yaml").read_text(encoding="utf-8")
    result = compile_playbook(text, path, library)
    assert result.program is not None
    program = result.program
    again = Program.from_json(program.to_json())
    assert again == program
    assert [s.kind for s in program.steps] == [
        "store",
        "skill-invoke",
        "data-query",
        "store",
        "data-query",
        "generate",
        "data-query",
        "generate",
    ]
    results = next(s for s in program.steps if s.id == "results")
    assert results.output_type == "list<QueryResult>?"
    assert results.condition is not None


def test_errors_mean_no_program(library: Library) -> None:
    result = compile_playbook("id: x\nname: X\nsteps:\n  - id: a\n", "x.yaml", library)
    assert result.program is None
    assert [d.code for d in result.errors] == ["S106"]


_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,4}"
_PATHS = rf"{_NAME}(\.{_NAME}){{0,3}}"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.from_regex(rf"\A[ \n]?{_PATHS}[ \t]?\Z"),
        st.from_regex(rf"\A {_NAME}\( ?{_PATHS} ?\)\Z"),
        st.text(alphabet="ab_.()[] \t'1,!=", max_size=16),
    )
)
def test_fast_path_builds_exactly_what_the_grammar_builds(text: str) -> None:
    fast = _fast_parse(text)
    if fast is None:
        return
    assert fast == parse_with_grammar(text)


def test_fast_path_is_taken_for_paths_and_calls_on_paths() -> None:
    for text in ("steps.a.output", " inputs.db ", "length(steps.a.output)", "true"):
        assert _fast_parse(text) is not None, text
    for text in ("a.b(c)", "f(a, b)", "a == b", "true(x)"):
        assert _fast_parse(text) is None, text


def test_line_model_breaks_only_at_newline_carriage_return_and_both() -> None:
    index = LineIndex("a\x85b\u2028c\u2029d\x0ce\x0bf\nx\r\ny\rz")
    assert index.line_count == 4
    assert index.line_text(1) == "a\x85b\u2028c\u2029d\x0ce\x0bf"
    assert [index.line_text(n) for n in (2, 3, 4)] == ["x", "y", "z"]
    assert index.position(len("a\x85b\u2028c\u2029d\x0ce\x0bf\nx\r")) == (2, 2)  # inside \r\n
    assert index.offset(3, 99) == index.offset(3, 2)  # clamped to the line's end


def test_line_model_drops_the_byte_order_mark() -> None:
    index = LineIndex("\ufeffid: x\n")
    assert index.line_text(1) == "id: x"
    assert index.position(0) == (1, 1)
    assert index.line_count == 2  # the final newline ends an empty last line
    source = SourceFile("a.yaml", "\ufeffid: x\n")
    assert source.text == "id: x\n"
    assert source.had_bom


def test_lsp_positions_round_trip_in_every_encoding() -> None:
    index = LineIndex("ab\n\U0001f600é日x\n")
    # 😀 is two UTF-16 units and four UTF-8 bytes; é two bytes; 日 three.
    assert index.to_lsp(2, 2) == (1, 2)
    assert index.to_lsp(2, 2, "utf-8") == (1, 4)
    assert index.to_lsp(2, 2, "utf-32") == (1, 1)
    assert index.to_lsp(2, 4, "utf-16") == (1, 4)
    assert index.to_lsp(2, 4, "utf-8") == (1, 9)
    for encoding in ("utf-16", "utf-8", "utf-32"):
        for column in range(1, 6):
            lsp = index.to_lsp(2, column, encoding)
            assert index.from_lsp(*lsp, encoding) == (2, column)
    assert index.from_lsp(1, 1) == (2, 1)  # inside the surrogate pair: that character
    assert index.from_lsp(9, 0) == (3, 1)  # past the end: the end
    assert index.to_lsp(9, 9) == (2, 0)


def test_did_you_mean_over_many_names_finds_one_typo_away() -> None:
    names = [f"step_{i:04d}" for i in range(2000)] + ["summary", "objective"]
    assert closest("objectiwe", names) == "objective"  # a letter changed
    assert closest("summmary", names) == "summary"  # a letter doubled
    assert closest("step_1023", names) == "step_1023"
    assert closest("sumary", names) == "summary"  # a letter missing
    assert closest("objetcive", names) == "objective"  # neighbours swapped
    assert closest("entirely_different", names) is None


def test_typos_cost_at_most_three_times_the_clean_file(library: Library) -> None:
    """Issue 13, point 4: 1,000 typos in 2,000 steps, each asking for a did-you-mean among
    2,000 step ids, cost at most 3x the same file spelt right (best of three each)."""
    clean, typoed = typo_playbooks(2000, 1000)

    def best(text: str) -> tuple[float, int]:
        times = []
        for _ in range(3):
            parse_expression.cache_clear()
            start = time.perf_counter()
            found = len(compile_playbook(text, "typos.yaml", library).diagnostics)
            times.append(time.perf_counter() - start)
        return min(times), found

    clean_seconds, clean_found = best(clean)
    typo_seconds, typo_found = best(typoed)
    assert typo_found > clean_found + 800  # the typos are found (a few coincide)
    assert typo_seconds <= 3 * clean_seconds, (typo_seconds, clean_seconds)


def test_a_lone_surrogate_is_a_diagnostic_not_a_crash() -> None:
    # Only text built in memory holds one (a language client's JSON may send "\ud800").
    result = compile_playbook("id: x\nname: \ud800\nsteps: []\n", "x.yaml", Library({}, {}, {}, ()))
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("Y001", 2, 7)]
    assert "U+D800" in result.diagnostics[0].message
