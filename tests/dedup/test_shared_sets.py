"""The shared labelled sets: no false merges (precision ≥ 0.999, the issue's target).

F1 is guarded loosely (within 2% of bib-dedupe's published F1 for the set); the
exact comparison, with the peer run beside this engine, is benchmarks/dedup.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from review.dedup import find_duplicates, pairwise_scores

#: The shared sets: $REVIEW_SHARED_DATA (set by .ci/run), else beside the checkout (or one
#: level further up for a worktree).
DATA = next(
    (
        d
        for d in (
            *([Path(os.environ["REVIEW_SHARED_DATA"]) / "dedup"]
              if os.environ.get("REVIEW_SHARED_DATA") else []),
            Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dedup",
            Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "dedup",
        )
        if d.exists()
    ),
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dedup",
)
#: bib-dedupe 0.11.0's F1 on each set, from ../shared/BENCHMARKS.md
PEER_F1 = {"cytology_screening": 0.9922, "haematology": 0.9000, "respiratory": 0.9612}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PEER_F1))
def test_shared_set_has_no_false_merges(name: str) -> None:
    folder = DATA / name
    if not (folder / "records_pre_merged.csv").exists():
        pytest.skip(f"shared data set {name} not found at {folder}")
    records = pd.read_csv(folder / "records_pre_merged.csv", dtype=str)
    gold = [g.split(";") for g in pd.read_csv(folder / "merged_record_ids.csv")["merged_ids"]]
    scores = pairwise_scores(find_duplicates(records).clusters, gold)
    assert scores.precision >= 0.999
    assert scores.f1 >= 0.98 * PEER_F1[name]
