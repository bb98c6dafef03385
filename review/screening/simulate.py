"""Simulation mode: replay a labelled dataset through the ranker, as BENCHMARKS.md §2 says.

Priors are drawn at random from the seed (``prior_included`` relevant and
``prior_excluded`` irrelevant records), then the top-ranked unlabelled record
is screened next and the model refitted after every label. The stopping rule
is simulated on the same ranking as a reviewer would use it: screen in ranked
order until the "N irrelevant in a row" heuristic fires, then screen the rest
in random order until the hypergeometric test says the target recall is
reached (:mod:`review.screening.stopping`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from review.screening.active import Ranker, query_order
from review.screening.metrics import OrderMetrics, order_metrics, recall_curve
from review.screening.stopping import DEFAULT_HEURISTIC_N, DEFAULT_TARGET, recall_estimate


class DatasetError(ValueError):
    """A labelled dataset the simulation cannot use; the message names the file and rows."""


@dataclass
class StopPoint:
    screened: int
    recall: float
    method: str


@dataclass
class Simulation:
    record_ids: list
    labels_in_order: np.ndarray
    metrics: OrderMetrics
    update_seconds: list[float] = field(default_factory=list)
    stop: StopPoint | None = None
    notes: list[str] = field(default_factory=list)


def load_dataset(path: Path, label: str = "label_included") -> tuple[pd.DataFrame, list[str]]:
    """Read and check a labelled CSV (record_id, title, abstract, keywords, label)."""
    try:
        df = pd.read_csv(path, dtype={"record_id": str}, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read as CSV ({exc})") from exc
    notes: list[str] = []
    missing = [c for c in ("record_id", "title", label) if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}")
    dup = df["record_id"].duplicated(keep=False)
    if dup.any():
        lines = [str(i + 2) for i in np.flatnonzero(dup)[:6]]
        ids = ", ".join(df.loc[dup, "record_id"].unique()[:3])
        raise DatasetError(f"{path}: record_id repeated ({ids}) on lines {', '.join(lines)}")
    values = pd.to_numeric(df[label].replace("", np.nan), errors="coerce")
    bad = ~values.isin([0, 1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"{path}, line {i + 2} (record {df['record_id'].iloc[i]}): "
                           f"{label} must be 0 or 1, not {df[label].iloc[i]!r}")
    df[label] = values.astype(int)
    if df[label].sum() == 0:
        raise DatasetError(f"{path}: no record has {label} = 1; nothing relevant to find")
    if df[label].sum() == len(df):
        raise DatasetError(f"{path}: every record has {label} = 1; nothing to rank")
    for col in ("abstract", "keywords"):
        if col not in df.columns:
            df[col] = ""
    if not df["abstract"].astype(str).str.strip().any():
        notes.append(f"{path}: no record has an abstract; ranking on titles and keywords only")
    return df, notes


def choose_priors(y: np.ndarray, seed: int, n_included: int = 1, n_excluded: int = 1) -> list[int]:
    rng = np.random.default_rng(seed)
    inc = rng.choice(np.flatnonzero(y == 1), n_included, replace=False)
    exc = rng.choice(np.flatnonzero(y == 0), n_excluded, replace=False)
    return [int(i) for i in (*inc, *exc)]


def stopping_point(ranked_labels: np.ndarray, seed: int,
                   target: float = DEFAULT_TARGET, heuristic_n: int = DEFAULT_HEURISTIC_N
                   ) -> StopPoint:
    """Where a reviewer following the stopping rule would stop, and the recall there.

    ``ranked_labels``: labels in the model's order. The reviewer screens in that
    order until ``heuristic_n`` irrelevant in a row, then draws the remaining
    records at random until the test says recall ≥ target at 95% confidence.
    """
    n = len(ranked_labels)
    total = int(ranked_labels.sum())
    run, start = 0, n
    for i, lab in enumerate(ranked_labels):
        run = 0 if lab else run + 1
        if run >= heuristic_n:
            start = i + 1
            break
    if start >= n:
        return StopPoint(n, 1.0, "screened everything")
    rng = np.random.default_rng(seed + 10_000)
    rest = ranked_labels[start:].copy()
    rng.shuffle(rest)
    seq = np.concatenate([ranked_labels[:start], rest])
    for j in range(start + 1, n + 1):
        est = recall_estimate(seq[:j], n, sampling_start=start, target=target)
        if est.stop:
            return StopPoint(j, float(seq[:j].sum()) / total, est.method)
    return StopPoint(n, 1.0, "screened everything")


def simulate(df: pd.DataFrame, seed: int, prior_included: int = 1, prior_excluded: int = 1,
             label: str = "label_included", explore: float = 0.0) -> Simulation:
    y = df[label].to_numpy(dtype=int)
    ranker = Ranker.from_records(df.assign(record_id=np.arange(len(df))))
    priors = choose_priors(y, seed, prior_included, prior_excluded)
    order, times = query_order(ranker, y, priors, explore=explore, seed=seed,
                               stop_when_all_found=True)
    labels = y[order]
    stop = stopping_point(labels, seed)
    return Simulation(record_ids=df["record_id"].iloc[order].tolist(), labels_in_order=labels,
                      metrics=order_metrics(labels), update_seconds=times, stop=stop)


def plot_recall(sim: Simulation, path: Path, title: str = "") -> Path:
    """Recall curve of the ranking against random screening (the diagonal)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = recall_curve(sim.labels_in_order)
    n = len(curve)
    x = np.arange(1, n + 1) / n
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(x, curve, label="active learning", lw=1.6)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="random order")
    ax.axhline(0.95, color="#c44", lw=0.8, ls=":")
    if sim.stop is not None:
        ax.axvline(sim.stop.screened / n, color="#2a7", lw=1, label="stopping rule said stop")
    ax.set_xlabel("share of records screened")
    ax.set_ylabel("share of relevant records found (recall)")
    ax.set_title(title or "Recall curve")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def warn(notes: list[str]) -> None:
    for n in notes:
        warnings.warn(n, stacklevel=2)
