"""Benchmark: packing a large repository (generated, or real beside Node repomix).

    .venv/bin/python bench/pack.py [--files 3000] [--mb 40] [--seed 7] [--rounds 3]

The repository is generated, not a real project: deterministic from the seed, in a temp
directory, committed with git. About 3,000 source-like files (Python, TypeScript, Go,
Rust, Markdown, JSON, YAML: identifiers, docstrings, comments, numbers, nested blocks),
~40 MB in all, plus what a real checkout has around them: a .gitignore with an ignored
build/ and node_modules/, and a few PNG files (skipped as binary). Nothing is larger than
the per-file limit, so every text file is read, scanned for secrets and token-counted.

Times `pack()` end to end on one core (listing, reading, decoding, secret scan, token
counting with o200k_base, rendering), best of a few rounds, first inside the git work
tree, then with `.git` moved away so the pathspec walk lists the files. The one-off
encoding load (~0.3 s per process) is timed separately. MB are 10^6 bytes of packed
file content. Target: >= 10 MB/s. `--quick`: 200 files, 2 MB, one round (the smoke test).

    .venv/bin/python bench/pack.py --real [--repo django|jinja2] [--rounds 3] [--quick]

A real repository against Node repomix, in the same run: Django 5.1.4's PyPI sdist made
into a git repository (tests/real_repos.py; about 5,400 packed files, 35 MB, 8.8 M
tokens), copied into a temp folder first so nothing writes into the cache. Each round
times, one after the other (so a busy machine slows them alike), and the best of the
rounds is kept:

a. Node repomix (npm `repomix`, pinned to REPOMIX_VERSION, installed once with
   `npm install --prefix ~/.cache/codifier-bench/repomix/<version>`; CODIFIER_BENCH_CACHE
   moves that folder). Options for comparable work: Markdown output written to a temp
   file (`--style markdown -o FILE`), its default token counting named
   (`--token-count-encoding o200k_base`), its security check on (the default),
   `--top-files-len 10` (Codifier reports ten), `--no-git-sort-by-changes` (Codifier
   reads no history; skipping it only makes repomix faster). Its persistent token-count
   cache is off (REPOMIX_TOKEN_CACHE=0, TMPDIR in the run's temp folder): a warm cache
   skips tokenizing the files it has seen, which Codifier always does; a warm run is
   printed as information only. repomix makes no network call for a local folder: no
   update check; its only fetch is --remote's archive download, not used here.
b. Codifier's `pack_repo` over HTTP, end to end as a client sees it: a real server
   (`codifier serve` in its own process, embedded PostgreSQL, CODIFIER_PACK_ROOTS set
   to the temp folder) packs the local path and stores the snapshot, its index and its
   digest before it answers. One untimed pack of a one-file folder first: the server
   loads its token encoding once per process. The server embeds code chunks in the
   background after it answers; the bench waits for that to settle before the next
   measurement, so it competes with none (its time is printed, not judged).
c. In process: `codifier.packer.pack(path)`; `codifier.codemap.digest.build_digest(
   result, 8000)`; the index as pack_repo makes it (`codifier.snapshots.packing`'s
   `index_rows`, the file index, and `text_layout`, the read and search layout), each
   when it exists.

Targets: b/a <= 0.6; (digest + index)/pack <= 0.30, with the in-process times (before
the digest and index exist: on (b - pack)/pack, an upper bound that also holds storing
the text and the HTTP call; printed in any case).
`--real --quick`: Jinja2 3.1.4 (90 files), one round (the smoke test). `--json FILE`
writes the figures too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import importlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcp import Client  # noqa: E402

from codifier.packer import PackResult, pack  # noqa: E402
from codifier.packer.tokens import count_tokens  # noqa: E402
from tests.real_repos import DJANGO, JINJA2, repository  # noqa: E402
from tests.server_harness import (  # noqa: E402
    ADMIN_TOKEN,
    ServerProcess,
    call,
    http_client,
    stop_embedded_postgres,
)

TARGET_MB_S = 10.0


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words(
    "account address amount append batch buffer cache channel check client config connect "
    "context count cursor data decode default delete detail digest encode entry error "
    "event expire fetch field filter format handler header index input item key limit "
    "listen load lock merge message method metric model name node offset option order "
    "output owner page parse path payload policy pool prefix query queue range reader "
    "record region request resolve response result retry route row schema scope score "
    "select session shard signal size source state status stream table target task tenant "
    "token total trace update user value version window worker writer"
)
SENTENCE = _words(
    "the of to and a in is it that for on with as this be are by from at or an if when "
    "each every returns value only before after unless while must may never always"
)
KINDS = [
    (".py", 40),
    (".ts", 20),
    (".go", 14),
    (".rs", 6),
    (".md", 10),
    (".json", 5),
    (".yaml", 5),
]


class Source:
    """Source-like text in several languages, from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def ident(self, parts: int = 2) -> str:
        return "_".join(self.rng.choice(WORDS) for _ in range(parts))

    def camel(self) -> str:
        first, second = self.rng.choice(WORDS), self.rng.choice(WORDS)
        return first + second.capitalize()

    def sentence(self) -> str:
        words = [self.rng.choice(SENTENCE if i % 2 else WORDS) for i in range(8)]
        return " ".join(words).capitalize() + "."

    def python(self) -> str:
        name, arg, var = self.ident(), self.ident(1), self.ident()
        n = self.rng.randint(1, 999)
        return (
            f"def {name}({arg}: int, {self.ident(1)}: str = {self.ident(1)!r}) -> dict:\n"
            f'    """{self.sentence()}\n\n    {self.sentence()}\n    """\n'
            f"    {var} = {{{self.ident(1)!r}: {arg} * {n}, {self.ident(1)!r}: []}}\n"
            f"    for {self.ident(1)} in range({arg}):\n"
            f"        if {arg} % {n} == 0:  # {self.sentence().lower()}\n"
            f"            {var}[{self.ident(1)!r}] = {self.ident()}({arg}, {n})\n"
            f"        elif {arg} > {n * 3}:\n"
            f'            raise ValueError(f"{self.ident(1)} {{{arg}}} out of range")\n'
            f"    return {var}\n\n\n"
        )

    def typescript(self) -> str:
        name, arg, var = self.camel(), self.camel(), self.camel()
        n = self.rng.randint(1, 999)
        return (
            f"/** {self.sentence()} */\n"
            f"export async function {name}({arg}: number, opts?: {self.camel().capitalize()}):"
            f" Promise<Record<string, number>> {{\n"
            f"  const {var}: Record<string, number> = {{ {self.camel()}: {arg} * {n} }};\n"
            f"  for (let i = 0; i < {arg}; i++) {{\n"
            f"    if (i % {n} === 0) {{\n"
            f"      {var}[`{self.camel()}-${{i}}`] = await {self.camel()}(i, opts);\n"
            f"    }}\n  }}\n  return {var};\n}}\n\n"
        )

    def go(self) -> str:
        name, arg, var = self.camel().capitalize(), self.camel(), self.camel()
        n = self.rng.randint(1, 999)
        return (
            f"// {name} {self.sentence().lower()}\n"
            f"func {name}(ctx context.Context, {arg} int) (map[string]int, error) {{\n"
            f"\t{var} := make(map[string]int, {n})\n"
            f"\tfor i := 0; i < {arg}; i++ {{\n"
            f"\t\tif err := {self.camel()}(ctx, i); err != nil {{\n"
            f'\t\t\treturn nil, fmt.Errorf("{self.ident(1)} %d: %w", i, err)\n'
            f"\t\t}}\n\t\t{var}[strconv.Itoa(i)] = i * {n}\n\t}}\n\treturn {var}, nil\n}}\n\n"
        )

    def rust(self) -> str:
        name, arg = self.ident(), self.ident(1)
        n = self.rng.randint(1, 999)
        return (
            f"/// {self.sentence()}\n"
            f"pub fn {name}({arg}: u64) -> Result<Vec<u64>, Error> {{\n"
            f"    let mut out = Vec::with_capacity({n});\n"
            f"    for i in 0..{arg} {{\n"
            f"        if i % {n} == 0 {{ out.push(i * {n}); }}\n"
            f"    }}\n    Ok(out)\n}}\n\n"
        )

    def markdown(self) -> str:
        items = "".join(f"- `{self.ident()}`: {self.sentence()}\n" for _ in range(4))
        return f"## {self.sentence()[:-1]}\n\n{self.sentence()} {self.sentence()}\n\n{items}\n"

    def json(self) -> str:
        n = self.rng.randint(1, 99999)
        return (
            f'  "{self.ident()}": {{"{self.ident(1)}": {n}, "{self.ident(1)}": '
            f'"{self.sentence()}", "enabled": {str(n % 2 == 0).lower()}}},\n'
        )

    def yaml(self) -> str:
        return (
            f"{self.ident()}:\n  {self.ident(1)}: {self.rng.randint(1, 9999)}\n"
            f"  description: {self.sentence()}\n  tags: [{self.ident(1)}, {self.ident(1)}]\n"
        )

    def file(self, kind: str, size: int) -> str:
        block: Callable[[], str] = {
            ".py": self.python,
            ".ts": self.typescript,
            ".go": self.go,
            ".rs": self.rust,
            ".md": self.markdown,
            ".json": self.json,
            ".yaml": self.yaml,
        }[kind]
        head = {
            ".py": f'"""{self.sentence()}"""\n\nfrom __future__ import annotations\n\n',
            ".go": 'package main\n\nimport (\n\t"context"\n\t"fmt"\n\t"strconv"\n)\n\n',
            ".json": "{\n",
        }.get(kind, "")
        parts, length = [head], len(head)
        while length < size:
            part = block()
            parts.append(part)
            length += len(part)
        if kind == ".json":
            parts.append('  "end": true\n}\n')
        return "".join(parts)


