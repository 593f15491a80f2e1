"""Running git: one place that decides the environment and never raises on exit status."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


@functools.cache
def git_available() -> bool:
    return shutil.which("git") is not None


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 120,
) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` with output captured; the caller reads returncode and stderr."""
    merged = dict(os.environ if env is None else env)
    # Never wait on a prompt (credentials, ssh passphrase): fail instead.
    merged["GIT_TERMINAL_PROMPT"] = "0"
    merged.setdefault("GCM_INTERACTIVE", "never")
    # A user's GIT_TRACE_CURL must not write credentials to their trace file.
    merged["GIT_TRACE_REDACT"] = "1"
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=merged,
        capture_output=True,
        check=False,
        timeout=timeout,
    )
