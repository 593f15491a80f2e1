"""`codifier run PLAYBOOK`: run a playbook in the terminal, against the local database
(the same store and interpreter as the server) or a remote server over MCP (`--url`,
with a key in CODIFIER_KEY).

Answers: one line (JSON for numbers, booleans and lists; a list may also be written
comma-separated); a `text` answer takes several lines, finished by an empty line or
Ctrl-D, or `/edit` to write it in $VISUAL/$EDITOR. An empty answer to a required question
is asked again. A generate step writes its prompt to a file and reads the artifact from a
file you name, from your editor, or from `--llm CMD` (the prompt on its stdin, the
artifact on its stdout). One Ctrl-C stops, printing the command that resumes the session.
Server-side steps show progress and what they produced; the end is a short summary
(`--json` prints the outputs whole). The digest of each snapshot a local run packs is
written beside the prompts (`digest-<name>-v<N>.md`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO, TypeVar

from codifier.cli.check import UsageError
from codifier.cli.run_answers import (
    InputEnded,
    LlmFailed,
    ask,
    generate_with,
    llm_command,
    llm_seconds,
    read_artifact,
)
from codifier.cli.run_backends import (
    KEY_VARIABLE,
    Backend,
    RunRefused,
    local_backend,
    mcp_endpoint,
    remote_backend,
)
from codifier.cli.run_report import produced, summary

T = TypeVar("T")
EXIT_INTERRUPTED = 130
_TICK_AFTER = 1.0  # seconds a call runs before the terminal shows it working


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "playbook",
        metavar="PLAYBOOK",
        nargs="?",
        help="a playbook id (e.g. initialize-project), or a local FILE.yaml to run as it is"
        " (not with --resume or --url)",
    )
    parser.add_argument(
        "--templates",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="generator templates (*.md.j2) a local playbook file uses; may repeat",
    )
    parser.add_argument("--project", help="project name (created if missing, locally)")
    parser.add_argument(
        "--resume",
        metavar="ID",
        help="continue a session where it stopped (list_sessions gives the ids)",
    )
    parser.add_argument(
        "--input",
        dest="inputs",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a playbook input (JSON for non-string values); may repeat",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where generate prompts are written"
    )
    parser.add_argument(
        "--llm",
        metavar="CMD",
        help="write each generate step's artifact with this command: the prompt on its"
        " stdin, the artifact on its stdout (e.g. --llm 'claude -p'); split as a shell"
        " would, run without one",
    )
    parser.add_argument(
        "--url",
        metavar="URL",
        help=f"run on a remote Codifier server over MCP (its key in ${KEY_VARIABLE})"
        " instead of the local database",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the outputs as JSON instead of a summary"
    )


def _inputs(items: list[str]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--input takes NAME=VALUE, got '{item}'")
        try:
            inputs[name] = json.loads(value)
        except json.JSONDecodeError:
            inputs[name] = value
    return inputs


def _is_file(playbook: str | None) -> bool:
    return playbook is not None and Path(playbook).suffix in (".yaml", ".yml")


def _check_arguments(args: argparse.Namespace) -> None:
    if args.resume is None and args.playbook is None:
        raise UsageError("give a PLAYBOOK (and --project NAME), or --resume ID")
    if args.resume is not None and (args.playbook is not None or args.inputs):
        raise UsageError("--resume continues a session: give no PLAYBOOK and no --input")
    if args.url is None:
        if args.resume is None and args.project is None:
            raise UsageError("give a PLAYBOOK and --project NAME, or --resume ID")
        return
    mcp_endpoint(args.url)
    if not os.environ.get(KEY_VARIABLE, "").strip():
        raise UsageError(
            f"--url needs a key in the environment: set {KEY_VARIABLE} (a project key from"
            " codifier keys create); a key is never taken on the command line"
        )
    if _is_file(args.playbook):
        raise UsageError(
            "a local FILE.yaml runs against the local database; publish it to run it on"
            " the server (codifier publish, or the publish_playbook tool)"
        )


def _local_playbook(args: argparse.Namespace, services: Any) -> Any:
    """A playbook FILE given instead of an id: checked here, with --templates beside the
    shipped ones, and run as it is (nothing is published)."""
    from codifier.cli.publish import template_sources
    from codifier.library import library_with
    from codifier.server.publishing import Resolved
    from dsl.compiler import compile_playbook
    from dsl.formats import header

    if not _is_file(args.playbook):
        if args.templates:
            raise UsageError("--templates goes with a local FILE.yaml, not a playbook id")
        return None
    path = Path(args.playbook)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    templates = template_sources(args.templates)
    result = compile_playbook(source, str(path), library_with(services.library, templates))
    if result.program is None:
        problems = "; ".join(header(d) for d in result.errors[:5])
        raise UsageError(f"{path} does not check ({problems}); run codifier check {path}")
    return Resolved(result.program, templates or None, "local", result.program.version)


class _Terminal:
    """One run driven from the terminal: the backend's calls run on the portal's event
    loop while this thread reads the keyboard, so one Ctrl-C stops either at once."""

    def __init__(
        self,
        portal: Any,
        backend: Backend,
        args: argparse.Namespace,
        workdir: Path,
        stdin: TextIO,
        out: TextIO,
    ) -> None:
        self.portal = portal
        self.backend = backend
        self.args = args
        self.workdir = workdir
        self.stdin = stdin
        self.out = out
        self.session: str | None = None
        self.known: set[str] = set()
        self.llm = llm_command(args.llm) if args.llm is not None else None
        self.llm_seconds = llm_seconds() if args.llm is not None else 0

    def resume_hint(self) -> str:
        # Everything that shapes how the rest runs, so the command can be run as printed.
        words = ["codifier", "run", "--resume", str(self.session)]
        for flag, value in (
            ("--url", self.args.url),
            ("--workdir", self.workdir),
            ("--llm", self.args.llm),
        ):
            if value:
                words += [flag, str(value)]
        return shlex.join(words)

    def call(self, work: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """The result of a backend call; on a terminal, a line that ticks while it runs."""
        future = self.portal.start_task_soon(work, *args)
        started = time.monotonic()
        ticking = False
        try:
            while True:
                try:
                    result: T = future.result(timeout=0.2)
                    return result
                except TimeoutError:
                    waited = time.monotonic() - started
                    if waited >= _TICK_AFTER and self.out.isatty():
                        self.out.write(f"\r  working on the server … {waited:.0f} s")
                        self.out.flush()
                        ticking = True
        except KeyboardInterrupt:
            future.cancel()
            raise
        finally:
            if ticking:
                self.out.write("\r\033[K")
                self.out.flush()

    def report_server_steps(self, answered: int, result: dict[str, Any]) -> None:
        """One line for each server-side step that ran since step `answered`, with what it
        produced (read from the session's outputs: the call that ran them said nothing)."""
        index = result.get("step", {}).get("index", answered + 1)
        if result["status"] in ("awaiting_input", "awaiting_generation") and (
            index <= answered + 1
        ):
            return
        session = self.call(self.backend.get, result["session_id"])
        outputs: dict[str, Any] = session.get("step_outputs") or {}
        for step_id, value in outputs.items():
            if step_id in self.known:
                continue
            self.known.add(step_id)
            if step_id == self.answered_id:
                continue
            for line in produced(value):
                self.out.write(f"  ✓ {step_id}: {line}\n")

    answered_id: str | None = None

    def start(self) -> dict[str, Any]:
        args = self.args
        if args.resume is not None:
            result = self.call(self.backend.get, args.resume)
            self.session = str(result["session_id"])
            self.known = set(result.get("step_outputs") or {})
            self.out.write(f"resuming session {self.session} of {result['playbook_id']}\n")
            return result
        local = None
        services = getattr(self.backend, "services", None)
        if services is not None:
            local = _local_playbook(args, services)
        result = self.call(
            self.backend.start, args.playbook, args.project, _inputs(args.inputs), local
        )
        self.session = str(result["session_id"])
        self.out.write(f"session {self.session} (continue it later with: {self.resume_hint()})\n")
        self.report_server_steps(-1, result)
        return result

    def answer(self, result: dict[str, Any]) -> Any:
        step = result["step"]
        if result["status"] == "awaiting_input":
            self.out.write(f"{result['prompt']}\n")
            if "notice" in result:
                self.out.write(f"  note: {result['notice']}\n")
            if "choices" in result:
                self.out.write(f"  choices: {', '.join(map(str, result['choices']))}\n")
            if "default" in result:
                self.out.write(f"  default: {result['default']}\n")
            return ask(result, self.stdin, self.out)
        self.call(self.backend.write_digests)
        prompt = result["generate_request"]["prompt"]
        prompt_file = self.workdir / f"{step['id']}.prompt.md"
        prompt_file.write_text(prompt, encoding="utf-8")
        if self.llm is None:
            return read_artifact(prompt_file, self.stdin, self.out)
        self.out.write(f"  prompt written to {prompt_file}\n  generating with {self.llm[0]} …\n")
        self.out.flush()
        artifact = generate_with(self.llm, prompt, self.llm_seconds)
        self.out.write(f"  {len(artifact):,} characters from {self.llm[0]}\n")
        return artifact

    def drive(self) -> int:
        result = self.start()
        while result["status"] in ("awaiting_input", "awaiting_generation"):
            step = result["step"]
            self.out.write(f"\n[{step['index'] + 1}/{step['count']}] {step['title']}\n")
            answer = self.answer(result)
            try:
                following = self.call(self.backend.advance, self.session, step["id"], answer)
            except RunRefused as refused:
                self.out.write(f"  not accepted: {refused.message}\n")
                if self.llm is not None and result["status"] == "awaiting_generation":
                    raise LlmFailed("the artifact from --llm was not accepted") from None
                continue
            self.answered_id = step["id"]
            self.known.add(step["id"])
            self.report_server_steps(step["index"], following)
            result = following
        if result["status"] == "failed":
            self.out.write(f"\nfailed: {result['error']}\n")
            return 1
        if self.args.json:
            self.out.write(f"\ncompleted; session {result['session_id']}\n")
            self.out.write(json.dumps(result.get("outputs", {}), indent=2) + "\n")
        else:
            self.out.write(summary(result))
        return 0


def _drive(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from anyio.from_thread import start_blocking_portal

    _check_arguments(args)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="codifier-run-"))
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--workdir {workdir}: {error.strerror}") from None
    with start_blocking_portal() as portal:
        opened: contextlib.AbstractAsyncContextManager[Backend] = (
            remote_backend(args.url, os.environ[KEY_VARIABLE].strip())
            if args.url
            else local_backend(workdir, out)
        )
        with portal.wrap_async_context_manager(opened) as backend:
            terminal = _Terminal(portal, backend, args, workdir, stdin, out)
            try:
                return terminal.drive()
            except KeyboardInterrupt:
                out.flush()
                if terminal.session is None:
                    err.write("\ninterrupted before the run started\n")
                else:
                    err.write(
                        f"\ninterrupted; session {terminal.session} is saved."
                        f" Continue it with: {terminal.resume_hint()}\n"
                    )
                return EXIT_INTERRUPTED
            except LlmFailed as failed:
                err.write(
                    f"codifier run: {failed}; session {terminal.session} is saved."
                    f" Continue it with: {terminal.resume_hint()}\n"
                )
                return 1
            except InputEnded:
                resume = f"; continue it with: {terminal.resume_hint()}" if terminal.session else ""
                raise UsageError(f"input ended before the run finished{resume}") from None
            except RunRefused as refused:
                raise UsageError(refused.message) from None


def _let_workers_finish(seconds: float = 5.0) -> None:
    """Wait for the event loop's worker threads to end before the interpreter does: one
    may still hold a native library's threads (the embedding model's), and tearing those
    down mid-exit aborts the process ("terminate called without an active exception")."""
    deadline = time.monotonic() + seconds
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))


def run(args: argparse.Namespace) -> int:
    try:
        return _drive(args, sys.stdin, sys.stdout, sys.stderr)
    finally:
        _let_workers_finish()
