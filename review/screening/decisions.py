"""Screening decisions as a reviewer may see them: blind mode, own progress, records, team counts.

The rule that shapes this module is **blind mode lives in the data layer**:
every read of decisions that a page makes goes through :func:`visible_decisions`
(or a helper built on it), which takes the signed-in reviewer and returns only
their own rows while the review is blind, whatever the caller asks for. A page
therefore cannot leak another reviewer's label by forgetting to filter: it
never receives one. Leads see everything (they resolve conflicts).

Everything else here is a small query the pages need that the shared
repository does not have (progress counts in SQL so they stay fast at 50,000
records, the decision "undo" would retract, reviewers' workload). Reviewers'
accounts and sign-in sessions live in :mod:`review.store.accounts`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import aliased

from review.store import Store
from review.store.accounts import SignedIn, reviewer_names
from review.store.models import (
    Assignment,
    Decision,
    DuplicateLink,
    Record,
    Resolution,
)

DECISION_COLUMNS = ["id", "record_id", "reviewer_id", "label", "reason", "note", "created_at"]


# --- blind mode -------------------------------------------------------------------------------

def sees_everyone(viewer: SignedIn, settings: dict[str, Any]) -> bool:
    """Whether ``viewer`` may read other reviewers' labels: leads always, others when not blind."""
    return viewer.role == "lead" or not bool(settings.get("blind", True))


def visible_progress(summary: Any, viewer: SignedIn, settings: dict[str, Any]
                     ) -> dict[str, int]:
    """The team numbers ``viewer`` may see, from a :class:`review.app.progress.TeamSummary`.

    Blind mode holds for numbers too: "records finished" rises only when two
    reviewers *agree* (a conflict is not finished), so the second reviewer of a
    record would learn the first one's label from it; likewise the team's
    includes. A blinded reviewer gets only numbers no label moves:
    ``decided`` (records decided by as many reviewers as the review asks for,
    agreeing or not) and ``to_screen``. Everyone else gets the whole summary.
    """
    if sees_everyone(viewer, settings):
        return {"to_screen": summary.to_screen, "finished": summary.finished,
                "included": summary.included, "conflicts": summary.conflicts,
                "pending": summary.pending,
                "decided": summary.finished + summary.conflicts}
    # agreed + resolved + conflicts = every record with enough decisions, whatever they say
    return {"to_screen": summary.to_screen, "decided": summary.finished + summary.conflicts}


def visible_decisions(store: Store, viewer: SignedIn, stage: str, settings: dict[str, Any], *,
                      reviewer_id: int | None = None,
                      record_ids: list[int] | None = None) -> pd.DataFrame:
    """Decisions at ``stage`` that ``viewer`` is allowed to see (all of them, history included).

    A blind reviewer asking for another reviewer's decisions gets an empty
    frame: the filter is applied in the SQL, not by the page.
    """
    if not sees_everyone(viewer, settings):
        if reviewer_id is not None and reviewer_id != viewer.reviewer_id:
            return pd.DataFrame(columns=DECISION_COLUMNS)
        reviewer_id = viewer.reviewer_id
    with store.session() as s:
        q = select(Decision.id, Decision.record_id, Decision.reviewer_id, Decision.label,
                   Decision.reason, Decision.note, Decision.created_at
                   ).where(Decision.stage == stage)
        if reviewer_id is not None:
            q = q.where(Decision.reviewer_id == reviewer_id)
        if record_ids is not None:
            q = q.where(Decision.record_id.in_(record_ids))
        rows = s.execute(q.order_by(Decision.id)).all()
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def current_labels(store: Store, viewer: SignedIn, record_id: int, stage: str,
                   settings: dict[str, Any]) -> pd.DataFrame:
    """Each visible reviewer's current decision on one record, with their display name."""
    from review.stages import current_decisions

    df = current_decisions(visible_decisions(store, viewer, stage, settings,
                                             record_ids=[record_id]))
    if df.empty:
        return df.assign(reviewer=pd.Series(dtype=str))
    names = reviewer_names(store)
    return df.assign(reviewer=[names.get(int(r), str(r)) for r in df["reviewer_id"]])


