"""Simulation mode: replay a labelled dataset through the ranker, as BENCHMARKS.md §2 says.

Priors are drawn at random from the seed (``prior_included`` relevant and
``prior_excluded`` irrelevant records), then the model's top-ranked record is
screened next and the model refitted after every label (the reference
protocol). The stopping rule (:mod:`review.screening.rules`) runs inside the
same loop, as a reviewer would use it: a rule that samples gets its random
draws in the screening order, and every record screened — random draws
included — counts as effort. After the rule says stop, ranked screening goes
on until every relevant record is found (for WSS@95 and ATD); records never
reached come last, in the last ranking's order.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from review.screening.active import Ranker
from review.screening.components import QUERIES, get_model
from review.screening.metrics import OrderMetrics, order_metrics, recall_curve, screened_to_reach
from review.screening.rules import Progress, Sample, get_rule
from review.screening.stopping import DEFAULT_TARGET


class DatasetError(ValueError):
    """A labelled dataset the simulation cannot use; the message names the file and rows."""


@dataclass
class Simulation:
    """One simulated screening: the order, its metrics, and where the stopping rule stopped."""

    record_ids: list
    labels_in_order: np.ndarray
    random_draw: np.ndarray  # True where the record was a random draw of the stopping rule
    metrics: OrderMetrics
    stop_position: int | None
    stopping: str
    model: str
    target: float
    update_seconds: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def recall_at_stop(self) -> float | None:
        if self.stop_position is None:
            return None
        return float(self.labels_in_order[:self.stop_position].sum() / self.metrics.relevant)

    def summary(self) -> dict:
        """What ``--summary`` writes: the protocol's metrics and the stopping rule's outcome."""
        times = np.array(self.update_seconds) if self.update_seconds else np.array([np.nan])
        return {
            "records": self.metrics.n, "relevant": self.metrics.relevant,
            "model": self.model, "stopping": self.stopping,
            "stop_position": self.stop_position, "target_recall": self.target,
            "recall_at_stop": self.recall_at_stop,
            "share_screened_at_stop": (None if self.stop_position is None
                                       else self.stop_position / self.metrics.n),
            "oracle_position": screened_to_reach(self.labels_in_order, self.target),
            "random_draws": int(self.random_draw.sum()),
            "wss95": self.metrics.wss95, "recall10": self.metrics.recall_at_10,
            "atd": self.metrics.atd,
            "update_ms_median": float(np.nanmedian(times) * 1000) if self.update_seconds
            else None,
            "model_updates": len(self.update_seconds),
        }

    def write(self, order_csv: Path | None = None, summary_json: Path | None = None) -> None:
        """ORDER.csv: every record in screening order (random draws marked); SUMMARY.json."""
        if order_csv is not None:
            pd.DataFrame({"record_id": self.record_ids,
                          "label_included": self.labels_in_order.astype(int),
                          "random_draw": self.random_draw.astype(int)}).to_csv(order_csv,
                                                                               index=False)
        if summary_json is not None:
            Path(summary_json).write_text(json.dumps(self.summary(), indent=2) + "\n")


#: Other names labelled sets give the same columns (ASReview's and SYNERGY's files, exports),
#: matched without regard to case, spaces or underscores; the first one present wins.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id",),
    "title": ("title", "primary_title"),
    "abstract": ("abstract", "abstract_note", "notes_abstract"),
    "keywords": ("keywords", "mesh_terms"),
    "label_included": ("label_included", "included", "final_included", "included_final",
                       "label", "included_label", "included_flag", "include"),
}


def _key(name: object) -> str:
    return "".join(ch for ch in str(name).strip().lower() if ch not in " _")


def _name_columns(df: pd.DataFrame, path: Path, label: str, notes: list[str]) -> pd.DataFrame:
    """Rename the columns found under another name to the ones the protocol uses, saying so.

    A label column named on the command line is matched only by that name.
    """
    present: dict[str, str] = {}
    for column in df.columns:
        present.setdefault(_key(column), column)
    wanted = dict(COLUMN_ALIASES)
    label_names = wanted.pop("label_included")
    wanted[label] = label_names if label == "label_included" else (label,)
    renames: dict[str, str] = {}
    for target, names in wanted.items():
        if target in df.columns:
            continue
        found = next((present[_key(n)] for n in names if _key(n) in present), None)
        if found is not None and found not in renames:
            renames[found] = target
            notes.append(f"{path}: read column {found!r} as {target}")
    return df.rename(columns=renames)


def load_dataset(path: Path, label: str = "label_included") -> tuple[pd.DataFrame, list[str]]:
    """Read and check a labelled CSV (record_id, title, abstract, keywords, label).

    Labelled sets come from several places (ASReview's benchmark files, SYNERGY,
    a team's own export), so the usual other names of each column are accepted
    (:data:`COLUMN_ALIASES`) and a set without record ids gets the row numbers
    (1, 2, …), as ASReview does. Each such choice is returned in the notes.
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read as CSV ({exc})") from exc
    notes: list[str] = []
    df = _name_columns(df, path, label, notes)
    if "title" not in df.columns and "abstract" in df.columns:
        df["title"] = ""
        notes.append(f"{path}: no title column; ranking on abstracts")
    missing = [c for c in ("title", label) if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}")
    if "record_id" not in df.columns:
        df.insert(0, "record_id", [str(i) for i in range(1, len(df) + 1)])
        notes.append(f"{path}: no record_id column; records are numbered by row (1 = first)")
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
    """The prior records a seed picks: the same ones ASReview LAB picks for that seed.

    Why the same: which prior records are drawn moves WSS@95 by up to 0.1 on a
    small review, far more than the difference between two good models, so a
    comparison with ASReview on a handful of seeds is mostly a comparison of
    luck unless both tools start from the same records. ASReview draws the
    relevant and the irrelevant priors each with a fresh
    ``numpy.random.RandomState(seed)`` over the rows in file order; so does
    this, which makes every per-set comparison paired.
    """
    inc = np.random.RandomState(seed).choice(np.flatnonzero(y == 1), n_included, replace=False)
    exc = np.random.RandomState(seed).choice(np.flatnonzero(y == 0), n_excluded, replace=False)
    return [int(i) for i in (*inc, *exc)]


def simulate(df: pd.DataFrame, seed: int, prior_included: int = 1, prior_excluded: int = 1,
             label: str = "label_included", model: str | None = None,
             stopping: str | None = None, target: float = DEFAULT_TARGET,
             on_step: Callable[[int, int], None] | None = None,
             on_embed: Callable[[int, int], None] | None = None) -> Simulation:
    """Screen ``df`` as the protocol says, with ``stopping`` deciding random draws and the stop.

    ``on_step(screened, found)`` is called after every record screened (a progress bar: a
    big review refits thousands of times before its last relevant record is found).
    ``on_embed(done, total)`` follows the sentence encoder, for a model that uses one.
    """
    y = df[label].to_numpy(dtype=int)
    spec = get_model(model)
    rule = get_rule(stopping, target)
    query = QUERIES[spec.query]
    ranker = Ranker.from_records(df.assign(record_id=np.arange(len(df))), model=spec.name,
                                 on_progress=on_embed)
    rng = np.random.default_rng(seed)
    n, total = len(y), int(y.sum())
    order = choose_priors(y, seed, prior_included, prior_excluded)
    random_draw = [False] * len(order)
    screened = np.zeros(n, dtype=bool)
    screened[order] = True
    progress = Progress(n_total=n, labels=[int(v) for v in y[order]])
    stop: int | None = None
    times: list[float] = []
    scores = np.zeros(n)

    def advance_free_draws() -> None:
        # the sample's next draws that the ranking already screened cost nothing more
        s = progress.sample
        while s is not None and s.drawn < s.urn.size and screened[s.urn[s.drawn]]:
            s.labels.append(int(y[s.urn[s.drawn]]))

    while not screened.all() and (stop is None or progress.found < total):
        if stop is None and rule.wants_sample(progress):
            urn = np.flatnonzero(~screened)
            progress.sample = Sample(start=progress.screened,
                                     urn=rng.permutation(urn), relevant_before=progress.found)
        if stop is None and rule.wants_random(progress):
            nxt = int(progress.sample.urn[progress.sample.drawn])
            progress.sample.labels.append(int(y[nxt]))
            random_draw.append(True)
        else:
            lab = np.array(order)
            t = time.perf_counter()
            scores = ranker.scores(lab, y[lab])
            nxt = query(scores, np.flatnonzero(~screened), rng)
            times.append(time.perf_counter() - t)
            random_draw.append(False)
        order.append(nxt)
        screened[nxt] = True
        progress.labels.append(int(y[nxt]))
        advance_free_draws()
        if stop is None and rule.assess(progress):
            stop = progress.screened
        if on_step is not None:
            on_step(progress.screened, progress.found)
    rest = np.flatnonzero(~screened)
    rest = rest[np.argsort(-scores[rest], kind="stable")]
    order += [int(i) for i in rest]
    random_draw += [False] * len(rest)
    labels = y[order]
    return Simulation(record_ids=df["record_id"].iloc[order].tolist(), labels_in_order=labels,
                      random_draw=np.array(random_draw, dtype=bool),
                      metrics=order_metrics(labels), stop_position=stop, stopping=rule.name,
                      model=spec.name, target=target, update_seconds=times)


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
    if sim.stop_position is not None:
        ax.axvline(sim.stop_position / n, color="#2a7", lw=1, label="stopping rule said stop")
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
