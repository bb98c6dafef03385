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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from review.dedup.rules import DUPLICATE, MAYBE, Verdict


@dataclass
class Clustering:
    """Cluster label per record position, and the final decision on each scored pair."""

    labels: np.ndarray
    pairs: pd.DataFrame  #: a, b, score, decision, reason (duplicate pairs used and open maybes)


def consistent_clusters(
    n: int,
    scored: pd.DataFrame,
    judge_pair: Callable[[int, int], Verdict],
) -> Clustering:
    """Group records by strongest-first merging with a complete cross-check between clusters.

    ``scored`` holds verdicts for blocked pairs (columns a, b, score, decision,
    reason, hard); ``judge_pair`` decides any cross pair blocking did not propose.
    """
    known: dict[tuple[int, int], tuple[str, bool]] = {
        (int(a), int(b)): (d, bool(h))
        for a, b, d, h in zip(
            scored["a"], scored["b"], scored["decision"], scored["hard"], strict=True
        )
    }
    parent = np.arange(n)
    members: dict[int, list[int]] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:
            parent[x], x = root, int(parent[x])
        return root

    def compatible(x: int, y: int) -> bool:
        key = (x, y) if x < y else (y, x)
        if key not in known:
            v = judge_pair(*key)
            known[key] = (v.decision, v.hard)
        decision, _hard = known[key]
        return decision == DUPLICATE

    dup = scored[scored["decision"] == DUPLICATE].sort_values(
        ["score", "a", "b"], ascending=[False, True, True], kind="stable"
    )
    used: list[int] = []
    refused: list[int] = []
    for row, a, b in zip(dup.index, dup["a"], dup["b"], strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra == rb:
            used.append(row)
            continue
        ma = members.get(ra, [ra])
        mb = members.get(rb, [rb])
        if all(compatible(x, y) for x in ma for y in mb):
            if len(ma) < len(mb):
                ra, rb, ma, mb = rb, ra, mb, ma
            parent[rb] = ra
            members[ra] = ma + mb
            members.pop(rb, None)
            used.append(row)
        else:
            refused.append(row)

    labels = np.fromiter((find(i) for i in range(n)), np.int64, n)
    out = scored.loc[used, ["a", "b", "score", "decision", "reason"]]
    if refused:
        ref = scored.loc[refused, ["a", "b", "score", "decision", "reason"]].copy()
        ref["decision"] = MAYBE
        ref["reason"] = ref["reason"] + "; but it would join records that contradict each other"
        out = pd.concat([out, ref])
    maybe = scored[scored["decision"] == MAYBE]
    maybe = maybe[labels[maybe["a"].to_numpy()] != labels[maybe["b"].to_numpy()]]
    out = pd.concat([out, maybe[["a", "b", "score", "decision", "reason"]]])
    return Clustering(labels=labels, pairs=out.reset_index(drop=True))
