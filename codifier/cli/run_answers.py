"""Reading what a person answers in `codifier run`: one line for most questions, several
for `text` (finished by an empty line or Ctrl-D, or written in $VISUAL/$EDITOR), a
required question asked again when the answer is empty; and the artifact of a generate
step from a file, the editor, or a command (`--llm`)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any, TextIO

from codifier.cli.check import UsageError

EDIT_COMMAND = "/edit"
LLM_SECONDS_VARIABLE = "CODIFIER_RUN_LLM_SECONDS"
DEFAULT_LLM_SECONDS = 600
# Never handed to a child the run starts (the editor, the --llm command).
_SECRET_VARIABLES = ("CODIFIER_KEY", "API_AUTH_TOKEN", "DATABASE_URL")


class InputEnded(Exception):
    """Standard input ended before the run needed no more answers."""


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _SECRET_VARIABLES}


def _kind(expects: dict[str, Any]) -> tuple[str | None, bool, bool]:
    """(JSON type, is `text`, is optional) of an answer's schema."""
    options = expects.get("anyOf")
    inner = expects
    if isinstance(options, list):
        inner = next((s for s in options if s.get("type") != "null"), {})
    optional = isinstance(options, list) and any(s.get("type") == "null" for s in options)
    kind = inner.get("type")
    is_text = kind == "string" and inner.get("contentMediaType") == "text/plain"
    return kind, is_text, optional


def parse_answer(text: str, expects: dict[str, Any]) -> Any:
    kind, _, _ = _kind(expects)
    if kind == "string" or kind is None:
        return text
    if kind == "array" and not text.lstrip().startswith("["):
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # the interpreter says what is wrong with it


def editor_command() -> list[str]:
    """$VISUAL or $EDITOR split as a shell would (`code --wait` is a command and a flag)."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as error:
                raise UsageError(f"{variable}='{value}' cannot be split ({error})") from None
            if words:
                return words
    return ["vi"]


def edit(initial: str = "", suffix: str = ".md") -> str:
    """What the person writes in their editor, starting from `initial`."""
    command = editor_command()
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8") as draft:
        draft.write(initial)
        path = Path(draft.name)
    try:
        try:
            done = subprocess.run([*command, str(path)], check=False, env=_child_env())
        except OSError as error:
            raise UsageError(
                f"cannot start the editor '{command[0]}': {error.strerror or error};"
                " set VISUAL or EDITOR"
            ) from None
        if done.returncode != 0:
            raise UsageError(f"the editor '{command[0]}' exited {done.returncode}")
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)


def _read_paragraph(stdin: TextIO, out: TextIO) -> str | None:
    """Lines until an empty one or the end of input (Ctrl-D); None when input ended
    before any line. A line that ends without a newline was finished by Ctrl-D."""
    lines: list[str] = []
    while True:
        out.write("> " if not lines else ". ")
        out.flush()
        line = stdin.readline()
        if line == "":
            if not lines and not stdin.isatty():
                return None
            out.write("\n")
            break
        text = line.rstrip("\r\n")
        if not text.strip():
            break
        lines.append(text)
        if len(lines) == 1 and text.strip() == EDIT_COMMAND:
            break  # the editor opens at once
        if not line.endswith("\n"):  # Ctrl-D after some text
            out.write("\n")
            break
    return "\n".join(lines)


def ask(result: dict[str, Any], stdin: TextIO, out: TextIO) -> Any:
    """The answer to an awaiting_input step result, asking again while it is empty and
    the question requires one."""
    expects = result["expects"]
    _, is_text, optional = _kind(expects)
    if is_text:
        out.write(f"  (several lines: finish with an empty line or Ctrl-D; {EDIT_COMMAND}"
                  " opens your editor)\n")  # fmt: skip
    while True:
        if is_text:
            raw = _read_paragraph(stdin, out)
            if raw is None:
                raise InputEnded
            if raw.strip() == EDIT_COMMAND:
                raw = edit().strip("\n")
                out.write(f"  ({len(raw.splitlines())} lines from the editor)\n")
        else:
            out.write("> ")
            out.flush()
            line = stdin.readline()
            if line == "":
                raise InputEnded
            raw = line.rstrip("\r\n")
        if raw.strip():
            return parse_answer(raw, expects)
        if "default" in result:
            return result["default"]
        if optional:
            return None
        out.write("  an answer is required: type one\n")


def read_artifact(prompt_file: Path, stdin: TextIO, out: TextIO) -> str:
    out.write(f"  prompt written to {prompt_file}\n  artifact file (empty: open $EDITOR)> ")
    out.flush()
    answer = stdin.readline()
    if answer == "":
        raise InputEnded
    path = answer.strip()
    if path:
        try:
            return Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror}") from None
    return edit()


def llm_seconds() -> int:
    raw = os.environ.get(LLM_SECONDS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_LLM_SECONDS
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"{LLM_SECONDS_VARIABLE} must be a whole number of seconds, got '{raw}'")
    return int(raw)


class LlmFailed(Exception):
    """The --llm command gave no artifact; the message is one line."""


def llm_command(text: str) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise UsageError(f"--llm '{text}' cannot be split ({error})") from None
    if not words:
        raise UsageError("--llm takes a command, e.g. --llm 'claude -p'")
    return words


def generate_with(command: list[str], prompt: str, seconds: int) -> str:
    """The artifact `command` writes on stdout, given the prompt on stdin (no shell; the
    run's secrets are not in its environment)."""
    name = command[0]
    try:
        done = subprocess.run(
            command,
            input=prompt.encode("utf-8"),
            capture_output=True,
            timeout=seconds,
            check=False,
            env=_child_env(),
        )
    except subprocess.TimeoutExpired:
        raise LlmFailed(
            f"--llm '{name}' gave no artifact within {seconds} s (raise {LLM_SECONDS_VARIABLE})"
        ) from None
    except OSError as error:
        raise LlmFailed(f"--llm '{name}' cannot start: {error.strerror or error}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = f": {said[-1][:200]}" if said else ""
        raise LlmFailed(f"--llm '{name}' exited {done.returncode}{last}")
    text = done.stdout.decode("utf-8", "replace")
    if not text.strip():
        raise LlmFailed(f"--llm '{name}' wrote nothing on stdout")
    return text
