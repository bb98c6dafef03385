"""Bulk actions for the lead: tag, or exclude with a reason, every record a filter matches.

The page shows :func:`preview` (how many records match, how many of them
already have a final decision and are left alone unless asked), asks for a
confirmation, and calls :func:`bulk_tag` / :func:`bulk_exclude` with the count
the lead confirmed; if the filter now matches a different number (someone
decided meanwhile), nothing is written and the lead previews again.

One action is one :class:`~review.store.models.BulkAction` row and one audit
row; its decisions carry ``request_id = "bulk-<action>-<record>"`` and its
tags ``bulk_id``, so :func:`undo` takes back exactly what it wrote, and
nothing else: a decision someone made after it, or a tag removed by hand
since, stays as it is. Undo appends ``retracted`` decisions (the same undo the
screening page uses) and stamps tags removed: nothing is deleted.

Bulk exclusion writes the *lead's own* decision at the stage. With one
reviewer per record that is the final decision; with two it is one of the two
votes (the conflicts page then shows any disagreement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from review.screening.record_list import (
    RecordListError,
    RecordQuery,
    Viewer,
    _current,
    _outcome,
    automation_ids,
    find_record_ids,
)
from review.screening.tags import tag_many
from review.store import Store, repo
from review.store.models import Assignment, BulkAction, Decision, RecordTag, Tag, utcnow

#: A bulk action touches at most this many records (a whole 50,000-record review fits).
MAX_RECORDS = 100_000


class BulkError(RecordListError):
    """A bulk request the review does not allow, or whose preview is out of date."""


@dataclass(frozen=True)
class Preview:
    matched: int          # records the filter matches
    with_final: int       # of those, records that already have a final decision
    target: int           # records the action would touch (matched, less finals unless asked)
    ids: tuple[int, ...]  # those records


def _lead(viewer: Viewer) -> None:
    if viewer.role != "lead":
        raise BulkError(f"only the lead runs bulk actions ({viewer.username} is a "
                        f"{viewer.role})")


def _final_ids(s, stage: str, ids: list[int], per_record: int) -> set[int]:
    out = _outcome(stage, per_record, automation_ids(s))
    finals: set[int] = set()
    for i in range(0, len(ids), 5000):
        finals |= {int(r) for r in s.scalars(select(out.c.record_id).where(
            out.c.final.is_not(None), out.c.record_id.in_(ids[i:i + 5000])))}
    return finals


def preview(store: Store, viewer: Viewer, query: RecordQuery, settings: dict[str, Any], *,
            include_final: bool = False) -> Preview:
    """What a bulk action over ``query`` would touch (nothing is written)."""
    _lead(viewer)
    ids = find_record_ids(store, viewer, query, settings)
    if len(ids) > MAX_RECORDS:
        raise BulkError(f"the filter matches {len(ids):,} records; a bulk action takes at most "
                        f"{MAX_RECORDS:,}")
    with store.session() as s:
        finals = _final_ids(s, query.stage, ids, int(settings.get("reviewers_per_record", 1)))
    target = tuple(ids if include_final else [r for r in ids if r not in finals])
    return Preview(matched=len(ids), with_final=len(finals), target=len(target), ids=target)


def _checked(store: Store, viewer: Viewer, query: RecordQuery, settings: dict[str, Any],
             include_final: bool, confirmed: int) -> Preview:
    p = preview(store, viewer, query, settings, include_final=include_final)
    if p.target != confirmed:
        raise BulkError(f"the filter now matches {p.target:,} records, not the {confirmed:,} "
                        "you confirmed (someone decided meanwhile): preview again")
    if not p.target:
        raise BulkError("the filter matches no record to change")
    return p


def bulk_tag(store: Store, viewer: Viewer, query: RecordQuery, settings: dict[str, Any],
             tag_id: int, *, confirmed: int, include_final: bool = False) -> tuple[int, int]:
    """Tag every record the filter matches; returns (action id, records newly tagged)."""
    _lead(viewer)
    p = _checked(store, viewer, query, settings, include_final, confirmed)
    with store.session() as s:
        tag = s.get(Tag, tag_id)
        if tag is None:
            raise BulkError(f"there is no tag #{tag_id}")
        action = BulkAction(kind="tag", stage=query.stage, tag_id=tag_id,
                            query={**query.as_dict(), "include_final": include_final},
                            actor=viewer.username)
        s.add(action)
        s.flush()
        action.n = tag_many(s, viewer, tag_id, list(p.ids), action.id)
        repo.audit(s, viewer.username, "bulk_tag", "bulk_action", action.id, tag=tag.name,
                   records=action.n, query=action.query)
        return int(action.id), int(action.n)


def bulk_exclude(store: Store, viewer: Viewer, query: RecordQuery, settings: dict[str, Any],
                 reason: str, *, confirmed: int, include_final: bool = False) -> tuple[int, int]:
    """Exclude (the lead's decision, with ``reason``) every record the filter matches.

    Records the lead already excluded for the same reason are left as they
    are. Returns (action id, decisions written).
    """
    _lead(viewer)
    stage = query.stage
    reasons = [str(r) for r in settings.get(f"exclusion_reasons_{stage}") or []]
    if reason not in reasons:
        raise BulkError(f"{reason!r} is not one of the review's exclusion reasons at "
                        f"{stage.replace('_', ' ')}")
    p = _checked(store, viewer, query, settings, include_final, confirmed)
    me = viewer.reviewer_id
    ids = list(p.ids)
    with store.session() as s:
        cur = _current(stage)
        same: set[int] = set()
        held: set[int] = set()
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            same |= {int(r) for r in s.scalars(select(cur.c.record_id).where(
                cur.c.reviewer_id == me, cur.c.label == "exclude", cur.c.reason == reason,
                cur.c.record_id.in_(chunk)))}
            held |= {int(r) for r in s.scalars(select(Assignment.record_id).where(
                Assignment.reviewer_id == me, Assignment.stage == stage,
                Assignment.record_id.in_(chunk)))}
        todo = [r for r in ids if r not in same]
        action = BulkAction(kind="exclude", stage=stage, reason=reason,
                            query={**query.as_dict(), "include_final": include_final},
                            actor=viewer.username, n=len(todo))
        s.add(action)
        s.flush()
        now = utcnow()
        note = f"bulk action #{action.id}"
        if todo:
            s.execute(insert(Decision), [
                {"record_id": r, "reviewer_id": me, "stage": stage, "label": "exclude",
                 "reason": reason, "note": note, "request_id": f"bulk-{action.id}-{r}",
                 "created_at": now} for r in todo])
            new_holds = [r for r in todo if r not in held]
            if new_holds:  # the queue must not hand the lead these records again
                s.execute(insert(Assignment), [{"record_id": r, "reviewer_id": me,
                                                "stage": stage, "assigned_at": now}
                                               for r in new_holds])
        repo.audit(s, viewer.username, "bulk_exclude", "bulk_action", action.id, stage=stage,
                   reason=reason, records=len(todo), query=action.query)
        return int(action.id), len(todo)


def undo(store: Store, viewer: Viewer, action_id: int) -> int:
    """Take back one bulk action; returns how many decisions or tags were taken back.

    Only what the action wrote and what still stands: a bulk decision the lead
    has since replaced, or a tag someone removed, is left alone. Undoing twice
    is refused.
    """
    _lead(viewer)
    with store.session() as s:
        action = s.get(BulkAction, action_id)
        if action is None:
            raise BulkError(f"there is no bulk action #{action_id}")
        if action.undone_at is not None:
            raise BulkError(f"bulk action #{action_id} was already undone")
        n = 0
        now = utcnow()
        if action.kind == "tag":
            n = int(s.execute(update(RecordTag).where(
                RecordTag.bulk_id == action_id, RecordTag.removed_at.is_(None))
                .values(removed_at=now, removed_by=viewer.username)).rowcount or 0)
        else:
            mine = (select(Decision.record_id, func.max(Decision.id).label("last"))
                    .where(Decision.stage == action.stage,
                           Decision.reviewer_id == _actor_id(s, action))
                    .group_by(Decision.record_id).subquery())
            standing = s.execute(select(Decision.record_id, Decision.reviewer_id).join(
                mine, and_(mine.c.last == Decision.id)).where(
                Decision.request_id.like(f"bulk-{action_id}-%"))).all()
            if standing:
                s.execute(insert(Decision), [
                    {"record_id": r, "reviewer_id": who, "stage": action.stage,
                     "label": "retracted", "note": f"undo of bulk action #{action_id}",
                     "request_id": f"bulkundo-{action_id}-{r}", "created_at": now}
                    for r, who in standing])
            n = len(standing)
        action.undone_at = now
        action.undone_by = viewer.username
        repo.audit(s, viewer.username, "undo_bulk", "bulk_action", action_id, kind=action.kind,
                   taken_back=n)
        return n


def _actor_id(s, action: BulkAction) -> int:
    """The reviewer whose decisions the action wrote (from its first decision)."""
    rid = s.scalar(select(Decision.reviewer_id).where(
        Decision.request_id.like(f"bulk-{action.id}-%")).limit(1))
    return int(rid) if rid is not None else -1


def last_undoable(store: Store) -> dict[str, Any] | None:
    """The latest bulk action not undone yet (what the page's undo button takes back)."""
    with store.session() as s:
        a = s.execute(select(BulkAction.id, BulkAction.kind, BulkAction.reason, BulkAction.n,
                             BulkAction.created_at, Tag.name.label("tag"))
                      .outerjoin(Tag, Tag.id == BulkAction.tag_id)
                      .where(BulkAction.undone_at.is_(None))
                      .order_by(BulkAction.id.desc()).limit(1)).first()
    return None if a is None else dict(a._mapping)
