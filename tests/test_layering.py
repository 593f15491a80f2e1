"""The language stays pure and its pipeline flows one way."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DSL = ROOT / "dsl"

# Each stage may import only from stages before it (LANGUAGE pipeline order).
STAGES = [
    {"span", "codes", "lines", "lookalikes", "user_cache"},
    {"diagnostics"},
    {"types", "source", "values", "expr", "library", "conform", "artifacts"},
    {"syntax", "functions", "stdlib", "templates", "evaluate"},
    {"check"},
    {"ir", "suppress", "formats", "fixes", "schema"},
    {"compiler"},
    {"interpreter"},
]


def _stage_of(module: str) -> int:
    top = module.split(".")[1] if module.startswith("dsl.") else module
    for index, names in enumerate(STAGES):
        if top in names:
            return index
    raise AssertionError(f"dsl.{top} is in no stage of the pipeline; add it to STAGES")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_dsl_imports_no_application_network_or_database_code() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in DSL.rglob("*.py")
        if p.name != "__init__.py"
    )
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'codifier', 'mcp', 'asyncpg', 'httpx', 'httpx2', 'starlette', 'uvicorn', 'duckdb', "
        "'sqlglot', 'socket_server'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_no_stage_reaches_back() -> None:
    for path in DSL.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = _stage_of(module)
        for imported in _imports(path):
            if imported.startswith("dsl."):
                other = _stage_of(imported)
                same_package = imported.split(".")[1] == module.split(".")[1]
                assert other < own or same_package or other == own, (
                    f"{module} (stage {own}) imports {imported} (stage {other})"
                )


# What `codifier check` must never load: a pre-commit hook or an editor starts it every
# time, and each of these costs tens of milliseconds (sqlglot only for literal SQL).
_SERVER_SIDE = {"mcp", "asyncpg", "sqlglot", "starlette", "uvicorn", "httpx", "httpx2", "duckdb"}


def _loaded_after(script: str) -> set[str]:
    probe = script + "\nprint(','.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    result = subprocess.run(
        [sys.executable, "-c", "import sys\n" + probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(result.stdout.strip().split(","))


def test_check_command_imports_no_server_side_package() -> None:
    loaded = _loaded_after("import codifier.cli.check")
    assert loaded & _SERVER_SIDE == set()


def test_a_whole_check_run_imports_no_server_side_package() -> None:
    # The console script's own path: argument parsing, the library, three playbooks
    # checked. None of the shipped playbooks has literal SQL the guard must parse.
    loaded = _loaded_after(
        "import contextlib, io\n"
        "from codifier.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['check', 'playbooks/']) == 0\n"
    )
    assert "dsl" in loaded
    assert loaded & _SERVER_SIDE == set()


_PYDANTIC = {"pydantic", "pydantic_core", "annotated_types"}


def _pydantic_after_check(target: str, exit_code: int) -> set[str]:
    probe = (
        "import contextlib, io, sys\n"
        "from codifier.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['check', {target!r}]) == {exit_code}\n"
        "print(','.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {m for m in result.stdout.strip().split(",") if m.split(".")[0] in _PYDANTIC}


def test_a_whole_check_run_never_loads_pydantic() -> None:
    # The syntax is plain records validated by dsl.check.validation: defining pydantic
    # models (pydantic.main, pydantic_core's schema, the plugin scan) cost 75-100 ms a
    # process, more than checking the playbooks.
    assert _pydantic_after_check("playbooks/", 0) == set()


def test_a_check_with_problems_never_loads_pydantic(tmp_path: Path) -> None:
    # The error paths too: unknown keys, wrong types, a bad id, an empty name, a bad role.
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "id: Broken_ID\nname: ''\nversion: 0\nrole: dev\nstepz: []\nsteps:\n"
        "  - id: 1\n    store: {prompt: hi, typo: 2, remember: 3}\n",
        encoding="utf-8",
    )
    assert _pydantic_after_check(str(broken), 1) == set()


def test_literal_sql_loads_the_guard_when_needed() -> None:
    loaded = _loaded_after(
        "from codifier.library import load_library\n"
        "library = load_library()\n"
        "assert library.sql_guard is not None\n"
        "assert library.sql_guard('DELETE FROM t') is not None\n"
        "assert library.sql_guard('SELECT 1') is None\n"
    )
    assert "sqlglot" in loaded


def _parse_in_a_process(cache: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from dsl.expr.parser import parse_with_grammar as p; p('f(x) > 1')",
        ],
        cwd=ROOT,
        env={**os.environ, "CODIFIER_CACHE_DIR": cache},
        check=True,
    )


def test_the_expression_grammar_is_built_once_and_cached_privately(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _parse_in_a_process(str(cache))
    (stored,) = cache.iterdir()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    built = stored.stat().st_mtime_ns
    _parse_in_a_process(str(cache))  # loaded, not rebuilt and written again
    assert stored.stat().st_mtime_ns == built


def test_no_grammar_cache_when_off_or_in_a_folder_others_may_write(tmp_path: Path) -> None:
    _parse_in_a_process("off")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    _parse_in_a_process(str(shared))
    assert list(shared.iterdir()) == []


_USES_AN_UNDECLARED_NAME = (
    "{#-\ndescription: A summary\ninputs:\n  topic: string\n-#}\n"
    "Write about {{ topic }} for {{ audience }}.\n"
)
_UNKNOWN_FILTER = "{#-\ndescription: A summary\ninputs:\n  rules: text\n-#}\n{{ rules | strip }}\n"


def _template_problems(text: str) -> list[tuple[str, str]]:
    from dsl.library import TemplateFile
    from dsl.templates import _read_signature, read_signature

    _read_signature.cache_clear()  # each call reads the file as a new process would
    sig = read_signature(TemplateFile("summary", "summary.md.j2", text), {})
    return [(p.code, p.message) for p in sig.problems]


def test_the_names_a_template_uses_are_remembered_privately(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("CODIFIER_CACHE_DIR", str(cache))
    first = _template_problems(_USES_AN_UNDECLARED_NAME)
    assert first == [
        ("T304", "template 'summary' uses 'audience', which its header does not declare")
    ]
    (stored,) = cache.glob("template-names-*.json")
    assert sorted(json.loads(stored.read_text(encoding="utf-8"))) == ["audience", "topic"]
    written = stored.stat().st_mtime_ns
    assert _template_problems(_USES_AN_UNDECLARED_NAME) == first  # from the cache
    assert stored.stat().st_mtime_ns == written
    stored.write_text("{not json", encoding="utf-8")  # half written: computed again
    assert _template_problems(_USES_AN_UNDECLARED_NAME) == first


def test_invalid_templates_and_the_off_setting_remember_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("CODIFIER_CACHE_DIR", str(cache))
    for _ in range(2):
        assert [code for code, _ in _template_problems(_UNKNOWN_FILTER)] == ["T306"]
    assert list(cache.glob("template-names-*")) == []
    monkeypatch.setenv("CODIFIER_CACHE_DIR", "off")
    assert _template_problems(_USES_AN_UNDECLARED_NAME)[0][0] == "T304"
    assert list(cache.glob("template-names-*")) == []


def test_remembered_answers_are_bounded_per_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every distinct template an editor saves or a server is sent would add a file: the
    oldest of a kind go once MAX_REMEMBERED are kept, and other kinds are left alone."""
    from dsl import user_cache

    cache = tmp_path / "cache"
    monkeypatch.setenv("CODIFIER_CACHE_DIR", str(cache))
    monkeypatch.setattr(user_cache, "MAX_REMEMBERED", 3)
    user_cache.remember("other", "kept", "x")
    for number in range(6):
        user_cache.remember("names", f"k{number}", str(number))
        stored = cache / f"names-k{number}"
        os.utime(stored, (number + 1, number + 1))  # mtimes a second apart, in order
    assert sorted(p.name for p in cache.glob("names-*")) == ["names-k3", "names-k4", "names-k5"]
    assert user_cache.recall("names", "k5") == "5"
    assert user_cache.recall("names", "k0") is None
    assert user_cache.recall("other", "kept") == "x"
