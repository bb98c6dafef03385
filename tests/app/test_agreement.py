"""Cohen's κ and percent agreement per reviewer pair, on current decisions only."""

from __future__ import annotations

import math

import pandas as pd

from review.screening.agreement import agreement_table


def frame(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
    """(record, reviewer, label) in the order they were made → a decisions frame."""
    return pd.DataFrame([{"id": i + 1, "record_id": r, "reviewer_id": v, "label": lab,
                          "reason": None, "note": None, "created_at": None}
                         for i, (r, v, lab) in enumerate(rows)])


def test_kappa_matches_the_textbook_formula() -> None:
    a = ["include", "include", "exclude", "exclude", "exclude", "maybe"]
    b = ["include", "exclude", "exclude", "exclude", "maybe", "maybe"]
    rows = [(i + 1, 1, lab) for i, lab in enumerate(a)] + [(i + 1, 2, lab)
                                                           for i, lab in enumerate(b)]
    rows += [(99, 2, "include")]  # only reviewer 2 decided record 99: not a shared record
    t = agreement_table(frame(rows), "title_abstract", {1: "Ana", 2: "Ben"})
    assert len(t) == 1
    row = t.iloc[0]
    assert (row["reviewer_a"], row["reviewer_b"], row["records"], row["agreed"]) == \
        ("Ana", "Ben", 6, 4)
    # p_o = 4/6; p_e = (2·1 + 3·3 + 1·2)/36 = 13/36; κ = (p_o − p_e)/(1 − p_e) = 11/23
    assert row["percent_agreement"] == round(400 / 6, 1)
    assert row["kappa"] == round(11 / 23, 3)


def test_only_current_decisions_count() -> None:
    rows = [(1, 1, "include"), (1, 2, "exclude"), (2, 1, "exclude"), (2, 2, "exclude"),
            (1, 2, "include"),  # Ben changed his mind: now they agree on record 1
            (3, 1, "include"), (3, 2, "exclude"), (3, 2, "retracted")]  # Ben undid record 3
    t = agreement_table(frame(rows), "title_abstract")
    row = t.iloc[0]
    assert (row["records"], row["agreed"], row["percent_agreement"]) == (2, 2, 100.0)
    assert row["kappa"] == 1.0


def test_kappa_is_undefined_when_a_pair_used_one_label_only() -> None:
    rows = [(1, 1, "exclude"), (1, 2, "exclude"), (2, 1, "exclude"), (2, 2, "exclude")]
    row = agreement_table(frame(rows), "full_text").iloc[0]
    assert row["percent_agreement"] == 100.0 and math.isnan(row["kappa"])


def test_three_reviewers_give_three_pairs_and_no_decisions_give_none() -> None:
    rows = [(1, v, "include") for v in (1, 2, 3)] + [(2, v, lab) for v, lab in
                                                    ((1, "exclude"), (2, "include"),
                                                     (3, "exclude"))]
    t = agreement_table(frame(rows), "title_abstract")
    assert list(zip(t["reviewer_a"], t["reviewer_b"], t["agreed"], strict=True)) == [
        ("1", "2", 1), ("1", "3", 2), ("2", "3", 1)]
    assert agreement_table(frame([]), "title_abstract").empty
