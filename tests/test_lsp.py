"""`codifier lsp` (issue 13, point 1) driven as editors drive it: the real server process
(the venv's `codifier lsp`) over stdio, through pytest-lsp's real LSP client."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from codifier.resources import generators_dir

ROOT = Path(__file__).resolve().parent.parent
CODIFIER = str(Path(sys.executable).with_name("codifier"))
CONFIG = ClientServerConfig(server_command=[CODIFIER, "lsp"])
WAIT = 30.0  # generous: the first check imports the checker

BROKEN = """\
id: demo
name: Demo
inputs:
  audience:
    type: string
steps:
  - id: name
    store:
      prompt: Your name?
      type: string
  - id: repo
    skill-invoke:
      skill: pack_repo
      with:
        url: https://example.com/r.git
  - id: greet
    store:
      prompt: "Hello ${{ steps.nam.output }}, from ${{ steps.name.output }}"
outputs:
  who: ${{ steps.name.output }}
"""
FIXED = BROKEN.replace("steps.nam.output", "steps.name.output")


def _capabilities(*encodings: str) -> types.ClientCapabilities:
    capabilities = client_capabilities("visual-studio-code")
    if encodings:
        capabilities.general = types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind(e) for e in encodings]
        )
    return capabilities


async def _started(*encodings: str) -> tuple[LanguageClient, types.InitializeResult]:
    client = await CONFIG.start()
    assert isinstance(client, LanguageClient)
    result = await client.initialize_session(
        types.InitializeParams(capabilities=_capabilities(*encodings), root_uri=ROOT.as_uri())
    )
    return client, result


async def _stopped(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()  # type: ignore[no-untyped-call]  # unannotated in pytest-lsp 1.0


@pytest_asyncio.fixture
async def client() -> AsyncIterator[LanguageClient]:
    """A client that offers no position encodings: the server must use UTF-16."""
    started, result = await _started()
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf16
    yield started
    await _stopped(started)


@pytest_asyncio.fixture
async def utf8_client() -> AsyncIterator[LanguageClient]:
    started, result = await _started("utf-8", "utf-16")
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    yield started
    await _stopped(started)


async def _diagnostics(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """Wait for the server to publish this document's diagnostics (after open/change)."""

    async def arrived() -> list[types.Diagnostic]:
        while uri not in client.diagnostics:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(client.diagnostics[uri])

    return await asyncio.wait_for(arrived(), WAIT)


async def _open(
    client: LanguageClient, path: Path, text: str, version: int = 1
) -> tuple[str, list[types.Diagnostic]]:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="yaml", version=version, text=text
            )
        )
    )
    return uri, await _diagnostics(client, uri)


async def _change(
    client: LanguageClient, uri: str, text: str, version: int
) -> list[types.Diagnostic]:
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return await _diagnostics(client, uri)


