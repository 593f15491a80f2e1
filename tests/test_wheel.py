"""The wheel carries the data folders: a non-editable install in a fresh virtualenv,
run from outside the checkout, finds the shipped playbooks, generators and stdlib."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import anyio
import pytest

from tests.server_harness import (
    ADMIN_TOKEN,
    call,
    free_port,
    http_client,
    server_env,
    stop_embedded_postgres,
)

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
    assert "codifier/packer/data/o200k_base.tiktoken" in names
    assert "codifier/sources/sample/subscriptions.csv" in names


def test_installed_wheel_checks_renders_and_serves_outside_the_checkout(
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

    # The installed server starts on the embedded database and serves its playbooks.
    home = tmp_path / "home"
    port = free_port()
    server = subprocess.Popen(
        [str(codifier), "serve", "--port", str(port)],
        cwd=work,
        env={**server_env(home), "PATH": f"{env_dir / 'bin'}:{os.environ['PATH']}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        status = 0
        while status != 200 and time.monotonic() < deadline:
            assert server.poll() is None, "the installed server exited"
            time.sleep(0.2)
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{url}/health", timeout=2) as response,
            ):
                status = response.status
        assert status == 200

        async def playbooks() -> list[str]:
            async with http_client(url, ADMIN_TOKEN) as client:
                listed = await call(client, "list_playbooks")
            return sorted(p["id"] for p in listed["playbooks"])

        assert anyio.run(playbooks) == [
            "brownfield-onboard",
            "initialize-project",
            "research-and-analyze",
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
        stop_embedded_postgres(home)
