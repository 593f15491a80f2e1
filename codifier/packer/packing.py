"""`pack`: a local directory or a remote repository as one LLM-ready document."""

from __future__ import annotations

import contextlib
import heapq
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from codifier.packer import render
from codifier.packer.clone import (
    Remote,
    clone,
    owned,
    parse_remote,
    token_for,
    tokens_from_env,
)
from codifier.packer.discovery import discover
from codifier.packer.files import Bounds, filter_paths
from codifier.packer.network import destination
from codifier.packer.patterns import check_patterns
from codifier.packer.result import (
    SKIP_BINARY,
    SKIP_OVER_FILES,
    SKIP_OVER_TOTAL,
    PackBusy,
    PackedFile,
    PackError,
    PackResult,
    SecretFinding,
    SkippedFile,
)
from codifier.packer.secrets import redact
from codifier.packer.settings import PackSettings, SettingsError
from codifier.packer.tokens import count_tokens
from codifier.packer.trees import ClonedTree, LocalTree, Tree
from codifier.packer.workspace import Workspace, clean_stale, workspace

# git's own heuristic: a NUL byte in the first 8000 bytes means binary; 8 KiB here.
BINARY_SNIFF_BYTES = 8192
TOP_FILES = 10

Progress = Callable[[int, int], None]

_running = 0
_running_lock = threading.Lock()


def pack(
    source: str | Path,
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    max_file_bytes: int | None = None,
    max_total_bytes: int | None = None,
    on_progress: Progress | None = None,
    tokens: Mapping[str, str] | None = None,
    settings: PackSettings | None = None,
    cancel: threading.Event | None = None,
) -> PackResult:
    """Pack `source`: a local directory, or an https/http/ssh URL or git@host:path.

    A remote is cloned shallowly and bare into a pack folder, removed afterwards, blobs
    over `max_file_bytes` left on the server; `tokens` (host -> token) defaults to
    GITHUB_TOKEN/GITLAB_TOKEN/BITBUCKET_TOKEN and CODIFIER_TOKEN_HOSTS, used only for
    the repositories CODIFIER_TOKEN_OWNERS lists (see `codifier.packer.clone`).
    `include` and `exclude` are gitignore-style patterns over the listed paths. Files
    larger than `max_file_bytes` and binaries are skipped; files stop being added once
    their bytes would pass `max_total_bytes` or their count `settings.max_files` (the
    result says `truncated`). `on_progress(done, total)` is called before the first file
    and after each one. `settings` defaults to `PackSettings.from_env()`; setting
    `cancel` stops the pack (and kills its git) at the next check. Raises PackError,
    one line.
    """
    if settings is None:
        try:
            settings = PackSettings.from_env()
        except SettingsError as error:
            raise PackError(str(error)) from None
    max_file = settings.max_file_bytes if max_file_bytes is None else max_file_bytes
    max_total = settings.max_total_bytes if max_total_bytes is None else max_total_bytes
    check_patterns(include, exclude, settings)
    remote = parse_remote(source) if isinstance(source, str) else None
    if remote is not None and remote.scheme == "git":
        raise PackError(
            f"could not clone {remote.display}: git:// is neither authenticated nor"
            " encrypted; use the repository's https URL"
        )
    with _slot(settings):
        clean_stale(settings.workdir)
        with workspace(settings.workdir) as space:
            bounds = Bounds(
                time.monotonic() + settings.timeout_seconds, cancel, settings.disk_bytes
            )
            if remote is None:
                root = Path(source).expanduser()
                if not root.is_dir():
                    raise PackError(f"not a directory: {source}")
                tree: Tree = LocalTree(root.resolve(), space, bounds)
                display = str(source)
            else:
                tree = _fetch(remote, space, settings, tokens, max_file, bounds)
                display = remote.display
            try:
                return _pack_tree(
                    tree, display, include, exclude, max_file, max_total, settings.max_files,
                    on_progress, bounds,
                )  # fmt: skip
            finally:
                tree.close()


@contextlib.contextmanager
def _slot(settings: PackSettings) -> Iterator[None]:
    """One of the CODIFIER_PACK_CONCURRENCY pack slots of this process, or PackBusy."""
    global _running
    with _running_lock:
        if _running >= settings.concurrency:
            raise PackBusy(
                f"{_running} packs are already running on this server (at most"
                f" {settings.concurrency}); try again in a minute"
            )
        _running += 1
    try:
        yield
    finally:
        with _running_lock:
            _running -= 1