# --- one reviewer's own work ------------------------------------------------------------------

def _latest_mine(reviewer_id: int, stage: str):
    """Subquery: id of the reviewer's latest decision per record at ``stage``."""
    return (select(Decision.record_id, func.max(Decision.id).label("last_id"))
            .where(Decision.reviewer_id == reviewer_id, Decision.stage == stage)
            .group_by(Decision.record_id).subquery())


def my_progress(store: Store, reviewer_id: int, stage: str) -> dict[str, int]:
    """The reviewer's current decisions counted by label (undone ones not counted)."""
    latest = _latest_mine(reviewer_id, stage)
    d = aliased(Decision)
    with store.session() as s:
        rows = s.execute(select(d.label, func.count()).join(latest, latest.c.last_id == d.id)
                         .group_by(d.label)).all()
    counts = {label: int(n) for label, n in rows}
    out = {k: counts.get(k, 0) for k in ("include", "exclude", "maybe")}
    out["screened"] = sum(out.values())
    return out


def last_undoable(store: Store, reviewer_id: int, stage: str) -> dict[str, Any] | None:
    """The reviewer's most recent decision that still stands (what "undo" retracts), or None."""
    latest = _latest_mine(reviewer_id, stage)
    d = aliased(Decision)
    with store.session() as s:
        row = s.execute(select(d.id, d.record_id, d.label, d.reason)
                        .join(latest, latest.c.last_id == d.id)
                        .where(d.label != "retracted").order_by(d.id.desc()).limit(1)).first()
    if row is None:
        return None
    return {"decision_id": row.id, "record_id": row.record_id, "label": row.label,
            "reason": row.reason}


def my_current_decision(store: Store, reviewer_id: int, record_id: int, stage: str
                        ) -> dict[str, Any] | None:
    """The reviewer's standing decision on one record, or None (never decided, or undone)."""
    with store.session() as s:
        row = s.execute(select(Decision.label, Decision.reason, Decision.note)
                        .where(Decision.reviewer_id == reviewer_id, Decision.record_id == record_id,
                               Decision.stage == stage)
                        .order_by(Decision.id.desc()).limit(1)).first()
    if row is None or row.label == "retracted":
        return None
    return {"label": row.label, "reason": row.reason, "note": row.note}


# --- records ----------------------------------------------------------------------------------

RECORD_FIELDS = ("title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
                 "doi", "pmid", "keywords", "type")


def record_detail(store: Store, record_id: int) -> dict[str, Any] | None:
    """One record's fields for the screening card (None if there is no such record)."""
    with store.session() as s:
        row = s.execute(select(Record.id, *[getattr(Record, f) for f in RECORD_FIELDS])
                        .where(Record.id == record_id)).first()
    if row is None:
        return None
    return dict(row._mapping)


