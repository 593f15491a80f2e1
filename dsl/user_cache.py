"""Where the language keeps what it computes once per installation rather than once per
process (the expression parser's LALR tables): a private folder of the user's cache.

CODIFIER_CACHE_DIR names the folder (`off` keeps nothing); by default it is
$XDG_CACHE_HOME/codifier, else ~/.cache/codifier. A folder or file that another user owns
or may write to is never used: lark's cache is a pickle, and loading a pickle runs code.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

CACHE_DIR_VARIABLE = "CODIFIER_CACHE_DIR"


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
