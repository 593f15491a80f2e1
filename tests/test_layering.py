"""The language stays pure and its pipeline flows one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DSL = ROOT / "dsl"

# Each stage may import only from stages before it (LANGUAGE pipeline order).
STAGES = [
    {"span", "codes"},
    {"diagnostics"},
    {"types", "source", "values", "expr", "library", "conform", "artifacts"},
    {"syntax", "functions", "stdlib", "templates", "evaluate"},
    {"check"},
    {"ir", "suppress", "formats", "schema"},
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
