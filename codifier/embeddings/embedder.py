"""What every embedding provider offers, and the one error they raise.

A provider turns texts into unit-length vectors. `embed_documents` and `embed_query` are
synchronous and CPU- or network-bound: callers on the event loop use `aembed_documents` /
`aembed_query`, which run them in worker threads, a batch at a time, at most
`max_concurrency` batches at once per provider.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence

import anyio
import anyio.to_thread

# Characters of one text that reach the tokenizer. Both tokenizers (ours and a server's)
# read the whole input before truncating it to the model's window, so a 4 MB memory would
# cost as much as a 4 MB tokenization; 256 tokens of any real text fit in far fewer
# characters (English averages 4-5 characters a token).
DEFAULT_MAX_CHARS = 8192


class EmbeddingError(Exception):
    """The provider could not embed: one line saying what failed and how to fix it.

    The message never contains a secret (the API key is never put into it), so it can be
    logged and shown to a client as the notice of a degraded search.
    """

    def __init__(self, message: str) -> None:
        self.message = " ".join(message.split())  # one line, whatever the parts held
        super().__init__(self.message)


class Embedder(ABC):
    """An embedding provider: `name` and `dimension` are recorded with every vector."""

    #: The model id stored with each vector: a new id means the stored vectors are stale.
    name: str
    #: Texts sent to the model in one call.
    batch_size: int
    #: Characters of a text kept before tokenizing (see DEFAULT_MAX_CHARS).
    max_chars: int

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of every vector."""

    @abstractmethod
    def _limiter(self) -> anyio.CapacityLimiter:
        """How many batches of this provider may run in worker threads at once."""

    @abstractmethod
    def _embed_batch(self, texts: list[str], *, query: bool) -> list[list[float]]:
        """Unit vectors for at most `batch_size` texts, already cut to `max_chars`."""

    def close(self) -> None:  # noqa: B027 - most providers hold nothing
        """Release what the provider holds (an HTTP client's connections)."""

    # -- synchronous: call from a worker thread, never from the event loop --------------

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text, in order (blocking)."""
        vectors: list[list[float] | None] = [None] * len(texts)
        for batch in self._batches(texts):
            self._fill(vectors, batch, self._embed_batch([t for _, t in batch], query=False))
        return _complete(vectors)

    def embed_query(self, text: str) -> list[float]:
        """The unit vector of a search query (blocking)."""
        return self._embed_batch([self._bound(text)], query=True)[0]

    # -- asynchronous: worker threads, bounded ------------------------------------------

    async def aembed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """`embed_documents` in worker threads.

        One thread call per batch rather than one for the whole list: a query waiting for
        the limiter gets its turn between two batches of a long reindex.
        """
        vectors: list[list[float] | None] = [None] * len(texts)
        for batch in self._batches(texts):
            run = functools.partial(self._embed_batch, [t for _, t in batch], query=False)
            self._fill(vectors, batch, await anyio.to_thread.run_sync(run, limiter=self._limiter()))
        return _complete(vectors)

    async def aembed_query(self, text: str) -> list[float]:
        """`embed_query` in a worker thread."""
        return await anyio.to_thread.run_sync(self.embed_query, text, limiter=self._limiter())

    async def adimension(self) -> int:
        """`dimension` in a worker thread (a remote provider may have to ask its server)."""
        return await anyio.to_thread.run_sync(lambda: self.dimension, limiter=self._limiter())

    # -- batching -----------------------------------------------------------------------

    def _bound(self, text: str) -> str:
        return text[: self.max_chars]

    def _batches(self, texts: Sequence[str]) -> list[list[tuple[int, str]]]:
        """Batches of (position, bounded text), texts of similar length together: a batch
        is padded to its longest text, so mixing lengths would waste computation."""
        bounded = [(i, self._bound(t)) for i, t in enumerate(texts)]
        bounded.sort(key=lambda item: len(item[1]))
        size = self.batch_size
        return [bounded[start : start + size] for start in range(0, len(bounded), size)]

    @staticmethod
    def _fill(
        vectors: list[list[float] | None],
        batch: list[tuple[int, str]],
        embedded: list[list[float]],
    ) -> None:
        for (position, _), vector in zip(batch, embedded, strict=True):
            vectors[position] = vector


def _complete(vectors: list[list[float] | None]) -> list[list[float]]:
    done = [v for v in vectors if v is not None]
    assert len(done) == len(vectors), "every text belongs to exactly one batch"
    return done
