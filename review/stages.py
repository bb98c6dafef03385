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

from enum import StrEnum

import pandas as pd


class Stage(StrEnum):
    """The two screening stages a record passes (values as stored in the database)."""

    TITLE_ABSTRACT = "title_abstract"
    FULL_TEXT = "full_text"

    @property
    def words(self) -> str:
        """How a page names the stage."""
        return {"title_abstract": "Title/abstract", "full_text": "Full text"}[self.value]


#: Every stage, in the order a record passes them.
STAGES: tuple[Stage, ...] = tuple(Stage)

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
    # Whole-table operations rather than a loop per record: the app's ranking refresh and
    # the PRISMA counts call this on every decision of a 50,000-record review.
    g = cur.groupby("record_id", sort=False)
    out = pd.DataFrame({"n_reviewers": g.size(), "n_labels": g["label"].nunique(),
                        "first": g["label"].first()})
    if automation:
        auto = cur[cur["reviewer_id"].isin(automation)].groupby("record_id")["label"].last()
    else:
        auto = pd.Series(dtype=object)
    agreed = out["n_labels"] == 1
    enough = out["n_reviewers"] >= reviewers_per_record
    out["status"] = "conflict"
    out.loc[enough & agreed, "status"] = "agreed"
    out.loc[~enough, "status"] = "pending"
    out["label"] = out["first"].where(enough & agreed)
    is_auto = out.index.isin(auto.index)
    out.loc[is_auto, "status"] = "automated"
    out.loc[is_auto, "label"] = auto.reindex(out.index[is_auto]).to_numpy()
    # the reason of the final label: the latest one given with that label
    final_label = cur["record_id"].map(out["label"])
    with_label = cur[cur["label"] == final_label]
    out["reason"] = with_label.groupby("record_id")["reason"].last().reindex(out.index)
    out = out.reset_index()
    if not resolutions.empty:
        final = resolutions.sort_values("id").groupby("record_id", sort=False).tail(1)
        final = final.assign(status="resolved", n_reviewers=final["record_id"].map(
            out.set_index("record_id")["n_reviewers"]).fillna(0))
        resolved = out["record_id"].isin(final["record_id"])
        keep = final.set_index("record_id")
        out.loc[resolved, ["label", "status", "reason"]] = keep.loc[
            out.loc[resolved, "record_id"], ["label", "status", "reason"]].to_numpy()
        extra = final[~final["record_id"].isin(out["record_id"])]
        out = pd.concat([out, extra[OUTCOME_COLUMNS]], ignore_index=True)
    out = out.reindex(columns=OUTCOME_COLUMNS)
    out["record_id"] = out["record_id"].astype(int)
    out["n_reviewers"] = out["n_reviewers"].astype(int)
    return out.astype({"label": object, "reason": object, "status": object})


class DecisionError(ValueError):
    """A submitted label or reason that the page did not offer (a forged or stale value)."""


def checked_decision(settings: dict, stage: str, label: str, reason: str | None,
                     labels: tuple[str, ...] = ("include", "exclude", "maybe")) -> str | None:
    """The reason to store with ``label``, after checking both against what the page offered.

    Widgets are only the browser's suggestion: a client can send any value for a
    select box. So the label must be one of ``labels`` and an exclusion's reason one
    of the review's reasons for ``stage`` (``exclusion_reasons_<stage>``); anything
    else is refused with :class:`DecisionError` rather than stored. A reason is kept
    only with *exclude*. Called by every writer of decisions and resolutions.
    """
    if label not in labels:
        raise DecisionError(f"{label!r} is not a decision here (choose {', '.join(labels)})")
    if label != "exclude" or reason is None:
        return None
    offered = [str(r) for r in settings.get(f"exclusion_reasons_{stage}") or []]
    if reason not in offered:
        raise DecisionError(f"{reason!r} is not one of the review's exclusion reasons")
    return reason


# --- which reports and studies are included: the one rule every view counts with -------------

def study_key(study_id: object, report_id: object) -> str:
    """``study:<id>`` for a grouped report, ``report:<id>`` for one that is its own study."""
    if study_id is not None and not pd.isna(study_id):
        return f"study:{int(study_id)}"  # type: ignore[arg-type]
    return f"report:{int(report_id)}"  # type: ignore[arg-type]


def counted_mask(reports: pd.DataFrame, ft_label: dict, duplicates, label: str = "include"
                 ) -> pd.Series:
    """Reports (rows of ``reports``: record_id, retrieval) that count with this final
    full-text ``label``: the record is not linked as a duplicate (PRISMA counts clusters),
    the report was retrieved, and its final full-text label is ``label``."""
    linked = {int(r) for r in duplicates}
    rec = reports["record_id"].astype(int)
    return (~rec.isin(linked) & (reports["retrieval"] != "not_retrieved")
            & rec.map(lambda r: ft_label.get(int(r)) == label))


def included_reports(reports: pd.DataFrame, ft_label: dict, duplicates) -> pd.DataFrame:
    """The included reports with their ``study_key``: the app's pages, ``review prisma``,
    ``review tables``, the synthesis and ``review meta`` all count with this.

    ``reports`` has report_id, record_id, study_id, retrieval; ``ft_label`` maps a record
    id to its final full-text label (:func:`stage_outcomes`); ``duplicates`` holds the
    record ids linked (live) as a duplicate. A study is included when one of its counted
    reports is; a report not grouped yet is a study of its own, as PRISMA 2020 counts it.
    """
    if reports.empty:
        return reports.assign(study_key=pd.Series(dtype=object))
    inc = reports[counted_mask(reports, ft_label, duplicates)].copy()
    inc["study_key"] = [study_key(s, r) for s, r in
                        zip(inc["study_id"], inc["report_id"], strict=True)]
    return inc
