"""Which embedding provider runs, from the environment (read once at start)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast, get_args
from urllib.parse import urlsplit

from codifier.embeddings.embedder import DEFAULT_MAX_CHARS

Provider = Literal["local", "openai", "off"]
PROVIDERS: tuple[str, ...] = get_args(Provider)

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_DIMENSION = 16_000  # pgvector's `vector` type stores at most 16,000 dimensions


@dataclass(frozen=True, slots=True)
class EmbeddingSettings:
    """CODIFIER_EMBEDDING_* settings; `api_key` is never shown by repr."""

    provider: Provider = "local"  # CODIFIER_EMBEDDING_PROVIDER
    max_chars: int = DEFAULT_MAX_CHARS  # CODIFIER_EMBEDDING_MAX_CHARS
    # The openai provider only:
    url: str | None = None  # CODIFIER_EMBEDDING_URL, e.g. https://api.openai.com/v1
    model: str | None = None  # CODIFIER_EMBEDDING_MODEL
    api_key: str | None = field(default=None, repr=False)  # CODIFIER_EMBEDDING_API_KEY
    dimension: int | None = None  # CODIFIER_EMBEDDING_DIMENSION; else the first answer's
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS  # CODIFIER_EMBEDDING_TIMEOUT
    query_prefix: str = ""  # CODIFIER_EMBEDDING_QUERY_PREFIX (e5: "query: ")
    document_prefix: str = ""  # CODIFIER_EMBEDDING_DOCUMENT_PREFIX (e5: "passage: ")
    # CODIFIER_EMBEDDING_ALLOW_HTTP=1: send the key over plain http to a non-loopback host.
    allow_http: bool = False

    @property
    def enabled(self) -> bool:
        """False for `off`: no vectors are made, search is text-only."""
        return self.provider != "off"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmbeddingSettings:
        """Read and check the settings; a wrong one raises ValueError naming the variable."""
        env = os.environ if environ is None else environ
        provider = (env.get("CODIFIER_EMBEDDING_PROVIDER") or "local").strip().lower()
        if provider not in PROVIDERS:
            raise ValueError(
                f"CODIFIER_EMBEDDING_PROVIDER is {provider!r}; use one of {', '.join(PROVIDERS)}"
            )
        settings = cls(
            provider=cast(Provider, provider),  # checked against PROVIDERS above
            max_chars=_int(env, "CODIFIER_EMBEDDING_MAX_CHARS", DEFAULT_MAX_CHARS, 256, 1_000_000),
            url=(env.get("CODIFIER_EMBEDDING_URL") or "").strip() or None,
            model=(env.get("CODIFIER_EMBEDDING_MODEL") or "").strip() or None,
            api_key=env.get("CODIFIER_EMBEDDING_API_KEY") or None,
            dimension=_optional_int(env, "CODIFIER_EMBEDDING_DIMENSION", 1, MAX_DIMENSION),
            timeout_seconds=_float(
                env, "CODIFIER_EMBEDDING_TIMEOUT", DEFAULT_TIMEOUT_SECONDS, 0.1, 600.0
            ),
            query_prefix=env.get("CODIFIER_EMBEDDING_QUERY_PREFIX", ""),
            document_prefix=env.get("CODIFIER_EMBEDDING_DOCUMENT_PREFIX", ""),
            allow_http=env.get("CODIFIER_EMBEDDING_ALLOW_HTTP", "").strip() == "1",
        )
        if settings.provider == "openai":
            settings.check_openai()
        return settings

    def check_openai(self) -> None:
        """The openai provider needs a usable URL and a model name."""
        if not self.url:
            raise ValueError(
                "CODIFIER_EMBEDDING_PROVIDER=openai needs CODIFIER_EMBEDDING_URL, the base URL "
                "of an OpenAI-compatible server (e.g. https://api.openai.com/v1)"
            )
        if not self.model:
            raise ValueError(
                "CODIFIER_EMBEDDING_PROVIDER=openai needs CODIFIER_EMBEDDING_MODEL, the model "
                "name the server expects (e.g. text-embedding-3-small)"
            )
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "CODIFIER_EMBEDDING_URL must be an http:// or https:// URL with a host"
            )
        if parts.username or parts.password:
            raise ValueError(
                "CODIFIER_EMBEDDING_URL must not hold credentials; "
                "put the key in CODIFIER_EMBEDDING_API_KEY"
            )
        insecure = parts.scheme == "http" and not _is_loopback(parts.hostname)
        if insecure and self.api_key and not self.allow_http:
            raise ValueError(
                "CODIFIER_EMBEDDING_URL uses plain http to another host, which would send "
                "CODIFIER_EMBEDDING_API_KEY unencrypted; use https, or set "
                "CODIFIER_EMBEDDING_ALLOW_HTTP=1 on a network you trust"
            )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _optional_int(env, name, low, high)
    return default if value is None else value


def _optional_int(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} is {raw!r}; use a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{name} is {value}; use a number from {low} to {high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} is {raw!r}; use a number of seconds") from None
    if not low <= value <= high:
        raise ValueError(f"{name} is {value:g}; use a number of seconds from {low:g} to {high:g}")
    return value
