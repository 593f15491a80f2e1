"""Writing an export into a folder: only inside it, and only over files it owns.

A file the export owns starts (after any front matter) with GENERATED_MARKER. Anything
else at a target path, a hand-written CLAUDE.md say, is left alone unless the caller
forces it; so is anything reached through a symbolic link, and anything outside the
folder. All targets are checked before the first write, so a refusal writes nothing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from codifier.export.formats import ExportFile, is_generated

# Stored text the export wrote is small; a bigger file at a target is not ours to read.
_MAX_OWNED_READ = 64 * 1024 * 1024


class ExportRefused(Exception):
    """The export would write outside the folder or over a file it does not own."""


@dataclass(slots=True)
class Written:
    written: list[str] = field(default_factory=list)  # changed or new, relative paths
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # owned files no longer exported


def write_export(
    out: Path, files: list[ExportFile], *, force: bool = False, prune: str | None = None
) -> Written:
    """Write `files` under `out` (created when missing). `prune`: a folder (relative) whose
    owned `.mdc` files that this export no longer has are removed (a superseded rule's)."""
    out.mkdir(parents=True, exist_ok=True)
    root = out.resolve()
    targets = [(file, _target(root, file.path)) for file in files]
    for file, target in targets:
        _check_ours(root, target, file.path, force)
    result = Written()
    if prune is not None:
        result.removed = _prune(root, prune, {file.path for file in files})
    for file, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        _confined(root, target)  # the folders just made, or found, stay inside
        data = file.text.encode("utf-8")
        if target.is_file() and target.read_bytes() == data:
            result.unchanged.append(file.path)
            continue
        _replace(target, data)
        result.written.append(file.path)
    return result


def _target(root: Path, relative: str) -> Path:
    path = PurePosixPath(relative)
    if not path.parts or path.is_absolute() or any(p in (".", "..") for p in path.parts):
        raise ExportRefused(f"'{relative}' is not a plain relative path; nothing was written")
    target = root.joinpath(*path.parts)
    _confined(root, target)
    return target


def _confined(root: Path, target: Path) -> None:
    """The target's folder, with every symbolic link followed, is the root or inside it."""
    parent = target.parent.resolve()
    if parent != root and root not in parent.parents:
        raise ExportRefused(
            f"{target.relative_to(root)} would be written outside {root} (a symbolic link);"
            " remove the link or choose another --out"
        )


def _check_ours(root: Path, target: Path, relative: str, force: bool) -> None:
    if target.is_symlink():
        raise ExportRefused(
            f"{relative} in {root} is a symbolic link; remove it or choose another --out"
        )
    if not target.exists():
        return
    if not target.is_file():
        raise ExportRefused(f"{relative} in {root} is not a file; move it away")
    if force:
        return
    if not _owned(target):
        raise ExportRefused(
            f"{relative} in {root} was not written by codifier export; pass --force to overwrite it"
        )


def _owned(path: Path) -> bool:
    try:
        if path.stat().st_size > _MAX_OWNED_READ:
            return False
        return is_generated(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False


def _prune(root: Path, folder: str, keep: set[str]) -> list[str]:
    directory = _target(root, f"{folder}/x").parent
    if directory.is_symlink() or not directory.is_dir():
        return []
    removed: list[str] = []
    for path in sorted(directory.glob("*.mdc")):
        relative = f"{folder}/{path.name}"
        if relative in keep or path.is_symlink() or not path.is_file():
            continue
        if _owned(path):
            path.unlink()
            removed.append(relative)
    return removed


def _replace(target: Path, data: bytes) -> None:
    """Write beside the target, then rename over it: a reader never sees half a file, and
    the rename replaces a link rather than writing through it."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
