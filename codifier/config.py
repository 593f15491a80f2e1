"""Settings from the environment, read once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

WATCHDOG_SECONDS = 2.0  # CODIFIER_DB_WATCHDOG_SECONDS: how often the embedded database is checked
_WATCHDOG_RANGE = (0.1, 300.0)


def whole_number(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    """The whole-number setting `name`, or `default` when unset; ValueError naming it
    when the value is not a whole number of at least `minimum`."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got '{raw[:40]}'") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


class SettingsError(ValueError):
    """A setting the environment gives cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path  # CODIFIER_HOME: the embedded database and other state live here
    database_url: str | None  # DATABASE_URL: an external PostgreSQL; else the embedded one
    admin_token: str | None  # API_AUTH_TOKEN
    host: str
    port: int
    # DATABASE_PROJECT_URL / DATABASE_ADMIN_URL: the logins an external database's
    # project-scoped and admin-scoped transactions use (docs/security.md); unset, both
    # use DATABASE_URL's user. The embedded database always uses its own login roles.
    database_project_url: str | None = None
    database_admin_url: str | None = None
    # Seconds between checks that the embedded database is alive (and restarts).
    db_watchdog_seconds: float = WATCHDOG_SECONDS
    # CODIFIER_CORS_ORIGINS: browser origins allowed to call the server (comma-separated,
    # e.g. https://app.example.com; "*" for any). Unset: no CORS, browsers are refused.
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = env.get("CODIFIER_HOME") or str(Path.home() / ".local" / "share" / "codifier")
        return cls(
            home=Path(home).expanduser(),
            database_url=env.get("DATABASE_URL") or None,
            admin_token=env.get("API_AUTH_TOKEN") or None,
            host=env.get("CODIFIER_HOST", "127.0.0.1"),
            port=int(env.get("PORT") or env.get("CODIFIER_PORT") or 8000),
            database_project_url=env.get("DATABASE_PROJECT_URL") or None,
            database_admin_url=env.get("DATABASE_ADMIN_URL") or None,
            db_watchdog_seconds=_seconds(
                env, "CODIFIER_DB_WATCHDOG_SECONDS", WATCHDOG_SECONDS, _WATCHDOG_RANGE
            ),
            cors_origins=_origins(env.get("CODIFIER_CORS_ORIGINS", "")),
        )

    def __repr__(self) -> str:  # never show secrets
        url = "set" if self.database_url else "embedded"
        token = "set" if self.admin_token else "unset"
        return f"Settings(home={self.home}, database={url}, admin_token={token})"


_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)


def _origins(raw: str) -> tuple[str, ...]:
    """Browser origins (scheme://host[:port], no path), or "*"."""
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(
                f"CODIFIER_CORS_ORIGINS holds '{origin[:80]}', which is not an origin;"
                " write scheme://host[:port] (no path), comma-separated, or *"
            )
    return origins


def _seconds(
    env: Mapping[str, str], name: str, default: float, bounds: tuple[float, float]
) -> float:
    raw = env.get(name)
    if not raw:
        return default
    low, high = bounds
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also refuses nan
        raise SettingsError(f"{name} must be a number of seconds from {low:g} to {high:g}")
    return value


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Read every setting the server takes from the environment, so that a bad value stops
    a command at start with one line naming it (SettingsError), not at first use."""
    from codifier.codemap.languages import ParseLimits
    from codifier.embeddings import EmbeddingSettings
    from codifier.export.settings import ExportSettings
    from codifier.limits import Limits
    from codifier.oauth.settings import ExternalIssuerSettings, OAuthSettings
    from codifier.packer.settings import PackSettings
    from codifier.server.bearer_guard import GuardSettings
    from codifier.server.native_settings import NativeSettings
    from codifier.server.snapshot_resources import ListingSettings
    from codifier.snapshots.settings import CodeSettings
    from codifier.sources.query_settings import QuerySettings

    readers = (
        Settings.from_env,
        Limits.from_env,
        PackSettings.from_env,
        QuerySettings.from_env,
        EmbeddingSettings.from_env,
        CodeSettings.from_env,
        ParseLimits.from_env,
        ExportSettings.from_env,
        OAuthSettings.from_env,
        ExternalIssuerSettings.from_env,
        NativeSettings.from_env,
        ListingSettings.from_env,
        GuardSettings.from_env,
    )
    for read in readers:
        try:
            read(environ)
        except ValueError as error:  # each names its variable
            raise SettingsError(str(error)) from None
