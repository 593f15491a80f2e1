"""The typo-scaling input: a large playbook spelt right, and its twin with many typos.

    from bench.typo_playbook import typo_playbooks
    clean, typoed = typo_playbooks(2000, 1000)   # 2,000 steps, 1,000 misspelt lines

Each typo asks the checker for a did-you-mean among many candidates: a misspelt reference
to an earlier step (2,000 step ids), a misspelt step key (`title`, `store`...) or a
misspelt function name. The checker must stay linear: the twin costs at most 3x the clean
file (issue 13, point 4).
"""

from __future__ import annotations

import random


def misspell(word: str, rng: random.Random) -> str:
    """One typo a person makes: neighbouring letters swapped, a letter doubled or dropped."""
    kind = rng.randrange(3)
    if kind == 0 and len(word) > 3:
        i = rng.randrange(1, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = rng.randrange(len(word))
    if kind == 1 or len(word) <= 3:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1 :]


def typo_playbooks(steps: int, typos: int, seed: int = 13) -> tuple[str, str]:
    """(clean, with typos): bench/check.py's generated playbook and the same text with
    `typos` of its lines misspelt (a step reference, a step key or a function name)."""
    from bench.check import generated_playbook  # (bench/check.py imports this module)

    clean = generated_playbook(steps)
    lines = clean.split("\n")
    rng = random.Random(seed)
    candidates = [
        i
        for i, line in enumerate(lines)
        if "steps.s" in line or line.startswith("    title:") or "to_json(" in line
    ]
    for i in sorted(rng.sample(candidates, min(typos, len(candidates)))):
        line = lines[i]
        if line.startswith("    title:"):
            lines[i] = line.replace("title:", misspell("title", rng) + ":", 1)
        elif "to_json(" in line and rng.random() < 0.5:
            lines[i] = line.replace("to_json(", misspell("to_json", rng) + "(", 1)
        elif "steps.s" in line:
            start = line.index("steps.s") + len("steps.")
            end = line.index(".", start)
            lines[i] = line[:start] + misspell(line[start:end], rng) + line[end:]
        else:
            lines[i] = line.replace("to_json(", misspell("to_json", rng) + "(", 1)
    return clean, "\n".join(lines)
