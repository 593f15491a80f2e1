"""The packing and snapshot-search benchmarks, run small so they cannot rot: each runs as
`./dev bench` runs it (its own process, a real server, real git, Node repomix from npm)
and its printed figures must be sane. Speed targets are the benches' business, not
asserted here.

bench/pack.py --real installs the pinned repomix with npm on first use (into
~/.cache/codifier-bench, or CODIFIER_BENCH_CACHE): Node.js and npm must be on PATH.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.server_harness import ROOT

# A few chunks keep the server's background embedding (which the benches wait for) short.
SMALL_EMBEDDING = ["--server-env", "CODIFIER_SNAPSHOT_EMBED_CHUNKS=50"]


def run_bench(script: str, *args: str, out: Path) -> tuple[str, dict[str, Any]]:
    figures = out / f"{Path(script).stem}.json"
    done = subprocess.run(
        [sys.executable, script, *args, "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (
        f"{script} {' '.join(args)} exited with {done.returncode}:\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    loaded: dict[str, Any] = json.loads(figures.read_text())
    return done.stdout, loaded


def close(a: float, b: float, within: float) -> bool:
    return abs(a - b) <= within * max(a, b)


def test_the_generated_repository_bench_packs_both_ways(tmp_path: Path) -> None:
    printed, figures = run_bench("bench/pack.py", "--quick", out=tmp_path)
    for line in ("git ls-files", "pathspec walk", "MB/s", "slowest"):
        assert line in printed
    git, walk = figures["listings"]["git"], figures["listings"]["pathspec"]
    # The same tree listed two ways packs the same files: 200 generated + .gitignore.
    assert git["files"] == walk["files"] == 201
    assert git["skipped"] == walk["skipped"] == 30  # the PNG files
    assert git["tokens"] == walk["tokens"] > 100_000
    assert 1.5 < git["mb"] < 2.5
    assert all(0 < listing["mb_per_s"] < math.inf for listing in (git, walk))


def test_the_real_repository_bench_compares_pack_repo_with_repomix(tmp_path: Path) -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    assert not missing, (
        f"{' and '.join(missing)} not on PATH: bench/pack.py --real compares against Node"
        " repomix from npm; install Node.js and npm (Debian: apt-get install nodejs npm)"
        " where the tests run"
    )
    printed, figures = run_bench(
        "bench/pack.py", "--real", "--quick", *SMALL_EMBEDDING, out=tmp_path
    )
    for line in ("a. Node repomix", "b. pack_repo over HTTP", "c. pack() in process", "b/a ="):
        assert line in printed
    assert printed.count("target") == 2  # both targets are judged
    assert printed.count(": PASS") + printed.count(": MISS") == 2
    assert figures["repository"] == "jinja2 3.1.4"
    repomix, codifier = figures["repomix"], figures["codifier"]
    # Both tools packed the same tree: the same files, about the same text and tokens.
    assert repomix["files"] == codifier["files"] == 90
    assert close(repomix["tokens"], codifier["tokens"], 0.05)
    assert close(repomix["output_bytes"], codifier["output_bytes"], 0.05)
    assert repomix["security"] == "No suspicious files detected"
    assert repomix["version"] == "1.18.1"
    seconds = figures["seconds"]
    for step in ("repomix", "pack_repo", "pack"):
        assert 0 < seconds[step] < 120, step
    assert seconds["pack"] < seconds["pack_repo"]  # the tool packs, then stores
    assert figures["ratio"] == seconds["pack_repo"] / seconds["repomix"]
    # The digest and the index were timed in process too, and pack_repo returned the digest.
    assert codifier["digest_in_result"]
    assert 8000 * 0.97 <= codifier["digest_tokens"] <= 8000 * 1.03
    assert 0 < seconds["digest"] < seconds["pack_repo"]
    assert 0 <= seconds["index"] < seconds["pack_repo"]
    assert figures["share_judged"] == "(digest + index)/pack"


def test_the_snapshot_search_bench_measures_every_mode(tmp_path: Path) -> None:
    printed, figures = run_bench(
        "bench/snapshot_search.py", "--quick", *SMALL_EMBEDDING, out=tmp_path
    )
    for line in ("search_snapshot literal", "search_snapshot regex", "read_snapshot", "grep"):
        assert line in printed
    assert "literal p50 =" in printed
    assert "regex p50 =" in printed
    p50 = figures["p50_ms"]
    for kind in ("literal", "regex", "semantic", "read_snapshot", "grep -rnI -F"):
        assert 0 < p50[kind] < 10_000, kind
    # Every literal and regex query ran; every hit is where the file on disk says.
    assert not [q for q in figures["refused"] if not q.startswith("semantic:")]
    assert figures["timed_out"] == []
    assert figures["hits_checked"] > 100
    assert figures["hits_wrong"] == []
    hits = figures["hits"]
    assert hits["literal:self"] == 50  # capped at the limit
    assert hits["literal:xyzzy_not_anywhere_3f9c"] == 0
    assert hits["regex:^import (os|sys)$"] > 0
    assert hits["regex:(a*)*b"] == 50  # hostile to backtracking, fine for RE2
