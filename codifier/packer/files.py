"""Which files of a local tree a pack considers, the way git decides it, without ever
running the tree's own git configuration.

A repository's `.git/config` is code: `core.fsmonitor`, filters, `diff.external` and
more name commands git runs. So git never sees it. When the tree has a `.git` folder,
git runs against a folder of ours (GIT_DIR, in the pack's workspace) holding only what
`ls-files` needs: a copy of the index, a copy of `info/exclude`, and a config we write;
GIT_WORK_TREE is the tree. `git ls-files -co --exclude-standard` then gives exact
.gitignore semantics (nested files, negation, anchors, tracked files listed even when
ignored) and reads nothing it could execute. HEAD is read as a file. If that listing
fails (a split or sparse index, a sha256 repository), or the tree has no `.git` folder
(or a `.git` file or link pointing elsewhere), the same rules are applied with
pathspec's `GitIgnoreSpec` while walking, one spec per .gitignore, each governing its
own subtree. `.git/` is never listed. The result is then narrowed by the caller's
gitignore-style include and exclude patterns (see `patterns.py`), and sorted.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from codifier.packer.confined import Unsafe, directory_below, read_small
from codifier.packer.gitcmd import GitStopped, git_available, run_git
from codifier.packer.patterns import compile_spec
from codifier.packer.result import PackError
from codifier.packer.workspace import Workspace

IGNORE_FILE_BYTES = 1024 * 1024  # a larger .gitignore or info/exclude is not read
MAX_DEPTH = 256  # directories nested deeper are not walked into
_SHA = re.compile(rb"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REF = re.compile(rb"^refs/[A-Za-z0-9._/+-]+$")


@dataclass(frozen=True)
class Bounds:
    """When a listing must stop: a deadline (monotonic seconds) and a cancel flag."""

    deadline: float
    cancel: threading.Event | None = None
    disk_budget: int | None = None

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise PackError("the pack was cancelled")
        if time.monotonic() > self.deadline:
            raise PackError("listing the files took too long; pack a smaller folder")


def filter_paths(
    paths: Sequence[str],
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> list[str]:
    """Keep paths matching any include pattern (all when none) and no exclude pattern."""
    kept = set(paths)
    if include:
        wanted = compile_spec(include)
        kept = {path for path in kept if wanted.match_file(path)}
    if exclude:
        unwanted = compile_spec(exclude)
        kept = {path for path in kept if not unwanted.match_file(path)}
    return sorted(kept)


def list_local(root: Path, root_fd: int, space: Workspace, bounds: Bounds) -> list[str]:
    """Relative paths ("/"-separated) of the files in the tree, sorted."""
    listed = _git_listing(root, root_fd, space, bounds)
    if listed is None:
        listed = sorted(_walk(root_fd, "", [], 0, bounds))
    return listed


def head_commit(root_fd: int) -> str | None:
    """HEAD's sha read from `.git` (a loose or packed ref, or a detached HEAD), or None
    outside git or before the first commit. No git runs, no object is read."""
    head = read_small(root_fd, ".git/HEAD", 4096)
    if head is None:
        return None
    head = head.strip()
    if _SHA.match(head):
        return head.decode()
    if not head.startswith(b"ref: "):
        return None
    ref = head[5:].strip()
    if not _REF.match(ref) or b".." in ref:
        return None
    loose = read_small(root_fd, ".git/" + ref.decode(), 4096)
    if loose is not None and _SHA.match(loose.strip()):
        return loose.strip().decode()
    packed = read_small(root_fd, ".git/packed-refs", 64 * 1024 * 1024) or b""
    for line in packed.splitlines():
        sha, _, name = line.partition(b" ")
        if name.strip() == ref and _SHA.match(sha):
            return sha.decode()
    return None


def _git_listing(root: Path, root_fd: int, space: Workspace, bounds: Bounds) -> list[str] | None:
    if not git_available():
        return None
    try:
        info = os.stat(".git", dir_fd=root_fd, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):  # a .git file or link: not followed
        return None
    gitdir = space.path / "gitdir"
    for sub in ("refs", "objects", "info"):
        (gitdir / sub).mkdir(parents=True, exist_ok=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/main\n")
    (gitdir / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tbare = false\n")
    exclude = read_small(root_fd, ".git/info/exclude", IGNORE_FILE_BYTES)
    (gitdir / "info" / "exclude").write_bytes(exclude or b"")
    index = space.path / "index"
    if not _copy_index(root_fd, index, bounds):
        index = space.path / "no-index"  # absent: git lists everything as untracked
    try:
        result = run_git(
            ["ls-files", "-co", "--exclude-standard", "-z"],
            space=space,
            cwd=root,
            extra_env={
                "GIT_DIR": str(gitdir),
                "GIT_WORK_TREE": str(root),
                "GIT_INDEX_FILE": str(index),
            },
            timeout=max(1.0, bounds.deadline - time.monotonic()),
            cancel=bounds.cancel,
        )
    except GitStopped as stopped:
        raise PackError(f"could not list the files: {stopped.reason}") from None
    finally:
        shutil.rmtree(gitdir, ignore_errors=True)
        index.unlink(missing_ok=True)
    if result.returncode != 0:
        return None  # an index our folder cannot read: walk instead
    # -z: raw paths (no C-quoting of unusual names). A path appears once per stage
    # during a merge conflict: keep one.
    return sorted({os.fsdecode(raw) for raw in result.stdout.split(b"\0") if raw})


def _copy_index(root_fd: int, dest: Path, bounds: Bounds) -> bool:
    """Copy `.git/index` (a plain file, no link followed) into `dest`; False if absent
    or larger than the disk budget."""
    limit = bounds.disk_budget or 1 << 62
    try:
        with directory_below(root_fd, ".git") as git_fd:
            fd = os.open("index", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=git_fd)
    except (OSError, Unsafe):
        return False
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return False
        with dest.open("wb") as target:
            shutil.copyfileobj(source, target)
    return True


def _walk(
    dir_fd: int, prefix: str, specs: list[tuple[str, GitIgnoreSpec]], depth: int, bounds: Bounds
) -> Iterator[str]:
    """Yield files under the directory `dir_fd` (at `prefix` from the root) not ignored."""
    bounds.check()
    # git ignores a .gitignore that is a symlink (it could point outside the tree).
    ignore = read_small(dir_fd, ".gitignore", IGNORE_FILE_BYTES)
    if ignore is not None:
        lines = ignore.decode("utf-8", errors="replace").splitlines()
        specs = [*specs, (prefix, compile_spec(lines))]
    try:
        entries = sorted(os.scandir(dir_fd), key=lambda entry: entry.name)
    except OSError:
        return  # unreadable directory: nothing git could list either
    for entry in entries:
        if entry.name == ".git":
            continue
        path = prefix + entry.name
        # Symlinks are listed as files, as git does (never followed into a directory).
        is_dir = entry.is_dir(follow_symlinks=False)
        if _ignored(path, is_dir, specs):
            continue
        if not is_dir:
            yield path
            continue
        try:
            with directory_below(dir_fd, entry.name) as child:
                if _exists(child, ".git"):
                    yield path + "/"  # a nested repository: git lists it as one entry
                elif depth < MAX_DEPTH:
                    yield from _walk(child, path + "/", specs, depth + 1, bounds)
        except Unsafe:
            yield path  # swapped for a link since scandir: reading will skip it


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return True


def _ignored(path: str, is_dir: bool, specs: list[tuple[str, GitIgnoreSpec]]) -> bool:
    """Git's rule: the last matching pattern decides, deeper .gitignore files last."""
    decision: bool | None = None
    for base, spec in specs:  # root first, so deeper files override
        relative = path[len(base) :] + ("/" if is_dir else "")
        result = spec.check_file(relative).include
        if result is not None:
            decision = result
    return bool(decision)
