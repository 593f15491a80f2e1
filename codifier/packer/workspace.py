"""The working folder of one pack: created under a dedicated parent, locked while in
use, measured against a disk budget, and removed afterwards or at the next start.

Each pack gets `<workdir>/codifier-pack-<random>/` holding `home/` (the empty HOME git
runs with) and whatever the pack writes (a clone, a copied index). The folder's
`.lock` file is held with `flock` by the server process for the pack's whole life: the
kernel drops the lock when the process dies, however it dies. So `clean_stale`, run at
start and before each pack, removes exactly the folders whose owner is gone, even with
several servers sharing one parent; and it first kills any process still running for
such a folder (a git child that outlived a killed server: every git a pack starts
carries the folder in CODIFIER_PACK_DIR, read back from /proc on Linux).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PREFIX = "codifier-pack-"
LOCK_FILE = ".lock"
ENV_MARKER = "CODIFIER_PACK_DIR"  # in every git process's environment: whose it is


@dataclass(frozen=True)
class Workspace:
    path: Path  # the pack's own folder
    home: Path  # an empty folder: HOME and XDG_CONFIG_HOME of every git run

    def usage(self) -> int:
        """Bytes of the files under the folder now (allocated blocks, as du counts)."""
        return disk_usage(self.path)


@contextlib.contextmanager
def workspace(workdir: Path) -> Iterator[Workspace]:
    """A fresh locked folder under `workdir`, removed on exit."""
    parent = ensure_parent(workdir)
    path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    lock = os.open(path / LOCK_FILE, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        home = path / "home"
        home.mkdir(mode=0o700)
        yield Workspace(path, home)
    finally:
        kill_processes_of(path)
        shutil.rmtree(path, ignore_errors=True)
        os.close(lock)


def ensure_parent(workdir: Path) -> Path:
    """`workdir`, created private to this user if missing."""
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return workdir


def clean_stale(workdir: Path) -> list[Path]:
    """Remove the pack folders under `workdir` no live process holds; returns them."""
    if not workdir.is_dir():
        return []
    removed: list[Path] = []
    for entry in sorted(workdir.iterdir()):
        if not entry.name.startswith(PREFIX) or entry.is_symlink() or not entry.is_dir():
            continue
        if _in_use(entry):
            continue
        kill_processes_of(entry)
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _in_use(folder: Path) -> bool:
    try:
        fd = os.open(folder / LOCK_FILE, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # created but never locked, or half removed: stale
    except OSError:
        return True  # not ours to judge
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock just taken
    return False


def kill_processes_of(folder: Path) -> int:
    """SIGKILL every process of this user whose environment names `folder` as its pack
    folder (Linux /proc; elsewhere nothing is found). Returns how many were signalled."""
    marker = f"{ENV_MARKER}={folder}".encode()
    killed = 0
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or another user's
        if marker in environ.split(b"\0"):
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def disk_usage(path: Path) -> int:
    """Allocated bytes under `path`, symlinks not followed, vanished files ignored."""
    total = 0
    stack = [str(path)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += getattr(info, "st_blocks", 0) * 512 or info.st_size
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return total
