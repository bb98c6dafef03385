"""The record list: every record of the review, searched, filtered, sorted and paged in SQL.

It is the page reviewers live in after the first hour, so two rules shape it:

* **Blind mode lives here, not in the page.** A reviewer of a blind review
  asking for another reviewer's labels, the final decision or the conflicts
  gets :class:`RecordListError` (the page never offers those filters, but a
  forged request must fail too); the reason filter and every column then speak
  of their own decisions only. Leads see everything.
* **Fast at 50,000 records.** The filter runs as one SQL statement that
  returns one page of record ids (``LIMIT``/``OFFSET``) and a count; the
  columns of the page (decisions, tags, scores) are then read for those ids
  only. Full-text search uses SQLite's FTS5 index or PostgreSQL's
  ``to_tsvector`` GIN index (both made by migration ``0003_tags_search``);
  a SQLite without FTS5 falls back to ``LIKE``.

Changing an earlier decision (:func:`change_decision`) appends a decision and
an audit row naming the one it replaces; nothing is overwritten.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import String as SAString
from sqlalchemy import (
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased

from review.store import Store, repo
from review.store.models import (
    Assignment,
    Decision,
    DuplicateLink,
    Ranking,
    RankingRun,
    Record,
    RecordTag,
    Report,
    Resolution,
    Reviewer,
    Source,
    Tag,
)

STAGES = ("title_abstract", "full_text")
#: What "my decision" can be filtered on ("undecided": handed out or not, no standing decision).
MY_DECISIONS = ("include", "exclude", "maybe", "undecided")
#: What "final decision" can be filtered on ("none": no final decision yet).
FINAL_DECISIONS = ("include", "exclude", "maybe", "none")
DUPLICATES = ("hide", "only", "all")
SORTS = ("relevance", "year_desc", "year_asc", "record", "match")
#: Labels a reviewer may give when changing a decision (``retracted`` is the undo button's).
CHANGE_LABELS = ("include", "exclude", "maybe")
#: At full text a report is included or excluded (as on the Full text page).
FULL_TEXT_LABELS = ("include", "exclude")
MAX_PER_PAGE = 200
MAX_TERMS = 20
MAX_TERM_CHARS = 80
#: Must match the expression of the GIN index made by migration 0003_tags_search.
PG_DOCUMENT = ("to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(abstract, '') "
               "|| ' ' || coalesce(CAST(CAST(authors AS jsonb) AS text), '') || ' ' "
               "|| coalesce(CAST(CAST(keywords AS jsonb) AS text), ''))")


class RecordListError(ValueError):
    """A request the review does not allow (blind mode, unknown value, wrong stage)."""


class Viewer(Protocol):
    """Who is asking: the app's signed-in reviewer satisfies this."""

    reviewer_id: int
    role: str
    username: str


def sees_everyone(viewer: Viewer, settings: dict[str, Any]) -> bool:
    """Leads always; other reviewers only when the review is not blind."""
    return viewer.role == "lead" or not bool(settings.get("blind", True))


