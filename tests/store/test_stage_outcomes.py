"""The stage rule (agreed / conflict / pending / automated / resolved) on random decision tables.

``stage_outcomes`` works on whole tables for speed; here it is checked against
the rule as a reviewer would state it, applied one record at a time.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from review.stages import (
    DECISION_COLUMNS,
    RESOLUTION_COLUMNS,
    current_decisions,
    stage_outcomes,
)

LABELS = ["include", "exclude", "maybe", "retracted"]
REASONS = [None, "wrong population", "wrong design"]


def clean(v):
    """Missing as None (pandas shows a missing reason as None or NaN)."""
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def rule_for_one_record(group: pd.DataFrame, per_record: int, automation: set[int]) -> dict:
    """The rule in words: automation decides alone; else all asked-for reviewers must agree."""
    auto = group[group["reviewer_id"].isin(automation)]
    labels = set(group["label"])
    if len(auto):
        status, label = "automated", auto["label"].iloc[-1]
    elif len(group) < per_record:
        status, label = "pending", None
    elif len(labels) == 1:
        status, label = "agreed", labels.pop()
    else:
        status, label = "conflict", None
    reasons = [r for lab, r in zip(group["label"], group["reason"], strict=True)
               if label is not None and lab == label and clean(r) is not None]
    return {"label": label, "status": status, "reason": reasons[-1] if reasons else None,
            "n_reviewers": len(group)}


decision_rows = st.lists(st.tuples(st.integers(1, 8), st.integers(1, 4), st.sampled_from(LABELS),
                                   st.sampled_from(REASONS)), max_size=40)
resolution_rows = st.lists(st.tuples(st.integers(1, 10), st.sampled_from(["include", "exclude"]),
                                     st.sampled_from(REASONS)), max_size=4)


@settings(max_examples=300, deadline=None)
@given(decision_rows, resolution_rows, st.sampled_from([1, 2]),
       st.sampled_from([frozenset(), frozenset({4})]))
def test_outcomes_follow_the_rule_record_by_record(rows, res_rows, per_record, automation):
    decisions = pd.DataFrame([(i + 1, r, v, lab, why, None) for i, (r, v, lab, why)
                              in enumerate(rows)], columns=DECISION_COLUMNS)
    resolutions = pd.DataFrame([(i + 1, r, lab, why, None) for i, (r, lab, why)
                                in enumerate(res_rows)], columns=RESOLUTION_COLUMNS)
    got = stage_outcomes(decisions, resolutions, per_record, automation)
    assert got["record_id"].is_unique

    expected: dict[int, dict] = {}
    for record_id, group in current_decisions(decisions).groupby("record_id"):
        expected[int(record_id)] = rule_for_one_record(group, per_record, set(automation))
    for r in resolutions.sort_values("id").itertuples():  # the lead's latest word is final
        n = expected.get(int(r.record_id), {}).get("n_reviewers", 0)
        expected[int(r.record_id)] = {"label": r.label, "status": "resolved",
                                      "reason": clean(r.reason), "n_reviewers": n}

    actual = {int(row.record_id): {"label": clean(row.label), "status": row.status,
                                   "reason": clean(row.reason), "n_reviewers": int(row.n_reviewers)}
              for row in got.itertuples()}
    assert actual == expected
