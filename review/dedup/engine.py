"""The deduplication run: normalise → block → score → cluster, as one pure function.

:func:`deduplicate` takes records (plain columns, rows, or a DataFrame) and
returns which records are one work (a cluster id per record) and why (pairs
with score, decision and reason), in plain Python lists: the command line
runs it without importing pandas or numpy, which alone would cost more than
the whole run on a file of a few thousand records. :func:`find_duplicates` is
the same run for the library API, its result as DataFrames. Neither touches a
file or a database, so the command line, the benchmark and the review store
all call the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from review.dedup.block import candidate_pairs
from review.dedup.cluster import ClusterPair, consistent_clusters
from review.dedup.prepare import prepare, record_table
from review.dedup.score import judge_one, score_pairs

if TYPE_CHECKING:
    import pandas as pd

PAIR_COLUMNS = ["id_a", "id_b", "score", "decision", "method", "reason"]


class PairRow(NamedTuple):
    """One row of the pairs table: a duplicate link or a 'maybe' for a person."""

    id_a: str
    id_b: str
    score: float
    decision: str
    method: str
    reason: str


@dataclass
class DedupRows:
    """Outcome of one run, in plain lists.

    ``ids[k]`` and ``cluster_ids[k]``: record k's id and cluster (records sharing a
    cluster id are one work; clusters are numbered 1.. in order of their first
    record). ``pairs``: duplicate and maybe pairs, duplicates first, strongest first.
    ``pairs_compared``: candidate pairs left after blocking.
    """

    ids: list[str]
    cluster_ids: list[int]
    pairs: list[PairRow]
    pairs_compared: int
    timings: dict[str, float] = field(default_factory=dict)
    pairs_per_key: dict[str, int] = field(default_factory=dict)

    @property
    def duplicate_groups(self) -> list[list[str]]:
        """Clusters with more than one record, as lists of record ids, by cluster id."""
        return _groups(self.ids, self.cluster_ids)


@dataclass
class DedupResult:
    """Outcome of one run, as DataFrames (the library API; see :class:`DedupRows`).

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
        return _groups(self.clusters["ID"].tolist(), self.clusters["cluster_id"].tolist())


def _groups(ids: list[str], cluster_ids: list[int]) -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for rid, c in zip(ids, cluster_ids, strict=True):
        groups.setdefault(c, []).append(rid)
    return [groups[c] for c in sorted(groups) if len(groups[c]) > 1]


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


def deduplicate(records: Any, progress: bool = False) -> DedupRows:
    """Find the records that are one work.

    ``records``: a :class:`~review.dedup.prepare.RecordTable`, a mapping of columns,
    an iterable of dicts or a DataFrame, with the benchmark columns (ID, title,
    author, year, journal, volume, number, pages, doi, abstract, ENTRYTYPE) or the
    project's record fields (authors as list or string, issue, keywords, pmid,
    type); any may be missing. Without an ID column the row index serves as the id.
    """
    table = record_table(records)
    timings: dict[str, float] = {}
    n = table.n
    total = 4 * max(n, 1)
    with _stages(progress, total) as step:
        t0 = time.perf_counter()
        prepared = prepare(table, tick=lambda k: step("normalising records", k))
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

    return DedupRows(
        ids=prepared.ids,
        cluster_ids=_cluster_numbers(clustering.labels),
        pairs=_pair_rows(prepared.ids, clustering.pairs),
        pairs_compared=len(cand),
        timings=timings,
        pairs_per_key=cand.per_key,
    )


def find_duplicates(df: pd.DataFrame, progress: bool = False) -> DedupResult:
    """:func:`deduplicate` with its result as DataFrames (``clusters`` and ``pairs``)."""
    import pandas as pd

    rows = deduplicate(df, progress=progress)
    clusters = pd.DataFrame(
        {
            "ID": pd.Series(rows.ids, dtype=object),
            "cluster_id": pd.Series(rows.cluster_ids, dtype="int64"),
        }
    )
    if rows.pairs:
        pairs = pd.DataFrame(rows.pairs, columns=PAIR_COLUMNS)
    else:
        pairs = pd.DataFrame(
            {c: pd.Series(dtype=float if c == "score" else object) for c in PAIR_COLUMNS}
        )
    return DedupResult(
        clusters=clusters,
        pairs=pairs,
        pairs_compared=rows.pairs_compared,
        timings=rows.timings,
        pairs_per_key=rows.pairs_per_key,
    )


def _cluster_numbers(labels: list[int]) -> list[int]:
    """Cluster ids 1..k numbered in order of each cluster's first record in the input."""
    number: dict[int, int] = {}
    return [number.setdefault(root, len(number) + 1) for root in labels]


def _pair_rows(ids: list[str], pairs: list[ClusterPair]) -> list[PairRow]:
    """Pairs with record ids, duplicates before maybes, strongest first within each."""
    rows = [PairRow(ids[p.a], ids[p.b], p.score, p.decision, "auto", p.reason) for p in pairs]
    rows.sort(key=lambda r: (r.decision, -r.score))
    return rows
