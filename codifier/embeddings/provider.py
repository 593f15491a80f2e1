"""The embedder the settings ask for: local, openai, or none at all."""

from __future__ import annotations

from codifier.embeddings.embedder import Embedder
from codifier.embeddings.settings import EmbeddingSettings


def make_embedder(settings: EmbeddingSettings) -> Embedder | None:
    """The configured provider, or None for `off` (then search is text-only).

    Nothing is loaded or contacted here: the local model loads on its first text, a remote
    server is first asked with the first text (or for `dimension`, if not configured).
    """
    if settings.provider == "off":
        return None
    if settings.provider == "openai":
        from codifier.embeddings.openai_compatible import OpenAICompatibleEmbedder

        return OpenAICompatibleEmbedder(settings)
    from codifier.embeddings.local import LocalEmbedder

    return LocalEmbedder(max_chars=settings.max_chars)
