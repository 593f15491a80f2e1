"""codemap on real code: outlines, search chunks, central modules and the digest.

The real repositories are pinned PyPI sdists made into git repositories
(`tests.real_repos`); Python's own `ast` module is the oracle for Python definitions'
lines. One small realistic snippet per language (tests/testdata/codemap) checks every
grammar. The central-module expectations were written before any ranking existed
(/work/notes/digest-expectations.md) and are asserted as written.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codifier.codemap.chunks import Chunk, chunks
from codifier.codemap.digest import build_digest
from codifier.codemap.frameworks import detect
from codifier.codemap.imports import ExternalUse, import_graph
from codifier.codemap.languages import ENV_MAX_BYTES, ENV_TIMEOUT_MS, SUPPORTED, ParseLimits, parse
from codifier.codemap.outline import outline
from codifier.codemap.references import rank
from codifier.codemap.testpaths import is_test_path
from codifier.packer import PackResult, pack
from codifier.packer.tokens import count_tokens
from tests.real_repos import DJANGO, JINJA2, repository

SNIPPETS = Path(__file__).parent / "testdata" / "codemap"


@pytest.fixture(scope="module")
def jinja2_pack() -> PackResult:
    return pack(repository(JINJA2))


@pytest.fixture(scope="module")
def django_timed() -> tuple[PackResult, float]:
    started = time.perf_counter()
    result = pack(repository(DJANGO))
    return result, time.perf_counter() - started


@pytest.fixture(scope="module")
def django_pack(django_timed: tuple[PackResult, float]) -> PackResult:
    return django_timed[0]


def _file_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# -- the oracle: Python's own parser ---------------------------------------------------------


def _ast_definitions(text: str) -> list[tuple[str, str, int, int, int]]:
    """(kind, name, line, end_line, depth) for definitions where outlines look for them:
    module and class bodies and the if/try/with blocks around them, not function bodies."""
    out: list[tuple[str, str, int, int, int]] = []

    def visit(body: list[ast.stmt], depth: int, in_class: bool) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                kind = "method" if in_class else "function"
                out.append((kind, node.name, node.lineno, node.end_lineno or 0, depth))
            elif isinstance(node, ast.ClassDef):
                out.append(("class", node.name, node.lineno, node.end_lineno or 0, depth))
                visit(node.body, depth + 1, True)
            elif isinstance(node, ast.If):
                visit(node.body, depth, in_class)
                visit(node.orelse, depth, in_class)
            elif isinstance(node, ast.Try):
                visit(node.body, depth, in_class)
                for handler in node.handlers:
                    visit(handler.body, depth, in_class)
                visit(node.orelse, depth, in_class)
                visit(node.finalbody, depth, in_class)
            elif isinstance(node, ast.With | ast.AsyncWith):
                visit(node.body, depth, in_class)

    visit(ast.parse(text).body, 0, False)
    return out


def _assert_matches_ast(path: str, text: str) -> int:
    """The outline equals Python's own definitions: kinds, names, lines, depths exactly;
    an end line may pass ast's only over comment lines the body ends with (tree-sitter
    keeps an indented trailing comment in the block, ast stops at the last statement)."""
    symbols = outline("python", text)
    assert symbols is not None, path
    lines = _file_lines(text)
    expected = _ast_definitions(text)
    assert [(s.kind, s.name, s.line, s.depth) for s in symbols] == [
        (kind, name, line, depth) for kind, name, line, _, depth in expected
    ], path
    for symbol, (*_, end, _depth) in zip(symbols, expected, strict=True):
        assert symbol.end_line >= end, (path, symbol)
        extra = lines[end : symbol.end_line]
        assert all(not x.strip() or x.strip().startswith("#") for x in extra), (path, symbol)
        assert lines[symbol.end_line - 1].strip(), (path, symbol)
    return len(symbols)


def _python_files(result: PackResult, prefix: str) -> Iterator[tuple[str, str]]:
    for file in result.files:
        if file.language == "python" and file.path.startswith(prefix):
            yield file.path, result.content(file)


# -- outlines ------------------------------------------------------------------------------


def test_outline_matches_pythons_own_parser_on_every_jinja2_module(
    jinja2_pack: PackResult,
) -> None:
    checked = sum(_assert_matches_ast(path, text) for path, text in _python_files(jinja2_pack, ""))
    assert checked > 1_000


def test_outline_matches_pythons_own_parser_on_django_models(django_pack: PackResult) -> None:
    checked = sum(
        _assert_matches_ast(path, text) for path, text in _python_files(django_pack, "django/db/")
    )
    assert checked > 3_000


def test_signatures_are_the_headers_of_the_files_lines(jinja2_pack: PackResult) -> None:
    file = next(f for f in jinja2_pack.files if f.path == "src/jinja2/environment.py")
    text = jinja2_pack.content(file)
    lines = _file_lines(text)
    symbols = outline("python", text)
    assert symbols is not None
    environment = next(s for s in symbols if s.name == "Environment" and s.kind == "class")
    assert lines[environment.line - 1] == "class Environment:"
    assert environment.signature == "class Environment"
    assert environment.line == lines.index("class Environment:") + 1
    init = next(s for s in symbols if s.name == "__init__" and s.line > environment.line)
    assert init.depth == 1
    assert lines[init.line - 1] == "    def __init__("
    assert init.signature.startswith(
        "def __init__(self, block_start_string: str = BLOCK_START_STRING, "
    )
    assert len(init.signature) == 200
    assert init.signature.endswith("…")
    for symbol in symbols:  # the signature is the file's text from its line, tidied
        source = "".join(line.partition("#")[0] for line in lines[symbol.line - 1 :][:40])
        assert _squeezed(source).startswith(_squeezed(symbol.signature.rstrip("…"))), symbol
        header = lines[symbol.line - 1].strip()
        if header.endswith(":") and "#" not in header:  # a one-line header, colon left out
            assert symbol.signature == " ".join(header[:-1].split()), symbol


def _squeezed(text: str) -> str:
    """Text without whitespace and commas (a signature drops a trailing comma)."""
    return "".join(text.split()).replace(",", "")


# -- chunks ------------------------------------------------------------------------------


def _assert_cover(text: str, pieces: list[Chunk], max_lines: int, where: str) -> None:
    """Chunks are in order, within the file, at most max_lines long, never overlap, and
    cover every non-blank line exactly once."""
    lines = _file_lines(text)
    previous_end = 0
    for piece in pieces:
        assert previous_end < piece.start_line <= piece.end_line <= len(lines), (where, piece)
        assert piece.end_line - piece.start_line + 1 <= max_lines, (where, piece)
        previous_end = piece.end_line
    covered = [False] * len(lines)
    for piece in pieces:
        for index in range(piece.start_line - 1, piece.end_line):
            covered[index] = True
    missed = [i + 1 for i, line in enumerate(lines) if line.strip() and not covered[i]]
    assert not missed, (where, missed[:5])


def test_chunks_are_exact_and_cover_every_jinja2_and_django_module(
    jinja2_pack: PackResult, django_pack: PackResult
) -> None:
    files = [*_python_files(jinja2_pack, ""), *_python_files(django_pack, "django/")]
    assert len(files) > 900
    for path, text in files:
        _assert_cover(text, chunks("python", text), 80, path)
        _assert_cover(text, chunks("python", text, max_lines=15), 15, path)


def test_each_function_is_its_own_chunk_with_its_decorators(jinja2_pack: PackResult) -> None:
    file = next(f for f in jinja2_pack.files if f.path == "src/jinja2/environment.py")
    text = jinja2_pack.content(file)
    lines = _file_lines(text)
    pieces = chunks("python", text)
    tree = ast.parse(text)
    environment = next(
        n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Environment"
    )
    methods = [n for n in environment.body if isinstance(n, ast.FunctionDef)]
    assert len(methods) > 30
    for method in methods:  # overloads and property setters share a name: each has a chunk
        piece = next(p for p in pieces if p.start_line <= method.lineno <= p.end_line)
        assert piece.symbol == f"Environment.{method.name}"
        first = min([method.lineno, *(d.lineno for d in method.decorator_list)])
        end = method.end_lineno or 0
        if end - first < 80:
            assert piece.start_line <= first, method.name
            assert piece.end_line >= end, method.name
            assert not [line for line in lines[end : piece.end_line] if line.strip()]
    header = next(p for p in pieces if p.symbol == "Environment")
    assert lines[header.start_line - 1] == "class Environment:"  # header and docstring
    assert header.end_line < methods[0].lineno


def test_long_definitions_are_split_into_windows_that_keep_their_symbol(
    django_pack: PackResult,
) -> None:
    file = next(f for f in django_pack.files if f.path == "django/db/models/query.py")
    text = django_pack.content(file)
    tree = ast.parse(text)
    longest = max(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)),
        key=lambda n: (n.end_lineno or 0) - n.lineno,
    )
    assert (longest.end_lineno or 0) - longest.lineno > 40
    pieces = [
        p
        for p in chunks("python", text, max_lines=20)
        if p.symbol.rpartition(".")[2] == longest.name
    ]
    assert len(pieces) >= 3
    assert all(p.end_line - p.start_line < 20 for p in pieces)
    assert pieces[-1].end_line == longest.end_lineno


def test_text_without_a_grammar_is_cut_into_windows_of_lines() -> None:
    text = "".join(f"line {n}\n" if n % 7 else "\n" for n in range(1, 251))
    pieces = chunks("markdown", text, max_lines=80)
    assert [(p.start_line, p.end_line) for p in pieces] == [
        (1, 80),
        (81, 160),
        (161, 240),
        (241, 250),
    ]
    assert outline("markdown", text) is None
    assert chunks("markdown", "\n\n\n") == []


# -- every language ------------------------------------------------------------------------

EXPECTED: dict[str, list[tuple[str, str, int, int, str]]] = {
    # language: (kind, name, line, depth, signature or its start)
    "py": [
        ("class", "Entry", 13, 0, "class Entry"),
        ("class", "Cache", 20, 0, "class Cache"),
        ("method", "__init__", 23, 1, "def __init__(self, ttl: float = DEFAULT_TTL) -> None"),
        ("method", "size", 28, 1, "def size(self) -> int"),
        ("method", "get", 31, 1, "def get(self, key: str, default: object = None) -> object"),
        ("method", "refresh", 41, 1,
         "async def refresh(self, key: str, loader: Callable[[str], Awaitable[object]]) -> object"),
        ("function", "make_cache", 50, 0, "def make_cache(ttl: float | None = None) -> Cache"),
    ],
    "js": [
        ("class", "Emitter", 6, 0, "export class Emitter extends Base"),
        ("method", "constructor", 7, 1, "constructor(options = {})"),
        ("method", "on", 12, 1, "on(event, listener)"),
        ("method", "once", 17, 1, "async once(event)"),
        ("function", "createEmitter", 22, 0, "export function createEmitter(options)"),
        ("function", "debounce", 26, 0, "export const debounce = (fn, wait = 100) =>"),
        ("function", "module.exports.legacy", 34, 0, "module.exports.legacy = function legacy()"),
    ],
    "ts": [
        ("interface", "User", 3, 0, "export interface User"),
        ("method", "greet", 6, 1, "greet(other: User): string"),
        ("type", "UserId", 9, 0, 'export type UserId = User["id"]'),
        ("enum", "Role", 11, 0, "export enum Role"),
        ("class", "Repository", 16, 0,
         "export abstract class Repository<T extends { id: number }>"),
        ("method", "validate", 19, 1, "abstract validate(item: T): boolean"),
        ("method", "save", 21, 1, "save(item: T): T"),
        ("function", "findUser", 27, 0,
         "export const findUser = async (req: Request, id: UserId): Promise<User | undefined> =>"),
        ("function", "isAdmin", 31, 0,
         "export function isAdmin(user: User, role: Role = Role.Member): boolean"),
        ("module", "Internal", 35, 0, "namespace Internal"),
        ("function", "helper", 36, 1, "export function helper(): void"),
    ],
    "tsx": [
        ("type", "Props", 3, 0, "type Props = { label: string; initial?: number }"),
        ("function", "Counter", 5, 0,
         "export function Counter({ label, initial = 0 }: Props): JSX.Element"),
        ("function", "Badge", 14, 0, "export const Badge = ({ text }: { text: string }) =>"),
        ("class", "Panel", 16, 0, "export default class Panel extends React.Component<Props>"),
        ("method", "render", 17, 1, "render()"),
    ],
    "go": [
        ("interface", "Getter", 13, 0, "type Getter interface"),
        ("method", "Get", 14, 1, "Get(key string) (string, error)"),
        ("struct", "Store", 18, 0, "type Store struct"),
        ("type", "Key", 23, 0, "type Key = string"),
        ("function", "New", 26, 0, "func New() *Store"),
        ("method", "Store.Get", 31, 0, "func (s *Store) Get(key string) (string, error)"),
        ("function", "Map", 41, 0, "func Map[K comparable, V any](items []K, f func(K) V) []V"),
    ],
    "rs": [
        ("struct", "Queue", 11, 0, "pub struct Queue<T>"),
        ("enum", "Push", 16, 0, "pub enum Push"),
        ("trait", "Bounded", 21, 0, "pub trait Bounded"),
        ("method", "limit", 22, 1, "fn limit(&self) -> usize"),
        ("method", "is_full", 23, 1, "fn is_full(&self) -> bool"),
        ("impl", "Queue", 28, 0, "impl<T: Clone> Queue<T>"),
        ("method", "new", 29, 1, "pub fn new(limit: usize) -> Self"),
        ("method", "push", 33, 1, "pub fn push(&mut self, item: T) -> Push"),
        ("impl", "Queue", 42, 0, "impl<T> Bounded for Queue<T>"),
        ("method", "limit", 43, 1, "fn limit(&self) -> usize"),
        ("function", "drain_all", 48, 0, "pub fn drain_all<T>(queue: &mut Queue<T>) -> Vec<T>"),
        ("module", "tests", 53, 0, "mod tests"),
        ("function", "pushes_until_full", 57, 1, "fn pushes_until_full()"),
    ],
    "java": [
        ("class", "OrderBook", 7, 0, "public class OrderBook implements Iterable<Order>"),
        ("constructor", "OrderBook", 10, 1, "public OrderBook()"),
        ("constructor", "OrderBook", 14, 1, "public OrderBook(List<Order> initial)"),
        ("method", "iterator", 19, 1, "public java.util.Iterator<Order> iterator()"),
        ("method", "add", 23, 1,
         "public <T extends Order> void add(T order) throws IllegalStateException"),
        ("interface", "Listener", 27, 1, "interface Listener"),
        ("method", "onAdded", 28, 2, "void onAdded(Order order)"),
        ("enum", "Status", 31, 1, "enum Status"),
        ("method", "isFinal", 35, 2, "boolean isFinal()"),
    ],
    "rb": [
        ("module", "Throttle", 4, 0, "module Throttle"),
        ("class", "Limiter", 5, 1, "class Limiter < Base"),
        ("method", "initialize", 8, 2, "def initialize(rate, clock: Clock.new)"),
        ("method", "allow?", 13, 2, "def allow?(key)"),
        ("method", "self.default", 17, 2, "def self.default"),
        ("method", "count", 23, 2, "def count(key)"),
        ("method", "self.configure", 28, 1, "def self.configure"),
    ],
    "c": [
        ("struct", "buffer", 4, 0, "struct buffer"),
        ("enum", "mode", 9, 0, "enum mode"),
        ("struct", "point", 11, 0, "typedef struct point"),
        ("function", "buffer_append", 16, 0,
         "int buffer_append(struct buffer *buf, const char *bytes, size_t n)"),
        ("function", "buffer_new", 19, 0, "static struct buffer *buffer_new(size_t capacity)"),
        ("function", "buffer_append", 27, 0,
         "int buffer_append(struct buffer *buf, const char *bytes, size_t n)"),
    ],
    "cpp": [
        ("namespace", "geometry", 4, 0, "namespace geometry"),
        ("class", "Shape", 6, 1, "class Shape"),
        ("method", "~Shape", 8, 2, "virtual ~Shape() = default"),
        ("method", "area", 9, 2, "virtual double area() const = 0"),
        ("method", "name", 10, 2, "std::string name() const"),
        ("struct", "Circle", 16, 1, "struct Circle : public Shape"),
        ("method", "Circle", 17, 2, "explicit Circle(double r)"),
        ("method", "area", 18, 2, "double area() const override"),
        ("function", "Circle::area", 22, 1, "double Circle::area() const"),
        ("function", "clamp", 26, 1, "template <typename T> T clamp(T value, T low, T high)"),
        ("enum", "Color", 31, 1, "enum class Color"),
    ],
}  # fmt: skip
# Definitions with a body that get a chunk of their own (a sample per language).
CHUNKED = {
    "py": {"Cache.get", "Cache.refresh", "make_cache", "Entry"},
    "js": {"Emitter.on", "debounce", "module.exports.legacy"},
    "ts": {"Repository.save", "findUser", "Internal.helper", "User"},
    "tsx": {"Counter", "Panel.render", "Badge"},
    "go": {"Store.Get", "Map", "Getter"},
    "rs": {"Queue.push", "Bounded.is_full", "drain_all", "tests.pushes_until_full"},
    "java": {"OrderBook.add", "OrderBook.Status.isFinal", "OrderBook.Listener"},
    "rb": {"Throttle.Limiter.allow?", "Throttle.self.configure"},
    "c": {"buffer_new", "buffer_append", "point"},
    "cpp": {"geometry.Circle::area", "geometry.clamp", "geometry.Shape.name"},
}
_LANGUAGE_OF = {
    "py": "python", "js": "javascript", "ts": "typescript", "tsx": "tsx", "go": "go",
    "rs": "rust", "java": "java", "rb": "ruby", "c": "c", "cpp": "cpp",
}  # fmt: skip


@pytest.mark.parametrize("extension", sorted(EXPECTED))
def test_every_language_outlines_its_snippet(extension: str) -> None:
    language = _LANGUAGE_OF[extension]
    text = (SNIPPETS / f"sample.{extension}").read_text()
    symbols = outline(language, text)
    assert symbols is not None
    got = [(s.kind, s.name, s.line, s.depth, s.signature) for s in symbols]
    assert got == EXPECTED[extension]
    lines = _file_lines(text)
    for symbol in symbols:
        header = " ".join(lines[symbol.line - 1 : symbol.line + 1])  # `template <...>` first
        assert symbol.name.rpartition(".")[2].lstrip("~") in header, symbol
        assert symbol.line <= symbol.end_line <= len(lines)
    pieces = chunks(language, text, max_lines=80)
    _assert_cover(text, pieces, 80, extension)
    assert CHUNKED[extension] <= {p.symbol for p in pieces}


def test_jsx_parses_with_the_javascript_grammar() -> None:
    text = "export function App() {\n  return <div>{1}</div>;\n}\n"
    symbols = outline("jsx", text)
    assert symbols is not None
    assert [(s.name, s.signature) for s in symbols] == [("App", "export function App()")]


# -- hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(SUPPORTED))
def test_hostile_input_gives_a_bounded_result(language: str) -> None:
    samples = {
        "brackets": "[" * 10_000 + "]" * 10_000 + "\n",
        "braces": "function f() {" * 10_000 + "\n",
        "classes": "".join("    " * i + f"class C{i}:\n" for i in range(300)),
        "megabyte line": 'x = "' + "a" * (1 << 20) + '"\n',
    }
    for name, text in samples.items():
        started = time.perf_counter()
        symbols = outline(language, text)
        pieces = chunks(language, text, max_lines=80)
        elapsed = time.perf_counter() - started
        assert elapsed < 10, (name, elapsed)  # two parses, each cancelled after 1 s
        assert symbols is None or all(s.depth <= 48 for s in symbols), name
        assert all(len(s.signature) <= 200 for s in symbols or []), name
        _assert_cover(text, pieces, 80, name)
    assert outline(language, samples["megabyte line"]) is None  # over the 1 MB bound


def test_a_parse_past_its_time_bound_is_cancelled() -> None:
    text = ("int f(int a) { return a; }\n" * 30_000).encode()
    assert parse("cpp", text, ParseLimits(timeout_seconds=10.0)) is not None
    started = time.perf_counter()
    assert parse("cpp", text, ParseLimits(timeout_seconds=0.001)) is None
    assert time.perf_counter() - started < 1.0
    assert parse("cpp", text, ParseLimits(max_bytes=1000)) is None
    assert outline("cpp", text.decode(), ParseLimits(max_bytes=1000)) is None
    assert parse("cpp", b"int x;\n") is not None  # the parser is usable after a cancel


def test_parse_limits_come_from_the_environment() -> None:
    limits = ParseLimits.from_env({ENV_MAX_BYTES: "2048", ENV_TIMEOUT_MS: "250"})
    assert limits == ParseLimits(max_bytes=2048, timeout_seconds=0.25)
    assert ParseLimits.from_env({}) == ParseLimits()
    with pytest.raises(ValueError, match=ENV_MAX_BYTES):
        ParseLimits.from_env({ENV_MAX_BYTES: "lots"})
    with pytest.raises(ValueError, match=ENV_TIMEOUT_MS):
        ParseLimits.from_env({ENV_TIMEOUT_MS: "0"})


def test_invalid_utf8_is_packed_replaced_and_mapped(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_bytes(
        b"def f(\xff\xfe):\n    return 1\n\n\nclass K:\n    def g(self, \xc3):\n        pass\n"
    )
    (tmp_path / "README.md").write_text("# Bad bytes\n")
    result = pack(tmp_path)
    file = next(f for f in result.files if f.path == "bad.py")
    text = result.content(file)
    assert "\ufffd" in text
    symbols = outline("python", text)
    assert symbols is not None
    assert [(s.name, s.line) for s in symbols] == [("f", 1), ("K", 5), ("g", 6)]
    _assert_cover(text, chunks("python", text), 80, "bad.py")
    digest = build_digest(result, 2000)
    assert digest.tokens == count_tokens(digest.text) <= 2000
    assert "bad.py" in digest.central


# -- central modules -----------------------------------------------------------------------

# /work/notes/digest-expectations.md, written before the ranking existed: each entry is
# one expectation, satisfied by any of its paths.
DJANGO_EXPECTED = {
    "models": ("django/db/models/__init__.py", "django/db/models/base.py",
               "django/db/models/fields/__init__.py", "django/db/models/query.py"),
    "translation": ("django/utils/translation/__init__.py",),
    "conf": ("django/conf/__init__.py",),
    "exceptions": ("django/core/exceptions.py",),
    "functional": ("django/utils/functional.py",),
    "http": ("django/http/__init__.py", "django/http/request.py", "django/http/response.py"),
    "apps": ("django/apps/registry.py", "django/apps/config.py"),
}  # fmt: skip
JINJA2_EXPECTED = ("environment.py", "nodes.py", "runtime.py", "exceptions.py", "utils.py")


def test_the_django_digest_names_its_central_modules(django_pack: PackResult) -> None:
    digest = build_digest(django_pack)
    named = {
        expectation
        for expectation, paths in DJANGO_EXPECTED.items()
        if any(path in digest.central and f"### {path} —" in digest.text for path in paths)
    }
    assert len(named) >= 4, (named, digest.central)


def test_the_jinja2_ranking_puts_its_core_on_top(jinja2_pack: PackResult) -> None:
    texts = {f.path: jinja2_pack.content(f) for f in jinja2_pack.files if f.language == "python"}
    top = [r.path.rpartition("/")[2] for r in rank(texts)[:5]]
    assert len(set(top) & set(JINJA2_EXPECTED)) >= 4, top
    digest = build_digest(jinja2_pack)
    shown = [p.rpartition("/")[2] for p in digest.central[:5]]
    assert len(set(shown) & set(JINJA2_EXPECTED)) >= 4, shown


def test_tests_are_never_central_but_their_imports_count(jinja2_pack: PackResult) -> None:
    texts = {f.path: jinja2_pack.content(f) for f in jinja2_pack.files if f.language == "python"}
    ranked = rank(texts)
    assert not [r for r in ranked if is_test_path(r.path)]
    environment = next(r for r in ranked if r.path == "src/jinja2/environment.py")
    without_tests = rank({p: t for p, t in texts.items() if not p.startswith("tests/")})
    assert environment.imported_by > next(
        r.imported_by for r in without_tests if r.path == environment.path
    )


# -- the digest ----------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [2_000, 8_000, 16_000])
def test_the_digest_fits_its_budget_on_real_repositories(
    budget: int, jinja2_pack: PackResult, django_pack: PackResult
) -> None:
    for result in (jinja2_pack, django_pack):
        digest = build_digest(result, budget)
        assert digest.tokens == count_tokens(digest.text)
        assert 0.97 * budget <= digest.tokens <= budget, (result.source, digest.tokens)
        headings = [
            "# Repository digest:",
            "## What the project is",
            "## Manifests and configuration",
            "## Tree",
            "## Central modules",
        ]
        positions = [digest.text.index(h) for h in headings]
        assert positions == sorted(positions)
        assert "read_snapshot(snapshot_id, path, start_line, end_line)" in digest.text
        assert "search_snapshot(snapshot_id, query, mode)" in digest.text
        assert digest.central
        assert f"### {digest.central[0]} —" in digest.text
        assert digest.text.count("```") % 2 == 0  # every fence closed


def test_the_digest_fills_budgets_from_the_smallest_on(jinja2_pack: PackResult) -> None:
    for budget in range(500, 20_000, 250):  # jinja2 has about 22,000 tokens of material
        digest = build_digest(jinja2_pack, budget)
        assert 0.97 * budget <= digest.tokens <= budget, budget
        assert digest.tokens == count_tokens(digest.text)


def test_the_digest_header_readme_manifests_and_outline(jinja2_pack: PackResult) -> None:
    digest = build_digest(jinja2_pack)
    text = digest.text
    assert f"- Commit: {jinja2_pack.commit}" in text
    assert digest.test_frameworks == ["pytest"]
    assert "pytest (" in text
    assert "pyproject.toml has a pytest section" in text
    assert digest.languages[0][:2] == ("python", 52)
    assert "- Languages: python (52 files)" in text
    assert "From `README.md`" in text
    assert "Jinja is a fast, expressive, extensible" in text
    assert "### pyproject.toml" in text
    assert 'name = "Jinja2"' in text
    assert "src/ (26 files): jinja2/ (26)" in text
    environment = next(f for f in jinja2_pack.files if f.path == "src/jinja2/environment.py")
    lines = _file_lines(jinja2_pack.content(environment))
    line = lines.index("class Environment:") + 1
    assert f"\nL{line} class Environment\n" in text
    heading = next(h for h in text.split("\n") if h.startswith("### src/jinja2/environment.py"))
    assert heading.startswith(f"### src/jinja2/environment.py — {len(lines):,} lines, imported by ")


def test_the_django_digest_detects_unittest(django_pack: PackResult) -> None:
    digest = build_digest(django_pack)
    assert digest.test_frameworks == ["unittest"]
    assert digest.languages[0][0] == "python"
    assert "### pyproject.toml" in digest.text
    assert "### tox.ini" in digest.text


def test_a_tiny_repository_gives_a_smaller_complete_digest(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Tiny\n\nAdds numbers.\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "tiny"\n')
    (tmp_path / "tiny.py").write_text("def add(a: int, b: int) -> int:\n    return a + b\n")
    digest = build_digest(pack(tmp_path), 8_000)
    assert digest.tokens == count_tokens(digest.text) < 1_000
    assert "Adds numbers." in digest.text
    assert 'name = "tiny"' in digest.text
    assert "L1 def add(a: int, b: int) -> int" in digest.text
    assert digest.central == ["tiny.py"]
    assert "(first" not in digest.text  # nothing was cut
    with pytest.raises(ValueError, match="at least 500"):
        build_digest(pack(tmp_path), 499)


def test_the_digest_costs_a_fraction_of_the_pack(
    django_timed: tuple[PackResult, float], jinja2_pack: PackResult
) -> None:
    result, pack_seconds = django_timed
    build_digest(jinja2_pack)  # grammars and the encoder loaded
    started = time.perf_counter()
    build_digest(result)
    seconds = time.perf_counter() - started
    assert seconds < 1.0, seconds
    assert seconds < 0.3 * pack_seconds, (seconds, pack_seconds)


# -- imports, per language -----------------------------------------------------------------

REPOSITORY = {
    # Python, src layout, absolute and relative imports
    "src/shop/__init__.py": "from .models import Order\n",
    "src/shop/models.py": "from shop.db import session\nimport shop.util as u\nimport json\n",
    "src/shop/db.py": "session = None\n",
    "src/shop/util.py": "from . import db\n",
    "src/shop/api/__init__.py": "",
    "src/shop/api/views.py": (
        "from ..models import (\n    Order,  # the model\n)\nfrom shop.api import helpers\n"
    ),
    "src/shop/api/helpers.py": "def help() -> None:\n    import shop.db\n",
    "tests/test_models.py": "import pytest\nfrom shop.models import Order\n",
    # TypeScript
    "web/src/index.ts": (
        'import { a } from "./lib/a";\nimport b from "./lib/b.js";\n'
        'export * from "./components";\nconst c = require("../config");\n'
        'import React from "react";\nimport { x } from "@scope/pkg/sub";\n'
    ),
    "web/src/lib/a.ts": "export const a = 1;\n",
    "web/src/lib/b.ts": "export default 2;\n",
    "web/src/components/index.tsx": 'import { a } from "../lib/a";\n',
    "web/config.js": "module.exports = {};\n",
    # Go
    "go.mod": "module example.com/store\n\ngo 1.22\n",
    "cmd/server/main.go": (
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/store/internal/kv"\n'
        '\tapi "example.com/store/api"\n)\n'
    ),
    "internal/kv/kv.go": "package kv\n",
    "internal/kv/kv_test.go": 'package kv\n\nimport "testing"\n',
    "api/api.go": 'package api\n\nimport "example.com/store/internal/kv"\n',
    # Rust
    "crate/src/lib.rs": "pub mod queue;\nmod util;\nuse crate::queue::Queue;\n",
    "crate/src/queue.rs": "use crate::util::{clamp, Limits};\nuse super::util;\n",
    "crate/src/util/mod.rs": "pub mod clamp;\n",
    "crate/src/util/clamp.rs": "pub fn clamp() {}\n",
    # Java
    "java/src/main/java/com/acme/orders/Order.java": (
        "package com.acme.orders;\n\nimport com.acme.money.Money;\nimport java.util.List;\n"
    ),
    "java/src/main/java/com/acme/money/Money.java": "package com.acme.money;\n",
    "java/src/main/java/com/acme/orders/OrderService.java": (
        "package com.acme.orders;\n\nimport com.acme.money.*;\n"
        "import static com.acme.orders.Order.create;\n"
    ),
    "java/src/test/java/com/acme/orders/OrderTest.java": (
        "import org.junit.jupiter.api.Test;\nimport com.acme.orders.Order;\n"
    ),
    # C
    "c/include/buf/buffer.h": "int f(void);\n",
    "c/src/buffer.c": '#include "buf/buffer.h"\n#include <stdio.h>\n#  include "util.h"\n',
    "c/src/util.h": "int g(void);\n",
    "c/src/main.c": "#include <buf/buffer.h>\n",
    # Ruby
    "rb/lib/throttle.rb": (
        'require "throttle/limiter"\nrequire_relative "throttle/clock"\nrequire "json"\n'
    ),
    "rb/lib/throttle/limiter.rb": "class Limiter; end\n",
    "rb/lib/throttle/clock.rb": "class Clock; end\n",
    "rb/spec/limiter_spec.rb": 'require "rspec"\nrequire "throttle/limiter"\n',
}


def test_imports_resolve_to_files_in_every_language() -> None:
    graph = import_graph(REPOSITORY)
    expected = {
        "src/shop/__init__.py": {"src/shop/models.py"},
        "src/shop/models.py": {"src/shop/db.py", "src/shop/util.py"},
        "src/shop/util.py": {"src/shop/db.py"},
        "src/shop/api/views.py": {"src/shop/models.py", "src/shop/api/helpers.py"},
        "src/shop/api/helpers.py": {"src/shop/db.py"},
        "tests/test_models.py": {"src/shop/models.py"},
        "web/src/index.ts": {
            "web/src/lib/a.ts", "web/src/lib/b.ts", "web/src/components/index.tsx",
            "web/config.js",
        },
        "web/src/components/index.tsx": {"web/src/lib/a.ts"},
        "cmd/server/main.go": {"internal/kv/kv.go", "api/api.go"},
        "api/api.go": {"internal/kv/kv.go"},
        "crate/src/lib.rs": {"crate/src/queue.rs", "crate/src/util/mod.rs"},
        "crate/src/queue.rs": {"crate/src/util/mod.rs", "crate/src/util/clamp.rs"},
        "crate/src/util/mod.rs": {"crate/src/util/clamp.rs"},
        "java/src/main/java/com/acme/orders/Order.java": {
            "java/src/main/java/com/acme/money/Money.java"
        },
        "java/src/main/java/com/acme/orders/OrderService.java": {
            "java/src/main/java/com/acme/money/Money.java",
            "java/src/main/java/com/acme/orders/Order.java",
        },
        "java/src/test/java/com/acme/orders/OrderTest.java": {
            "java/src/main/java/com/acme/orders/Order.java"
        },
        "c/src/buffer.c": {"c/include/buf/buffer.h", "c/src/util.h"},
        "c/src/main.c": {"c/include/buf/buffer.h"},
        "rb/lib/throttle.rb": {"rb/lib/throttle/limiter.rb", "rb/lib/throttle/clock.rb"},
        "rb/spec/limiter_spec.rb": {"rb/lib/throttle/limiter.rb"},
    }  # fmt: skip
    assert graph.imports == expected
    for package in ("pytest", "json", "react", "@scope/pkg", "fmt", "testing", "org.junit",
                    "rspec"):  # fmt: skip
        assert package in graph.external, package
    assert graph.external["pytest"] == ExternalUse(1, "tests/test_models.py")
    ranked = rank(REPOSITORY)
    assert ranked[0].path in ("src/shop/db.py", "internal/kv/kv.go", "web/src/lib/a.ts")
    by_path = {r.path: r for r in ranked}
    assert by_path["src/shop/models.py"].imported_by == 3  # a test is one of them
    assert "tests/test_models.py" not in by_path
    assert "rb/spec/limiter_spec.rb" not in by_path
    assert abs(sum(r.score for r in ranked) - 1) < 0.2  # tests hold the rest


def test_hostile_files_cannot_make_the_import_scan_slow() -> None:
    hostile = {
        "a.py": "x = 1; import os; " * 60_000,  # one 1 MB line full of imports
        "b.py": "from a import (\n" * 60_000,  # parentheses that never close
        "c.go": "import (\n" * 100_000,
        "d.rs": "use crate::{" * 80_000,
        "e.js": "from '" + "x" * 1_000_000,
        "f.c": '#include "' * 100_000,
        "g.rb": 'require "' * 100_000,
        "h.java": "import " * 150_000,
    }
    started = time.perf_counter()
    for path, text in hostile.items():
        import_graph({path: text, "x/y.py": ""})
    assert time.perf_counter() - started < 5  # about 0.1 s; quadratic scans take minutes


def test_test_paths_by_convention() -> None:
    tests = ["tests/a.py", "pkg/test_x.py", "x_test.go", "web/a.spec.ts", "web/a.test.jsx",
             "src/__tests__/a.js", "FooTest.java", "spec/a_spec.rb", "test/a_test.rb",
             "conftest.py", "django/test/client.py"]  # fmt: skip
    code = ["pkg/x.py", "contest.py", "Contest.java", "latest.go", "src/attestation.ts"]
    assert all(is_test_path(p) for p in tests)
    assert not any(is_test_path(p) for p in code)


# -- test frameworks -----------------------------------------------------------------------


def _detect(files: dict[str, str], external: dict[str, ExternalUse]) -> list[str]:
    return [f.name for f in detect(sorted(files), lambda p: files.get(p, ""), external)]


def test_test_frameworks_are_recognised_in_each_ecosystem() -> None:
    use = ExternalUse(3, "tests/a.py")
    assert _detect({"pyproject.toml": "[tool.pytest.ini_options]\n"}, {}) == ["pytest"]
    assert _detect({"tests/conftest.py": ""}, {}) == ["pytest"]
    assert _detect(
        {"tests/test_a.py": "class A(unittest.TestCase): pass\n"}, {"unittest": use}
    ) == ["unittest"]
    assert _detect({"tests/test_a.py": "from unittest import mock\n"}, {"unittest": use}) == []
    assert _detect({"package.json": '{"devDependencies": {"jest": "^29"}}'}, {}) == ["Jest"]
    assert _detect({"vitest.config.ts": ""}, {}) == ["Vitest"]
    assert _detect({"package.json": '{"devDependencies": {"mocha": "10"}}'}, {}) == ["Mocha"]
    assert _detect({"store/kv_test.go": "package store\n"}, {}) == ["Go testing"]
    assert _detect({"src/lib.rs": "#[cfg(test)]\nmod t {\n  #[test]\n  fn a() {}\n}\n"}, {}) == [
        "cargo test"
    ]
    assert _detect({"pom.xml": "<artifactId>junit-jupiter</artifactId>"}, {}) == ["JUnit"]
    assert _detect({"spec/a_spec.rb": ""}, {}) == ["RSpec"]
    assert _detect({"Gemfile": 'gem "minitest"\n'}, {}) == ["Minitest"]
    assert _detect({"README.md": "pytest jest mocha"}, {}) == []
