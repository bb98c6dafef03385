"""The deduplication run: normalise → block → score → cluster, as one pure function.

``find_duplicates`` takes a table of records and returns which records are one
work (clusters) and why (pairs with score, decision and reason). It touches no
file and no database, so the command line, the benchmark and the review store
all call the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from review.dedup.block import candidate_pairs
from review.dedup.cluster import consistent_clusters
from review.dedup.prepare import Prepared, prepare
from review.dedup.score import judge_one, score_pairs

PAIR_COLUMNS = ["id_a", "id_b", "score", "decision", "method", "reason"]


@dataclass
class DedupResult:
    """Outcome of one run.

    ``clusters``: one row per input record, columns ``ID, cluster_id`` (records
    sharing a cluster_id are one work; singletons have their own id).
    ``pairs``: ``id_a, id_b, score, decision, method, reason`` where decision is
    ``duplicate`` (linked) or ``maybe`` (a person should look).
    ``pairs_compared``: candidate pairs left after blocking.
    """

    clusters: pd.DataFrame
    pairs: pd.DataFrame
    pairs_compared: int
    timings: dict[str, float] = field(default_factory=dict)
    pairs_per_key: dict[str, int] = field(default_factory=dict)

    @property
    def duplicate_groups(self) -> list[list[str]]:
        """Clusters with more than one record, as lists of record ids."""
        sizes = self.clusters["cluster_id"].map(self.clusters["cluster_id"].value_counts())
        multi = self.clusters[sizes > 1]
        return [list(g["ID"]) for _, g in multi.groupby("cluster_id", sort=True)]


@contextmanager
def _stages(progress: bool, total: int) -> Iterator:
    """A rich progress bar over the four stages, or a silent stand-in."""
    if not progress:
        yield lambda description, advance=0: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]dedup[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task("normalising records", total=total)

        def step(description: str, advance: int = 0) -> None:
            bar.update(task, description=description, advance=advance)

        yield step


def find_duplicates(df: pd.DataFrame, progress: bool = False) -> DedupResult:
    """Find the records of ``df`` that are one work.

    ``df`` may use the benchmark columns (ID, title, author, year, journal,
    volume, number, pages, doi, abstract, ENTRYTYPE) or the project's record
    fields (authors as list or string, issue, keywords, pmid, type); any may be
    missing. Without an ID column the row index serves as the id.
    """
    timings: dict[str, float] = {}
    n = len(df)
    total = 4 * max(n, 1)
    with _stages(progress, total) as step:
        t0 = time.perf_counter()
        prepared = prepare(df, tick=lambda k: step("normalising records", k))
        timings["normalise"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        step("blocking")
        cand = candidate_pairs(prepared)
        timings["block"] = time.perf_counter() - t0
        step(f"scoring {len(cand):,} pairs", max(n, 1))

        t0 = time.perf_counter()
        scored, evidence = score_pairs(prepared, cand)
        timings["score"] = time.perf_counter() - t0
        step("clustering", max(n, 1))

        t0 = time.perf_counter()
        clustering = consistent_clusters(
            n, scored, lambda i, j: judge_one(prepared, evidence, i, j)
        )
        timings["cluster"] = time.perf_counter() - t0
        step("done", max(n, 1))

    return DedupResult(
        clusters=_cluster_table(prepared, clustering.labels),
        pairs=_pair_table(prepared, clustering.pairs),
        pairs_compared=len(cand),
        timings=timings,
        pairs_per_key=cand.per_key,
    )


def _cluster_table(p: Prepared, labels: np.ndarray) -> pd.DataFrame:
    """Cluster ids 1..k numbered in order of each cluster's first record in the input."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(len(first), np.int64)
    number[order] = np.arange(1, len(first) + 1)
    roots = np.unique(labels)
    cluster_id = number[np.searchsorted(roots, labels)] if len(labels) else np.empty(0, np.int64)
    return pd.DataFrame({"ID": pd.Series(p.ids, dtype=object), "cluster_id": cluster_id})


def _pair_table(p: Prepared, pairs: pd.DataFrame) -> pd.DataFrame:
    if pairs.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c not in {"score"} else float) for c in PAIR_COLUMNS}
        )
    ids = np.asarray(p.ids, dtype=object)
    out = pd.DataFrame(
        {
            "id_a": ids[pairs["a"].to_numpy()],
            "id_b": ids[pairs["b"].to_numpy()],
            "score": pairs["score"].to_numpy(),
            "decision": pairs["decision"].to_numpy(),
            "method": "auto",
            "reason": pairs["reason"].to_numpy(),
        }
    )
    return out.sort_values(
        ["decision", "score"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)
