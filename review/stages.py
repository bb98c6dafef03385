"""Where a record stands at a screening stage, derived from decisions and resolutions.

This is the one rule every shell shares (the app's progress bar, the conflicts
page, the PRISMA counts, exports), so it lives here as a pure function over
plain tables rather than in any of them:

* a reviewer's *current* decision is their latest one for the record and stage,
  and a ``retracted`` latest decision means they have none (that is "undo");
* a lead's latest resolution, where there is one, is final;
* otherwise, once the number of reviewers the review asks for have decided,
  the record is ``agreed`` if their labels are equal and in ``conflict`` if not;
  before that it is ``pending`` with no final label.
"""

from __future__ import annotations

import pandas as pd

DECISION_COLUMNS = ["id", "record_id", "reviewer_id", "label", "reason", "created_at"]
RESOLUTION_COLUMNS = ["id", "record_id", "label", "reason", "created_at"]
OUTCOME_COLUMNS = ["record_id", "label", "status", "reason", "n_reviewers"]


def current_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """Latest decision per reviewer and record, with undone ones dropped."""
    if decisions.empty:
        return decisions.reindex(columns=DECISION_COLUMNS)
    latest = decisions.sort_values("id").groupby(["record_id", "reviewer_id"], sort=False).tail(1)
    return latest[latest["label"] != "retracted"].reset_index(drop=True)


def stage_outcomes(
    decisions: pd.DataFrame,
    resolutions: pd.DataFrame,
    reviewers_per_record: int = 1,
    automation: frozenset[int] | set[int] = frozenset(),
) -> pd.DataFrame:
    """One row per record that has a decision or resolution at this stage.

    Columns: record_id, label (final label or None), status (``pending`` /
    ``agreed`` / ``conflict`` / ``resolved`` / ``automated``), reason (of the
    final label), n_reviewers (current decisions). A current decision by one of
    the ``automation`` reviewer ids (a stopping rule, a classifier the lead
    trusts) is final on its own, unless a lead resolved the record.
    """
    cur = current_decisions(decisions)
    rows: dict[int, dict] = {}
    for record_id, group in cur.groupby("record_id", sort=False):
        labels = set(group["label"])
        n = len(group)
        auto = group[group["reviewer_id"].isin(automation)] if automation else group.iloc[:0]
        if len(auto):
            status, label = "automated", auto["label"].iloc[-1]
        elif n < reviewers_per_record:
            status, label = "pending", None
        elif len(labels) == 1:
            status, label = "agreed", next(iter(labels))
        else:
            status, label = "conflict", None
        reason = None
        if label is not None:
            reasons = group.loc[group["label"] == label, "reason"].dropna()
            reason = reasons.iloc[-1] if len(reasons) else None
        rows[int(record_id)] = {
            "record_id": int(record_id), "label": label, "status": status,
            "reason": reason, "n_reviewers": n,
        }
    if not resolutions.empty:
        final = resolutions.sort_values("id").groupby("record_id", sort=False).tail(1)
        for r in final.itertuples(index=False):
            n = rows.get(int(r.record_id), {}).get("n_reviewers", 0)
            rows[int(r.record_id)] = {
                "record_id": int(r.record_id), "label": r.label, "status": "resolved",
                "reason": r.reason, "n_reviewers": n,
            }
    return pd.DataFrame(list(rows.values()), columns=OUTCOME_COLUMNS)
