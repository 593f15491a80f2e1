"""`pack`: a local directory or a remote repository as one LLM-ready document."""

from __future__ import annotations

import heapq
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from codifier.packer import render
from codifier.packer.clone import clone, parse_remote, tokens_from_env
from codifier.packer.files import head_commit, list_files
from codifier.packer.result import (
    SKIP_BINARY,
    SKIP_NOT_A_FILE,
    SKIP_OVER_TOTAL,
    SKIP_SYMLINK,
    SKIP_TOO_LARGE,
    SKIP_UNREADABLE,
    PackedFile,
    PackError,
    PackResult,
    SecretFinding,
    SkippedFile,
)
from codifier.packer.secrets import redact
from codifier.packer.tokens import count_tokens

# git's own heuristic: a NUL byte in the first 8000 bytes means binary; 8 KiB here.
BINARY_SNIFF_BYTES = 8192
TOP_FILES = 10

Progress = Callable[[int, int], None]


def pack(
    source: str | Path,
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    max_file_bytes: int = 512 * 1024,
    max_total_bytes: int = 50 * 1024 * 1024,
    on_progress: Progress | None = None,
    tokens: dict[str, str] | None = None,
) -> PackResult:
    """Pack `source`: a local directory, or an https/http/ssh/git URL or git@host:path.

    A remote is cloned shallowly into a temporary directory, removed afterwards; `tokens`
    (host -> token) defaults to GITHUB_TOKEN/GITLAB_TOKEN/BITBUCKET_TOKEN for
    github.com/gitlab.com/bitbucket.org (see `codifier.packer.clone`). `include` and
    `exclude` are gitignore-style patterns over the listed paths. Files larger than
    `max_file_bytes` and binaries are skipped; files stop being added once their bytes
    would pass `max_total_bytes` (the result says `truncated`). `on_progress(done, total)`
    is called before the first file and after each one. Raises PackError, one line.
    """
    remote = parse_remote(source) if isinstance(source, str) else None
    if remote is None:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise PackError(f"not a directory: {source}")
        return _pack_dir(
            root, str(source), include, exclude, max_file_bytes, max_total_bytes, on_progress
        )
    host_tokens: Mapping[str, str] = tokens if tokens is not None else tokens_from_env(os.environ)
    with tempfile.TemporaryDirectory(prefix="codifier-pack-") as tmp:
        checkout = Path(tmp) / "repo"
        clone(remote, checkout, host_tokens)
        return _pack_dir(
            checkout, remote.display, include, exclude, max_file_bytes, max_total_bytes, on_progress
        )


def _pack_dir(
    root: Path,
    display: str,
    include: list[str] | None,
    exclude: list[str] | None,
    max_file_bytes: int,
    max_total_bytes: int,
    on_progress: Progress | None,
) -> PackResult:
    paths = list_files(root, include=include, exclude=exclude)
    total = len(paths)
    report = on_progress or (lambda _done, _total: None)
    report(0, total)

    files: list[PackedFile] = []
    sections: list[str] = []
    skipped: list[SkippedFile] = []
    secrets: list[SecretFinding] = []
    packed_bytes = 0
    truncated = False
    for done, path in enumerate(paths, start=1):
        if truncated:
            skipped.append(SkippedFile(path, SKIP_OVER_TOTAL))
            continue
        read = _read(root / path, max_file_bytes)
        if isinstance(read, str):
            skipped.append(SkippedFile(path, read))
        elif packed_bytes + len(read) > max_total_bytes:
            # Stop here rather than hunt for smaller files that fit: the pack stays a
            # prefix of the sorted list, which is easy to explain and to continue.
            truncated = True
            skipped.append(SkippedFile(path, SKIP_OVER_TOTAL))
        else:
            packed_bytes += len(read)
            # Decoding the whole file at once: no multibyte character split at a buffer
            # boundary. Invalid bytes become U+FFFD instead of failing the file.
            scan = redact(read.decode("utf-8", errors="replace"))
            secrets += [SecretFinding(path, kind) for kind in scan.kinds]
            text = render.section(path, scan.text)
            sections.append(text)
            files.append(PackedFile(path, len(read), count_tokens(text)))
        report(done, total)
    if truncated:
        report(total, total)

    token_count = sum(f.tokens for f in files)
    commit = head_commit(root)
    head = render.header(
        source=display,
        commit=commit,
        files=files,
        token_count=token_count,
        skipped=skipped,
        secrets=secrets,
        truncated=truncated,
        max_total_bytes=max_total_bytes,
    )
    return PackResult(
        source=display,
        text=head + "".join(sections),
        files=files,
        file_count=len(files),
        token_count=token_count,
        top_files=heapq.nsmallest(TOP_FILES, files, key=lambda f: (-f.tokens, f.path)),
        skipped=skipped,
        flagged_secrets=secrets,
        commit=commit,
        truncated=truncated,
    )


def _read(path: Path, max_file_bytes: int) -> bytes | str:
    """The file's bytes, or why it is skipped (a SKIP_* reason)."""
    try:
        info = path.lstat()
    except OSError:
        return SKIP_UNREADABLE  # listed by git but deleted from the work tree, say
    if stat.S_ISLNK(info.st_mode):
        # Never followed: a link could point anywhere on this machine (/etc, ~/.ssh).
        return SKIP_SYMLINK
    if not stat.S_ISREG(info.st_mode):
        return SKIP_NOT_A_FILE  # a submodule or nested repository, a fifo...
    if info.st_size > max_file_bytes:
        return SKIP_TOO_LARGE
    try:
        with path.open("rb") as handle:
            data = handle.read(max_file_bytes + 1)
    except OSError:
        return SKIP_UNREADABLE
    if len(data) > max_file_bytes:
        return SKIP_TOO_LARGE  # grew since lstat
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return SKIP_BINARY
    return data
