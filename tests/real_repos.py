"""Real repositories of real size for the code-context tests and benchmarks.

Each is a pinned source distribution from PyPI (hash checked), unpacked and committed
into a git repository once per machine, in a cache folder that survives test runs
(`CODIFIER_TEST_CACHE`, default `~/.cache/codifier-tests`). Creation is locked, so
parallel test workers build each repository once. The repository is read-only to its
users: copy it before changing anything.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sdist:
    name: str  # the distribution, as pip knows it
    version: str
    sha256: str
    archive: str  # the file name PyPI serves


DJANGO = Sdist(
    "django",
    "5.1.4",
    "de450c09e91879fa5a307f696e57c851955c910a438a35e6b4c895e86bedc82a",
    "Django-5.1.4.tar.gz",
)
JINJA2 = Sdist(
    "jinja2",
    "3.1.4",
    "4a3aee7acbbe7303aede8e9648d13b8bf88a429282aa6122a993f0ac800cb369",
    "jinja2-3.1.4.tar.gz",
)


def cache_dir() -> Path:
    root = os.environ.get("CODIFIER_TEST_CACHE") or str(Path.home() / ".cache" / "codifier-tests")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def repository(sdist: Sdist) -> Path:
    """The sdist as a committed git work tree (built on first use, then reused)."""
    base = cache_dir()
    target = base / f"{sdist.name}-{sdist.version}-repo"
    done = target / ".codifier-ready"
    if done.exists():
        return target
    with (base / f".{sdist.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return target
        archive = _download(sdist, base)
        shutil.rmtree(target, ignore_errors=True)
        staging = base / f".{sdist.name}-staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        (top,) = list(staging.iterdir())
        top.rename(target)
        staging.rmdir()
        _commit(target, f"{sdist.name} {sdist.version} from its PyPI sdist")
        done.write_text(sdist.sha256)
    return target


def _download(sdist: Sdist, base: Path) -> Path:
    archive = base / sdist.archive
    if archive.exists() and _sha256(archive) == sdist.sha256:
        return archive
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
         ":all:", "--disable-pip-version-check", "-d", str(base),
         f"{sdist.name}=={sdist.version}"],
        check=True,
    )  # fmt: skip
    if _sha256(archive) != sdist.sha256:
        archive.unlink()
        raise RuntimeError(f"{sdist.archive} does not have the pinned sha256")
    return archive


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _commit(path: Path, message: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "codifier-tests",
        "GIT_AUTHOR_EMAIL": "tests@codifier.invalid",
        "GIT_COMMITTER_NAME": "codifier-tests",
        "GIT_COMMITTER_EMAIL": "tests@codifier.invalid",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    }
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "--no-gpg-sign", "-m", message],
    ):
        subprocess.run(["git", *args], cwd=path, env=env, check=True)