def generate(root: Path, files: int, total_mb: float, seed: int) -> None:
    rng = random.Random(seed)
    source = Source(rng)
    weights = [rng.lognormvariate(0, 1) for _ in range(files)]
    scale = total_mb * 1_000_000 / sum(weights)
    dirs = ["/".join(source.ident(1) for _ in range(rng.randint(1, 4))) for _ in range(files // 12)]
    exts, ext_weights = zip(*KINDS, strict=True)
    for index, weight in enumerate(weights):
        kind = rng.choices(exts, ext_weights)[0]
        path = root / rng.choice(dirs) / f"{source.ident()}_{index}{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = min(int(weight * scale), 400_000)  # under the 512 KiB per-file limit
        path.write_text(source.file(kind, size), encoding="utf-8")
    (root / ".gitignore").write_text("/build/\nnode_modules/\n*.pyc\n")
    for index in range(40):  # ignored: must not be read at all
        for folder in ("build", "node_modules/pkg"):
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / f"out_{index}.js").write_text(source.typescript() * 50)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(4000)
    for index in range(30):
        (root / rng.choice(dirs) / f"icon_{index}.png").write_bytes(png)


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


def timed(rounds: int, root: Path) -> tuple[float, PackResult]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = pack(root)
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def report(label: str, seconds: float, result: PackResult) -> dict[str, Any]:
    mb = sum(f.bytes for f in result.files) / 1_000_000
    rate = mb / seconds
    print(
        f"{label:<16} {result.file_count:>6} {len(result.skipped):>8} {mb:>8.1f} "
        f"{result.token_count:>11,} {seconds:>8.2f} {rate:>7.1f}"
    )
    return {
        "files": result.file_count,
        "skipped": len(result.skipped),
        "mb": mb,
        "tokens": result.token_count,
        "seconds": seconds,
        "mb_per_s": rate,
    }


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    files, mb, rounds = (200, 2.0, 1) if args.quick else (args.files, args.mb, args.rounds)
    with tempfile.TemporaryDirectory(prefix="codifier-bench-pack-") as tmp:
        root = Path(tmp) / "repo"
        start = time.perf_counter()
        generate(root, files, mb, args.seed)
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "generated")
        print(f"generated repository (seed {args.seed}) in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        count_tokens("")  # builds the cached encoding
        print(f"encoding load (once per process): {time.perf_counter() - start:.2f} s")
        print(f"best of {rounds} rounds; target >= {TARGET_MB_S:g} MB/s")
        print(f"{'listing':<16} {'files':>6} {'skipped':>8} {'MB':>8} {'tokens':>11} "
              f"{'wall s':>8} {'MB/s':>7}")  # fmt: skip
        listings = {"git": report("git ls-files", *timed(rounds, root))}
        # Same tree without .git: the pathspec walk decides what is ignored.
        (root / ".git").rename(Path(tmp) / "git-dir")
        listings["pathspec"] = report("pathspec walk", *timed(rounds, root))

    worst = min(listing["mb_per_s"] for listing in listings.values())
    verdict = "meets" if worst >= TARGET_MB_S else "MISSES"
    print(f"slowest {worst:.1f} MB/s: {verdict} the target")
    return {"listings": listings, "meets": worst >= TARGET_MB_S}


# --- --real: a real repository, Node repomix and the server's pack_repo ------------------

REPOMIX_VERSION = "1.18.1"
REPOMIX_FLAGS = (
    "--style", "markdown",
    "--token-count-encoding", "o200k_base",
    "--top-files-len", "10",
    "--no-git-sort-by-changes",
)  # fmt: skip
TARGET_RATIO = 0.6  # pack_repo / repomix
TARGET_SHARE = 0.30  # (digest + index) / pack
DIGEST_TOKENS = 8000
REPOSITORIES = {"django": DJANGO, "jinja2": JINJA2}
SEMANTIC_SETTLED = {"complete", "partial", "off", "failed", "none"}


class BenchSetupError(RuntimeError):
    """Something the bench needs is missing; the message says how to get it."""


def bench_cache() -> Path:
    root = os.environ.get("CODIFIER_BENCH_CACHE") or str(Path.home() / ".cache" / "codifier-bench")
    return Path(root)


def repomix_command() -> list[str]:
    """`node <repomix's bin>` for the pinned version, installed from npm on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise BenchSetupError(
            "bench pack --real compares against Node repomix from npm, and needs `node` and"
            " `npm` on PATH: install Node.js 22 or newer with npm (Debian: apt-get install"
            " nodejs npm), then run again"
        )
    folder = bench_cache() / "repomix" / REPOMIX_VERSION
    script = folder / "node_modules" / "repomix" / "bin" / "repomix.cjs"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers install once
        if not script.exists():
            print(f"installing repomix {REPOMIX_VERSION} from npm into {folder}", file=sys.stderr)
            done = subprocess.run(
                [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                 "--ignore-scripts", "--loglevel=error", f"repomix@{REPOMIX_VERSION}"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0 or not script.exists():
                raise BenchSetupError(
                    f"`npm install repomix@{REPOMIX_VERSION}` into {folder} failed:"
                    f" {done.stderr.strip()[-500:]}"
                )
    return [node, str(script)]


@dataclass
class RepomixRun:
    seconds: float
    files: int
    tokens: int
    chars: int
    output_bytes: int
    security: str


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def repomix_figure(log: str, label: str) -> int:
    found = re.search(rf"Total {label}:\s*([\d,]+)", log)
    if found is None:
        raise RuntimeError(f"repomix printed no 'Total {label}':\n{log[-2000:]}")
    return int(found.group(1).replace(",", ""))


def run_repomix(
    command: list[str], tree: Path, work: Path, cache: Path | None = None
) -> RepomixRun:
    """One repomix run over `tree`, its output in `work` (a fresh empty folder, also its
    working directory and TMPDIR, so no config or cache from elsewhere is read); its
    token-count cache off, or kept in the file `cache`."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "tmp").mkdir(parents=True)
    output = work / "repomix-output.md"
    env = {**os.environ, "TMPDIR": str(work / "tmp"), "NO_COLOR": "1"}
    env["REPOMIX_TOKEN_CACHE"] = "0" if cache is None else "1"
    if cache is not None:
        env["REPOMIX_TOKEN_CACHE_PATH"] = str(cache)
    start = time.perf_counter()
    done = subprocess.run(
        [*command, str(tree), "-o", str(output), *REPOMIX_FLAGS],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    log = ANSI.sub("", done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"repomix exited with {done.returncode}:\n{log[-2000:]}")
    security = re.search(r"Security:\s*(.+)", log)
    return RepomixRun(
        seconds,
        repomix_figure(log, "Files"),
        repomix_figure(log, "Tokens"),
        repomix_figure(log, "Chars"),
        output.stat().st_size,
        security.group(1).strip(" ✔") if security else "not reported",
    )


def add_server_arguments(parser: argparse.ArgumentParser, used_with: str = "") -> None:
    """--server-env and --settle: the benched server's settings, and how long to wait for
    a snapshot's background embedding (`used_with`: the flag they go with, if any)."""
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        type=_setting,
        metavar="NAME=VALUE",
        help="a setting for the server (repeatable), e.g. CODIFIER_EMBEDDING_PROVIDER=off",
    )
    after = f" ({used_with})" if used_with else ""
    parser.add_argument(
        "--settle",
        type=float,
        default=900.0,
        help=f"seconds to wait at most for a snapshot's background embedding{after}",
    )


def _setting(item: str) -> str:
    if "=" not in item:
        raise argparse.ArgumentTypeError("--server-env takes NAME=VALUE")
    return item


def copy_repository(name: str, roots: Path) -> Path:
    """The pinned repository copied under `roots` (the cache stays read-only)."""
    source = repository(REPOSITORIES[name])
    target = roots / source.name
    shutil.copytree(source, target, symlinks=True)
    return target


def server_settings(base: Path, roots: Path, overrides: list[str]) -> dict[str, str]:
    extra = {"CODIFIER_PACK_ROOTS": str(roots), "CODIFIER_PACK_WORKDIR": str(base / "packs")}
    extra.update(item.partition("=")[::2] for item in overrides)
    return extra


@contextlib.contextmanager
def packing_server(base: Path, extra: dict[str, str]) -> Iterator[ServerProcess]:
    """`codifier serve` with its own home under `base`; its database is stopped after."""
    home = base / "home"
    home.mkdir()
    server = ServerProcess(home, extra=extra).start(timeout=180)
    try:
        yield server
    finally:
        server.stop()
        stop_embedded_postgres(home)


def bench_client(server: ServerProcess) -> Client:
    """An MCP client that waits as long as a big pack takes (httpx's default gives up on
    a response after 5 s)."""
    return http_client(server.url, ADMIN_TOKEN, timeout=900.0)


async def new_project(server: ServerProcess, name: str) -> str:
    async with bench_client(server) as client:
        created = await call(client, "manage_projects", operation="create", name=name)
    return str(created["project"]["id"])


async def pack_over_http(
    server: ServerProcess, project: str, path: Path
) -> tuple[float, dict[str, Any]]:
    """pack_repo of a local path: the call's wall time as the client sees it."""
    async with bench_client(server) as client:
        start = time.perf_counter()
        result = await call(client, "pack_repo", url=str(path), project_id=project)
        return time.perf_counter() - start, result


async def semantic_settled(server: ServerProcess, snapshot_id: str, limit: float) -> float:
    """Seconds until the snapshot's background embedding is done (or `limit`): read from
    the server's own database, where repositories.semantic records it."""
    import asyncpg

    from codifier.db.embedded import embedded_url

    start = time.perf_counter()
    conn = await asyncpg.connect(embedded_url(server.home))
    try:
        has_column = await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'repositories' AND column_name = 'semantic'"
        )
        while has_column and time.perf_counter() - start < limit:
            raw = await conn.fetchval(
                "SELECT semantic FROM repositories WHERE id = $1", uuid.UUID(snapshot_id)
            )
            state = json.loads(raw) if isinstance(raw, str) else (raw or {})
            if state.get("status", "none") in SEMANTIC_SETTLED:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return time.perf_counter() - start


