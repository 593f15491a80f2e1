"""The fusion of the text and vector rankings (codifier/search/fusion.py)."""

from __future__ import annotations

from codifier.search import convex_fusion


def test_a_confident_leader_outweighs_a_crowd_of_weak_matches() -> None:
    text = [("a", 9.0), ("b", 8.9), ("c", 1.0)]
    vector = [("c", 0.9), ("a", 0.2), ("b", 0.1)]
    fused = convex_fusion(text, vector, text_weight=0.4)
    assert [item for item, _ in fused] == ["c", "a", "b"]
    assert fused[0][1] == 0.6 + 0.0  # c: text worst (0), vector best (1)


def test_missing_from_one_ranking_scores_zero_there() -> None:
    fused = dict(convex_fusion([("t", 3.0), ("u", 1.0)], [("v", 0.5), ("u", 0.4)], 0.5))
    assert fused == {"t": 0.5, "v": 0.5, "u": 0.0}


def test_single_and_empty_rankings() -> None:
    assert convex_fusion([], []) == []
    assert convex_fusion([("only", 2.0)], []) == [("only", 0.4)]
    tied = convex_fusion([], [("b", 0.3), ("a", 0.3)])
    assert tied == [("a", 0.6), ("b", 0.6)]  # equal scores: by id