def records_brief(store: Store, record_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Title, year and journal for a few records (conflict lists)."""
    if not record_ids:
        return {}
    with store.session() as s:
        rows = s.execute(select(Record.id, Record.title, Record.abstract, Record.year,
                                Record.journal, Record.keywords)
                         .where(Record.id.in_(record_ids))).all()
    return {int(r.id): dict(r._mapping) for r in rows}


def to_screen() -> ColumnElement[bool]:
    """The condition on ``Record`` for the records a title/abstract screen covers: every
    record not linked as a duplicate (a link that was undone no longer counts)."""
    linked = select(DuplicateLink.record_id).where(DuplicateLink.undone_at.is_(None))
    return Record.id.not_in(linked)


def count_to_screen(store: Store) -> int:
    """Records a title/abstract screen covers (:func:`to_screen`)."""
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(Record).where(to_screen())) or 0)


def data_version(store: Store, stage: str) -> tuple[int, int, int]:
    """Changes whenever a decision, resolution or record is added: a cheap key for summaries.

    Primary-key maxima only (index lookups on every backend); ``stage`` is kept
    in the signature for callers, though a decision at any stage bumps it.
    """
    with store.session() as s:
        d = s.scalar(select(func.max(Decision.id))) or 0
        r = s.scalar(select(func.max(Resolution.id))) or 0
        n = s.scalar(select(func.max(Record.id))) or 0
    return int(d), int(r), int(n)


# --- reviewers --------------------------------------------------------------------------------

def reviewer_workload(store: Store, stage: str) -> pd.DataFrame:
    """Per reviewer: records handed to them and current decisions (counts only, no labels)."""
    latest = (select(Decision.reviewer_id, Decision.record_id, func.max(Decision.id).label("m"))
              .where(Decision.stage == stage)
              .group_by(Decision.reviewer_id, Decision.record_id).subquery())
    d = aliased(Decision)
    with store.session() as s:
        assigned = dict(s.execute(select(Assignment.reviewer_id, func.count())
                                  .where(Assignment.stage == stage)
                                  .group_by(Assignment.reviewer_id)).all())
        decided = dict(s.execute(select(d.reviewer_id, func.count())
                                 .join(latest, and_(latest.c.m == d.id))
                                 .where(d.label != "retracted")
                                 .group_by(d.reviewer_id)).all())
    ids = sorted(set(assigned) | set(decided))
    return pd.DataFrame({"reviewer_id": ids,
                         "assigned": [int(assigned.get(i, 0)) for i in ids],
                         "decided": [int(decided.get(i, 0)) for i in ids]})


# --- team progress in SQL ---------------------------------------------------------------------

_TEAM_SQL = """
WITH latest AS (
    SELECT MAX(id) AS id FROM decision WHERE stage = :stage GROUP BY record_id, reviewer_id
), cur AS (
    SELECT d.record_id, d.label FROM decision d JOIN latest l ON d.id = l.id
    WHERE d.label <> 'retracted'
), per_record AS (
    SELECT record_id, COUNT(*) AS n, MIN(label) AS lo, MAX(label) AS hi
    FROM cur GROUP BY record_id
), last_resolution AS (
    SELECT r.record_id, r.label FROM resolution r
    JOIN (SELECT MAX(id) AS id FROM resolution WHERE stage = :stage GROUP BY record_id) m
      ON r.id = m.id
), touched AS (
    SELECT record_id FROM per_record UNION SELECT record_id FROM last_resolution
)
SELECT
    CASE WHEN res.label IS NOT NULL THEN 'resolved'
         WHEN p.n < :per THEN 'pending'
         WHEN p.lo = p.hi THEN 'agreed'
         ELSE 'conflict' END AS status,
    CASE WHEN res.label IS NOT NULL THEN res.label
         WHEN p.n >= :per AND p.lo = p.hi THEN p.lo END AS label,
    COUNT(*) AS n
FROM touched t
LEFT JOIN per_record p ON p.record_id = t.record_id
LEFT JOIN last_resolution res ON res.record_id = t.record_id
GROUP BY 1, 2
"""


def outcome_counts(store: Store, stage: str, per_record: int) -> pd.DataFrame:
    """How many records stand at each (status, final label) at ``stage``, computed in the database.

    The same rule as :func:`review.stages.stage_outcomes` (the reference, and
    the test compares the two on random histories), but without moving every
    decision into Python: the screening page calls this after every click, and
    at 50,000 decisions the reference takes seconds where this takes tens of ms.
    """
    from sqlalchemy import text

    with store.session() as s:
        rows = s.execute(text(_TEAM_SQL), {"stage": stage, "per": int(per_record)}).all()
    return pd.DataFrame(rows, columns=["status", "label", "n"])
