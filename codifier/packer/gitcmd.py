"""Running git: one place that decides its environment and configuration, bounds it in
time and disk, and never raises on exit status.

git runs with no configuration but ours. The system and global files are ignored
(GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null) and HOME/XDG_CONFIG_HOME point at an
empty folder, so neither the server user's ~/.gitconfig, ~/.config/git/ignore nor
~/.netrc apply. The environment is rebuilt from an allow-list: no GIT_DIR, GIT_CONFIG_*,
GIT_SSH*, GIT_EXTERNAL_DIFF, pager, editor or proxy variable of the server's reaches git.
On top, `HARDENING` turns off through GIT_CONFIG_COUNT (which wins over every config
file) each setting known to run a command or open a transport: fsmonitor, hooks, ssh
commands, external diff, protocols other than those a caller allows. The repository's
own config is never read for a local tree at all (see `files.py`); a clone's config is
the one `git clone` just wrote.

Each git runs in its own process group (start_new_session), so a timeout, a disk budget
passed, or a cancelled pack kills it and its children (git-remote-https, index-pack)
together; with `setpriv` installed it also gets SIGKILL when the thread that started it
dies, so a killed server leaves no clone running.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from codifier.packer.workspace import ENV_MARKER, Workspace

# Variables passed through from the server's environment: locale, the executable path,
# the temp folder, and TLS trust stores an operator may set. Everything else is dropped.
_PASSED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")

# Each turns off one way a config value could run a command or reach a transport.
HARDENING: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.sshCommand", "false"),  # ssh only through GIT_SSH_COMMAND, set per clone
    ("core.gitProxy", ""),
    ("core.askPass", ""),
    ("core.pager", "cat"),
    ("core.editor", "false"),
    ("diff.external", ""),
    ("credential.helper", ""),
    ("protocol.allow", "never"),  # callers allow exactly the transports they checked
    ("http.followRedirects", "false"),  # redirects are checked and followed by us
    ("http.sslVerify", "true"),
    ("http.lowSpeedLimit", "1"),  # a stalled transfer ends instead of hanging on
    ("http.lowSpeedTime", "60"),
    ("transfer.fsckObjects", "true"),  # refuse malformed objects (".." or ".git" paths)
    ("submodule.recurse", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("init.templateDir", ""),
)


@functools.cache
def git_available() -> bool:
    return shutil.which("git") is not None


@functools.cache
def git_version() -> tuple[int, ...]:
    """git's version, (0,) when it cannot be told."""
    try:
        out = subprocess.run(
            ["git", "--version"],
            capture_output=True,
            check=False,
            timeout=10,
            env={"PATH": os.environ.get("PATH", os.defpath)},
        ).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return (0,)
    numbers = out.removeprefix("git version ").split(" ")[0].split(".")
    return tuple(int(n) for n in numbers if n.isdigit()) or (0,)


@functools.cache
def _setpriv() -> str | None:
    return shutil.which("setpriv")


@dataclass(frozen=True)
class GitRun:
    returncode: int
    stdout: bytes
    stderr: bytes


class GitStopped(Exception):
    """git was killed: `reason` says why (timeout, disk budget, cancelled)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def git_env(
    space: Workspace,
    config: Sequence[tuple[str, str]] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a git run in `space`: allow-listed variables, no config files,
    HARDENING then `config` as command-line-level settings, then `extra`."""
    env = {name: os.environ[name] for name in _PASSED if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(
        {
            "HOME": str(space.home),
            "XDG_CONFIG_HOME": str(space.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",  # never wait on a prompt: fail instead
            "GCM_INTERACTIVE": "never",
            "GIT_TRACE_REDACT": "1",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GIT_NO_LAZY_FETCH": "1",  # git >= 2.44: never fetch a missing blob
            "GIT_PROTOCOL_FROM_USER": "0",
            ENV_MARKER: str(space.path),
        }
    )
    entries = [*HARDENING, *config]
    env["GIT_CONFIG_COUNT"] = str(len(entries))
    for index, (key, value) in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env.update(extra or {})
    return env


def run_git(
    args: Sequence[str],
    *,
    space: Workspace,
    cwd: Path | None = None,
    config: Sequence[tuple[str, str]] = (),
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 120,
    disk_budget: int | None = None,
    cancel: threading.Event | None = None,
    stdout_limit: int = 256 * 1024 * 1024,
    stdin_data: bytes | None = None,
) -> GitRun:
    """`git ARGS` with output captured, bounded; the caller reads returncode and stderr.

    Raises GitStopped when the run passes `timeout` seconds, `space` passes
    `disk_budget` bytes, stdout passes `stdout_limit` bytes, or `cancel` is set; the
    process group is killed first. OSError when git cannot be started.
    """
    env = git_env(space, config, extra_env)
    command = ["git", *args]
    setpriv = _setpriv()
    if setpriv:
        command = [setpriv, "--pdeathsig", "KILL", "--", *command]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL if stdin_data is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out = _Collector(process.stdout, stdout_limit)
    err = _Collector(process.stderr, 64 * 1024)
    if stdin_data is not None:
        threading.Thread(target=_feed, args=(process.stdin, stdin_data), daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                raise GitStopped("cancelled")
            if time.monotonic() > deadline:
                raise GitStopped(f"timed out after {timeout:g} s")
            if disk_budget is not None and space.usage() > disk_budget:
                raise GitStopped(f"used more than the {disk_budget:,}-byte disk budget")
            if out.overflowed:
                raise GitStopped("printed more output than a pack reads")
    finally:
        if process.returncode is None:
            kill_group(process)
        out.join()
        err.join()
    if out.overflowed:
        raise GitStopped("printed more output than a pack reads")
    return GitRun(process.returncode, out.data(), err.data())


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group `process` leads, then reap it."""
    with contextlib.suppress(OSError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _feed(pipe: IO[bytes] | None, data: bytes) -> None:
    if pipe is None:
        return
    with contextlib.suppress(OSError):  # git stopped reading: it exited or was killed
        pipe.write(data)
        pipe.close()


class _Collector:
    """Reads a pipe on a thread (no deadlock on full pipes), keeping at most `limit`."""

    def __init__(self, pipe: IO[bytes] | None, limit: int) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = limit
        self.overflowed = False
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[bytes] | None) -> None:
        if pipe is None:
            return
        while chunk := pipe.read(65536):
            if self._size + len(chunk) > self._limit:
                self.overflowed = True
                continue  # keep draining so the writer never blocks
            self._chunks.append(chunk)
            self._size += len(chunk)

    def join(self) -> None:
        self._thread.join(timeout=10)  # a grandchild that escaped the group may hold it

    def data(self) -> bytes:
        return b"".join(self._chunks)
