"""The limits and doors of repository packing, read from the environment.

Every value has a safe default: internal addresses refused, server tokens used for no
repository, patterns and downloads bounded. A setting may open a door, never close the
defaults' ones. Read with `PackSettings.from_env()`; a malformed value raises
SettingsError naming the variable.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


class SettingsError(ValueError):
    """A packing setting in the environment is malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class HostPort:
    """One CODIFIER_PACK_ALLOW_HOSTS entry: a host name or address, any port if None."""

    host: str
    port: int | None

    def allows(self, host: str, port: int) -> bool:
        return self.host == host.lower() and self.port in (None, port)


@dataclass(frozen=True, slots=True)
class Owner:
    """One CODIFIER_TOKEN_OWNERS entry: a host and the path prefix (owner, group,
    subgroup...) a server token may be used for; no prefix means every repository."""

    host: str
    path: tuple[str, ...]

    def covers(self, host: str, path: tuple[str, ...]) -> bool:
        # Below the prefix there must still be a repository name: "github.com/acme"
        # covers github.com/acme/app, not github.com/acme itself or github.com/acmeco/x.
        return (
            self.host == host
            and len(path) > len(self.path)
            and tuple(p.lower() for p in path[: len(self.path)]) == self.path
        )


@dataclass(frozen=True, slots=True)
class PackSettings:
    # Local paths are packed only under these folders (CODIFIER_PACK_ROOTS, like PATH).
    roots: tuple[Path, ...] = ()
    # Hosts reachable even though they resolve to internal addresses.
    allow_hosts: tuple[HostPort, ...] = ()
    # Where the server's git tokens may be used; empty: for no repository.
    token_owners: tuple[Owner, ...] = ()
    # Extra host -> environment variable holding that host's token (CODIFIER_TOKEN_HOSTS).
    token_hosts: tuple[tuple[str, str], ...] = ()
    max_patterns: int = 64  # include + exclude patterns of one pack
    max_pattern_chars: int = 256  # characters of one pattern
    max_file_bytes: int = 512 * KIB  # a larger file is skipped, and never downloaded
    max_total_bytes: int = 50 * MIB  # file bytes in one pack; the rest is skipped
    max_files: int = 20_000  # files in one pack; the rest is skipped
    disk_bytes: int = 1 * GIB  # a pack's working folder (the clone) may not grow past this
    timeout_seconds: float = 600  # a clone or a listing is stopped after this long
    concurrency: int = 4  # packs running at once in one server process
    workdir: Path = Path(tempfile.gettempdir()) / "codifier-packs"
    project_snapshot_bytes: int = 1 * GIB  # stored snapshot text of one project

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PackSettings:
        env = os.environ if environ is None else environ
        home = env.get("CODIFIER_HOME") or str(Path.home() / ".local" / "share" / "codifier")
        workdir = env.get("CODIFIER_PACK_WORKDIR") or str(Path(home).expanduser() / "packs")
        defaults = cls()
        return cls(
            roots=tuple(
                Path(root).expanduser()
                for root in env.get("CODIFIER_PACK_ROOTS", "").split(os.pathsep)
                if root
            ),
            allow_hosts=_allow_hosts(env.get("CODIFIER_PACK_ALLOW_HOSTS", "")),
            token_owners=_owners(env.get("CODIFIER_TOKEN_OWNERS", "")),
            token_hosts=_token_hosts(env.get("CODIFIER_TOKEN_HOSTS", "")),
            max_patterns=_int(env, "CODIFIER_PACK_MAX_PATTERNS", defaults.max_patterns, 0),
            max_pattern_chars=_int(
                env, "CODIFIER_PACK_MAX_PATTERN_CHARS", defaults.max_pattern_chars, 1
            ),
            max_file_bytes=_int(env, "CODIFIER_PACK_MAX_FILE_BYTES", defaults.max_file_bytes, 1),
            max_total_bytes=_int(env, "CODIFIER_PACK_MAX_TOTAL_BYTES", defaults.max_total_bytes, 1),
            max_files=_int(env, "CODIFIER_PACK_MAX_FILES", defaults.max_files, 1),
            disk_bytes=_int(env, "CODIFIER_PACK_DISK_BYTES", defaults.disk_bytes, MIB),
            timeout_seconds=float(
                _int(env, "CODIFIER_PACK_TIMEOUT", int(defaults.timeout_seconds), 1)
            ),
            concurrency=_int(env, "CODIFIER_PACK_CONCURRENCY", defaults.concurrency, 1),
            workdir=Path(workdir).expanduser(),
            project_snapshot_bytes=_int(
                env, "CODIFIER_PROJECT_SNAPSHOT_BYTES", defaults.project_snapshot_bytes, 0
            ),
        )


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _entries(raw: str) -> list[str]:
    return [entry.strip() for entry in raw.split(",") if entry.strip()]


def _allow_hosts(raw: str) -> tuple[HostPort, ...]:
    hosts: list[HostPort] = []
    for entry in _entries(raw):
        host, port = entry.lower(), None
        if host.startswith("["):  # [v6]:port or [v6]
            inside, _, rest = host[1:].partition("]")
            host = inside
            if rest.startswith(":"):
                port = _port(rest[1:], entry)
        elif host.count(":") == 1:  # name:port or v4:port; a bare v6 has several colons
            host, _, text = host.partition(":")
            port = _port(text, entry)
        if not host or "/" in host:
            raise SettingsError(f"CODIFIER_PACK_ALLOW_HOSTS: {entry!r} is not host or host:port")
        hosts.append(HostPort(host, port))
    return tuple(hosts)


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(f"CODIFIER_PACK_ALLOW_HOSTS: {entry!r} has no valid port")
    return int(text)


def _owners(raw: str) -> tuple[Owner, ...]:
    owners: list[Owner] = []
    for entry in _entries(raw):
        host, *path = [part for part in entry.lower().strip("/").split("/") if part]
        if ":" in host or "@" in host or any(part in (".", "..") for part in path):
            raise SettingsError(f"CODIFIER_TOKEN_OWNERS: {entry!r} is not host[/owner[/group...]]")
        owners.append(Owner(host, tuple(path)))
    return tuple(owners)


def _token_hosts(raw: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for entry in _entries(raw):
        host, sep, variable = entry.partition("=")
        if not sep or not host.strip() or not variable.strip().isidentifier():
            raise SettingsError(f"CODIFIER_TOKEN_HOSTS: {entry!r} is not host=ENVIRONMENT_VARIABLE")
        pairs.append((host.strip().lower(), variable.strip()))
    return tuple(pairs)