def _where(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """0-based (line, character index) of the n-th `needle` in `text`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    return line, start - (text.rfind("\n", 0, start) + 1)


def _range(line: int, start: int, end: int) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=start),
        end=types.Position(line=line, character=end),
    )


async def _complete(
    client: LanguageClient, uri: str, line: int, character: int
) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.CompletionList) else result)


def _end_of(text: str, needle: str) -> tuple[int, int]:
    line, character = _where(text, needle)
    return line, character + len(needle)


@pytest.mark.asyncio
async def test_diagnostic_at_the_exact_range_then_cleared_by_the_fix(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri, found = await _open(client, tmp_path / "demo.yaml", BROKEN)
    line, start = _where(BROKEN, "nam.output")
    (diagnostic,) = found
    assert diagnostic.code == "X203"
    assert diagnostic.range == _range(line, start, start + len("nam"))
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.source == "codifier"
    assert diagnostic.message.startswith("unknown step 'nam'")
    assert await _change(client, uri, FIXED, 2) == []


@pytest.mark.asyncio
async def test_code_action_applies_the_checkers_fix(client: LanguageClient, tmp_path: Path) -> None:
    uri, (diagnostic,) = await _open(client, tmp_path / "demo.yaml", BROKEN)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    assert actions is not None
    (action,) = actions
    assert isinstance(action, types.CodeAction)
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.edit is not None
    assert action.edit.changes is not None
    (edit,) = action.edit.changes[uri]
    assert edit.range == diagnostic.range
    assert edit.new_text == "name"
    # Applying the edit as the editor would leaves nothing to report.
    lines = BROKEN.split("\n")
    row = lines[edit.range.start.line]
    lines[edit.range.start.line] = (
        row[: edit.range.start.character] + edit.new_text + row[edit.range.end.character :]
    )
    assert await _change(client, uri, "\n".join(lines), 2) == []


@pytest.mark.asyncio
async def test_positions_count_utf16_units_after_an_emoji(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = BROKEN.replace('"Hello ${{', '"🎉 Hello ${{')
    _, (diagnostic,) = await _open(client, tmp_path / "demo.yaml", text)
    line, chars = _where(text, "nam.output")
    units = len(text.split("\n")[line][:chars].encode("utf-16-le")) // 2
    assert units == chars + 1  # the emoji is two UTF-16 units
    assert diagnostic.range == _range(line, units, units + 3)


@pytest.mark.asyncio
async def test_positions_count_bytes_for_a_utf8_client(
    utf8_client: LanguageClient, tmp_path: Path
) -> None:
    text = BROKEN.replace('"Hello ${{', '"🎉 Hello ${{')
    _, (diagnostic,) = await _open(utf8_client, tmp_path / "demo.yaml", text)
    line, chars = _where(text, "nam.output")
    start = len(text.split("\n")[line][:chars].encode("utf-8"))
    assert diagnostic.range == _range(line, start, start + 3)


@pytest.mark.asyncio
async def test_completion_after_steps_offers_earlier_steps_only(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FIXED.replace("      prompt: Your name?\n", "      prompt: Your name?\n", 1).replace(
        '      prompt: "Hello ${{ steps.name.output }}, from ${{ steps.name.output }}"',
        "      prompt: ${{ steps.",
    )
    uri, _ = await _open(client, tmp_path / "demo.yaml", text)
    items = await _complete(client, uri, *_end_of(text, "prompt: ${{ steps."))
    assert [i.label for i in items] == ["name", "repo"]
    # In the first step there is nothing earlier; in outputs every step is.
    first = text.replace("prompt: Your name?", "prompt: ${{ steps.")
    await _change(client, uri, first, 2)
    assert await _complete(client, uri, *_end_of(first, "prompt: ${{ steps.")) == []
    last = FIXED.replace("who: ${{ steps.name.output }}", "who: ${{ steps.")
    await _change(client, uri, last, 3)
    labels = [i.label for i in await _complete(client, uri, *_end_of(last, "who: ${{ steps."))]
    assert labels == ["name", "repo", "greet"]


@pytest.mark.asyncio
async def test_completion_of_record_fields_after_output(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FIXED.replace("who: ${{ steps.name.output }}", "who: ${{ steps.repo.output.")
    uri, _ = await _open(client, tmp_path / "demo.yaml", text)
    items = await _complete(client, uri, *_end_of(text, "steps.repo.output."))
    labels = {i.label for i in items}
    assert {"id", "file_count", "version"} <= labels, labels
    after_step = await _complete(client, uri, *_end_of(text, "steps.repo."))
    assert [i.label for i in after_step] == ["output"]


@pytest.mark.asyncio
async def test_completion_of_functions_with_signatures(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FIXED.replace("who: ${{ steps.name.output }}", "who: ${{ jo")
    uri, _ = await _open(client, tmp_path / "demo.yaml", text)
    items = {i.label: i for i in await _complete(client, uri, *_end_of(text, "who: ${{ jo"))}
    assert items["join"].detail == "join(list<any>, string) -> string"
    assert {"inputs", "steps", "project", "session", "length", "default"} <= items.keys()


@pytest.mark.asyncio
async def test_completion_of_instruction_names_without_null(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FIXED.replace("  - id: greet\n", "  - id: later\n    \n  - id: greet\n")
    uri, _ = await _open(client, tmp_path / "demo.yaml", text)
    line, _ = _where(text, "  - id: later\n")
    items = {i.label: i for i in await _complete(client, uri, line + 1, 4)}
    assert {"store", "skill-invoke", "generate", "data-query", "if", "title"} <= items.keys()
    assert "id" in items
    store = items["store"]
    assert store.insert_text is not None
    assert store.insert_text.startswith("store:\n  prompt: ")
    assert "null" not in store.insert_text
    # Keys of an instruction, with their documentation.
    inner = text.replace("      type: string\n", "      type: string\n      \n", 1)
    await _change(client, uri, inner, 2)
    line, _ = _where(inner, "      type: string\n")
    labels = {i.label for i in await _complete(client, uri, line + 1, 6)}
    assert labels == {"prompt", "type", "choices", "default", "remember"}


@pytest.mark.asyncio
async def test_completion_of_template_skill_and_memory_type_names(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FIXED.replace(
        "  - id: greet\n",
        "  - id: draft\n    generate:\n      template: \n      remember:\n        type: \n"
        "  - id: greet\n",
    ).replace("skill: pack_repo", "skill: ")
    uri, _ = await _open(client, tmp_path / "demo.yaml", text)
    shipped = sorted(p.name.removesuffix(".md.j2") for p in generators_dir().glob("*.md.j2"))
    templates = await _complete(client, uri, *_end_of(text, "template: "))
    assert [i.label for i in templates] == shipped
    skills = {i.label for i in await _complete(client, uri, *_end_of(text, "skill: "))}
    assert {"pack_repo", "pack_repos"} <= skills
    memory = [i.label for i in await _complete(client, uri, *_end_of(text, "        type: "))]
    assert memory == ["rule", "document", "api_contract", "learning", "research_finding"]


async def _hover(client: LanguageClient, uri: str, line: int, character: int) -> str:
    result = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    assert result is not None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


@pytest.mark.asyncio
async def test_hover_shows_types_and_docs(client: LanguageClient, tmp_path: Path) -> None:
    uri, _ = await _open(client, tmp_path / "demo.yaml", FIXED)
    line, character = _where(FIXED, "name.output }}\n")  # in outputs
    assert "steps.name.output: string" in await _hover(client, uri, line, character + 6)
    text = FIXED.replace(
        "who: ${{ steps.name.output }}", "who: ${{ length(steps.repo.output.files) }}"
    )
    await _change(client, uri, text, 2)
    line, character = _where(text, "length(")
    shown = await _hover(client, uri, line, character + 2)
    assert "length(steps.repo.output.files): int" in shown
    assert "length(list<any> | string) -> int" in shown
    line, character = _where(text, "prompt: Your")
    assert "What to ask the person." in await _hover(client, uri, line, character + 2)
    line, character = _where(text, "pack_repo")
    assert "**skill pack_repo** → `Snapshot`" in await _hover(client, uri, line, character + 2)


@pytest.mark.asyncio
async def test_definition_jumps_to_the_step_and_to_the_template(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = FIXED.replace(
        "  - id: greet\n",
        "  - id: draft\n    generate:\n      template: evals-from-rules\n"
        "      with:\n        project_name: x\n        rules: y\n  - id: greet\n",
    )
    uri, _ = await _open(client, tmp_path / "demo.yaml", text)
    line, character = _where(text, "name.output }}, from")
    locations = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character + 2),
        )
    )
    id_line, id_start = _where(text, "name\n")
    assert locations == [types.Location(uri=uri, range=_range(id_line, id_start, id_start + 4))]
    line, character = _where(text, "evals-from-rules")
    locations = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character + 3),
        )
    )
    assert isinstance(locations, list)
    (location,) = locations
    assert isinstance(location, types.Location)
    assert location.uri == (generators_dir() / "evals-from-rules.md.j2").resolve().as_uri()


@pytest.mark.asyncio
async def test_a_checker_fix_becomes_a_code_action_at_utf16_positions(
    client: LanguageClient, tmp_path: Path
) -> None:
    """The checker's own Fix (delete a control character), after an emoji on its line."""
    text = FIXED.replace("Your name?", "Your 🎉 name\x07?")
    uri, found = await _open(client, tmp_path / "demo.yaml", text)
    (diagnostic,) = found
    line, chars = _where(text, "\x07")
    assert diagnostic.code == "Y001"
    assert diagnostic.range == _range(line, chars + 1, chars + 2)  # the emoji: two units
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    assert actions is not None
    (action,) = actions
    assert isinstance(action, types.CodeAction)
    assert action.title == "delete the character"
    assert action.is_preferred
    assert action.edit is not None
    assert action.edit.changes is not None
    assert list(action.edit.changes[uri]) == [
        types.TextEdit(range=_range(line, chars + 1, chars + 2), new_text="")
    ]


@pytest.mark.asyncio
async def test_a_byte_order_mark_counts_on_the_clients_first_line(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = "\ufeffid: demo\nnme: Demo\n" + FIXED.split("\n", 2)[2]
    _, found = await _open(client, tmp_path / "demo.yaml", text)
    unknown = [d for d in found if d.code == "S101"]
    assert [d.range for d in unknown] == [_range(1, 0, 3)]
    first = "\ufeffidd: demo\n" + FIXED.split("\n", 1)[1]
    _, found = await _open(client, tmp_path / "other.yaml", first)
    unknown = [d for d in found if d.code == "S101"]
    assert [d.range for d in unknown] == [_range(0, 1, 4)]
