"""Embedding providers: texts to unit vectors for semantic search.

`make_embedder(EmbeddingSettings.from_env())` gives the configured provider (the offline
local model by default) or None when embeddings are off.
"""

from codifier.embeddings.embedder import Embedder, EmbeddingError
from codifier.embeddings.provider import make_embedder
from codifier.embeddings.settings import EmbeddingSettings, Provider

__all__ = ["Embedder", "EmbeddingError", "EmbeddingSettings", "Provider", "make_embedder"]
