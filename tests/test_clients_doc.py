"""docs/clients.md: every JSON block parses, and every configuration in it points where the
server answers (`/mcp`, `/sse`, or `codifier serve --transport stdio`) with the bearer
header the server requires."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "clients.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
STDIO_ARGS = ["serve", "--transport", "stdio"]


def blocks(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return [body for lang, body in FENCE.findall(text) if lang == language]


def json_blocks() -> list[Any]:
    return [json.loads(body) for body in blocks("json")]


def server_entries(config: Any) -> list[dict[str, Any]]:
    """The server entries of one client configuration: `mcpServers` or VS Code's `servers`."""
    assert isinstance(config, dict), config
    servers = config.get("mcpServers", config.get("servers"))
    assert isinstance(servers, dict), f"no servers in {config}"
    assert servers, f"no servers in {config}"
    entries = list(servers.values())
    assert all(isinstance(entry, dict) for entry in entries)
    return entries


def check_http_entry(entry: dict[str, Any]) -> str:
    """The path the entry connects to, after checking its URL and its bearer header."""
    url = urlsplit(entry["url"])
    assert url.scheme == "https", entry["url"]
    assert url.path in ("/mcp", "/sse"), entry["url"]
    if "type" in entry:
        assert entry["type"] == {"/mcp": "http", "/sse": "sse"}[url.path], entry
    headers = entry["headers"]
    assert re.fullmatch(r"Bearer \S+", headers["Authorization"]), headers
    path: str = url.path
    return path


def test_the_doc_has_json_blocks() -> None:
    assert len(blocks("json")) >= 5


@pytest.mark.parametrize("body", blocks("json"))
def test_every_json_block_parses(body: str) -> None:
    json.loads(body)


def test_every_configuration_points_where_the_server_answers() -> None:
    seen: set[str] = set()
    for config in json_blocks():
        for entry in server_entries(config):
            if "url" in entry:
                seen.add(check_http_entry(entry))
            elif entry["command"] == "npx":
                seen.add(check_mcp_remote_entry(entry))
            else:
                assert entry["command"] == "codifier", entry
                assert entry["args"] == STDIO_ARGS, entry
                assert isinstance(entry.get("env", {}), dict)
                seen.add("stdio")
    assert seen == {"/mcp", "/sse", "stdio", "mcp-remote"}


def check_mcp_remote_entry(entry: dict[str, Any]) -> str:
    """mcp-remote bridges a stdio-only client to `/mcp` and signs in with OAuth: no key in
    the file at all."""
    args = entry["args"]
    assert args[:2] == ["-y", "mcp-remote"], args
    url = urlsplit(args[2])
    assert (url.scheme, url.path) == ("https", "/mcp"), args
    assert "--header" not in args, entry
    assert "env" not in entry, entry
    return "mcp-remote"


def test_the_oauth_section_names_the_real_endpoints() -> None:
    """The paths the OAuth section tells people about are the server's own."""
    from codifier.oauth.issuer import RESOURCE_METADATA_PATH, SERVER_METADATA_PATH
    from codifier.oauth.routes import AUTHORIZE_PATH, REGISTER_PATH, REVOKE_PATH, TOKEN_PATH

    text = DOC.read_text(encoding="utf-8")
    for path in (
        RESOURCE_METADATA_PATH + "/mcp",
        SERVER_METADATA_PATH,
        AUTHORIZE_PATH,
        TOKEN_PATH,
        REGISTER_PATH,
        REVOKE_PATH,
    ):
        assert f"`{path}" in text or f"HOST{path}" in text, path
    assert "`api_key`" in text


def test_vs_code_prompts_for_the_key() -> None:
    (config,) = [c for c in json_blocks() if "servers" in c]
    inputs = {item["id"]: item for item in config["inputs"]}
    (entry,) = server_entries(config)
    match = re.fullmatch(r"Bearer \$\{input:([\w-]+)\}", entry["headers"]["Authorization"])
    assert match, entry["headers"]
    prompt = inputs[match.group(1)]
    assert prompt["type"] == "promptString"
    assert prompt["password"] is True


def test_no_configuration_holds_a_literal_key() -> None:
    for config in json_blocks():
        for entry in server_entries(config):
            if "headers" in entry:
                token = entry["headers"]["Authorization"].removeprefix("Bearer ")
                assert re.fullmatch(r"\$\{[\w:-]+\}", token), token


def test_claude_mcp_add_commands() -> None:
    commands = [
        line
        for body in blocks("sh")
        for line in body.splitlines()
        if line.startswith("claude mcp add")
    ]
    assert len(commands) >= 2
    for line in commands:
        words = shlex.split(line.replace("$CODIFIER_KEY", "KEY"))
        transport = words[words.index("--transport") + 1]
        url = next(w for w in words if w.startswith("https://"))
        path = urlsplit(url).path
        assert (transport, path) in (("http", "/mcp"), ("sse", "/sse")), line
        assert words[words.index("--header") + 1] == "Authorization: Bearer KEY", line