# --- the query --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordQuery:
    """What the reviewer asked the list for; every field is checked by :meth:`checked`."""

    stage: str = "title_abstract"
    text: str = ""
    my_decision: str | None = None
    final: str | None = None
    reason: str | None = None
    tag_id: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    source_id: int | None = None
    conflict: bool | None = None
    duplicates: str = "hide"
    reviewer_id: int | None = None  # leads (or an open review): records this reviewer decided
    sort: str = "relevance"

    def checked(self, viewer: Viewer, settings: dict[str, Any]) -> RecordQuery:
        """This query if ``viewer`` may run it, else :class:`RecordListError` saying why."""
        def one_of(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
            if value is not None and value not in allowed:
                raise RecordListError(f"{name} must be one of {', '.join(map(str, allowed))}, "
                                      f"not {value!r}")
        one_of("stage", self.stage, STAGES)
        one_of("my decision", self.my_decision, MY_DECISIONS)
        one_of("final decision", self.final, FINAL_DECISIONS)
        one_of("duplicates", self.duplicates, DUPLICATES)
        one_of("sort", self.sort, SORTS)
        for name in ("year_from", "year_to", "source_id", "tag_id", "reviewer_id"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise RecordListError(f"{name} must be a whole number, not {v!r}")
        if len(self.text or "") > 500:
            raise RecordListError("a search is at most 500 characters")
        if not sees_everyone(viewer, settings):
            hidden = [n for n, v in (("final decision", self.final),
                                     ("conflict", self.conflict))
                      if v is not None]
            if self.reviewer_id is not None and self.reviewer_id != viewer.reviewer_id:
                hidden.append("another reviewer's decisions")
            if hidden:
                raise RecordListError("the review is blind: you cannot filter on "
                                      + ", ".join(hidden))
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False     # last word is a stem ("lonel*")


_WORD = re.compile(r"\w+", re.UNICODE)


def parse_search(text_: str | None) -> list[Term]:
    """The search box as terms, all of which must match (AND).

    ``"peer support"`` is a phrase, ``lonel*`` a stem, ``placebo-controlled``
    the phrase of its parts (that is how both indexes split it). Only word
    characters reach the index's query language, so nothing typed is syntax.
    """
    s = (text_ or "").strip()
    terms: list[Term] = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', s):
        chunk = m.group(1) if m.group(1) is not None else m.group(2)
        words = tuple(w.lower()[:MAX_TERM_CHARS] for w in _WORD.findall(chunk))
        if not words:
            continue
        prefix = m.group(2) is not None and chunk.rstrip().endswith("*")
        terms.append(Term(words, prefix))
        if len(terms) >= MAX_TERMS:
            break
    return terms


def fts5_query(terms: list[Term]) -> str:
    """SQLite FTS5 MATCH syntax: each term a quoted phrase, stems with ``*``."""
    return " AND ".join('"' + " ".join(t.words) + '"' + ("*" if t.prefix else "")
                        for t in terms)


def tsquery(terms: list[Term]) -> str:
    """PostgreSQL ``to_tsquery('simple', ...)`` syntax: phrases with ``<->``, stems ``:*``."""
    parts = []
    for t in terms:
        words = list(t.words)
        if t.prefix:
            words[-1] += ":*"
        parts.append("(" + " <-> ".join(words) + ")")
    return " & ".join(parts)


_fts_cache: dict[str, bool] = {}


def has_fts5(store: Store) -> bool:
    """Whether this SQLite review has the FTS5 index (checked once per process and database)."""
    if store.engine.dialect.name != "sqlite":
        return False
    if store.url not in _fts_cache:
        with store.session() as s:
            _fts_cache[store.url] = s.execute(text(
                "SELECT 1 FROM sqlite_master WHERE name = 'record_fts'")).first() is not None
    return _fts_cache[store.url]


def _text_fields(dialect: str) -> list[Any]:
    """The four searched fields as text (JSON lists decoded, so "Müller" is not "M\\u00fcller")."""
    if dialect == "postgresql":
        as_text = [cast(cast(c, JSONB), SAString) for c in (Record.authors, Record.keywords)]
    elif dialect == "sqlite":
        as_text = []
        for c in (Record.authors, Record.keywords):
            each = func.json_each(c).table_valued("value")
            as_text.append(select(func.group_concat(each.c.value, " ")).select_from(each)
                           .scalar_subquery())
    else:
        as_text = [cast(c, SAString) for c in (Record.authors, Record.keywords)]
    return [Record.title, Record.abstract, *as_text]


def _search(store: Store, terms: list[Term]):
    """(subquery of matching record ids with a match score where lower is better) or None."""
    if not terms:
        return None
    dialect = store.engine.dialect.name
    if dialect == "sqlite" and has_fts5(store):
        fts = table("record_fts")
        return (select(literal_column("record_fts.rowid").label("rid"),
                       literal_column("bm25(record_fts)").label("match"))
                .select_from(fts)
                .where(literal_column("record_fts").op("MATCH")(fts5_query(terms)))
                .subquery("hits"))
    if dialect == "postgresql":
        simple = literal_column("'simple'::regconfig")
        q = func.to_tsquery(simple, tsquery(terms))
        doc = literal_column(PG_DOCUMENT)
        conds = [doc.op("@@")(q)]  # the GIN index finds the candidates
        for t in terms:
            if len(t.words) > 1:  # a phrase must not run from one field into the next
                pq = func.to_tsquery(simple, tsquery([t]))
                conds.append(or_(*[func.to_tsvector(simple, func.coalesce(col, "")).op("@@")(pq)
                                   for col in _text_fields(dialect)]))
        return (select(Record.id.label("rid"), (-func.ts_rank(doc, q)).label("match"))
                .where(*conds).subquery("hits"))
    # No index: every term (a phrase's words in order) within one of the four fields; a
    # substring match, so it finds a little more than the indexes ("peer" in "peers").
    conds = []
    for t in terms:
        pattern = "%" + "%".join(w.replace("\\", "\\\\").replace("%", "\\%")
                                 .replace("_", "\\_") for w in t.words) + "%"
        conds.append(or_(*[func.lower(func.coalesce(col, "")).like(pattern, escape="\\")
                           for col in _text_fields(dialect)]))
    return (select(Record.id.label("rid"), literal_column("0").label("match"))
            .where(and_(*conds)).subquery("hits"))


# --- where each record stands -----------------------------------------------------------------

def _current(stage: str, *, reviewer_id: int | None = None,
             record_ids: list[int] | None = None):
    """Subquery: every reviewer's standing (non-retracted) decision per record at ``stage``.

    ``reviewer_id`` / ``record_ids`` narrow it before grouping (the indexes on
    reviewer and record make that cheap), so one reviewer's view or one page
    never groups the whole decision table.
    """
    latest = select(func.max(Decision.id).label("id")).where(Decision.stage == stage)
    if reviewer_id is not None:
        latest = latest.where(Decision.reviewer_id == reviewer_id)
    if record_ids is not None:
        latest = latest.where(Decision.record_id.in_(record_ids))
    latest = latest.group_by(Decision.record_id, Decision.reviewer_id).subquery()
    d = aliased(Decision)
    return (select(d.record_id, d.reviewer_id, d.label, d.reason)
            .join(latest, latest.c.id == d.id).where(d.label != "retracted").subquery("cur"))


def automation_ids(s: Session) -> list[int]:
    return [int(i) for i in s.scalars(select(Reviewer.id).where(Reviewer.role == "automation"))]


def _outcome(stage: str, per_record: int, automation: list[int],
             record_ids: list[int] | None = None):
    """Subquery: record_id, final label (or NULL), conflict flag (1/0).

    The same rule as :func:`review.stages.stage_outcomes` (the tests compare
    the two on random histories), computed in the database: records with a
    standing decision, their latest resolution joined on; then the (few)
    records resolved without any standing decision.
    """
    cur = _current(stage, record_ids=record_ids)
    auto = (case((cur.c.reviewer_id.in_(automation), cur.c.label), else_=None)
            if automation else literal_column("NULL"))
    per = (select(cur.c.record_id, func.count().label("n"), func.min(cur.c.label).label("lo"),
                  func.max(cur.c.label).label("hi"), func.max(auto).label("auto"))
           .group_by(cur.c.record_id).subquery("per"))
    last_res = select(func.max(Resolution.id).label("id")).where(Resolution.stage == stage)
    if record_ids is not None:
        last_res = last_res.where(Resolution.record_id.in_(record_ids))
    last_res = last_res.group_by(Resolution.record_id).subquery()
    res = (select(Resolution.record_id, Resolution.label)
           .join(last_res, last_res.c.id == Resolution.id).subquery("res"))
    final = case((res.c.label.is_not(None), res.c.label),
                 (per.c.auto.is_not(None), per.c.auto),
                 (and_(per.c.n >= per_record, per.c.lo == per.c.hi), per.c.lo),
                 else_=None)
    conflict = and_(res.c.label.is_(None), per.c.auto.is_(None), per.c.n >= per_record,
                    per.c.lo != per.c.hi)
    decided = (select(per.c.record_id, final.label("final"),
                      case((conflict, 1), else_=0).label("conflict"))
               .select_from(per).outerjoin(res, res.c.record_id == per.c.record_id))
    # Resolved records without a standing decision (all undone): a per-resolution lookup.
    d2, d3 = aliased(Decision), aliased(Decision)
    standing = (select(d2.id).where(d2.record_id == res.c.record_id, d2.stage == stage,
                                    d2.label != "retracted",
                                    d2.id == select(func.max(d3.id)).where(
                                        d3.record_id == d2.record_id,
                                        d3.reviewer_id == d2.reviewer_id,
                                        d3.stage == stage).scalar_subquery())
                .exists())
    only_resolved = select(res.c.record_id, res.c.label.label("final"),
                           literal_column("0").label("conflict")).where(~standing)
    return decided.union_all(only_resolved).subquery("outcome")


def _live_link(record_col: Any):
    return exists().where(DuplicateLink.record_id == record_col,
                          DuplicateLink.undone_at.is_(None))


def latest_ranking_run(s: Session) -> int | None:
    """The ranking the list's relevance order follows (the title/abstract model's latest fit)."""
    return s.scalar(select(func.max(RankingRun.id)).where(RankingRun.stage == "title_abstract"))


def _sort(q: RecordQuery, stmt: Any) -> str:
    """The order the list uses: "match" only when there is a search to match (else relevance)."""
    searching = "match" in stmt.selected_columns.keys()
    return "relevance" if q.sort == "match" and not searching else q.sort


def _filtered(store: Store, s: Session, viewer: Viewer, q: RecordQuery,
              settings: dict[str, Any]):
    """(the filter as a select of record ids, the same in the list's order) for ``q``.

    Nothing is run here. The first is what counts are made from (no joins
    that only serve the order); the second is what pages are cut from.
    """
    me = viewer.reviewer_id
    per_record = int(settings.get("reviewers_per_record", 1))
    stmt = select(Record.id.label("record_id"))
    hits = _search(store, parse_search(q.text))
    if hits is not None:
        stmt = stmt.join(hits, hits.c.rid == Record.id).add_columns(hits.c.match)
    if q.duplicates == "hide":
        stmt = stmt.where(~_live_link(Record.id))
    elif q.duplicates == "only":
        stmt = stmt.where(_live_link(Record.id))
    if q.stage == "full_text":
        stmt = stmt.where(exists().where(Report.record_id == Record.id))
    if q.year_from is not None:
        stmt = stmt.where(Record.year >= q.year_from)
    if q.year_to is not None:
        stmt = stmt.where(Record.year <= q.year_to)
    if q.source_id is not None:
        stmt = stmt.where(Record.source_id == q.source_id)
    if q.tag_id is not None:
        stmt = stmt.where(exists().where(RecordTag.record_id == Record.id,
                                         RecordTag.tag_id == q.tag_id,
                                         RecordTag.removed_at.is_(None)))
    # Uncorrelated IN (sub-select): each grouped subquery runs once, not once per record.
    if q.my_decision is not None:
        mine = _current(q.stage, reviewer_id=me)
        if q.my_decision == "undecided":
            stmt = stmt.where(Record.id.not_in(select(mine.c.record_id)))
        else:
            stmt = stmt.where(Record.id.in_(select(mine.c.record_id)
                                            .where(mine.c.label == q.my_decision)))
    if q.reason is not None:
        cur = _current(q.stage, reviewer_id=None if sees_everyone(viewer, settings) else me)
        stmt = stmt.where(Record.id.in_(select(cur.c.record_id)
                                        .where(cur.c.reason == q.reason)))
    if q.reviewer_id is not None:
        theirs = _current(q.stage, reviewer_id=q.reviewer_id)
        stmt = stmt.where(Record.id.in_(select(theirs.c.record_id)))
    if q.final is not None or q.conflict is not None:
        # Uncorrelated IN / NOT IN: the outcome of every record is computed once per side.
        out = _outcome(q.stage, per_record, automation_ids(s))
        must, must_not = [], []
        if q.final == "none":
            must_not.append(out.c.final.is_not(None))
        elif q.final is not None:
            must.append(out.c.final == q.final)
        if q.conflict is True:
            must.append(out.c.conflict == 1)
        elif q.conflict is False:
            must_not.append(out.c.conflict == 1)
        if must:
            stmt = stmt.where(Record.id.in_(select(out.c.record_id).where(and_(*must))))
        if must_not:
            stmt = stmt.where(Record.id.not_in(select(out.c.record_id).where(or_(*must_not))))
    sort = _sort(q, stmt)
    ordered = stmt
    if sort == "match":
        order = [hits.c.match, Record.id]
    elif sort == "relevance":
        run = latest_ranking_run(s)
        if run is None:
            order = [Record.id]
        else:  # the join is for ordering only, so the count runs without it
            rk = aliased(Ranking)
            ordered = stmt.outerjoin(rk, and_(rk.record_id == Record.id, rk.run_id == run))
            order = [case((rk.rank.is_(None), 1), else_=0), rk.rank, Record.id]
    elif sort == "year_desc":
        order = [case((Record.year.is_(None), 1), else_=0), Record.year.desc(), Record.id]
    elif sort == "year_asc":
        order = [case((Record.year.is_(None), 1), else_=0), Record.year, Record.id]
    else:
        order = [Record.id]
    return stmt, ordered.order_by(*order)


@dataclass
class RecordPage:
    """One page of the list: the rows shown and how many records the filter matches."""

    total: int
    page: int
    per_page: int
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def find_record_ids(store: Store, viewer: Viewer, query: RecordQuery,
                    settings: dict[str, Any]) -> list[int]:
    """Every record id the query matches, in the list's order (bulk actions act on these)."""
    q = query.checked(viewer, settings)
    with store.session() as s:
        _, ordered = _filtered(store, s, viewer, q, settings)
        return [int(r[0]) for r in s.execute(ordered)]


def count_records(store: Store, viewer: Viewer, query: RecordQuery,
                  settings: dict[str, Any]) -> int:
    q = query.checked(viewer, settings)
    with store.session() as s:
        stmt, _ = _filtered(store, s, viewer, q, settings)
        return int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _relevance_page(s: Session, stmt: Any, run: int, offset: int, limit: int) -> list[int]:
    """One page of the relevance order without sorting every match (top-k).

    The order is: records the latest fit ranked, by rank, then the rest by
    number. Instead of joining every match to its rank and sorting them all,
    the ranked part walks the ranking's ``(run_id, rank)`` index and keeps the
    records the filter admits, stopping at ``offset + limit`` (SQLite and
    PostgreSQL both run an inner join with ``ORDER BY rank LIMIT`` that way);
    only a page that reaches past the ranked records reads the unranked tail.
    """
    rk = aliased(Ranking)
    ranked = (stmt.join(rk, and_(rk.record_id == Record.id, rk.run_id == run))
              .order_by(rk.rank, Record.id))
    ids = [int(r[0]) for r in s.execute(ranked.limit(limit).offset(offset))]
    if len(ids) == limit:
        return ids
    if ids:  # the ranked part ends on this page
        n_ranked = offset + len(ids)
    else:
        n_ranked = int(s.scalar(select(func.count()).select_from(ranked.order_by(None)
                                                                  .subquery())) or 0)
    unranked = stmt.where(~exists().where(Ranking.record_id == Record.id,
                                          Ranking.run_id == run)).order_by(Record.id)
    tail = s.execute(unranked.limit(limit - len(ids)).offset(max(0, offset - n_ranked)))
    return ids + [int(r[0]) for r in tail]


def find_records(store: Store, viewer: Viewer, query: RecordQuery, settings: dict[str, Any],
                 *, page: int = 0, per_page: int = 50) -> RecordPage:
    """One page of the records ``query`` matches, with the columns ``viewer`` may see.

    Two statements whatever the review's size: the count, and one page of ids
    (``LIMIT``/``OFFSET``; in the relevance order a top-k walk of the ranking's
    index, :func:`_relevance_page`); the page's columns are then read for those
    ids only (:func:`page_rows`).
    """
    q = query.checked(viewer, settings)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    with store.session() as s:
        stmt, ordered = _filtered(store, s, viewer, q, settings)
        total = int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        pages = max(1, -(-total // per_page))
        page = max(0, min(int(page), pages - 1))
        run = latest_ranking_run(s) if _sort(q, stmt) == "relevance" else None
        if run is not None:
            ids = _relevance_page(s, stmt, run, page * per_page, per_page)
        else:
            ids = [int(r[0]) for r in s.execute(ordered.limit(per_page)
                                                .offset(page * per_page))]
    return RecordPage(total=total, page=page, per_page=per_page,
                      rows=page_rows(store, viewer, ids, q.stage, settings))


# --- the columns of one page ------------------------------------------------------------------

ROW_COLUMNS = ["record_id", "title", "authors", "year", "source", "my_decision", "my_reason",
               "final", "conflict", "reviewers", "tags", "score", "rank", "duplicate_of"]


def page_rows(store: Store, viewer: Viewer, ids: list[int], stage: str,
              settings: dict[str, Any]) -> pd.DataFrame:
    """The list's columns for ``ids`` (in that order). Hidden columns are None in blind mode."""
    if not ids:
        return pd.DataFrame(columns=ROW_COLUMNS)
    everyone = sees_everyone(viewer, settings)
    per_record = int(settings.get("reviewers_per_record", 1))
    with store.session() as s:
        recs = {int(r.id): r for r in s.execute(
            select(Record.id, Record.title, Record.authors, Record.year, Source.name)
            .join(Source, Source.id == Record.source_id).where(Record.id.in_(ids)))}
        cur = _current(stage, record_ids=ids)
        decided = s.execute(select(cur.c.record_id, cur.c.reviewer_id, cur.c.label,
                                   cur.c.reason)).all()
        finals: dict[int, tuple[Any, int]] = {}
        if everyone:
            out = _outcome(stage, per_record, automation_ids(s), record_ids=ids)
            finals = {int(r.record_id): (r.final, int(r.conflict or 0)) for r in s.execute(
                select(out.c.record_id, out.c.final, out.c.conflict))}
        tags: dict[int, list[str]] = {}
        for rid, name in s.execute(select(RecordTag.record_id, Tag.name)
                                   .join(Tag, Tag.id == RecordTag.tag_id)
                                   .where(RecordTag.record_id.in_(ids),
                                          RecordTag.removed_at.is_(None))
                                   .order_by(Tag.name)):
            tags.setdefault(int(rid), []).append(str(name))
        run = latest_ranking_run(s)
        scores = {} if run is None else {int(r.record_id): (float(r.score), int(r.rank))
                                         for r in s.execute(
            select(Ranking.record_id, Ranking.score, Ranking.rank)
            .where(Ranking.run_id == run, Ranking.record_id.in_(ids)))}
        links = dict(s.execute(select(DuplicateLink.record_id, DuplicateLink.canonical_id)
                               .where(DuplicateLink.record_id.in_(ids),
                                      DuplicateLink.undone_at.is_(None))).all())
        names = dict(s.execute(select(Reviewer.id, Reviewer.display_name)).all())
    mine: dict[int, tuple[str, str | None]] = {}
    who: dict[int, list[str]] = {}
    for rid, reviewer, label, reason in decided:
        if reviewer == viewer.reviewer_id:
            mine[int(rid)] = (label, reason)
        if everyone:
            who.setdefault(int(rid), []).append(f"{names.get(reviewer, reviewer)}: {label}")
    rows = []
    for rid in ids:
        r = recs.get(rid)
        if r is None:
            continue
        authors = list(r.authors or [])
        label, reason = mine.get(rid, (None, None))
        final, conflict = finals.get(rid, (None, 0))
        score, rank = scores.get(rid, (None, None))
        rows.append({
            "record_id": rid, "title": r.title or "", "year": r.year, "source": r.name,
            "authors": "; ".join(str(a) for a in authors[:3]) + (" et al." if len(authors) > 3
                                                                 else ""),
            "my_decision": label, "my_reason": reason,
            "final": final if everyone else None,
            "conflict": bool(conflict) if everyone else None,
            "reviewers": "; ".join(sorted(who.get(rid, []))) if everyone else None,
            "tags": ", ".join(tags.get(rid, [])),
            "score": score if everyone else None, "rank": rank,
            "duplicate_of": links.get(rid),
        })
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


# --- one record -------------------------------------------------------------------------------

DETAIL_FIELDS = ("title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
                 "doi", "pmid", "keywords", "type", "url")


def open_record(store: Store, viewer: Viewer, record_id: int, stage: str,
                settings: dict[str, Any]) -> dict[str, Any]:
    """A record's fields, its visible decision history at ``stage``, tags and duplicate link."""
    if stage not in STAGES:
        raise RecordListError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    everyone = sees_everyone(viewer, settings)
    with store.session() as s:
        row = s.execute(select(Record.id, *[getattr(Record, f) for f in DETAIL_FIELDS])
                        .where(Record.id == record_id)).first()
        if row is None:
            raise RecordListError(f"there is no record #{record_id}")
        hist = select(Decision.id, Decision.reviewer_id, Reviewer.display_name, Decision.label,
                      Decision.reason, Decision.note, Decision.created_at).join(
            Reviewer, Reviewer.id == Decision.reviewer_id).where(
            Decision.record_id == record_id, Decision.stage == stage)
        if not everyone:
            hist = hist.where(Decision.reviewer_id == viewer.reviewer_id)
        history = [dict(r._mapping) for r in s.execute(hist.order_by(Decision.id))]
        canonical = s.scalar(select(DuplicateLink.canonical_id).where(
            DuplicateLink.record_id == record_id, DuplicateLink.undone_at.is_(None)))
        report = s.execute(select(Report.id, Report.retrieval, Report.pdf_path,
                                  Report.pdf_sha256).where(Report.record_id == record_id)).first()
        has_report = None if report is None else report.id
        tag_rows = s.execute(select(Tag.id, Tag.name).join(RecordTag, RecordTag.tag_id == Tag.id)
                             .where(RecordTag.record_id == record_id,
                                    RecordTag.removed_at.is_(None)).order_by(Tag.name)).all()
        resolution = None
        if everyone:
            res = s.execute(select(Resolution.label, Resolution.reason)
                            .where(Resolution.record_id == record_id, Resolution.stage == stage)
                            .order_by(Resolution.id.desc()).limit(1)).first()
            resolution = None if res is None else dict(res._mapping)
    detail = dict(row._mapping)
    mine = [h for h in history if h["reviewer_id"] == viewer.reviewer_id]
    current = mine[-1] if mine and mine[-1]["label"] != "retracted" else None
    detail.update(history=history, duplicate_of=canonical, has_report=has_report is not None,
                  retrieval=None if report is None else report.retrieval,
                  pdf_path=None if report is None else report.pdf_path,
                  pdf_sha256=None if report is None else report.pdf_sha256,
                  tags=[{"id": int(i), "name": str(n)} for i, n in tag_rows],
                  my_current=current, resolution=resolution)
    return detail


def change_decision(store: Store, viewer: Viewer, record_id: int, stage: str, label: str,
                    settings: dict[str, Any], *, reason: str | None = None,
                    note: str | None = None, request_id: str | None = None,
                    via: str = "record list") -> int:
    """Append ``viewer``'s new decision on a record (the old one stays); returns its id.

    Checked on the server whatever the form offered: the label, the reason
    (one of the review's exclusion reasons at that stage), the record (exists,
    is not a duplicate, has reached full text for a full-text decision). The
    audit row names the decision it replaces. A repeated ``request_id`` lands once.
    """
    if stage not in STAGES:
        raise RecordListError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    allowed = CHANGE_LABELS if stage == "title_abstract" else FULL_TEXT_LABELS
    if label not in allowed:
        raise RecordListError(f"a {stage.replace('_', ' ')} decision is one of "
                              f"{', '.join(allowed)}, not {label!r}")
    reasons = [str(r) for r in settings.get(f"exclusion_reasons_{stage}") or []]
    reason = (reason or "").strip() or None
    if label != "exclude":
        reason = None
    elif reason is not None and reason not in reasons:
        raise RecordListError(f"{reason!r} is not one of the review's exclusion reasons at "
                              f"{stage.replace('_', ' ')}")
    elif reason is None and stage == "full_text":  # PRISMA counts excluded reports by reason
        raise RecordListError("a full-text exclusion needs one of the review's reasons")
    note = (note or "").strip()[:2000] or None
    with store.session() as s:
        if request_id is not None:
            done = s.scalar(select(Decision.id).where(Decision.request_id == request_id))
            if done is not None:
                return int(done)
        if s.get(Record, record_id) is None:
            raise RecordListError(f"there is no record #{record_id}")
        canonical = s.scalar(select(DuplicateLink.canonical_id).where(
            DuplicateLink.record_id == record_id, DuplicateLink.undone_at.is_(None)))
        if canonical is not None:
            raise RecordListError(f"record #{record_id} is a duplicate of #{canonical}: "
                                  f"decide on #{canonical}")
        if stage == "full_text":
            retrieval = s.scalar(select(Report.retrieval).where(Report.record_id == record_id))
            if retrieval is None:
                raise RecordListError(f"record #{record_id} has not reached full text")
            if retrieval == "not_retrieved":
                raise RecordListError(f"record #{record_id}'s full text is marked not "
                                      "retrieved; attach its PDF or seek it again first")
        old = s.execute(select(Decision.id, Decision.label, Decision.reason)
                        .where(Decision.record_id == record_id, Decision.stage == stage,
                               Decision.reviewer_id == viewer.reviewer_id)
                        .order_by(Decision.id.desc()).limit(1)).first()
        d = Decision(record_id=record_id, reviewer_id=viewer.reviewer_id, stage=stage,
                     label=label, reason=reason, note=note, request_id=request_id)
        s.add(d)
        if not s.scalar(select(Assignment.id).where(
                Assignment.record_id == record_id, Assignment.reviewer_id == viewer.reviewer_id,
                Assignment.stage == stage)):
            s.add(Assignment(record_id=record_id, reviewer_id=viewer.reviewer_id, stage=stage))
        s.flush()
        repo.audit(s, viewer.username, "change_decision" if old is not None else "decide",
                   "decision", d.id, record_id=record_id, stage=stage, label=label,
                   reason=reason, replaces=None if old is None else int(old.id),
                   old_label=None if old is None else old.label,
                   old_reason=None if old is None else old.reason, via=via)
        return int(d.id)


def with_defaults(query: RecordQuery, **changes: Any) -> RecordQuery:
    """``query`` with some fields replaced (the page builds queries from widgets this way)."""
    return replace(query, **changes)
