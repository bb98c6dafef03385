"""Review-wide tags ("RCT", "qualitative", "check with lead") and personal highlight terms.

The lead defines tags; any reviewer applies or removes them. A tag on a
record is a row that removal stamps (``removed_at``), never deletes, so who
tagged what and when stays answerable; every change is audited. Tag names are
checked here (length, no control characters, no leading formula character) so
nothing typed becomes a formula when the list is exported to a spreadsheet.

Personal highlight terms are one reviewer's own keywords, shown beside the
review's include/exclude keywords; they live in a table of their own
(``reviewer_highlight``), one row per reviewer, and nobody else sees them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from review.screening.record_list import RecordListError, Viewer
from review.store import Store, repo
from review.store.models import Record, RecordTag, ReviewerHighlight, Tag, utcnow

MAX_TAG_CHARS = 60
MAX_TAGS = 100
MAX_TERMS = 50
MAX_TERM_CHARS = 60
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TagError(RecordListError):
    """A tag request the review does not allow."""


def clean_name(name: Any, what: str = "tag", limit: int = MAX_TAG_CHARS) -> str:
    """A tag name or highlight term as stored: spaces collapsed, checked, or :class:`TagError`."""
    s = " ".join(str(name or "").split())
    if not s:
        raise TagError(f"a {what} needs a name")
    if len(s) > limit:
        raise TagError(f"a {what} is at most {limit} characters ({s[:20]!r}… has {len(s)})")
    if any(unicodedata.category(c).startswith("C") for c in s):
        raise TagError(f"a {what} cannot hold control characters")
    if s.startswith(_FORMULA_START):
        raise TagError(f"a {what} cannot start with {s[0]!r} (a spreadsheet would read it as "
                       "a formula)")
    return s


def _lead(viewer: Viewer) -> None:
    if viewer.role != "lead":
        raise TagError(f"only the lead defines tags ({viewer.username} is a {viewer.role})")


def create_tag(store: Store, viewer: Viewer, name: str, description: str | None = None) -> int:
    """Define a tag (lead only); names are unique regardless of case."""
    _lead(viewer)
    name = clean_name(name)
    with store.session() as s:
        names = [str(n).lower() for n in s.scalars(select(Tag.name))]
        if name.lower() in names:
            raise TagError(f"there is already a tag {name!r}")
        if len(names) >= MAX_TAGS:
            raise TagError(f"a review has at most {MAX_TAGS} tags")
        t = Tag(name=name, description=(description or "").strip()[:500] or None,
                created_by=viewer.username)
        s.add(t)
        s.flush()
        repo.audit(s, viewer.username, "create_tag", "tag", t.id, name=name)
        return int(t.id)


def archive_tag(store: Store, viewer: Viewer, tag_id: int) -> None:
    """Retire a tag: it stays on records (and in exports) but can no longer be applied."""
    _lead(viewer)
    with store.session() as s:
        t = s.get(Tag, tag_id)
        if t is None:
            raise TagError(f"there is no tag #{tag_id}")
        t.archived_at = utcnow()
        repo.audit(s, viewer.username, "archive_tag", "tag", tag_id, name=t.name)


def tags_frame(store: Store, *, include_archived: bool = False) -> pd.DataFrame:
    """Tags with how many records carry each."""
    from sqlalchemy import func

    with store.session() as s:
        q = (select(Tag.id, Tag.name, Tag.description, Tag.archived_at,
                    func.count(RecordTag.id).label("records"))
             .outerjoin(RecordTag, (RecordTag.tag_id == Tag.id) & RecordTag.removed_at.is_(None))
             .group_by(Tag.id, Tag.name, Tag.description, Tag.archived_at).order_by(Tag.name))
        if not include_archived:
            q = q.where(Tag.archived_at.is_(None))
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=["tag_id", "name", "description", "archived_at", "records"])


def _usable_tag(s, tag_id: int) -> Tag:
    t = s.get(Tag, tag_id)
    if t is None:
        raise TagError(f"there is no tag #{tag_id}")
    if t.archived_at is not None:
        raise TagError(f"the tag {t.name!r} is retired")
    return t


def apply_tag(store: Store, viewer: Viewer, record_id: int, tag_id: int) -> bool:
    """Put a tag on a record; False if it was already there."""
    try:
        with store.session() as s:
            t = _usable_tag(s, tag_id)
            if s.get(Record, record_id) is None:
                raise TagError(f"there is no record #{record_id}")
            live = s.scalar(select(RecordTag.id).where(
                RecordTag.tag_id == tag_id, RecordTag.record_id == record_id,
                RecordTag.removed_at.is_(None)))
            if live is not None:
                return False
            rt = RecordTag(tag_id=tag_id, record_id=record_id, applied_by=viewer.username)
            s.add(rt)
            s.flush()
            repo.audit(s, viewer.username, "tag", "record_tag", rt.id, record_id=record_id,
                       tag=t.name)
            return True
    except IntegrityError:  # another session tagged it at the same moment
        return False


def remove_tag(store: Store, viewer: Viewer, record_id: int, tag_id: int) -> bool:
    """Take a tag off a record (the row is stamped, not deleted); False if it was not there."""
    with store.session() as s:
        n = s.execute(update(RecordTag).where(
            RecordTag.tag_id == tag_id, RecordTag.record_id == record_id,
            RecordTag.removed_at.is_(None)).values(removed_at=utcnow(),
                                                   removed_by=viewer.username)).rowcount
        if n:
            repo.audit(s, viewer.username, "untag", "record_tag", None, record_id=record_id,
                       tag_id=tag_id)
        return bool(n)


def tag_many(s, viewer: Viewer, tag_id: int, record_ids: list[int], bulk_id: int) -> int:
    """Tag records in the caller's transaction (bulk actions); returns how many were new."""
    _usable_tag(s, tag_id)
    have = set()
    for i in range(0, len(record_ids), 5000):
        chunk = record_ids[i:i + 5000]
        have |= set(s.scalars(select(RecordTag.record_id).where(
            RecordTag.tag_id == tag_id, RecordTag.removed_at.is_(None),
            RecordTag.record_id.in_(chunk))))
    new = [r for r in record_ids if r not in have]
    now = utcnow()
    if new:
        s.execute(insert(RecordTag), [{"tag_id": tag_id, "record_id": r, "bulk_id": bulk_id,
                                       "applied_by": viewer.username, "applied_at": now}
                                      for r in new])
    return len(new)


