"""The active-learning ranker: a class-weighted linear SVM over cached TF-IDF features.

Why this model: with one relevant and one irrelevant record to start from and a
few percent relevant at best, a linear SVM on sparse TF-IDF n-grams is the
long-standing strong baseline (Cohen et al. 2006; ASReview's default family);
it needs no dense embeddings, trains in milliseconds on the few hundred labels
a reviewer gives, and scores 100,000 records with one sparse product. Relevant
records are up-weighted so the rare class is not drowned (``relevant_weight``
times the balanced weight). Features are built once per review
(:func:`review.screening.features.build_features`) and reused after every
decision; only the small model is refitted.

Exploration: with ``explore > 0`` the query loop takes, with that probability,
a random unlabelled record instead of the top one, so a long run of a single
theme cannot hide a different kind of relevant record forever. The default is
0 (the reference protocol: always the top-ranked record).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.svm import LinearSVC

from review.screening.features import FeatureConfig, FeatureMatrix, build_features

#: Default regularisation and up-weighting of relevant records; same for every review.
DEFAULT_C = 0.1
DEFAULT_RELEVANT_WEIGHT = 10.0


class RankingError(ValueError):
    """The labels or records cannot be ranked (the message says why)."""


@dataclass
class Ranker:
    """Ranks one review's records; build once with :meth:`from_records`, rank after each label."""

    features: FeatureMatrix
    C: float = DEFAULT_C
    relevant_weight: float = DEFAULT_RELEVANT_WEIGHT

    @classmethod
    def from_records(cls, df: pd.DataFrame, config: FeatureConfig | None = None,
                     **kw: float) -> Ranker:
        """Features for ``df`` (record_id, title, abstract, keywords), computed once."""
        return cls(build_features(df, config), **kw)

    def _index(self) -> dict:
        if not hasattr(self, "_pos"):
            self._pos = {rid: i for i, rid in enumerate(self.features.record_ids.tolist())}
        return self._pos

    def scores(self, labelled: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Decision scores for every record, from the rows ``labelled`` with labels ``y``."""
        y = np.asarray(y, dtype=int)
        if y.sum() == 0 or y.sum() == len(y):
            raise RankingError("ranking needs at least one relevant and one irrelevant label")
        n1, n0 = int(y.sum()), int(len(y) - y.sum())
        weight = np.where(y == 1, self.relevant_weight * n0 / n1, 1.0)
        model = LinearSVC(C=self.C, loss="hinge", dual=True, max_iter=5000)
        model.fit(self.features.X[labelled], y, sample_weight=weight * len(y) / weight.sum())
        return np.asarray(model.decision_function(self.features.X)).ravel()

    def rank(self, labels: dict[int, int]) -> pd.DataFrame:
        """Unlabelled records, best first: columns record_id, score, rank (1 = screen next)."""
        pos = self._index()
        unknown = [rid for rid in labels if rid not in pos]
        if unknown:
            raise RankingError(f"labels for records the ranker does not know: {unknown[:5]}")
        labelled = np.array([pos[r] for r in labels], dtype=int)
        y = np.array(list(labels.values()), dtype=int)
        s = self.scores(labelled, y)
        mask = np.ones(len(s), dtype=bool)
        mask[labelled] = False
        idx = np.flatnonzero(mask)
        order = idx[np.argsort(-s[idx], kind="stable")]
        return pd.DataFrame({"record_id": self.features.record_ids[order],
                             "score": s[order].astype(float),
                             "rank": np.arange(1, len(order) + 1)})


def query_order(ranker: Ranker, y_true: np.ndarray, priors: list[int], *,
                explore: float = 0.0, seed: int = 0,
                stop_when_all_found: bool = True) -> tuple[list[int], list[float]]:
    """Simulate screening: label the top-ranked record, refit, repeat (the reference protocol).

    Returns the screening order (row positions, priors first) and the seconds
    each model update + re-rank took. Records never reached are appended last.
    """
    import time

    rng = np.random.default_rng(seed)
    n = len(y_true)
    order = list(priors)
    mask = np.zeros(n, dtype=bool)
    mask[order] = True
    found, total = int(y_true[order].sum()), int(y_true.sum())
    times: list[float] = []
    while not mask.all() and not (stop_when_all_found and found == total):
        lab = np.array(order)
        y = y_true[lab]
        pool = np.flatnonzero(~mask)
        if y.sum() == 0 or y.sum() == len(y) or (explore and rng.random() < explore):
            nxt = int(rng.choice(pool))
        else:
            t = time.perf_counter()
            s = ranker.scores(lab, y)
            nxt = int(pool[np.argmax(s[pool])])
            times.append(time.perf_counter() - t)
        order.append(nxt)
        mask[nxt] = True
        found += int(y_true[nxt])
    order += [int(i) for i in np.flatnonzero(~mask)]
    return order, times
