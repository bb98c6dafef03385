"""The generated scale data is deterministic and its duplicates are found without false merges."""

from __future__ import annotations

import pandas as pd

from review.dedup import find_duplicates, pairwise_scores
from review.dedup.synthetic import generate


def test_same_seed_same_records_other_seed_other_records() -> None:
    a, ga = generate(300, seed=7)
    b, gb = generate(300, seed=7)
    c, _ = generate(300, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert ga == gb
    assert not a["title"].equals(c["title"])
    assert len(a) == 300 and a["ID"].is_unique


def test_generated_groups_are_found_without_false_merges() -> None:
    df, gold = generate(2000, seed=3)
    assert gold, "the generator must make duplicates"
    scores = pairwise_scores(find_duplicates(df).clusters, gold)
    assert scores.fp == 0
    assert scores.recall >= 0.97
