"""Clustering merges strongest pairs first and refuses any merge a cross pair contradicts."""

from __future__ import annotations

from review.dedup.cluster import consistent_clusters
from review.dedup.score import DISTINCT, DUPLICATE, MAYBE, ScoredPair, Verdict


def _scored(rows: list[tuple[int, int, float, str, bool]]) -> list[ScoredPair]:
    return [ScoredPair(a, b, 90.0, s, d, "test", h, 0.0) for a, b, s, d, h in rows]


def _never_called(i: int, j: int) -> Verdict:  # pragma: no cover - must not be needed
    raise AssertionError(f"pair {i},{j} should have been known")


def test_chain_through_a_bridge_is_refused_and_handed_to_a_person() -> None:
    # 0≈1 and 1≈2, but 0 and 2 contradict each other (e.g. article and its erratum)
    scored = _scored(
        [(0, 1, 0.99, DUPLICATE, False), (1, 2, 0.95, DUPLICATE, False), (0, 2, 0.90, MAYBE, True)]
    )
    result = consistent_clusters(3, scored, _never_called)
    labels = result.labels
    assert labels[0] == labels[1] != labels[2]
    refused = [p for p in result.pairs if (p.a, p.b) == (1, 2)]
    assert [p.decision for p in refused] == ["maybe"]
    assert "contradict" in refused[0].reason


def test_strongest_pair_wins_the_contested_record() -> None:
    # record 1 matches 0 weakly and 2 strongly; 0 and 2 are distinct works
    scored = _scored(
        [
            (0, 1, 0.80, DUPLICATE, False),
            (1, 2, 0.99, DUPLICATE, False),
            (0, 2, 0.10, DISTINCT, True),
        ]
    )
    labels = consistent_clusters(3, scored, _never_called).labels
    assert labels[1] == labels[2] != labels[0]


def test_unscored_cross_pairs_are_judged_on_demand() -> None:
    asked: list[tuple[int, int]] = []

    def judge(i: int, j: int) -> Verdict:
        asked.append((i, j))
        return Verdict(DUPLICATE, 0.9, "asked", False)

    scored = _scored(
        [
            (0, 1, 0.99, DUPLICATE, False),
            (2, 3, 0.98, DUPLICATE, False),
            (1, 2, 0.97, DUPLICATE, False),
        ]
    )
    labels = consistent_clusters(4, scored, judge).labels
    assert len(set(labels)) == 1
    assert sorted(asked) == [(0, 2), (0, 3), (1, 3)]


def test_no_chain_crosses_a_maybe_pair() -> None:
    """A≈B and B≈C but A?C: C stays out of A's cluster and the refused link goes to a person."""
    scored = _scored(
        [(0, 1, 0.99, DUPLICATE, False), (1, 2, 0.98, DUPLICATE, False), (0, 2, 0.70, MAYBE, False)]
    )
    result = consistent_clusters(3, scored, _never_called)
    assert result.labels[0] == result.labels[1] != result.labels[2]
    assert {(p.a, p.b) for p in result.pairs if p.decision == "maybe"} == {
        (1, 2),
        (0, 2),
    }
