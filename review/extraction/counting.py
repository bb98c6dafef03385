"""Which extraction counts: the one rule every table, page and count reads.

Per study and form, a ``consensus`` row outranks a ``final`` row (the lead's,
or imported like the demo's), which outranks a reviewer's ``submitted`` row;
submitted rows count only when the review extracts each study once. Drafts
never count. Within a status the newest form version wins, then the latest
edit, then the latest row. Two reviewers' rows tied at the top with no
consensus are reported in the notes rather than silently picked.

Pure (rows in, rows out), so the extraction page's progress, the synthesis
and the evidence tables apply the same rule and cannot disagree about which
values a study contributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Extraction statuses that count, most authoritative first.
COUNTING_STATUSES: tuple[str, ...] = ("consensus", "final", "submitted")
#: Statuses a single reviewer writes; they count only under single extraction.
REVIEWER_STATUSES = frozenset({"submitted"})
#: The columns of an extraction row, as the store gives them.
EXTRACTION_COLUMNS: tuple[str, ...] = (
    "extraction_id", "study_id", "form_id", "form_version", "reviewer_id", "status", "values",
    "updated_at",
)


@dataclass
class ChosenExtractions:
    """The extraction that counts per study and form, and what a lead should know about it."""

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _version(value: Any) -> Any:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return value


def choose_extractions(
    rows: pd.DataFrame,
    citations: Mapping[int, str],
    status: Sequence[str] = COUNTING_STATUSES,
    single_extraction: bool = True,
) -> ChosenExtractions:
    """One extraction per study and form, in the input shape of :mod:`review.synthesis.mechanisms`.

    ``rows`` has :data:`EXTRACTION_COLUMNS`; ``citations`` maps the study ids to show
    (others are left out) to their citation. ``status`` lists the statuses that count;
    ``consensus`` outranks ``final``, which outranks a reviewer's ``submitted`` row
    (counted only when ``single_extraction``). Within a status the newest form version
    wins, then the latest edit. Returns the rows plus notes naming any study where the
    choice was not clear-cut.
    """
    known = len(COUNTING_STATUSES)
    rank = {s: COUNTING_STATUSES.index(s) if s in COUNTING_STATUSES else known for s in status}
    out, notes = [], []
    cand = rows[rows["study_id"].isin(list(citations))].copy()
    cand["form_version"] = cand["form_version"].map(_version)
    cand = cand[cand["status"].isin(list(rank))]
    unusable = cand.iloc[:0]
    if not single_extraction:
        unusable = cand[cand["status"].isin(REVIEWER_STATUSES)]
        cand = cand[~cand["status"].isin(REVIEWER_STATUSES)]
    for (sid, form_id), group in cand.groupby(["study_id", "form_id"], sort=True):
        g = group.assign(
            _rank=group["status"].map(rank),
            _v=group["form_version"].map(lambda v: v if isinstance(v, int) else -1),
            _t=pd.to_datetime(group["updated_at"], utc=True, errors="coerce"),
        ).sort_values(["_rank", "_v", "_t", "extraction_id"],
                      ascending=[True, False, False, False])
        best = g.iloc[0]
        rivals = g[(g["_rank"] == best["_rank"]) & (g["_v"] == best["_v"])]
        if len(rivals) > 1 and rivals["reviewer_id"].nunique(dropna=False) > 1:
            notes.append(
                f"{citations[sid]}: {len(rivals)} '{best['status']}' extractions of form "
                f"{form_id} by different reviewers and no consensus; used the latest "
                f"(extraction #{int(best['extraction_id'])})")
        out.append({
            "study_id": int(sid), "short_citation": citations[sid], "form_id": form_id,
            "form_version": best["form_version"], "values": best["values"] or {},
            "status": best["status"], "extraction_id": int(best["extraction_id"]),
        })
    chosen = {(r["study_id"], r["form_id"]) for r in out}
    waiting = sorted({(int(r.study_id), r.form_id) for r in unusable.itertuples(index=False)}
                     - chosen)
    for sid, form_id in waiting:
        notes.append(f"{citations[sid]}: form {form_id} has submitted extractions awaiting "
                     "consensus; left out of the tables")
    columns = ["study_id", "short_citation", "form_id", "form_version", "values", "status",
               "extraction_id"]
    return ChosenExtractions(pd.DataFrame(out, columns=columns), notes)


__all__ = ["COUNTING_STATUSES", "EXTRACTION_COLUMNS", "REVIEWER_STATUSES", "ChosenExtractions",
           "choose_extractions"]
