"""The wheel carries the data folders: a non-editable install in a fresh virtualenv,
run from outside the checkout, finds the shipped playbooks, generators and stdlib."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("codifier-*.whl")
    return built


def test_wheel_contains_the_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, sample in [
        ("playbooks", "research-and-analyze.yaml"),
        ("generators", "rules-from-context.md.j2"),
        ("stdlib", "skills.yaml"),
        ("migrations", "README.md"),
        ("schema", "playbook.schema.json"),
    ]:
        assert f"codifier/_shipped/{folder}/{sample}" in names
    assert "dsl/expr/grammar.lark" in names


def test_installed_wheel_checks_and_renders_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    codifier = env_dir / "bin" / "codifier"
    check = subprocess.run(
        [str(codifier), "check"], cwd=work, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "checked 3 files: no problems\n"
    where = subprocess.run(
        [str(python), "-c", "import codifier.resources as r; print(r.playbooks_dir())"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in where.stdout
    assert "_shipped" in where.stdout
    render = subprocess.run(
        [
            str(codifier),
            "render",
            "evals-from-rules",
            "--with",
            "project_name=p",
            "--with",
            "rules=R1",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert render.returncode == 0, render.stderr
    assert "R1" in render.stdout
