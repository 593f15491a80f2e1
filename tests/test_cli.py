"""`codifier check`, `render` and `schema` as people run them: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codifier.library import load_library
from codifier.resources import playbooks_dir, schema_file
from dsl.schema import playbook_schema_text

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
id: tiny
name: Tiny
steps:
  - id: ask
    store:
      prompt: What is it?
"""


def codifier(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codifier.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_shipped_playbooks_check_clean_with_only_a_summary() -> None:
    result = codifier("check", "playbooks/")
    assert result.returncode == 0, result.stdout
    assert result.stdout == "checked 3 files: no problems\n"
    assert result.stderr == ""


def test_default_path_is_the_shipped_playbooks() -> None:
    result = codifier("check")
    assert result.returncode == 0
    assert result.stdout == "checked 3 files: no problems\n"
    assert {p.stem for p in playbooks_dir().glob("*.yaml")} == {
        "initialize-project",
        "brownfield-onboard",
        "research-and-analyze",
    }


def test_error_exit_code_and_text_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("id: tiny", "id: bad").replace("prompt:", "promt:"))
    result = codifier("check", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == (
        # The missing 'prompt' is not reported: the did-you-mean below explains it.
        "bad.yaml:6:7: error[S101] unknown key 'promt' in 'store'\n"
        "  |\n"
        "6 |       promt: What is it?\n"
        "  |       ^^^^^\n"
        "  = hint: did you mean 'prompt'?\n"
        "\n"
        "checked 1 file: 1 error\n"
    )


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    result = codifier("check", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr
    bad_flag = codifier("check", "--format", "xml")
    assert bad_flag.returncode == 2
    assert "Traceback" not in bad_flag.stderr


def test_directory_means_every_yaml_below_it(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "tiny.yaml").write_text(GOOD)
    (tmp_path / "nested" / "other.yml").write_text(GOOD.replace("tiny", "other"))
    (tmp_path / "notes.txt").write_text("not a playbook")
    result = codifier("check", str(tmp_path))
    assert result.returncode == 0
    assert result.stdout == "checked 2 files: no problems\n"


WARNS = """\
id: warns
name: Warns
steps:
  - id: maybe
    if: ${{ project.name == 'x' }}
    store:
      prompt: Anything?
  - id: use
    store:
      prompt: "Got ${{ steps.maybe.output }}"
"""


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    (tmp_path / "warns.yaml").write_text(WARNS)
    relaxed = codifier("check", "warns.yaml", cwd=tmp_path)
    assert relaxed.returncode == 0
    assert "warning[X212]" in relaxed.stdout
    strict = codifier("check", "--strict", "warns.yaml", cwd=tmp_path)
    assert strict.returncode == 1


def test_inline_ignore_silences_that_code_on_that_line(tmp_path: Path) -> None:
    silenced = WARNS.replace(
        '"Got ${{ steps.maybe.output }}"',
        '"Got ${{ steps.maybe.output }}"  # codifier: ignore[X212]',
    )
    (tmp_path / "warns.yaml").write_text(silenced)
    result = codifier("check", "--strict", "warns.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "checked 1 file: no problems\n"


def test_json_format(tmp_path: Path) -> None:
    (tmp_path / "warns.yaml").write_text(WARNS)
    result = codifier("check", "--format", "json", "warns.yaml", cwd=tmp_path)
    items = json.loads(result.stdout)
    assert items == [
        {
            "path": "warns.yaml",
            "line": 10,
            "column": 24,
            "end_line": 10,
            "end_column": 42,
            "severity": "warning",
            "code": "X212",
            "message": "this interpolated value may be null",
            "hint": "use default(value, fallback) to give a value for the null case",
            "fixes": [],
        }
    ]


def test_github_format(tmp_path: Path) -> None:
    (tmp_path / "warns.yaml").write_text(WARNS)
    result = codifier("check", "--format", "github", "warns.yaml", cwd=tmp_path)
    assert result.stdout.startswith(
        "::warning file=warns.yaml,line=10,col=24,endLine=10,endColumn=42,title=X212::"
    )


def test_template_files_can_be_checked_directly(tmp_path: Path) -> None:
    template = tmp_path / "oops.md.j2"
    template.write_text("{#-\ninputs:\n  a: string\n-#}\n{{ a }} {{ b }}\n")
    result = codifier("check", str(template), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith(
        "oops.md.j2:5:12: error[T304] template 'oops' uses 'b', which its header does not declare"
    )


def test_schema_command_matches_the_shipped_schema_file() -> None:
    result = codifier("schema")
    assert result.returncode == 0
    # The enums (templates, skills, memory types) come from what ships.
    assert result.stdout == playbook_schema_text(load_library())
    assert schema_file().read_text(encoding="utf-8") == result.stdout, (
        "schema/playbook.schema.json is stale: "
        "run `./dev codifier schema --write schema/playbook.schema.json`"
    )


def test_render_shows_the_prompt(tmp_path: Path) -> None:
    rules = tmp_path / "rules.md"
    rules.write_text("## R1: Use integer cents\n")
    result = codifier(
        "render", "evals-from-rules", "--with", "project_name=acme", "--with-file", f"rules={rules}"
    )
    assert result.returncode == 0, result.stderr
    assert "acme" in result.stdout
    assert "## R1: Use integer cents" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown template 'nope'"),
        (["evals-from-rules", "--with", "project_name=a"], "needs: rules"),
        (["evals-from-rules", "--with", "colour=red"], "has no input 'colour'"),
        (["evals-from-rules", "--with", "oops"], "takes NAME=VALUE"),
        (["queries-from-objective", "--with", "objective=x", "--with", "tables=3"], "tables"),
    ],
)
def test_render_errors_are_one_clear_line(args: list[str], message: str) -> None:
    result = codifier("render", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_render_parses_lists_as_yaml() -> None:
    result = codifier(
        "render",
        "queries-from-objective",
        "--with",
        "objective=Why do customers churn?",
        "--with",
        "tables=[orders, customers]",
    )
    assert result.returncode == 0, result.stderr
    assert "`orders`" in result.stdout
    assert "`customers`" in result.stdout


def test_a_file_that_is_not_utf8_gets_one_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "latin.yaml").write_bytes(b"id: latin\nname: caf\xe9\nsteps: []\n")
    result = codifier("check", "latin.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("latin.yaml:1:1: error[Y001] the file is not UTF-8 text")
    assert "Traceback" not in result.stderr


def test_an_empty_file_is_reported_not_crashed_on(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    result = codifier("check", "empty.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "error[Y006] the file is empty" in result.stdout
