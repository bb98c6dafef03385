"""How far reviewers agree: Cohen's κ and percent agreement per reviewer pair and stage.

Computed on each pair's *current* decisions (latest per reviewer, undone ones
dropped: the rule in :mod:`review.stages`) over the records both of them
decided; κ is scikit-learn's :func:`~sklearn.metrics.cohen_kappa_score` over
the labels include / exclude / maybe. Where a pair used a single label for
every shared record κ is undefined (chance agreement is 1): it is reported as
NaN, with the percent agreement beside it, rather than as a misleading 0 or 1.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from review.stages import current_decisions

AGREEMENT_COLUMNS = ["stage", "reviewer_a", "reviewer_b", "records", "agreed", "percent_agreement",
                     "kappa"]


def pair_agreement(labels_a: pd.Series, labels_b: pd.Series) -> tuple[int, int, float, float]:
    """(records, agreed, percent agreement, κ) for two aligned label series."""
    n = len(labels_a)
    if n == 0:
        return 0, 0, float("nan"), float("nan")
    a, b = labels_a.to_numpy(dtype=object), labels_b.to_numpy(dtype=object)
    agreed = int((a == b).sum())
    if len(set(a) | set(b)) < 2:
        kappa = float("nan")
    else:
        kappa = float(cohen_kappa_score(a, b))
    return n, agreed, 100.0 * agreed / n, kappa


def agreement_table(decisions: pd.DataFrame, stage: str,
                    names: dict[int, str] | None = None) -> pd.DataFrame:
    """One row per pair of reviewers who decided at least one record in common at ``stage``.

    ``decisions``: a stage's decisions (columns id, record_id, reviewer_id, label).
    ``names`` turns reviewer ids into display names.
    """
    cur = current_decisions(decisions)
    rows = []
    if not cur.empty:
        wide = cur.pivot_table(index="record_id", columns="reviewer_id", values="label",
                               aggfunc="last")
        for ra, rb in combinations(sorted(wide.columns), 2):
            both = wide[[ra, rb]].dropna()
            if both.empty:
                continue
            n, agreed, pct, kappa = pair_agreement(both[ra], both[rb])
            rows.append({
                "stage": stage,
                "reviewer_a": (names or {}).get(int(ra), str(ra)),
                "reviewer_b": (names or {}).get(int(rb), str(rb)),
                "records": n, "agreed": agreed, "percent_agreement": round(pct, 1),
                "kappa": kappa if np.isnan(kappa) else round(kappa, 3),
            })
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
