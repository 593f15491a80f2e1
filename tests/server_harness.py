"""Codifier servers as separate processes, and MCP clients that talk to them over real
HTTP, SSE or stdio."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(
    home: Path, token: str | None = ADMIN_TOKEN, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a test server: this one, minus the deployment's database and
    token, plus `extra` (a test's own settings)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "API_AUTH_TOKEN")}
    env["CODIFIER_HOME"] = str(home)
    if token:
        env["API_AUTH_TOKEN"] = token
    env.update(extra or {})
    return env


class ServerProcess:
    """`codifier serve` on a free loopback port, in its own process."""

    def __init__(
        self, home: Path, token: str | None = ADMIN_TOKEN, extra: dict[str, str] | None = None
    ) -> None:
        self.home = home
        self.token = token
        self.extra = extra
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        home_log = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codifier.cli.main", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=server_env(self.home, self.token, self.extra),
            stdout=home_log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            if self.health()[0] == 200:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log.read_text()}")

    def health(self) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()


def stop_embedded_postgres(home: Path) -> None:
    """Stop a PostgreSQL a killed server left running (its postmaster.pid names it)."""
    pid_file = home / "pgdata" / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)  # fast shutdown: ends open sessions too
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)


@contextlib.contextmanager
def running(
    home: Path, token: str | None = ADMIN_TOKEN, extra: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    server = ServerProcess(home, token, extra).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class HealthPoll:
    """What `polling_health` saw: each /health answer's status and seconds."""

    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


@contextlib.contextmanager
def polling_health(server: ServerProcess, interval: float = 0.02) -> Iterator[HealthPoll]:
    """Ask /health every `interval` seconds in a thread while the block runs (at least
    once), to show that work the block triggers never stalls the server."""
    poll = HealthPoll()
    done = threading.Event()

    def run() -> None:
        while not done.is_set() or not poll.latencies:
            started = time.monotonic()
            status, _ = server.health()
            poll.latencies.append(time.monotonic() - started)
            poll.statuses.append(status)
            time.sleep(interval)

    poller = threading.Thread(target=run, daemon=True)
    poller.start()
    try:
        yield poll
    finally:
        done.set()
        poller.join()


def http_client(
    url: str, token: str | None, mode: str = "auto", timeout: float | None = None
) -> Client:
    """`timeout`: seconds to wait for a response (httpx's default of 5 when None)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = (
        httpx2.AsyncClient(headers=headers)
        if timeout is None
        else httpx2.AsyncClient(headers=headers, timeout=timeout)
    )
    transport = streamable_http_client(f"{url}/mcp", http_client=client)
    return Client(transport, mode=mode)


def sse_mcp_client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(sse_client(f"{url}/sse", headers=headers), mode="legacy")


def stdio_client(home: Path) -> Client:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "codifier.cli.main", "serve", "--transport", "stdio"],
        env=server_env(home, None),
        cwd=str(ROOT),
    )
    return Client(params)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured result; a tool error raises ToolCallFailed with its text."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        raise ToolCallFailed(text)
    assert result.structured_content is not None
    return dict(result.structured_content)


class ToolCallFailed(Exception):
    pass


# An evals artifact that fits the evals template's declared schema (its output is yaml).
EVALS_YAML = (
    'evals:\n  - id: E1\n    rule: R1\n    title: "Amounts are integer cents"\n'
    '    pass: ["rg -n float src/billing/ finds no matches"]\n'
    '    fail: ["a float amount in src/billing/"]\n    how_to_check: grep\n'
)


def scripted_llm(step_id: str, prompt: str) -> str:
    """Stands in for the client's LLM: a deterministic artifact per generate request,
    shaped like what the prompt asks for."""
    if "sql" in prompt.lower() and step_id == "queries":
        return "### Q1: Orders per customer\n```sql\nSELECT count(*) AS n FROM orders\n```\n"
    if step_id == "evals":  # fenced, as models answer
        return f"```yaml\n{EVALS_YAML}```\n"
    return (
        f"# {step_id}\n\nArtifact for {step_id}, written from a {len(prompt)}-character prompt.\n"
    )


async def drive(
    client: Client,
    result: dict[str, Any],
    answers: dict[str, Any],
    llm: Callable[[str, str], str] = scripted_llm,
    stop_at: str | None = None,
) -> dict[str, Any]:
    """Answer steps until the run completes (or reaches `stop_at`)."""
    while result["status"] in ("awaiting_input", "awaiting_generation"):
        step = result["step"]["id"]
        if step == stop_at:
            return result
        if result["status"] == "awaiting_input":
            answer = answers[step]
        else:
            answer = llm(step, result["generate_request"]["prompt"])
        result = await call(
            client, "advance_step", session_id=result["session_id"], step_id=step, input=answer
        )
    return result


INIT_ANSWERS = {
    "project_name": "acme-billing",
    "description": "Billing for Acme's SaaS: invoices, card payments, a REST API.",
    "statement_of_work": "Add credit notes and refunds through Stripe.",
    "repositories": [],
}


@contextlib.asynccontextmanager
async def connected(client: Client) -> AsyncIterator[Client]:
    async with client:
        yield client
