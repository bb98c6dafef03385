"""Clustering that never chains unrelated records together.

Plain connected components over duplicate pairs let one bad link fuse two
groups: if A≈B and B≈C, A and C end up together even when A is the erratum
of C. Here clusters grow by merging the strongest pairs first, and two
clusters merge only when *every* cross pair is itself a duplicate: no chain
may cross a pair that is distinct, carries a contradiction (different DOIs,
page ranges, part numbers, an erratum mark, ...) or is only a "maybe". A
duplicate pair refused for that reason is handed to a person as a "maybe"
with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from review.dedup.rules import DUPLICATE, MAYBE, Verdict


class Scored(Protocol):
    """What clustering reads of a scored pair (:class:`review.dedup.score.ScoredPair`)."""

    a: int
    b: int
    score: float
    decision: str
    reason: str
    hard: bool


@dataclass(frozen=True, slots=True)
class ClusterPair:
    """A pair as clustering leaves it: a duplicate link it used, or a question for a person."""

    a: int
    b: int
    score: float
    decision: str
    reason: str


@dataclass
class Clustering:
    """Cluster label per record position, and the final decision on each scored pair."""

    labels: list[int]
    pairs: list[ClusterPair]  #: duplicate pairs used, then refused ones and open maybes


def consistent_clusters(
    n: int,
    scored: Sequence[Scored],
    judge_pair: Callable[[int, int], Verdict],
) -> Clustering:
    """Group records by strongest-first merging with a complete cross-check between clusters.

    ``scored`` holds verdicts for blocked pairs (a, b, score, decision, reason,
    hard); ``judge_pair`` decides any cross pair blocking did not propose.
    """
    known: dict[tuple[int, int], str] = {(s.a, s.b): s.decision for s in scored}
    parent = list(range(n))
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def compatible(x: int, y: int) -> bool:
        key = (x, y) if x < y else (y, x)
        decision = known.get(key)
        if decision is None:
            decision = known[key] = judge_pair(*key).decision
        return decision == DUPLICATE

    dup = sorted((s for s in scored if s.decision == DUPLICATE), key=lambda s: (-s.score, s.a, s.b))
    out: list[ClusterPair] = []
    refused: list[ClusterPair] = []
    for s in dup:
        ra, rb = find(s.a), find(s.b)
        if ra != rb:
            ma = members.get(ra, [ra])
            mb = members.get(rb, [rb])
            if not all(compatible(x, y) for x in ma for y in mb):
                refused.append(
                    ClusterPair(
                        s.a,
                        s.b,
                        s.score,
                        MAYBE,
                        f"{s.reason}; but it would join records that contradict each other",
                    )
                )
                continue
            if len(ma) < len(mb):
                ra, rb, ma, mb = rb, ra, mb, ma
            parent[rb] = ra
            members[ra] = ma + mb
            members.pop(rb, None)
        out.append(ClusterPair(s.a, s.b, s.score, s.decision, s.reason))

    labels = [find(i) for i in range(n)]
    out.extend(refused)
    out.extend(
        ClusterPair(s.a, s.b, s.score, s.decision, s.reason)
        for s in scored
        if s.decision == MAYBE and labels[s.a] != labels[s.b]
    )
    return Clustering(labels=labels, pairs=out)