def component(module: str, name: str) -> Callable[..., Any] | None:
    """`module.name` when that module exists yet (issue 10's parts land one by one)."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and not module.startswith(error.name):
            raise  # the module exists, something it imports does not
        return None
    function: Callable[..., Any] | None = getattr(found, name, None)
    return function


def digest_tokens(digest: Any) -> int:
    text = digest if isinstance(digest, str) else getattr(digest, "text", None)
    return count_tokens(text) if isinstance(text, str) else -1


@dataclass
class Best:
    """Each measured step's times, one per round."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: str, seconds: float) -> None:
        self.times.setdefault(step, []).append(seconds)

    def best(self, step: str) -> float:
        return min(self.times[step])

    def best_if_any(self, step: str) -> float | None:
        return self.best(step) if step in self.times else None


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


async def real(args: argparse.Namespace) -> dict[str, Any]:
    name = "jinja2" if args.quick and args.repo is None else (args.repo or "django")
    rounds = 1 if args.quick else args.rounds
    sdist = REPOSITORIES[name]
    command = repomix_command()
    node = subprocess.run([command[0], "--version"], capture_output=True, text=True, check=True)
    build_digest = component("codifier.codemap.digest", "build_digest")
    index_rows = component("codifier.snapshots.packing", "index_rows")
    text_layout = component("codifier.snapshots.packing", "text_layout")
    steps = Best()
    with tempfile.TemporaryDirectory(prefix="codifier-bench-pack-real-") as tmp:
        base = Path(tmp)
        roots = base / "roots"
        roots.mkdir()
        tree = copy_repository(name, roots)
        extra = server_settings(base, roots, args.server_env)
        print(f"== {sdist.name} {sdist.version} (its PyPI sdist as a git repository) at {tree}")
        print(f"repomix {REPOMIX_VERSION} (npm), node {node.stdout.strip()}:"
              f" {' '.join(REPOMIX_FLAGS)} -o FILE; token cache off")  # fmt: skip
        print("server settings: " + ", ".join(f"{k}={v}" for k, v in sorted(extra.items())))
        start = time.perf_counter()
        count_tokens("")  # the encoding's one-off load is not part of any pack
        print(f"encoding load (once per process): {time.perf_counter() - start:.2f} s")
        with packing_server(base, extra) as server:
            project = await new_project(server, "bench-pack")
            # The server loads its token encoding once per process, at its first pack:
            # a one-file folder takes that cost before anything is timed.
            (roots / "warm-up").mkdir()
            (roots / "warm-up" / "README.md").write_text("warm-up\n")
            await pack_over_http(server, project, roots / "warm-up")
            for number in range(1, rounds + 1):
                repomix = await asyncio.to_thread(run_repomix, command, tree, base / "repomix")
                steps.add("repomix", repomix.seconds)
                seconds, tool = await pack_over_http(server, project, tree)
                steps.add("pack_repo", seconds)
                embedding = await semantic_settled(server, tool["snapshot_id"], args.settle)
                steps.add("embedding", embedding)
                start = time.perf_counter()
                result = await asyncio.to_thread(pack, tree)
                steps.add("pack", time.perf_counter() - start)
                digest = None
                if build_digest is not None:
                    start = time.perf_counter()
                    digest = build_digest(result, DIGEST_TOKENS)
                    steps.add("digest", time.perf_counter() - start)
                if index_rows is not None and text_layout is not None:
                    start = time.perf_counter()
                    index_rows(result)
                    text_layout(result)
                    steps.add("index", time.perf_counter() - start)
                line = "  ".join(f"{k} {v[-1]:.2f} s" for k, v in steps.times.items())
                print(f"round {number}/{rounds}: {line}")
            cache = base / "repomix-cache" / "token-counts.json"
            for _ in range(2):  # the first run fills the cache
                warm = await asyncio.to_thread(run_repomix, command, tree, base / "repomix", cache)
    return real_report(name, rounds, steps, repomix, tool, result, digest, warm)


