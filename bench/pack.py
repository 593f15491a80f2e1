"""Benchmark: packing a large repository, through git and through the pathspec walk.

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
file content. Target: >= 10 MB/s.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codifier.packer import PackResult, pack  # noqa: E402
from codifier.packer.tokens import count_tokens  # noqa: E402

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


def report(label: str, seconds: float, result: PackResult) -> float:
    mb = sum(f.bytes for f in result.files) / 1_000_000
    rate = mb / seconds
    print(
        f"{label:<16} {result.file_count:>6} {len(result.skipped):>8} {mb:>8.1f} "
        f"{result.token_count:>11,} {seconds:>8.2f} {rate:>7.1f}"
    )
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--mb", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="codifier-bench-pack-") as tmp:
        root = Path(tmp) / "repo"
        start = time.perf_counter()
        generate(root, args.files, args.mb, args.seed)
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "generated")
        print(f"generated repository (seed {args.seed}) in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        count_tokens("")  # builds the cached encoding
        print(f"encoding load (once per process): {time.perf_counter() - start:.2f} s")
        print(f"best of {args.rounds} rounds; target >= {TARGET_MB_S:g} MB/s")
        print(f"{'listing':<16} {'files':>6} {'skipped':>8} {'MB':>8} {'tokens':>11} "
              f"{'wall s':>8} {'MB/s':>7}")  # fmt: skip
        rates = [report("git ls-files", *timed(args.rounds, root))]
        # Same tree without .git: the pathspec walk decides what is ignored.
        (root / ".git").rename(Path(tmp) / "git-dir")
        rates.append(report("pathspec walk", *timed(args.rounds, root)))

    worst = min(rates)
    verdict = "meets" if worst >= TARGET_MB_S else "MISSES"
    print(f"slowest {worst:.1f} MB/s: {verdict} the target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
