"""Which files a pack considers, the way git decides it.

Inside a git work tree git itself answers (`git ls-files -co --exclude-standard`): exact
.gitignore semantics including nested files, negation, anchors, `.git/info/exclude` and
the user's global excludes. Elsewhere the same rules are applied with pathspec's
`GitIgnoreSpec`, one spec per .gitignore found while walking, each governing its own
subtree. `.git/` is never listed. The result is then narrowed by the caller's
gitignore-style include and exclude patterns, and sorted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from pathspec import GitIgnoreSpec

from codifier.packer.gitcmd import git_available, run_git
from codifier.packer.result import PackError


def list_files(
    root: Path,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> list[str]:
    """Relative paths ("/"-separated) of the files to consider, sorted."""
    paths = _git_listing(root) if is_git_work_tree(root) else _walk_listing(root)
    return filter_paths(paths, include=include, exclude=exclude)


def filter_paths(
    paths: Sequence[str],
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> list[str]:
    """Keep paths matching any include pattern (all when none) and no exclude pattern."""
    kept = set(paths)
    if include:
        wanted = GitIgnoreSpec.from_lines(include)
        kept = {path for path in kept if wanted.match_file(path)}
    if exclude:
        unwanted = GitIgnoreSpec.from_lines(exclude)
        kept = {path for path in kept if not unwanted.match_file(path)}
    return sorted(kept)


def is_git_work_tree(root: Path) -> bool:
    if not git_available():
        return False
    result = run_git(["rev-parse", "--is-inside-work-tree"], cwd=root)
    return result.returncode == 0 and result.stdout.strip() == b"true"


def head_commit(root: Path) -> str | None:
    """HEAD's sha, or None outside git or before the first commit."""
    if not is_git_work_tree(root):
        return None
    result = run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=root)
    sha = result.stdout.decode().strip()
    return sha if result.returncode == 0 and sha else None


def _git_listing(root: Path) -> list[str]:
    # -c: tracked, -o: untracked, --exclude-standard: minus what .gitignore & co ignore.
    # -z: raw paths (no C-quoting of unusual names). Paths are relative to `root`.
    result = run_git(["ls-files", "-co", "--exclude-standard", "-z"], cwd=root)
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        raise PackError(f"git ls-files failed in {root}: {detail[-1] if detail else ''}")
    # A path appears once per stage during a merge conflict: keep one.
    return sorted({os.fsdecode(raw) for raw in result.stdout.split(b"\0") if raw})


def _walk_listing(root: Path) -> list[str]:
    return sorted(_walk(root, "", []))


def _walk(directory: Path, prefix: str, specs: list[tuple[str, GitIgnoreSpec]]) -> Iterator[str]:
    """Yield files under `directory` (whose path from the root is `prefix`) not ignored."""
    ignore_file = directory / ".gitignore"
    # git ignores a .gitignore that is a symlink (it could point outside the tree).
    if ignore_file.is_file() and not ignore_file.is_symlink():
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        specs = [*specs, (prefix, GitIgnoreSpec.from_lines(lines))]
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
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
        if is_dir and os.path.lexists(os.path.join(entry.path, ".git")):
            yield path + "/"  # a nested repository: git lists it as one entry, unopened
        elif is_dir:
            yield from _walk(Path(entry.path), path + "/", specs)
        else:
            yield path


def _ignored(path: str, is_dir: bool, specs: list[tuple[str, GitIgnoreSpec]]) -> bool:
    """Git's rule: the last matching pattern decides, deeper .gitignore files last."""
    decision: bool | None = None
    for base, spec in specs:  # root first, so deeper files override
        relative = path[len(base) :] + ("/" if is_dir else "")
        result = spec.check_file(relative).include
        if result is not None:
            decision = result
    return bool(decision)