def real_report(
    name: str,
    rounds: int,
    steps: Best,
    repomix: RepomixRun,
    tool: dict[str, Any],
    result: PackResult,
    digest: Any,
    warm: RepomixRun,
) -> dict[str, Any]:
    a, b, packed = steps.best("repomix"), steps.best("pack_repo"), steps.best("pack")
    digested, indexed = steps.best_if_any("digest"), steps.best_if_any("index")
    print(f"\nbest of {rounds} round(s), wall seconds")
    print(f"a. Node repomix {REPOMIX_VERSION:<22} {a:>8.2f}")
    print(f"b. pack_repo over HTTP{'':<16} {b:>8.2f}")
    print(f"c. pack() in process{'':<18} {packed:>8.2f}")
    if digested is None:
        print("   digest: not available yet")
    else:
        print(f"   build_digest(result, {DIGEST_TOKENS}){'':<9} {digested:>8.2f}"
              f"   ({digest_tokens(digest):,} o200k tokens)")  # fmt: skip
    if indexed is None:
        print("   index: not available yet")
    else:
        print(f"   index_rows + text_layout{'':<11} {indexed:>8.2f}"
              "   (its rows' one INSERT is timed in b only)")  # fmt: skip
    embedding = ", ".join(f"{s:.1f}" for s in steps.times["embedding"])
    print(f"   background embedding after pack_repo, per round (not judged): {embedding} s")
    print(f"   repomix with its token cache warm (information only): {warm.seconds:.2f} s")

    text_mb = len(result.text.encode()) / 1_000_000
    print(f"\n{'':<10} {'files':>7} {'output MB':>10} {'tokens':>11}")
    print(
        f"{'repomix':<10} {repomix.files:>7,} {repomix.output_bytes / 1e6:>10.1f}"
        f" {repomix.tokens:>11,}   (chars {repomix.chars:,}; security: {repomix.security})"
    )
    print(f"{'codifier':<10} {tool['file_count']:>7,} {text_mb:>10.1f} {tool['token_count']:>11,}"
          f"   (chars {len(result.text):,}; flagged secrets: {len(tool['flagged_secrets'])};"
          f" digest in the result: {'yes' if 'digest' in tool else 'no'})")  # fmt: skip

    ratio = b / a
    added = (b - packed) / packed
    print(f"\nb/a = {ratio:.2f}   target <= {TARGET_RATIO:g}: {verdict(ratio, TARGET_RATIO)}")
    if digested is not None and indexed is not None:
        share, judged = (digested + indexed) / packed, "(digest + index)/pack"
    else:  # not measurable apart yet: judge what pack_repo adds in all
        share, judged = added, "(b - pack)/pack, an upper bound,"
    print(
        f"{judged} = {share:.2f}   target (digest + index)/pack <= {TARGET_SHARE:g}:"
        f" {verdict(share, TARGET_SHARE)}"
    )
    print(
        f"(b - pack)/pack = {added:.2f}   (all pack_repo adds to the pack: digest, index,"
        " storing the text and the index rows, the HTTP call)"
    )
    return {
        "repository": f"{name} {REPOSITORIES[name].version}",
        "rounds": rounds,
        "seconds": {step: steps.best(step) for step in steps.times},
        "seconds_per_round": steps.times,
        "repomix": {**repomix.__dict__, "version": REPOMIX_VERSION, "warm_seconds": warm.seconds},
        "codifier": {
            "files": tool["file_count"],
            "tokens": tool["token_count"],
            "output_bytes": len(result.text.encode()),
            "chars": len(result.text),
            "digest_in_result": "digest" in tool,
            "digest_tokens": None if digest is None else digest_tokens(digest),
        },
        "ratio": ratio,
        "share": share,
        "share_judged": judged,
        "added_share": added,
        "pass": {"ratio": ratio <= TARGET_RATIO, "share": share <= TARGET_SHARE},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--mb", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small and one round (smoke test)")
    parser.add_argument("--real", action="store_true", help="a real repository vs repomix")
    parser.add_argument("--repo", choices=sorted(REPOSITORIES), help="with --real")
    add_server_arguments(parser, "--real")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.real:
        try:
            figures = asyncio.run(real(args))
        except BenchSetupError as error:
            print(f"bench pack: {error}", file=sys.stderr)
            return 2
    else:
        figures = synthetic(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
