"""Pairwise precision and recall of predicted clusters against labelled duplicate groups.

The protocol of the shared benchmark: every pair of records placed in one
cluster is a predicted duplicate pair; the true pairs are those inside the
labelled groups. Counting pairs (not clusters) weighs a wrong merge of two
large groups by the damage it does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PairwiseScores:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pairs_of_groups(groups: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    """Every unordered pair inside each group, as sorted tuples."""
    out: set[tuple[str, str]] = set()
    for group in groups:
        out.update(combinations(sorted(set(group)), 2))
    return out


def groups_of_clusters(clusters: pd.DataFrame) -> list[list[str]]:
    """Groups of IDs sharing a cluster_id (singletons included; they add no pairs)."""
    return [list(g) for _, g in clusters.groupby("cluster_id")["ID"]]


def pairwise_scores(
    predicted: pd.DataFrame | Iterable[Iterable[str]] | Any, gold: Iterable[Iterable[str]]
) -> PairwiseScores:
    """Score predicted clusters (a clusters table or groups of ids) against gold groups."""
    # a clusters table (duck-typed, so scoring plain groups never imports pandas)
    groups = groups_of_clusters(predicted) if hasattr(predicted, "groupby") else predicted
    pred = pairs_of_groups(groups)
    true = pairs_of_groups(gold)
    return PairwiseScores(tp=len(pred & true), fp=len(pred - true), fn=len(true - pred))
