"""How good a screening order is: WSS@95, Recall@10% and ATD (BENCHMARKS.md §2).

All three are computed from the screening order alone (1 = relevant, 0 = not,
in the order the records were screened, priors first), so the same functions
score our runs and ASReview's and nobody's numbers depend on their own code.
Records never reached are treated as screened last, which is what callers do
by passing the full order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OrderMetrics:
    """The protocol's three numbers for one screening order."""

    n: int
    relevant: int
    wss95: float
    recall_at_10: float
    atd: float


def _as_labels(labels_in_order: Sequence[int] | np.ndarray) -> np.ndarray:
    labels = np.asarray(labels_in_order, dtype=int)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError("a screening order needs at least one record")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels in a screening order must be 0 or 1")
    if labels.sum() == 0:
        raise ValueError("a screening order with no relevant record cannot be scored")
    return labels


def screened_to_reach(labels_in_order: Sequence[int] | np.ndarray, recall: float) -> int:
    """Records screened (1-based position) when ``ceil(recall * r)`` relevant ones are found."""
    labels = _as_labels(labels_in_order)
    needed = max(1, math.ceil(recall * labels.sum() - 1e-9))
    return int(np.flatnonzero(np.cumsum(labels) >= needed)[0]) + 1


def wss(labels_in_order: Sequence[int] | np.ndarray, recall: float = 0.95) -> float:
    """Work saved over sampling at a recall level: (n − screened)/n − (1 − recall)."""
    labels = _as_labels(labels_in_order)
    n = labels.size
    return (n - screened_to_reach(labels, recall)) / n - (1.0 - recall)


def recall_at(labels_in_order: Sequence[int] | np.ndarray, fraction: float = 0.10) -> float:
    """Share of relevant records found after screening ``ceil(fraction * n)`` records."""
    labels = _as_labels(labels_in_order)
    k = math.ceil(fraction * labels.size - 1e-9)
    return float(labels[:k].sum() / labels.sum())


def atd(labels_in_order: Sequence[int] | np.ndarray) -> float:
    """Average time to discovery: mean 1-based position of the relevant records, over n."""
    labels = _as_labels(labels_in_order)
    positions = np.flatnonzero(labels) + 1
    return float(positions.mean() / labels.size)


def order_metrics(labels_in_order: Sequence[int] | np.ndarray) -> OrderMetrics:
    """All three protocol metrics at once."""
    labels = _as_labels(labels_in_order)
    return OrderMetrics(
        n=int(labels.size),
        relevant=int(labels.sum()),
        wss95=wss(labels, 0.95),
        recall_at_10=recall_at(labels, 0.10),
        atd=atd(labels),
    )


def recall_curve(labels_in_order: Sequence[int] | np.ndarray) -> np.ndarray:
    """Recall after each record screened (index i = after i+1 records)."""
    labels = _as_labels(labels_in_order)
    return np.cumsum(labels) / labels.sum()