def _fetch(
    remote: Remote,
    space: Workspace,
    settings: PackSettings,
    tokens: Mapping[str, str] | None,
    max_file: int,
    bounds: Bounds,
) -> ClonedTree:
    """A clone of `remote` (after its redirects, each checked) as a tree to read."""
    if tokens is None:
        tokens = tokens_from_env(os.environ, settings.token_hosts)
    host_tokens = dict(tokens)

    def token(candidate: Remote) -> str | None:
        return token_for(candidate, host_tokens, settings.token_owners)

    if remote.scheme in ("http", "https"):
        found = discover(remote, settings, token, timeout=min(30.0, settings.timeout_seconds))
        final, target = found.remote, found.target
    else:  # ssh: authenticated with the server's own key, so only for the team's repos
        if not owned(remote, settings.token_owners):
            raise PackError(
                f"could not clone {remote.display}: ssh uses this server's own key, allowed"
                " only for repositories under CODIFIER_TOKEN_OWNERS; use the https URL"
            )
        final, target = remote, destination(remote.host, remote.port, settings)
    gitdir = space.path / "repo.git"
    clone(
        final,
        gitdir,
        space=space,
        settings=settings,
        target=target,
        token=token(final),
        max_file_bytes=max_file,
        display=remote.display,
        cancel=bounds.cancel,
    )
    return ClonedTree(gitdir, space, bounds)


def _pack_tree(
    tree: Tree,
    display: str,
    include: list[str] | None,
    exclude: list[str] | None,
    max_file_bytes: int,
    max_total_bytes: int,
    max_files: int,
    on_progress: Progress | None,
    bounds: Bounds,
) -> PackResult:
    paths = filter_paths(tree.paths(), include=include, exclude=exclude)
    tree.will_read(paths)
    total = len(paths)
    report = on_progress or (lambda _done, _total: None)
    report(0, total)

    files: list[PackedFile] = []
    sections: list[str] = []
    skipped: list[SkippedFile] = []
    secrets: list[SecretFinding] = []
    packed_bytes = 0
    stop_reason: str | None = None
    for done, path in enumerate(paths, start=1):
        if stop_reason:
            skipped.append(SkippedFile(path, stop_reason))
            continue
        bounds.check()
        read = _sniffed(tree.read(path, max_file_bytes))
        if isinstance(read, str):
            skipped.append(SkippedFile(path, read))
        elif packed_bytes + len(read) > max_total_bytes:
            # Stop here rather than hunt for smaller files that fit: the pack stays a
            # prefix of the sorted list, which is easy to explain and to continue.
            stop_reason = SKIP_OVER_TOTAL
            skipped.append(SkippedFile(path, stop_reason))
        elif len(files) >= max_files:
            stop_reason = SKIP_OVER_FILES
            skipped.append(SkippedFile(path, stop_reason))
        else:
            packed_bytes += len(read)
            # Decoding the whole file at once: no multibyte character split at a buffer
            # boundary. Invalid bytes become U+FFFD instead of failing the file.
            scan = redact(read.decode("utf-8", errors="replace"))
            secrets += [SecretFinding(path, kind) for kind in scan.kinds]
            text, start = render.framed(path, scan.text)
            sections.append(text)
            files.append(
                PackedFile(
                    path,
                    len(read),
                    count_tokens(text),
                    lines=render.line_count(scan.text),
                    offset=start,  # within the section, for now: made absolute below
                    length=len(scan.text),
                    language=render.language(path),
                )
            )
        report(done, total)
    truncated = stop_reason is not None
    if truncated:
        report(total, total)

    token_count = sum(f.tokens for f in files)
    head = render.header(
        source=display,
        commit=tree.commit,
        files=files,
        token_count=token_count,
        skipped=skipped,
        secrets=secrets,
        truncated=truncated,
        max_total_bytes=max_total_bytes,
        max_files=max_files if stop_reason == SKIP_OVER_FILES else None,
    )
    position = len(head)
    for number, (file, text) in enumerate(zip(files, sections, strict=True)):
        files[number] = file._replace(offset=position + file.offset)
        position += len(text)
    return PackResult(
        source=display,
        text=head + "".join(sections),
        files=files,
        file_count=len(files),
        token_count=token_count,
        top_files=heapq.nsmallest(TOP_FILES, files, key=lambda f: (-f.tokens, f.path)),
        skipped=skipped,
        flagged_secrets=secrets,
        commit=tree.commit,
        truncated=truncated,
    )


def _sniffed(read: bytes | str) -> bytes | str:
    if isinstance(read, bytes) and b"\0" in read[:BINARY_SNIFF_BYTES]:
        return SKIP_BINARY
    return read
