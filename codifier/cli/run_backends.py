"""Where `codifier run` runs a playbook: the local database (the same services the server
uses, in this process), or a remote server over MCP (`--url`, a key from CODIFIER_KEY).

Both answer the same four calls with the step results of the MCP surface; a refusal is
`RunRefused` with the server's one-line `[code] sentence`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol, TextIO

from codifier.cli.check import UsageError

# A server-side step (cloning and packing a large repository) may take minutes; a call
# that hears nothing for this long is given up (the session stays where the server has it).
REMOTE_READ_SECONDS = 900.0
REMOTE_CONNECT_SECONDS = 15.0
KEY_VARIABLE = "CODIFIER_KEY"


class RunRefused(Exception):
    """The server refused a call: `message` is its `[code] sentence`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Backend(Protocol):
    async def start(
        self, playbook: str, project: str | None, inputs: dict[str, Any], local: Any
    ) -> dict[str, Any]: ...

    async def get(self, session_id: str) -> dict[str, Any]: ...

    async def advance(self, session_id: str, step_id: str, answer: Any) -> dict[str, Any]: ...

    async def write_digests(self) -> None: ...


class LocalBackend:
    """The store the server uses (DATABASE_URL, or the embedded PostgreSQL), as the admin."""

    def __init__(self, services: Any, workdir: Path, out: TextIO) -> None:
        self.services = services
        self.workdir = workdir
        self.out = out
        self.digests: _Digests | None = None

    async def _call(self, work: Any) -> dict[str, Any]:
        from codifier.server.errors import CallError

        try:
            result: dict[str, Any] = await work
        except CallError as error:
            raise RunRefused(error.message) from None
        return result

    async def _project(self, name: str) -> str:
        from codifier.server.principal import ADMIN_PRINCIPAL

        projects = self.services.projects
        listed = await self._call(projects.manage(ADMIN_PRINCIPAL, "list", None, None, None))
        for project in listed["projects"]:
            if project["name"] == name:
                return str(project["id"])
        created = await self._call(projects.manage(ADMIN_PRINCIPAL, "create", name, "", None))
        return str(created["project"]["id"])

    async def _watch(self, project: str) -> None:
        self.digests = _Digests(self.services, project, self.workdir, self.out)
        await self.digests.note_existing()

    async def start(
        self, playbook: str, project: str | None, inputs: dict[str, Any], local: Any
    ) -> dict[str, Any]:
        from codifier.server.principal import ADMIN_PRINCIPAL

        if project is None:
            raise UsageError("give --project NAME (the local database has no default project)")
        project_id = await self._project(project)
        await self._watch(project_id)
        runs = self.services.runs
        return await self._call(
            runs.start(ADMIN_PRINCIPAL, playbook, project_id, None, inputs, local=local)
        )

    async def get(self, session_id: str) -> dict[str, Any]:
        from codifier.server.principal import ADMIN_PRINCIPAL

        result = await self._call(self.services.runs.get(ADMIN_PRINCIPAL, session_id))
        if self.digests is None:
            await self._watch(str(result["project_id"]))
        return result

    async def advance(self, session_id: str, step_id: str, answer: Any) -> dict[str, Any]:
        from codifier.server.principal import ADMIN_PRINCIPAL

        runs = self.services.runs
        return await self._call(runs.advance(ADMIN_PRINCIPAL, session_id, step_id, answer))

    async def write_digests(self) -> None:
        if self.digests is not None:
            await self.digests.write_new()


@contextlib.asynccontextmanager
async def local_backend(workdir: Path, out: TextIO) -> AsyncIterator[LocalBackend]:
    from codifier.config import Settings
    from codifier.server.app import open_services

    db, services = await open_services(Settings.from_env())
    try:
        yield LocalBackend(services, workdir, out)
    finally:
        await services.close()
        await db.close()


