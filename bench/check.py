"""Benchmark: `codifier check` against YAML composition alone, on the same files, same run.

    ./dev bench check            (or: .venv/bin/python bench/check.py)

Inputs: the shipped playbooks, and a generated 1,000-step playbook that uses every
instruction, conditions, interpolation and function calls, each step referring to earlier
ones. For each input it times the whole check (YAML with spans, validation, expression
parsing, type checking, IR) and `yaml.compose` with the same loader, best of several
rounds, and prints the ratio. Target: <= 3x.

Then two more ratios, each against its target:

- cold start: `codifier check playbooks/` as a whole process against a process that only
  imports yaml, pydantic, jinja2 and lark, best of N each, interleaved in the same run.
  Twice: with bytecode (a warm cache under a temporary PYTHONPYCACHEPREFIX) and without
  (an empty prefix and PYTHONDONTWRITEBYTECODE=1, so both sides compile every module from
  source). Target: <= 2x.
- typo scaling: a 2,000-step playbook with 1,000 misspellings (step references, keys,
  function names) against the same playbook spelt right. Target: <= 3x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codifier.library import load_library  # noqa: E402
from codifier.resources import playbooks_dir  # noqa: E402
from dsl.compiler import compile_playbook  # noqa: E402
from dsl.expr.parser import parse_expression  # noqa: E402
from dsl.library import Library  # noqa: E402

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
TARGET = 3.0
COLD_START_TARGET = 2.0
TYPO_TARGET = 3.0
BASELINE_IMPORTS = "import yaml, pydantic, jinja2, lark"


def generated_playbook(steps: int) -> str:
    """A large, realistic playbook: each step refers to earlier steps by their own ids."""
    out = [
        "id: generated",
        "name: Generated benchmark playbook",
        "role: any",
        "inputs:",
        "  database:",
        "    type: string",
        "    default: main",
        "steps:",
        "  - id: s0",
        "    store:",
        "      prompt: What is the objective?",
        "      type: text",
    ]
    for i in range(1, steps):
        prev = f"s{i - 1}"
        kind = i % 5
        out.append(f"  - id: s{i}")
        out.append(f"    title: Step number {i}")
        if kind == 0:
            out += [
                f"    if: ${{{{ length(steps.s0.output) > {i % 7} && project.name != 'x{i}' }}}}",
                "    store:",
                f'      prompt: "Step {i}: ${{{{ to_json(steps.{prev}.output) }}}}"',
                "      type: list<string>",
                "      choices: [alpha, beta, gamma]",
            ]
        elif kind == 1:
            out += [
                "    skill-invoke:",
                "      skill: fetch_context",
                "      with:",
                f"        query: ${{{{ to_json(steps.{prev}.output) }}}}",
                f"        limit: {i % 50 + 1}",
            ]
        elif kind == 2:
            out += [
                "    generate:",
                "      template: queries-from-objective",
                "      with:",
                "        objective: ${{ steps.s0.output }}",
                f"        tables: ${{{{ [steps.s0.output, 't{i}'] }}}}",
                f"        context: ${{{{ steps.{prev}.output }}}}",
                "      remember:",
                "        type: document",
                f"        title: Queries of step {i}",
                f"        tags: [bench, step{i}]",
            ]
        elif kind == 3:
            out += [
                "    data-query:",
                "      operation: execute-query",
                "      database: ${{ inputs.database }}",
                f"      sql: ${{{{ sql_blocks(steps.{prev}.output) }}}}",
            ]
        else:
            out += [
                "    data-query:",
                "      operation: execute-query",
                f"      sql: SELECT customer_id, sum(amount) AS total FROM orders_{i} GROUP BY 1",
            ]
    out += ["outputs:", f"  last: ${{{{ to_json(steps.s{steps - 1}.output) }}}}"]
    return "\n".join(out) + "\n"


def best_of(rounds: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def _process_seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-400:]!r}")
    return elapsed


def cold_start(rounds: int, bytecode: bool) -> tuple[float, float]:
    """Best whole-process seconds of `codifier check playbooks/` and of the baseline
    imports, run alternately so both see the same machine load."""
    check = [sys.executable, "-m", "codifier.cli.main", "check", "playbooks/"]
    baseline = [sys.executable, "-c", BASELINE_IMPORTS]
    with tempfile.TemporaryDirectory(prefix="codifier-bench-pyc-") as prefix:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": prefix}
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            _process_seconds(check, env)  # warm: compile both sides once
            _process_seconds(baseline, env)
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"  # the prefix stays empty: all from source
        checks, baselines = [], []
        for _ in range(rounds):
            checks.append(_process_seconds(check, env))
            baselines.append(_process_seconds(baseline, env))
    return min(checks), min(baselines)


def typo_scaling(library: Library, rounds: int) -> tuple[float, float, int]:
    """Best seconds to check the clean 2,000-step playbook and its 1,000-typo twin, and
    how many diagnostics the twin gets."""
    from bench.typo_playbook import typo_playbooks  # (it imports this module's generator)

    clean, typoed = typo_playbooks(2000, 1000)
    found = len(compile_playbook(typoed, "typos.yaml", library).diagnostics)

    def check(text: str) -> Callable[[], object]:
        def run() -> object:
            parse_expression.cache_clear()
            return compile_playbook(text, "bench.yaml", library)

        return run

    return best_of(rounds, check(clean)), best_of(rounds, check(typoed)), found


def _verdict(ratio: float, target: float) -> str:
    return "meets" if ratio <= target else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--process-rounds", type=int, default=15)
    args = parser.parse_args()

    library: Library = load_library()
    inputs = {p.name: p.read_text(encoding="utf-8") for p in sorted(playbooks_dir().glob("*.yaml"))}
    inputs[f"generated ({args.steps} steps)"] = generated_playbook(args.steps)

    print(f"yaml loader: {LOADER.__name__}; best of {args.rounds} rounds; target <= {TARGET}x")
    print(f"{'input':<34} {'bytes':>9} {'compose ms':>11} {'check ms':>10} {'ratio':>7}")
    ratios = []
    for name, text in inputs.items():
        result = compile_playbook(text, name, library)
        if result.diagnostics:
            first = result.diagnostics[0]
            print(f"benchmark input {name} is not clean: {first.code} {first.message}")
            return 1

        def check(text: str = text, name: str = name) -> None:
            parse_expression.cache_clear()  # no help from earlier rounds
            compile_playbook(text, name, library)

        def compose(text: str = text) -> None:
            yaml.compose(text, Loader=LOADER)

        composed = best_of(args.rounds, compose)
        checked = best_of(args.rounds, check)
        ratio = checked / composed
        ratios.append(ratio)
        print(
            f"{name:<34} {len(text.encode()):>9} {composed * 1000:>11.2f} "
            f"{checked * 1000:>10.2f} {ratio:>6.2f}x"
        )
    worst = max(ratios)
    verdict = "meets" if worst <= TARGET else "MISSES"
    print(
        f"worst ratio {worst:.2f}x, median {statistics.median(ratios):.2f}x: {verdict} the target"
    )
    missed = worst > TARGET

    print(f"\ncold start, whole processes, best of {args.process_rounds}; target <= 2x")
    for bytecode in (True, False):
        checked_s, baseline_s = cold_start(args.process_rounds, bytecode)
        ratio = checked_s / baseline_s
        missed |= ratio > COLD_START_TARGET
        mode = "with bytecode   " if bytecode else "without bytecode"
        print(
            f"{mode}: codifier check playbooks/ {checked_s * 1000:.0f} ms,"
            f" `{BASELINE_IMPORTS}` {baseline_s * 1000:.0f} ms: cold-start ratio"
            f" {ratio:.2f}x (target <= {COLD_START_TARGET:g}x): "
            f"{_verdict(ratio, COLD_START_TARGET)} the target"
        )

    clean_s, typo_s, found = typo_scaling(library, max(3, args.rounds // 2))
    ratio = typo_s / clean_s
    missed |= ratio > TYPO_TARGET
    print(
        f"\ntypo scaling: 2,000 steps clean {clean_s * 1000:.0f} ms, with 1,000 typos"
        f" {typo_s * 1000:.0f} ms ({found:,} diagnostics): typo-scaling ratio {ratio:.2f}x"
        f" (target <= {TYPO_TARGET:g}x): {_verdict(ratio, TYPO_TARGET)} the target"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
