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

Other classifiers, balancing and query strategies are registered by name in
:mod:`review.screening.components`; the simulation loop is in
:mod:`review.screening.simulate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from review.screening.components import (
    BALANCING,
    CLASSIFIERS,
    FALLBACK_MODEL,
    get_model,
    scores_of,
)
from review.screening.features import FeatureConfig, FeatureMatrix, build_features


class RankingError(ValueError):
    """The labels or records cannot be ranked (the message says why)."""


@dataclass
class Ranker:
    """Ranks one review's records; build once with :meth:`from_records`, rank after each label.

    ``model`` names a registered model (:mod:`review.screening.components`):
    its classifier and balancing are used here, its features by
    :meth:`from_records`, its query strategy by :func:`review.screening.simulate.simulate`.
    """

    features: FeatureMatrix
    model: str = FALLBACK_MODEL

    @classmethod
    def from_records(cls, df: pd.DataFrame, config: FeatureConfig | None = None,
                     model: str | None = None,
                     on_progress: Callable[[int, int], None] | None = None) -> Ranker:
        """Features for ``df`` (record_id, title, abstract, keywords), computed once;
        ``on_progress`` follows the sentence encoder where the model uses one."""
        spec = get_model(model)
        return cls(build_features(df, config or spec.feature_config(), on_progress), spec.name)

    def _index(self) -> dict:
        if not hasattr(self, "_pos"):
            self._pos = {rid: i for i, rid in enumerate(self.features.record_ids.tolist())}
        return self._pos

    def scores(self, labelled: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Relevance scores for every record, from the rows ``labelled`` with labels ``y``."""
        y = np.asarray(y, dtype=int)
        if y.sum() == 0 or y.sum() == len(y):
            raise RankingError("ranking needs at least one relevant and one irrelevant label")
        spec = get_model(self.model)
        estimator = CLASSIFIERS[spec.classifier]()
        rows = self.features.X[labelled]
        # rows of a canonical matrix are canonical (build_features makes it so); saying so
        # spares scipy a sort of every labelled row when the fit casts them to float64,
        # which was half the cost of an update on a small review
        rows.has_canonical_format = self.features.X.has_canonical_format
        estimator.fit(rows, y, sample_weight=BALANCING[spec.balance](y))
        return scores_of(estimator, self.features.X)

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
