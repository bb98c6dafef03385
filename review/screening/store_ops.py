"""``review rank``: a ranking of the unscreened canonical records, stored for the app's queue.

Features are built once per review and kept in this process (keyed by the
review's URL and its canonical records), so the app's background refresh after
every few decisions only refits the small model. Labels come from the
title/abstract stage: a record's final label where there is one, else any
reviewer's current include (relevant) or exclude (irrelevant); "maybe" teaches
nothing yet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select

from review.screening.active import Ranker, RankingError
from review.screening.components import FALLBACK_MODEL, get_model, missing_requirement
from review.screening.features import sentence_texts
from review.stages import Stage, current_decisions
from review.store import Store, repo
from review.store.models import Ranking, RankingRun

STAGE = Stage.TITLE_ABSTRACT
KEEP_RUNS = 3
RANDOM_SAMPLING = "random order (stopping rule's sampling phase)"
_cache: dict[str, tuple[tuple, Ranker]] = {}
_lock = threading.Lock()


def _ranker_key(records: pd.DataFrame, model: str | None) -> tuple:
    return (len(records), int(records["record_id"].max()), int(records["record_id"].sum()),
            model)


def _cached_ranker(store: Store, records: pd.DataFrame, model: str | None) -> Ranker | None:
    """The ranker this process already built for these records and model, if any."""
    with _lock:
        hit = _cache.get(store.url)
    return hit[1] if hit is not None and hit[0] == _ranker_key(records, model) else None


def _ranker_for(store: Store, records, model: str | None = None) -> Ranker:
    ranker = _cached_ranker(store, records, model)
    if ranker is not None:
        return ranker
    key = _ranker_key(records, model)
    ranker = Ranker.from_records(records, model=model)
    with _lock:
        _cache[store.url] = (key, ranker)
    return ranker


#: Records a refit embeds at most (about 50 s on two cores), so that on a big review the
#: first rankings come at once, on words, and the sentence vectors fill in over a few refits.
EMBED_PER_REFIT = 2_000


def _prepare_vectors(records: pd.DataFrame, limit: int | None,
                     on_progress: Callable[[int, int], None] | None = None,
                     threads: int = 0) -> tuple[int, int, int]:
    """Embed up to ``limit`` records (None: all) still without a cached vector, on at most
    ``threads`` cores (0: all); returns (texts embedded now, texts still without a vector,
    distinct texts)."""
    from review.screening.embedding import embed_texts, uncached

    texts = sentence_texts(records)
    todo = uncached(texts)
    now = todo if limit is None else todo[:limit]
    if now:
        embed_texts([texts[i] for i in now], on_progress=on_progress, threads=threads)
    total = len({t for t in texts if t.strip()})  # each text is embedded once
    return len(now), len(todo) - len(now), total


def embed_review(store: Store, on_progress: Callable[[int, int], None] | None = None
                 ) -> tuple[int, int]:
    """Give every record to screen its sentence vector now (``review embed``), rather than
    2,000 per refit: for a big review, run once before screening starts. Returns (records
    embedded now, distinct texts)."""
    records = repo.records_frame(store, canonical_only=True, columns=["title", "abstract"])
    if records.empty:
        return 0, 0
    now, _, total = _prepare_vectors(records, None, on_progress)
    return now, total


def current_labels(store: Store, canonical: set[int]) -> dict[int, int]:
    """record → 1/0 from the title/abstract decisions so far (canonical records only)."""
    out: dict[int, int] = {}
    cur = current_decisions(repo.decisions_frame(store, STAGE))
    for rid, label in zip(cur["record_id"], cur["label"], strict=True):
        if int(rid) in canonical and label in ("include", "exclude"):
            out[int(rid)] = max(out.get(int(rid), 0), int(label == "include"))
    final = repo.outcomes(store, STAGE)
    for rid, label in zip(final["record_id"], final["label"], strict=True):
        if int(rid) in canonical and label in ("include", "exclude"):
            out[int(rid)] = int(label == "include")
    return out


def rank_store(store: Store) -> dict[str, Any]:
    """Fit on the decisions so far and store a new ranking run; returns its summary."""
    settings = repo.get_settings(store)
    # the lead's choice among review.screening.components.available_models()
    try:
        spec = get_model(settings.get("ranking_model"))
    except KeyError:  # a model this version does not have: rank with the default
        spec = get_model(None)
    if missing_requirement(spec.name):  # its optional extra is not installed on this machine
        spec = get_model(None)
    model = spec.description
    # The ids say whether this process's ranker still fits the records; only a new ranker
    # needs their text (reading it is half of a later refit's time on 100,000 records).
    records = repo.records_frame(store, canonical_only=True, columns=())
    cached = not records.empty and _cached_ranker(store, records, spec.name) is not None
    if not cached:
        records = repo.records_frame(store, canonical_only=True,
                                     columns=["title", "abstract", "keywords"])
    if records.empty:
        return {"run_id": None, "ranked": 0, "model": "none", "reason": "no records"}
    canonical = set(records["record_id"].astype(int))
    labels = current_labels(store, canonical)
    n_rel = sum(labels.values())
    # A ranker with sentence vectors is only ever built once every record has its vector, so
    # while this process holds one for these records, looking the vectors up again (hashing
    # every text: as costly as the refit itself on 100,000 records) can be skipped.
    if spec.feature_config().embedding_weight > 0 and not cached:
        # one core: the refit runs beside the app, and reviewers' clicks come first
        _, left, total = _prepare_vectors(records, EMBED_PER_REFIT, threads=1)
        if left:  # rank on words until every record has its vector: nobody waits for them
            spec = get_model(FALLBACK_MODEL)
            model = (f"{FALLBACK_MODEL}: words only while sentence vectors are prepared "
                     f"({total - left:,} of {total:,})")
    sampling_start = settings.get("sampling_start")
    if sampling_start is not None:
        # The stopping rule's random-sampling phase: the rest is screened in an order that is
        # uniformly random and fixed for the review (seeded by where sampling began), so every
        # refresh keeps handing out the same random sequence.
        model = RANDOM_SAMPLING
        unlabelled = records[~records["record_id"].isin(labels)]
        rng = np.random.default_rng(int(sampling_start) + len(records))
        ids = unlabelled["record_id"].to_numpy()[rng.permutation(len(unlabelled))]
        ranking = pd.DataFrame({"record_id": ids, "score": 0.0,
                                "rank": np.arange(1, len(ids) + 1)})
    else:
        ranking = None
    try:
        if ranking is None:
            ranking = _ranker_for(store, records, spec.name).rank(labels)
    except RankingError:
        # Before the first include and exclude: keep import order (nothing to learn from yet).
        model = "import order (needs one include and one exclude)"
        unlabelled = records[~records["record_id"].isin(labels)]
        ranking = unlabelled[["record_id"]].assign(score=0.0,
                                                   rank=np.arange(1, len(unlabelled) + 1))
    with store.session() as s:
        run = RankingRun(stage=STAGE, model=model, n_labelled=len(labels), n_relevant=n_rel,
                         info={"records": len(records)})
        s.add(run)
        s.flush()
        rows = [{"run_id": run.id, "record_id": int(r), "score": float(sc), "rank": int(k)}
                for r, sc, k in zip(ranking["record_id"], ranking["score"], ranking["rank"],
                                    strict=True)]
        for start in range(0, len(rows), 10_000):
            s.execute(insert(Ranking.__table__), rows[start:start + 10_000])  # Core: no ORM cost
        run_id = run.id
        # Rankings are derived data: keep the rows of the latest few runs only, or a busy
        # review would store every record again after every refresh.
        old = select(RankingRun.id).where(RankingRun.stage == STAGE,
                                          RankingRun.id <= run_id - KEEP_RUNS)
        s.execute(delete(Ranking).where(Ranking.run_id.in_(old)))
    return {"run_id": run_id, "ranked": len(ranking), "labelled": len(labels),
            "relevant": n_rel, "model": model}
