"""The most central modules: ranked by how much the rest of the code refers to them.

PageRank over the import graph (`imports`): files are nodes, an import is an edge from
the importer to the imported file, every file imports with the same total weight (split
over what it imports), and a file importing nothing spreads its weight evenly. So a module
ranks high when many files import it, and higher still when those files are themselves
imported a lot. Test files are nodes too (their imports count as references) but are
never ranked (`testpaths`). A small power iteration on numpy arrays: a repository of
20,000 files and 200,000 imports converges in a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from codifier.codemap.imports import ImportGraph, import_graph
from codifier.codemap.testpaths import is_test_path

DAMPING = 0.85
_ITERATIONS = 100
_TOLERANCE = 1e-10


@dataclass(frozen=True, slots=True)
class Ranked:
    path: str
    score: float  # PageRank: the scores of all files (tests included) sum to 1
    imported_by: int  # distinct files importing this one, tests included


def rank(texts: Mapping[str, str]) -> list[Ranked]:
    """Non-test code files of a repository (path -> text), most central first.

    Ties (files nobody imports share the lowest score) go by importers, then path."""
    return rank_graph(import_graph(texts))


def rank_graph(graph: ImportGraph) -> list[Ranked]:
    """`rank` for an import graph already built."""
    index = {path: number for number, path in enumerate(graph.files)}
    sources: list[int] = []
    targets: list[int] = []
    for importer, imported in graph.imports.items():
        source = index[importer]
        for path in imported:
            sources.append(source)
            targets.append(index[path])
    scores = pagerank(len(graph.files), sources, targets)
    importers = np.bincount(np.asarray(targets, dtype=np.int64), minlength=len(graph.files))
    ranked = [
        Ranked(path, float(scores[number]), int(importers[number]))
        for number, path in enumerate(graph.files)
        if not is_test_path(path)
    ]
    ranked.sort(key=lambda r: (-r.score, -r.imported_by, r.path))
    return ranked


def pagerank(nodes: int, sources: list[int], targets: list[int]) -> np.ndarray:
    """PageRank of a graph given as parallel edge lists (distinct edges, no self-loops)."""
    if nodes == 0:
        return np.zeros(0)
    source = np.asarray(sources, dtype=np.int64)
    target = np.asarray(targets, dtype=np.int64)
    out_degree = np.bincount(source, minlength=nodes).astype(np.float64)
    weight = 1.0 / out_degree[source] if len(source) else np.zeros(0)
    dangling = out_degree == 0
    scores = np.full(nodes, 1.0 / nodes)
    for _ in range(_ITERATIONS):
        flow = np.bincount(target, weights=scores[source] * weight, minlength=nodes)
        spread = scores[dangling].sum() / nodes
        updated = (1.0 - DAMPING) / nodes + DAMPING * (flow + spread)
        converged = float(np.abs(updated - scores).sum()) < _TOLERANCE
        scores = updated
        if converged:
            break
    return scores
