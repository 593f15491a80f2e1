"""The two kinds of tree a pack reads: a local folder, or a bare clone's objects.

Both list relative "/"-separated paths and read one path at a time, answering either
the file's bytes or why it is skipped (a SKIP_* reason). A local folder is read through
`confined` (no symlink followed in any component); a clone is never checked out, its
files are read from git's object store with `git cat-file`, so nothing of a remote
repository becomes a file, a link or a hook on the server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol

from codifier.packer.confined import open_root, read_below
from codifier.packer.files import Bounds, head_commit, list_local
from codifier.packer.gitcmd import GitRun, GitStopped, run_git
from codifier.packer.result import (
    SKIP_NOT_A_FILE,
    SKIP_SYMLINK,
    SKIP_TOO_LARGE,
    SKIP_UNREADABLE,
    PackError,
)
from codifier.packer.workspace import Workspace

# Blobs read from a clone per `git cat-file --batch` run.
CHUNK_BYTES = 8 * 1024 * 1024
CHUNK_OBJECTS = 2000
_FILE_MODES = {"100644", "100755"}


class Tree(Protocol):
    commit: str | None

    def paths(self) -> list[str]: ...

    def will_read(self, paths: list[str]) -> None:
        """The paths the pack will read, in order (lets a clone fetch in batches)."""

    def read(self, path: str, max_bytes: int) -> bytes | str: ...

    def close(self) -> None: ...


class LocalTree:
    """A folder on this machine, opened once by its real path."""

    def __init__(self, root: Path, space: Workspace, bounds: Bounds) -> None:
        self.root = root
        try:
            self._fd = open_root(root)
        except OSError:
            raise PackError(f"not a directory: {root}") from None
        self._space = space
        self._bounds = bounds
        self.commit = head_commit(self._fd)

    def paths(self) -> list[str]:
        return list_local(self.root, self._fd, self._space, self._bounds)

    def will_read(self, paths: list[str]) -> None:
        pass

    def read(self, path: str, max_bytes: int) -> bytes | str:
        return read_below(self._fd, path, max_bytes)

    def close(self) -> None:
        os.close(self._fd)


class ClonedTree:
    """HEAD of a bare clone, its blobs read from the object store."""

    def __init__(self, gitdir: Path, space: Workspace, bounds: Bounds) -> None:
        self._gitdir = gitdir
        self._space = space
        self._bounds = bounds
        self._entries: dict[str, tuple[str, str]] = {}  # path -> (mode, object id)
        self._sizes: dict[str, int] = {}  # blob id -> size, for blobs present locally
        self._order: list[str] = []
        self._position: dict[str, int] = {}
        self._cache: dict[str, bytes] = {}
        head = self._git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        sha = head.stdout.decode(errors="replace").strip()
        self.commit = sha if head.returncode == 0 and sha else None
        if self.commit is None:
            return  # an empty repository
        listing = self._git(["ls-tree", "-r", "-z", "--full-tree", "HEAD"])
        if listing.returncode != 0:
            raise PackError("could not list the cloned files")
        for record in listing.stdout.split(b"\0"):
            meta, tab, raw_path = record.partition(b"\t")
            if not tab:
                continue
            mode, _kind, object_id = meta.decode().split(" ")
            self._entries[os.fsdecode(raw_path)] = (mode, object_id)
        # Present objects only: asking about a missing one could fetch it (partial clone).
        present = self._git(
            [
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname) %(objecttype) %(objectsize)",
            ]
        )
        for line in present.stdout.decode(errors="replace").splitlines():
            object_id, kind, size = [*line.split(" "), "", ""][:3]
            if kind == "blob" and size.isdigit():
                self._sizes[object_id] = int(size)

    def paths(self) -> list[str]:
        return sorted(self._entries)

    def will_read(self, paths: list[str]) -> None:
        self._order = paths
        self._position = {path: index for index, path in enumerate(paths)}

    def read(self, path: str, max_bytes: int) -> bytes | str:
        reason = self._skip(path, max_bytes)
        if reason:
            return reason
        if path not in self._cache:
            self._fetch_from(path, max_bytes)
        data = self._cache.pop(path, None)
        return data if data is not None else SKIP_UNREADABLE

    def close(self) -> None:
        self._cache.clear()

    def _skip(self, path: str, max_bytes: int) -> str | None:
        entry = self._entries.get(path)
        if entry is None:
            return SKIP_UNREADABLE
        mode, object_id = entry
        if mode == "120000":
            return SKIP_SYMLINK
        if mode not in _FILE_MODES:
            return SKIP_NOT_A_FILE  # a submodule
        size = self._sizes.get(object_id)
        if size is None or size > max_bytes:
            return SKIP_TOO_LARGE  # None: the blob filter left it on the server
        return None

    def _fetch_from(self, path: str, max_bytes: int) -> None:
        """Read `path`'s blob and those of the paths after it, up to a chunk."""
        start = self._position.get(path)
        upcoming = [path] if start is None else self._order[start:]
        wanted: list[tuple[str, str]] = []
        total = 0
        for candidate in upcoming:
            if self._skip(candidate, max_bytes):
                continue
            object_id = self._entries[candidate][1]
            size = self._sizes[object_id]
            if wanted and (total + size > CHUNK_BYTES or len(wanted) >= CHUNK_OBJECTS):
                break
            wanted.append((candidate, object_id))
            total += size
        ids = b"".join(object_id.encode() + b"\n" for _, object_id in wanted)
        out = self._git(["cat-file", "--batch"], stdin=ids, limit=total + 200 * len(wanted))
        blobs = _parse_batch(out.stdout)
        for candidate, object_id in wanted:
            data = blobs.get(object_id)
            if data is not None:
                self._cache[candidate] = data

    def _git(self, args: list[str], stdin: bytes | None = None, limit: int = 256 << 20) -> GitRun:
        self._bounds.check()
        try:
            return run_git(
                args,
                space=self._space,
                cwd=self._gitdir,
                extra_env={"GIT_DIR": str(self._gitdir)},
                timeout=max(1.0, self._bounds.deadline - time.monotonic()),
                cancel=self._bounds.cancel,
                stdin_data=stdin,
                stdout_limit=limit,
            )
        except GitStopped as stopped:
            raise PackError(f"could not read the cloned files: {stopped.reason}") from None


def _parse_batch(out: bytes) -> dict[str, bytes]:
    """`git cat-file --batch` output: "<id> <type> <size>\\n<bytes>\\n" per object."""
    blobs: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].decode(errors="replace").split(" ")
        at = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # "<id> missing"
        size = int(header[2])
        if header[1] == "blob":
            blobs[header[0]] = out[at : at + size]
        at += size + 1
    return blobs
