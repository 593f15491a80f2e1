"""Opening files below a root folder without ever leaving it.

A tree under CODIFIER_PACK_ROOTS is not trusted: any component of a listed path may be
a symlink (a committed directory later replaced by a link to /etc), and may be swapped
between a check and an open. So nothing here opens a path string: the root is opened
once (O_NOFOLLOW), and each component is opened relative to its parent's descriptor
with O_NOFOLLOW, directories with O_DIRECTORY. A symlink anywhere in the path, not just
at its end, makes the open fail, and the race has no window: what is read is what was
checked. "." and ".." components are refused outright. Special files (fifos, devices)
are never opened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from codifier.packer.result import (
    SKIP_NOT_A_FILE,
    SKIP_SYMLINK,
    SKIP_TOO_LARGE,
    SKIP_UNREADABLE,
)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Unsafe(Exception):
    """The path cannot be opened within the root; `reason` is a SKIP_* constant."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def open_root(path: Path) -> int:
    """A descriptor of the directory `path` itself (which must not be a symlink)."""
    return os.open(path, _DIR_FLAGS)


@contextlib.contextmanager
def directory_below(root_fd: int, relative: str) -> Iterator[int]:
    """A descriptor of the directory `relative` below `root_fd`, no symlink followed."""
    fd = _descend(root_fd, _components(relative))
    try:
        yield fd
    finally:
        if fd != root_fd:
            os.close(fd)


def read_below(root_fd: int, relative: str, max_bytes: int) -> bytes | str:
    """The bytes of the regular file `relative` below `root_fd`, or why it is skipped
    (a SKIP_* reason): a symlink in any component, not a regular file, larger than
    `max_bytes`, or unreadable."""
    if relative.endswith("/"):
        return SKIP_NOT_A_FILE  # a nested repository, listed by git as "dir/"
    try:
        *parents, name = _components(relative)
        parent = _descend(root_fd, parents)
    except Unsafe as unsafe:
        return unsafe.reason
    try:
        return _read_file(parent, name, max_bytes)
    finally:
        if parent != root_fd:
            os.close(parent)


def read_small(dir_fd: int, relative: str, limit: int) -> bytes | None:
    """A small regular file below `dir_fd` (a .gitignore, a ref), or None when it is
    missing, not a plain file, or larger than `limit`."""
    data = read_below(dir_fd, relative, limit)
    return data if isinstance(data, bytes) else None


def _components(relative: str) -> list[str]:
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") for part in parts):
        raise Unsafe(SKIP_UNREADABLE)
    return parts


def _descend(root_fd: int, parts: list[str]) -> int:
    """Open each directory of `parts` in turn below `root_fd`; the last one's fd."""
    fd = root_fd
    try:
        for part in parts:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                raise Unsafe(_why(fd, part, error)) from None
            if fd != root_fd:
                os.close(fd)
            fd = child
    except BaseException:
        if fd != root_fd:
            os.close(fd)
        raise
    return fd


def _why(dir_fd: int, name: str, error: OSError) -> str:
    """The skip reason for a component that would not open as a directory."""
    if error.errno in (errno.ELOOP, errno.EMLINK):
        return SKIP_SYMLINK
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return SKIP_UNREADABLE
    return SKIP_SYMLINK if stat.S_ISLNK(info.st_mode) else SKIP_UNREADABLE


def _read_file(dir_fd: int, name: str, max_bytes: int) -> bytes | str:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return SKIP_UNREADABLE  # listed by git but deleted from the work tree, say
    if stat.S_ISLNK(info.st_mode):
        # Never followed: a link could point anywhere on this machine (/etc, ~/.ssh).
        return SKIP_SYMLINK
    if not stat.S_ISREG(info.st_mode):
        return SKIP_NOT_A_FILE  # a submodule or nested repository, a fifo, a device...
    if info.st_size > max_bytes:
        return SKIP_TOO_LARGE
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        return SKIP_SYMLINK if error.errno == errno.ELOOP else SKIP_UNREADABLE
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
            info.st_dev,
            info.st_ino,
        ):
            return SKIP_UNREADABLE  # swapped between the check and the open
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return SKIP_UNREADABLE
    finally:
        os.close(fd)
    if size > max_bytes:
        return SKIP_TOO_LARGE  # grew since the check
    return b"".join(chunks)
