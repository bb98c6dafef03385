"""What the lead watches and steers: each reviewer's progress, handing records back, conflicts.

* :func:`reviewer_progress`: per reviewer, records handed out, decided
  (standing decisions), pending (handed out, not decided) and conflicts.
* :func:`release` hands a reviewer's *undecided* records back to the pool
  (a reviewer who left, or holds more than they will screen); :func:`reassign`
  hands them to another reviewer instead. A decided record is never moved:
  its decision stays where it is. Both are audited with the record ids.
  An assignment is only "who holds this record now" (decisions are the
  record of work), so releasing one removes that row.
* :func:`conflict_list`: records in conflict with each reviewer's label and
  reason, filterable by reviewer, reason and label.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import aliased

from review.screening.record_list import (
    STAGES,
    RecordListError,
    Viewer,
    _current,
    _outcome,
    automation_ids,
)
from review.store import Store, repo
from review.store.models import Assignment, Decision, DuplicateLink, Record, Reviewer, utcnow


class LeadError(RecordListError):
    """A lead action the review does not allow."""


def _lead(viewer: Viewer) -> None:
    if viewer.role != "lead":
        raise LeadError(f"only the lead may do this ({viewer.username} is a {viewer.role})")


def _stage(stage: str) -> None:
    if stage not in STAGES:
        raise LeadError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")


def _open(stage: str, reviewer_id: int | None = None):
    """Select of (assignment id, record id, reviewer id) handed out without a standing decision."""
    latest = (select(Decision.record_id, Decision.reviewer_id,
                     func.max(Decision.id).label("last"))
              .where(Decision.stage == stage)
              .group_by(Decision.record_id, Decision.reviewer_id).subquery())
    d = aliased(Decision)
    q = (select(Assignment.id, Assignment.record_id, Assignment.reviewer_id)
         .outerjoin(latest, and_(latest.c.record_id == Assignment.record_id,
                                 latest.c.reviewer_id == Assignment.reviewer_id))
         .outerjoin(d, d.id == latest.c.last)
         .where(Assignment.stage == stage, d.id.is_(None) | (d.label == "retracted"),
                ~select(DuplicateLink.id).where(DuplicateLink.record_id == Assignment.record_id,
                                                DuplicateLink.undone_at.is_(None)).exists()))
    if reviewer_id is not None:
        q = q.where(Assignment.reviewer_id == reviewer_id)
    return q


def reviewer_progress(store: Store, viewer: Viewer, stage: str,
                      settings: dict[str, Any]) -> pd.DataFrame:
    """One row per reviewer: handed_out, decided, pending, conflicts (lead only)."""
    _lead(viewer)
    _stage(stage)
    per_record = int(settings.get("reviewers_per_record", 1))
    cur = _current(stage)
    with store.session() as s:
        people = s.execute(select(Reviewer.id, Reviewer.display_name, Reviewer.role,
                                  Reviewer.active).order_by(Reviewer.id)).all()
        handed = dict(s.execute(select(Assignment.reviewer_id, func.count())
                                .where(Assignment.stage == stage)
                                .group_by(Assignment.reviewer_id)).all())
        decided = dict(s.execute(select(cur.c.reviewer_id, func.count())
                                 .group_by(cur.c.reviewer_id)).all())
        open_ = _open(stage).subquery()
        pending = dict(s.execute(select(open_.c.reviewer_id, func.count())
                                 .group_by(open_.c.reviewer_id)).all())
        out = _outcome(stage, per_record, automation_ids(s))
        conflicts = dict(s.execute(
            select(cur.c.reviewer_id, func.count())
            .join(out, out.c.record_id == cur.c.record_id)
            .where(out.c.conflict == 1).group_by(cur.c.reviewer_id)).all())
    rows = [{"reviewer_id": int(i), "reviewer": str(name), "role": role, "active": bool(active),
             "handed_out": int(handed.get(i, 0)), "decided": int(decided.get(i, 0)),
             "pending": int(pending.get(i, 0)), "conflicts": int(conflicts.get(i, 0))}
            for i, name, role, active in people
            if role != "automation" or handed.get(i) or decided.get(i)]
    return pd.DataFrame(rows, columns=["reviewer_id", "reviewer", "role", "active",
                                       "handed_out", "decided", "pending", "conflicts"])


def open_records(store: Store, viewer: Viewer, reviewer_id: int, stage: str) -> list[int]:
    """Records handed to ``reviewer_id`` that they have not decided (what release would free)."""
    _lead(viewer)
    _stage(stage)
    with store.session() as s:
        return [int(r.record_id) for r in s.execute(_open(stage, reviewer_id)
                                                    .order_by(Assignment.id))]


def release(store: Store, viewer: Viewer, reviewer_id: int, stage: str, *,
            to_reviewer: int | None = None, record_ids: list[int] | None = None) -> int:
    """Take a reviewer's undecided records back (to the pool, or to ``to_reviewer``).

    ``record_ids`` limits it to some of them. Returns how many records moved.
    Records the target reviewer already holds or decided are released to the
    pool rather than handed to them twice.
    """
    _lead(viewer)
    _stage(stage)
    if to_reviewer == reviewer_id:
        raise LeadError("a record cannot be reassigned to the reviewer who holds it")
    with store.session() as s:
        if to_reviewer is not None:
            target = s.get(Reviewer, to_reviewer)
            if target is None or not target.active or target.role == "automation":
                raise LeadError(f"#{to_reviewer} is not an active reviewer")
        rows = s.execute(_open(stage, reviewer_id)).all()
        if record_ids is not None:
            wanted = set(record_ids)
            rows = [r for r in rows if r.record_id in wanted]
        if not rows:
            return 0
        ids = [int(r.record_id) for r in rows]
        s.execute(delete(Assignment).where(Assignment.id.in_([int(r.id) for r in rows])))
        moved: list[int] = []
        if to_reviewer is not None:
            taken = set(s.scalars(select(Assignment.record_id).where(
                Assignment.reviewer_id == to_reviewer, Assignment.stage == stage,
                Assignment.record_id.in_(ids))))
            taken |= set(s.scalars(select(Decision.record_id).where(
                Decision.reviewer_id == to_reviewer, Decision.stage == stage,
                Decision.record_id.in_(ids))))
            moved = [r for r in ids if r not in taken]
            if moved:
                s.execute(insert(Assignment), [{"record_id": r, "reviewer_id": to_reviewer,
                                                "stage": stage, "assigned_at": utcnow()}
                                               for r in moved])
        repo.audit(s, viewer.username, "reassign" if to_reviewer is not None else "release",
                   "assignment", None, stage=stage, from_reviewer=reviewer_id,
                   to_reviewer=to_reviewer, records=ids, handed_to_target=moved)
    if to_reviewer is None or len(moved) < len(ids):
        _forget_frontiers()
    return len(ids)


def _forget_frontiers() -> None:
    """Released records are free again: this process's queue must look at them again.

    (Other app processes forget what they learnt within the queue's half hour.)
    """
    try:
        from review.screening.queue import reset_frontiers
    except ImportError:  # the queue not in this package yet
        return
    reset_frontiers()


CONFLICT_COLUMNS = ["record_id", "title", "year", "labels", "reasons", "reviewers"]


def conflict_list(store: Store, viewer: Viewer, stage: str, settings: dict[str, Any], *,
                  reviewer_id: int | None = None, reason: str | None = None,
                  label: str | None = None) -> pd.DataFrame:
    """Records in conflict at ``stage``, each reviewer's label and reason (lead only)."""
    _lead(viewer)
    _stage(stage)
    per_record = int(settings.get("reviewers_per_record", 1))
    cur = _current(stage)
    with store.session() as s:
        out = _outcome(stage, per_record, automation_ids(s))
        ids_q = select(out.c.record_id).where(out.c.conflict == 1)
        for col, value in ((cur.c.reviewer_id, reviewer_id), (cur.c.reason, reason),
                           (cur.c.label, label)):
            if value is not None:
                ids_q = ids_q.where(select(cur.c.record_id).where(
                    cur.c.record_id == out.c.record_id, col == value).exists())
        ids = [int(r) for r in s.scalars(ids_q.order_by(out.c.record_id))]
        if not ids:
            return pd.DataFrame(columns=CONFLICT_COLUMNS)
        recs = {int(r.id): r for r in s.execute(select(Record.id, Record.title, Record.year)
                                                .where(Record.id.in_(ids)))}
        names = dict(s.execute(select(Reviewer.id, Reviewer.display_name)).all())
        votes: dict[int, list[tuple[str, str, str | None]]] = {}
        for rid, who, lab, why in s.execute(select(cur.c.record_id, cur.c.reviewer_id,
                                                   cur.c.label, cur.c.reason)
                                            .where(cur.c.record_id.in_(ids))
                                            .order_by(cur.c.reviewer_id)):
            votes.setdefault(int(rid), []).append((str(names.get(who, who)), lab, why))
    rows = []
    for rid in ids:
        v = votes.get(rid, [])
        rows.append({"record_id": rid, "title": recs[rid].title or "", "year": recs[rid].year,
                     "labels": " / ".join(lab for _, lab, _ in v),
                     "reasons": "; ".join(why for _, _, why in v if why),
                     "reviewers": "; ".join(f"{who}: {lab}" for who, lab, _ in v)})
    return pd.DataFrame(rows, columns=CONFLICT_COLUMNS)