def tags_by_record(store: Store, record_ids: list[int] | None = None) -> dict[int, list[str]]:
    """Record id → its live tag names (for exports), all records when ``record_ids`` is None."""
    q = (select(RecordTag.record_id, Tag.name).join(Tag, Tag.id == RecordTag.tag_id)
         .where(RecordTag.removed_at.is_(None)).order_by(RecordTag.record_id, Tag.name))
    out: dict[int, list[str]] = {}
    with store.session() as s:
        if record_ids is None:
            rows = s.execute(q).all()
        else:
            rows = []
            for i in range(0, len(record_ids), 5000):
                rows += s.execute(q.where(RecordTag.record_id.in_(record_ids[i:i + 5000]))).all()
    for rid, name in rows:
        out.setdefault(int(rid), []).append(str(name))
    return out


# --- personal highlight terms -----------------------------------------------------------------

def personal_terms(store: Store, reviewer_id: int) -> list[str]:
    """The reviewer's own highlight terms (nobody else's)."""
    with store.session() as s:
        row = s.get(ReviewerHighlight, int(reviewer_id))
    return [str(t) for t in (row.terms if row is not None else []) or []]


def set_personal_terms(store: Store, viewer: Viewer, terms: list[Any] | str) -> list[str]:
    """Replace the viewer's own highlight terms (one per line or comma); returns them cleaned."""
    if isinstance(terms, str):
        terms = [t for t in re.split(r"[\n,;]", terms)]
    out: list[str] = []
    seen: set[str] = set()
    for t in terms:
        if not str(t).strip():
            continue
        term = clean_name(t, "highlight term", MAX_TERM_CHARS)
        if term.lower() not in seen:
            seen.add(term.lower())
            out.append(term)
    if len(out) > MAX_TERMS:
        raise TagError(f"at most {MAX_TERMS} personal highlight terms ({len(out)} given)")
    with store.session() as s:
        row = s.get(ReviewerHighlight, viewer.reviewer_id)
        if row is None:
            s.add(ReviewerHighlight(reviewer_id=viewer.reviewer_id, terms=out))
        else:
            row.terms, row.updated_at = out, utcnow()
        repo.audit(s, viewer.username, "set_highlight_terms", "reviewer_highlight",
                   viewer.reviewer_id, terms=out)
    return out


def with_tags(store: Store, records: pd.DataFrame) -> pd.DataFrame:
    """``records`` (with a ``record_id`` column) plus a ``tags`` column: each record's live tags
    joined by "; " in alphabetical order (whatever the database's collation), empty where it
    has none — what a whole-review export carries."""
    by_record = tags_by_record(store)
    out = records.copy()
    out["tags"] = ["; ".join(sorted(by_record.get(int(r), []), key=str.casefold))
                   for r in out["record_id"]]
    return out
