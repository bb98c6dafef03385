"""Progress counts: the SQL fast path agrees with the shared rule in ``review.stages``."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from review.app import progress
from review.screening import decisions
from review.stages import stage_outcomes
from review.store import repo

TA = "title_abstract"


@pytest.fixture
def busy(db_url: str):
    from app_helpers import build_review

    r = build_review(db_url, n=30, hostile=False)
    try:
        yield r
    finally:
        r.store.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("per_record", [1, 2])
def test_sql_counts_match_the_reference_rule_on_random_histories(busy, seed: int,
                                                                 per_record: int) -> None:
    rng = random.Random(seed)
    people = list(busy.ids.values())
    for _ in range(120):
        rec = rng.choice(busy.records)
        who = rng.choice(people)
        label = rng.choice(["include", "exclude", "maybe", "retracted"])
        repo.add_decision(busy.store, record_id=rec, reviewer_id=who, stage=TA, label=label)
        if rng.random() < 0.05:
            repo.add_resolution(busy.store, record_id=rec, stage=TA, resolved_by=people[0],
                                label=rng.choice(["include", "exclude"]))
    reference = progress.team_summary(
        stage_outcomes(repo.decisions_frame(busy.store, TA), repo.resolutions_frame(busy.store, TA),
                       per_record), 30)
    fast = progress.team_summary_from_counts(
        decisions.outcome_counts(busy.store, TA, per_record), 30)
    assert fast == reference
    assert reference.finished > 0 and (per_record == 1 or reference.pending > 0)


def test_screening_order_labels_use_current_decisions_and_first_decision_time() -> None:
    rows = [(1, 10, 1, "exclude"), (2, 11, 1, "include"), (3, 10, 2, "maybe"),
            (4, 12, 1, "include"), (5, 12, 1, "retracted"), (6, 13, 1, "exclude")]
    df = pd.DataFrame(rows, columns=["id", "record_id", "reviewer_id", "label"])
    # record 10: exclude + maybe -> relevant (a maybe goes on); 11 relevant; 12 undone; 13 not.
    assert progress.labels_in_screening_order(df).tolist() == [1, 1, 0]


def test_recall_estimate_comes_from_the_stopping_rule() -> None:
    pytest.importorskip("review.screening.stopping")
    labels = np.array([1, 1, 0, 1] + [0] * 200)
    est = progress.recall_estimate(labels, 1000, 0.95)
    assert est is not None and est.advice
    assert est.recall is None or 0 < est.recall <= 1


def test_slow_summaries_are_served_stale_and_refreshed_beside_the_reviewer() -> None:
    import threading
    import time

    cache = progress.BackgroundValue(inline_ms=50, pause=0)
    assert cache.get("r", 1, lambda: "fast v1") == "fast v1"  # cheap: computed inline
    assert cache.get("r", 2, lambda: "fast v2") == "fast v2"

    def slow_v3() -> str:
        time.sleep(0.1)
        return "slow v3"

    assert cache.get("r", 3, slow_v3) == "slow v3"  # inline (it was cheap so far) but slow
    gate = threading.Event()

    def slow_v4() -> str:
        gate.wait(10)
        return "slow v4"

    t0 = time.perf_counter()
    assert cache.get("r", 4, slow_v4) == "slow v3"  # now known slow: the last value, at once
    assert time.perf_counter() - t0 < 5
    gate.set()
    cache.join("r")
    assert cache.get("r", 4, slow_v4) == "slow v4"

