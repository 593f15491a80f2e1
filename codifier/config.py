"""Settings from the environment, read once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path  # CODIFIER_HOME: the embedded database and other state live here
    database_url: str | None  # DATABASE_URL: an external PostgreSQL; else the embedded one
    admin_token: str | None  # API_AUTH_TOKEN
    host: str
    port: int

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = env.get("CODIFIER_HOME") or str(Path.home() / ".local" / "share" / "codifier")
        return cls(
            home=Path(home).expanduser(),
            database_url=env.get("DATABASE_URL") or None,
            admin_token=env.get("API_AUTH_TOKEN") or None,
            host=env.get("CODIFIER_HOST", "127.0.0.1"),
            port=int(env.get("PORT") or env.get("CODIFIER_PORT") or 8000),
        )

    def __repr__(self) -> str:  # never show secrets
        url = "set" if self.database_url else "embedded"
        token = "set" if self.admin_token else "unset"
        return f"Settings(home={self.home}, database={url}, admin_token={token})"