class _Digests:
    """The digests of the snapshots this run packs, each written beside the prompt files
    (the prompts include them too): a model or a person can open them on their own."""

    def __init__(self, services: Any, project: str, workdir: Path, out: TextIO) -> None:
        self.services = services
        self.project = project
        self.workdir = workdir
        self.out = out
        self.seen: set[str] = set()

    async def _snapshots(self) -> list[dict[str, Any]]:
        from codifier.server.principal import ADMIN_PRINCIPAL

        listing = await self.services.code.listing(ADMIN_PRINCIPAL, self.project, None, 100, 0)
        snapshots: list[dict[str, Any]] = listing["snapshots"]
        return snapshots

    async def note_existing(self) -> None:
        self.seen = {snap["snapshot_id"] for snap in await self._snapshots()}

    async def write_new(self) -> None:
        from codifier.server.principal import ADMIN_PRINCIPAL

        for snap in reversed(await self._snapshots()):
            if snap["snapshot_id"] in self.seen:
                continue
            self.seen.add(snap["snapshot_id"])
            text = await self.services.code.digest(ADMIN_PRINCIPAL, snap["snapshot_id"])
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", snap["url"].rstrip("/").rsplit("/", 1)[-1])
            path = self.workdir / f"digest-{name.strip('-.') or 'repository'}-v{snap['version']}.md"
            path.write_text(text, encoding="utf-8")
            self.out.write(f"  digest of {snap['url']} (v{snap['version']}) written to {path}\n")


class RemoteBackend:
    """A Codifier server over MCP (Streamable HTTP): run_playbook, get_session and
    advance_step, with the key as a bearer token."""

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url

    async def _tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            result = await self.client.call_tool(name, arguments)
        except Exception as error:  # the connection or the protocol, not a refusal
            raise UsageError(f"{name} on {self.url} failed: {_reason(error)}") from None
        if result.is_error:
            text = " ".join(getattr(c, "text", "") for c in result.content).strip()
            raise RunRefused(text or f"[error] {name} failed on {self.url}")
        if result.structured_content is None:
            raise RunRefused(f"[protocol] {self.url} answered {name} without structured content")
        return dict(result.structured_content)

    async def start(
        self, playbook: str, project: str | None, inputs: dict[str, Any], local: Any
    ) -> dict[str, Any]:
        arguments: dict[str, Any] = {"playbook_id": playbook, "inputs": inputs}
        if project is not None:
            arguments["project_name"] = project
        return await self._tool("run_playbook", arguments)

    async def get(self, session_id: str) -> dict[str, Any]:
        return await self._tool("get_session", {"session_id": session_id})

    async def advance(self, session_id: str, step_id: str, answer: Any) -> dict[str, Any]:
        arguments = {"session_id": session_id, "step_id": step_id, "input": answer}
        return await self._tool("advance_step", arguments)

    async def write_digests(self) -> None:
        return None  # the generate prompts carry each digest inline


def mcp_endpoint(url: str) -> str:
    """The Streamable HTTP endpoint of a server given by its base URL (or the endpoint)."""
    if not re.match(r"^https?://[^/\s]+", url):
        raise UsageError(f"--url takes the server's http(s):// address, got '{url}'")
    trimmed = url.rstrip("/")
    return trimmed if trimmed.endswith("/mcp") else f"{trimmed}/mcp"


@contextlib.asynccontextmanager
async def remote_backend(url: str, key: str) -> AsyncIterator[RemoteBackend]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    endpoint = mcp_endpoint(url)
    timeout = httpx2.Timeout(REMOTE_READ_SECONDS, connect=REMOTE_CONNECT_SECONDS)
    refusals: list[int] = []

    async def note_refusal(response: Any) -> None:
        # The MCP client reports any HTTP error as one generic JSON-RPC error; the status
        # says whether the key was the reason.
        if response.status_code in (401, 403):
            refusals.append(response.status_code)

    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {key}"},
        timeout=timeout,
        event_hooks={"response": [note_refusal]},
    )
    client = Client(streamable_http_client(endpoint, http_client=http))
    try:
        async with http, client:
            yield RemoteBackend(client, endpoint)
    except RunRefused:
        raise
    except UsageError:
        raise
    except Exception as error:  # connection, HTTP status, protocol: one line, no traceback
        reason = (
            f"the server refused the key (HTTP {refusals[0]}); check {KEY_VARIABLE}"
            if refusals
            else _reason(error)
        )
        raise UsageError(f"cannot run against {endpoint}: {reason}") from None


def _reason(error: BaseException) -> str:
    """The innermost meaningful message of an error (task groups wrap them in groups)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status == 401:
        return f"the server refused the key (401); check {KEY_VARIABLE}"
    if status is not None:
        return f"the server answered HTTP {status}"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
