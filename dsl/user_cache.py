"""Where the language keeps what it computes once per installation rather than once per
process (the expression parser's LALR tables): a private folder of the user's cache.

CODIFIER_CACHE_DIR names the folder (`off` keeps nothing); by default it is
$XDG_CACHE_HOME/codifier, else ~/.cache/codifier. A folder or file that another user owns
or may write to is never used: lark's cache is a pickle, and loading a pickle runs code.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

CACHE_DIR_VARIABLE = "CODIFIER_CACHE_DIR"
# Answers kept of one kind (`remember`): every distinct template an editor saves, or a
# server is sent to publish, would otherwise add a file for good.
MAX_REMEMBERED = 512


def _default_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "codifier"


def _private(path: Path) -> bool:
    """Ours alone: owned by this user and writable by no one else."""
    info = path.stat()
    owner = getattr(os, "getuid", None)
    if owner is not None and info.st_uid != owner():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cache_file(name: str) -> str | None:
    """The path of cache file `name` in the private cache folder (created if missing), or
    None when there is no such folder to use: the caller then computes without a cache."""
    setting = os.environ.get(CACHE_DIR_VARIABLE, "").strip()
    if setting.lower() == "off":
        return None
    try:
        folder = Path(setting).expanduser() if setting else _default_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return None
        file = folder / name
        if file.exists() and not _private(file):
            return None
    except (OSError, RuntimeError):  # RuntimeError: no home directory to expand
        return None
    return str(file)


def recall(kind: str, key: str) -> str | None:
    """What `remember(kind, key, ...)` kept, or None (none kept, no cache, unreadable)."""
    path = cache_file(f"{kind}-{key}")
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, ValueError):  # ValueError: not UTF-8 (not ours)
        return None


def remember(kind: str, key: str, text: str) -> None:
    """Keep `text` under (kind, key), written whole (a reader never sees half of it);
    at most MAX_REMEMBERED of a kind, the oldest going first. A cache that cannot be
    written is no cache: nothing is raised."""
    path = cache_file(f"{kind}-{key}")
    if path is None:
        return
    partial = f"{path}.{os.getpid()}.part"
    with contextlib.suppress(OSError):
        _make_room(Path(path).parent, f"{kind}-")
        with open(partial, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(partial, path)


def _make_room(folder: Path, prefix: str) -> None:
    kept = [entry for entry in os.scandir(folder) if entry.name.startswith(prefix)]
    if len(kept) < MAX_REMEMBERED:
        return
    kept.sort(key=lambda entry: entry.stat().st_mtime)
    for entry in kept[: len(kept) - MAX_REMEMBERED + 1]:
        with contextlib.suppress(OSError):  # another process removed it first
            os.remove(entry.path)
