"""`codifier check` as a process: exit codes (3 for an internal fault, in every format),
stdin, --fix and --color. Real subprocesses, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsl.formats import FORMATS

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "testdata"

GOOD = """\
id: tiny
name: Tiny
steps:
  - id: ask
    store:
      prompt: What is it?
"""

# Runs the real CLI in a fresh interpreter after replacing the compiler with one that fails
# the way a checker bug would: the only way to reach the last line of defence on purpose.
_BROKEN_CHECKER = """\
import sys
import codifier.cli.check as check

def broken(*args, **kwargs):
    raise KeyError("a bug in the checker")

check.compile_playbook = broken
from codifier.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def codifier(
    *args: str, cwd: Path = ROOT, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        input=stdin,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.mark.parametrize("output", FORMATS)
def test_an_internal_error_is_one_line_and_exit_3_in_every_format(
    output: str, tmp_path: Path
) -> None:
    (tmp_path / "tiny.yaml").write_text(GOOD, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", _BROKEN_CHECKER, "check", "--format", output, "tiny.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("codifier check: [internal-error] the checker failed (KeyError)")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("output", FORMATS)
def test_an_unknown_jinja_filter_is_a_diagnostic_not_a_crash(output: str) -> None:
    result = codifier(
        "check",
        "--format",
        output,
        "--templates",
        str(TESTDATA / "generators"),
        str(TESTDATA / "err" / "t306-unknown-filter.yaml"),
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "T306" in result.stdout
    assert "no filter named 'strip'" in result.stdout


@pytest.mark.parametrize("depth", [495, 700, 997])
def test_yaml_nested_below_libyamls_limit_is_a_diagnostic(depth: int, tmp_path: Path) -> None:
    deep = GOOD.replace("id: tiny", "id: deep") + f"outputs:\n  x: {'[' * depth}{']' * depth}\n"
    (tmp_path / "deep.yaml").write_text(deep, encoding="utf-8")
    result = codifier("check", "--format", "json", "deep.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    [item] = json.loads(result.stdout)
    assert (item["code"], item["line"], item["column"]) == ("Y008", 8, 68)


def test_stdin_with_a_file_name(tmp_path: Path) -> None:
    text = (TESTDATA / "err" / "s101-misspelt-key-explains-missing-key.yaml").read_text()
    name = "s101-misspelt-key-explains-missing-key.yaml"
    result = codifier("check", "--stdin-filename", name, "-", stdin=text, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{name}:8:7: error[S101] unknown key 'promt' in 'store'"
    )
    assert "S102" not in result.stdout  # the missing 'prompt' is the same cause
    assert "S108" not in result.stdout  # the id matches the name given


def test_fix_rewrites_only_unambiguous_fixes_and_reports_the_rest(tmp_path: Path) -> None:
    for name in ("x214-jinja-braces", "y001-missing-colon"):
        (tmp_path / f"{name}.yaml").write_bytes((TESTDATA / "err" / f"{name}.yaml").read_bytes())
    crlf = (TESTDATA / "err" / "x214-jinja-braces.yaml").read_text().replace("\n", "\r\n")
    (tmp_path / "x214-jinja-braces.yaml").write_bytes(crlf.encode())
    result = codifier("check", "--fix", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "checked 2 files: no problems\n"
    fixed = (tmp_path / "x214-jinja-braces.yaml").read_bytes().decode()
    assert '"Which tables of ${{ inputs.database }} matter?"\r\n' in fixed  # CRLF kept
    assert (
        "      prompt: What is the objective?\n"
        in (tmp_path / "y001-missing-colon.yaml").read_text()
    )


def test_color_auto_never_always(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(GOOD.replace("prompt", "promt"), encoding="utf-8")
    auto = codifier("check", "bad.yaml", cwd=tmp_path)  # a pipe, not a terminal
    always = codifier("check", "--color", "always", "bad.yaml", cwd=tmp_path)
    never = codifier("check", "--color", "never", "bad.yaml", cwd=tmp_path, env={"NO_COLOR": ""})
    assert "\x1b[" not in auto.stdout
    assert "\x1b[" not in never.stdout
    assert "\x1b[31m" in always.stdout
    plain = always.stdout
    for code in ("\x1b[31m", "\x1b[36m", "\x1b[1m", "\x1b[0m"):
        plain = plain.replace(code, "")
    assert plain == auto.stdout
