"""`codifier run PLAYBOOK`: run a playbook in the terminal, against the same store and
with the same interpreter as the server.

Answers are read a line at a time (JSON for numbers, booleans and lists; a list may also
be written comma-separated). For a generate step the prompt is written to a file and the
artifact is read from a file you name, or from $EDITOR when you give none. The digest of
each snapshot the run packs is written beside the prompts (`digest-<name>-v<N>.md`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

import anyio

from codifier.cli.check import UsageError
from codifier.cli.publish import template_sources
from codifier.config import Settings
from codifier.library import library_with
from codifier.server.app import open_services
from codifier.server.errors import CallError
from codifier.server.principal import ADMIN_PRINCIPAL
from codifier.server.publishing import Resolved
from codifier.server.services import Services
from dsl.compiler import compile_playbook
from dsl.formats import header


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "playbook",
        metavar="PLAYBOOK",
        nargs="?",
        help="a playbook id (e.g. initialize-project), or a local FILE.yaml to run as it is"
        " (not with --resume)",
    )
    parser.add_argument(
        "--templates",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="generator templates (*.md.j2) a local playbook file uses; may repeat",
    )
    parser.add_argument("--project", help="project name (created if missing)")
    parser.add_argument(
        "--resume",
        metavar="SESSION_ID",
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


def _parse_answer(text: str, expects: dict[str, Any]) -> Any:
    kind = expects.get("type") or next(
        (s.get("type") for s in expects.get("anyOf", []) if s.get("type") != "null"), None
    )
    if kind == "string" or kind is None:
        return text
    if kind == "array" and not text.lstrip().startswith("["):
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # the interpreter says what is wrong with it


def _read_artifact(prompt_file: Path, stdin: TextIO, out: TextIO) -> str:
    out.write(f"  prompt written to {prompt_file}\n  artifact file (empty: open $EDITOR)> ")
    out.flush()
    answer = stdin.readline()
    if answer == "":
        raise UsageError("input ended before the run finished")
    path = answer.strip()
    if path:
        try:
            return Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror}") from None
    editor = os.environ.get("EDITOR", "vi")
    with tempfile.NamedTemporaryFile("w+", suffix=".md", delete=False) as draft:
        draft_path = Path(draft.name)
    subprocess.run([editor, str(draft_path)], check=False)
    return draft_path.read_text(encoding="utf-8")


async def _ensure_project(services: Services, name: str) -> str:
    try:
        listed = await services.projects.manage(ADMIN_PRINCIPAL, "list", None, None, None)
        for project in listed["projects"]:
            if project["name"] == name:
                return str(project["id"])
        created = await services.projects.manage(ADMIN_PRINCIPAL, "create", name, "", None)
        return str(created["project"]["id"])
    except CallError as error:
        raise UsageError(error.message) from None


async def _run(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    inputs: dict[str, Any] = {}
    for item in args.inputs:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--input takes NAME=VALUE, got '{item}'")
        try:
            inputs[name] = json.loads(value)
        except json.JSONDecodeError:
            inputs[name] = value
    if args.resume is None and (args.playbook is None or args.project is None):
        raise UsageError("give a PLAYBOOK and --project NAME, or --resume SESSION_ID")
    if args.resume is not None and (args.playbook is not None or args.inputs):
        raise UsageError("--resume continues a session: give no PLAYBOOK and no --input")
    db, services = await open_services(Settings.from_env())
    local = _local_playbook(args, services) if args.playbook else None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="codifier-run-"))
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--workdir {workdir}: {error.strerror}") from None
    try:
        if args.resume is not None:
            result = await services.runs.get(ADMIN_PRINCIPAL, args.resume)
            project = str(result["project_id"])
            out.write(f"resuming session {result['session_id']} of {result['playbook_id']}\n")
        else:
            project = await _ensure_project(services, args.project)
        digests = _Digests(services, project, workdir, out)
        await digests.note_existing()
        if args.resume is None:
            result = await services.runs.start(
                ADMIN_PRINCIPAL, args.playbook, project, None, inputs, local=local
            )
            out.write(
                f"session {result['session_id']}"
                f" (continue it later with: codifier run --resume {result['session_id']})\n"
            )
        while result["status"] in ("awaiting_input", "awaiting_generation"):
            step = result["step"]
            out.write(f"\n[{step['index'] + 1}/{step['count']}] {step['title']}\n")
            if result["status"] == "awaiting_input":
                out.write(f"{result['prompt']}\n")
                if "choices" in result:
                    out.write(f"  choices: {', '.join(map(str, result['choices']))}\n")
                if "default" in result:
                    out.write(f"  default: {result['default']}\n")
                out.write("> ")
                out.flush()
                line = stdin.readline()
                if line == "":
                    raise UsageError("input ended before the run finished")
                text = line.rstrip("\n")
                answer = (
                    result["default"]
                    if not text and "default" in result
                    else _parse_answer(text, result["expects"])
                )
            else:
                await digests.write_new()
                prompt_file = workdir / f"{step['id']}.prompt.md"
                prompt_file.write_text(result["generate_request"]["prompt"], encoding="utf-8")
                answer = _read_artifact(prompt_file, stdin, out)
            try:
                result = await services.runs.advance(
                    ADMIN_PRINCIPAL, result["session_id"], step["id"], answer
                )
            except CallError as error:
                out.write(f"  not accepted: {error.message}\n")
        if result["status"] == "failed":
            out.write(f"\nfailed: {result['error']}\n")
            return 1
        out.write(f"\ncompleted; session {result['session_id']}\n")
        out.write(json.dumps(result.get("outputs", {}), indent=2) + "\n")
        return 0
    except CallError as error:
        raise UsageError(error.message) from None
    finally:
        await services.close()
        await db.close()


def _local_playbook(args: argparse.Namespace, services: Services) -> Resolved | None:
    """A playbook FILE given instead of an id: checked here, with --templates beside the
    shipped ones, and run as it is (nothing is published)."""
    path = Path(args.playbook)
    if path.suffix not in (".yaml", ".yml"):
        if args.templates:
            raise UsageError("--templates goes with a local FILE.yaml, not a playbook id")
        return None
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


class _Digests:
    """The digests of the snapshots this run packs, each written beside the prompt files
    (the prompts include them too): a model or a person can open them on their own."""

    def __init__(self, services: Services, project: str, workdir: Path, out: TextIO) -> None:
        self.services = services
        self.project = project
        self.workdir = workdir
        self.out = out
        self.seen: set[str] = set()

    async def _snapshots(self) -> list[dict[str, Any]]:
        listing = await self.services.code.listing(ADMIN_PRINCIPAL, self.project, None, 100, 0)
        snapshots: list[dict[str, Any]] = listing["snapshots"]
        return snapshots

    async def note_existing(self) -> None:
        self.seen = {snap["snapshot_id"] for snap in await self._snapshots()}

    async def write_new(self) -> None:
        for snap in reversed(await self._snapshots()):
            if snap["snapshot_id"] in self.seen:
                continue
            self.seen.add(snap["snapshot_id"])
            text = await self.services.code.digest(ADMIN_PRINCIPAL, snap["snapshot_id"])
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", snap["url"].rstrip("/").rsplit("/", 1)[-1])
            path = self.workdir / f"digest-{name.strip('-.') or 'repository'}-v{snap['version']}.md"
            path.write_text(text, encoding="utf-8")
            self.out.write(f"  digest of {snap['url']} (v{snap['version']}) written to {path}\n")


def run(args: argparse.Namespace) -> int:
    code: int = anyio.run(_run, args, sys.stdin, sys.stdout)
    return code
