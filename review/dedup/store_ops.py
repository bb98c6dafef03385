"""Deduplication inside a review: link duplicates in the store, queue uncertain pairs, undo.

The engine (:func:`review.dedup.find_duplicates`) decides; this module only
moves its answer into the store, following the store's rules:

* **Link, never delete.** Each duplicate becomes a ``duplicate_link`` to the
  cluster's canonical record, with the pair's score, ``method='auto'`` and the
  reason in words. Undoing a link stamps it; the record row never changes.
* **Canonical = most complete.** The record filling the most key fields
  (title, authors, year, journal, volume, issue, pages, DOI, PMID, abstract,
  keywords) becomes canonical; its own fields are never overwritten. Fields it
  lacks are filled in ``record.merged`` from its duplicates, keywords are
  united, and identifiers that differ are kept as alternatives, each with the
  record it came from, so no value is lost.
* **A person has the last word.** Uncertain pairs go to ``dedup_candidate``
  (status ``pending``); a pair a person rejected, or a link a person undid, is
  never linked again automatically.

Every write leaves an audit-log row in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from review.dedup.engine import find_duplicates
from review.dedup.normalise import is_missing
from review.store import repo
from review.store.db import Store
from review.store.models import (
    AuditLog,
    Decision,
    DedupCandidate,
    DuplicateLink,
    Record,
    Report,
    Study,
    utcnow,
)

#: Fields compared for completeness and merged into the canonical record.
MERGE_FIELDS = (
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "abstract",
    "keywords",
    "type",
    "url",
    "language",
    "publisher",
    "issn",
)
#: Fields whose differing values are all worth keeping (a DOI of the print and online version).
ALTERNATIVE_FIELDS = ("doi", "pmid", "issn", "url", "title", "journal")
COMPLETENESS_FIELDS = (
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "abstract",
    "keywords",
)

PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"
#: A person said the pair are two reports of one study (a protocol and its results paper):
#: under PRISMA 2020 they are not duplicates, so they stay two records, grouped into one study.
SAME_STUDY = "same_study"
#: Statuses that keep a pair apart for good.
KEPT_APART = (REJECTED, SAME_STUDY)
#: PostgreSQL advisory-lock key held by every dedup write transaction (next to the store's
#: migration lock 74_204_619 and the ranking lock 74_204_620).
DEDUP_LOCK_KEY = 74_204_621


class DedupStoreError(ValueError):
    """A request the review's data does not allow (unknown link, candidate already decided...)."""


@dataclass(frozen=True)
class DedupSummary:
    """What one run changed in the review."""

    run_id: str
    records: int
    pairs_compared: int
    links_added: int
    links_kept: int
    candidates_added: int
    left_apart: int


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------


def _filled(value: Any) -> bool:
    if isinstance(value, list | tuple | dict):
        return len(value) > 0
    return not is_missing(value)


def completeness(row: dict[str, Any]) -> int:
    """Number of key fields a record fills; abstracts count once whatever their length."""
    return sum(1 for f in COMPLETENESS_FIELDS if _filled(row.get(f)))


def choose_canonical(rows: list[dict[str, Any]]) -> int:
    """The record id of the most complete record; ties go to the earliest imported (lowest id)."""
    return min(rows, key=lambda r: (-completeness(r), r["record_id"]))["record_id"]


def merge_fields(canonical: dict[str, Any], duplicates: list[dict[str, Any]]) -> dict[str, Any]:
    """What the canonical record gains from its duplicates, never replacing its own values.

    Returns ``{"fields": {field: {"value", "from"}}, "keywords": [...], "alternatives":
    {field: [{"value", "from"}]}, "sources": [record ids]}``.
    """
    fields: dict[str, Any] = {}
    alternatives: dict[str, list[dict[str, Any]]] = {}
    keywords: list[str] = list(canonical.get("keywords") or [])
    seen_kw = {str(k).casefold() for k in keywords}
    # most complete duplicates first, so a filled field comes from the best record
    for dup in sorted(duplicates, key=lambda r: (-completeness(r), r["record_id"])):
        for f in MERGE_FIELDS:
            value = dup.get(f)
            if not _filled(value) or f == "keywords":
                continue
            if not _filled(canonical.get(f)) and f not in fields:
                fields[f] = {"value": value, "from": int(dup["record_id"])}
            elif f in ALTERNATIVE_FIELDS:
                own = (
                    canonical.get(f)
                    if _filled(canonical.get(f))
                    else fields.get(f, {}).get("value")
                )
                if str(value).strip().casefold() != str(own).strip().casefold():
                    known = {str(a["value"]).strip().casefold() for a in alternatives.get(f, [])}
                    if str(value).strip().casefold() not in known:
                        alternatives.setdefault(f, []).append(
                            {"value": value, "from": int(dup["record_id"])}
                        )
        for kw in dup.get("keywords") or []:
            if str(kw).casefold() not in seen_kw:
                seen_kw.add(str(kw).casefold())
                keywords.append(kw)
    out: dict[str, Any] = {
        "fields": fields,
        "sources": sorted(int(d["record_id"]) for d in duplicates),
    }
    if keywords and keywords != list(canonical.get("keywords") or []):
        out["keywords"] = keywords
    if alternatives:
        out["alternatives"] = alternatives
    return out


# ---------------------------------------------------------------------------------------------
# Queries this stage needs beyond review.store.repo
# ---------------------------------------------------------------------------------------------


def _blocked_pairs(s: Session) -> set[tuple[int, int]]:
    """Pairs a person kept apart: rejected candidates and links that were undone."""
    blocked: set[tuple[int, int]] = set()
    for a, b in s.execute(
        select(DedupCandidate.record_a, DedupCandidate.record_b).where(
            DedupCandidate.status.in_(KEPT_APART)
        )
    ):
        blocked.add((min(a, b), max(a, b)))
    for a, b in s.execute(
        select(DuplicateLink.record_id, DuplicateLink.canonical_id).where(
            DuplicateLink.undone_at.is_not(None)
        )
    ):
        blocked.add((min(a, b), max(a, b)))
    return blocked


def _known_candidates(s: Session) -> set[tuple[int, int]]:
    return {
        (min(a, b), max(a, b))
        for a, b in s.execute(select(DedupCandidate.record_a, DedupCandidate.record_b))
    }


def _live_canonical(s: Session) -> dict[int, int]:
    return dict(
        s.execute(
            select(DuplicateLink.record_id, DuplicateLink.canonical_id).where(
                DuplicateLink.undone_at.is_(None)
            )
        ).all()
    )


def _reached_full_text(s: Session, record_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Records that must never become a duplicate, with why in words.

    A record with full-text decisions, or whose report belongs to a study, is
    counted by PRISMA, the tables and the synthesis as a report; linking it to
    another record would make it vanish from some of those views and not others.
    """
    ids = None if record_ids is None else [int(r) for r in record_ids]
    why: dict[int, str] = {}
    q = select(Report.record_id, Study.label).join(Study, Study.id == Report.study_id)
    if ids is not None:
        q = q.where(Report.record_id.in_(ids))
    for rid, label in s.execute(q):
        why[int(rid)] = f"is a report of study {label!r}"
    q2 = select(Decision.record_id).where(Decision.stage == "full_text").distinct()
    if ids is not None:
        q2 = q2.where(Decision.record_id.in_(ids))
    for rid in s.scalars(q2):
        why.setdefault(int(rid), "has full-text decisions")
    return why


def _members(live: dict[int, int], root: int) -> set[int]:
    """A cluster's records: its canonical ``root`` and every record linked to it."""
    return {root} | {r for r, c in live.items() if c == root}


def _crossing(a: set[int], b: set[int], blocked: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pairs a person kept apart with one record in each cluster (joining would join them)."""
    return sorted(p for p in blocked if (p[0] in a and p[1] in b) or (p[0] in b and p[1] in a))


@dataclass(frozen=True)
class ConfirmPlan:
    """What confirming a pair would do, said before it is done.

    ``keep`` stays canonical; ``moves`` are every record whose canonical becomes
    ``keep`` (the other cluster's canonical and its duplicates); ``settles`` are
    the other pending pairs that become one cluster by it. ``blocked`` says, in
    words, why it may not be done (empty: it may).
    """

    candidate_id: int
    record_a: int
    record_b: int
    keep: int
    moves: tuple[int, ...]
    settles: tuple[int, ...]
    blocked: tuple[str, ...]
    same_study_possible: bool


def _plan(s: Session, cand: DedupCandidate) -> ConfirmPlan:
    live = _live_canonical(s)
    ca, cb = live.get(cand.record_a, cand.record_a), live.get(cand.record_b, cand.record_b)
    if ca == cb:
        return ConfirmPlan(cand.id, cand.record_a, cand.record_b, ca, (), (),
                           (f"records #{cand.record_a} and #{cand.record_b} are already one "
                            "cluster",), False)
    cluster_a, cluster_b = _members(live, ca), _members(live, cb)
    full_text = _reached_full_text(s, cluster_a | cluster_b)
    has_a = bool(full_text.keys() & cluster_a)
    has_b = bool(full_text.keys() & cluster_b)
    if has_a != has_b:  # keep the side that reached full text as the canonical
        canonical = ca if has_a else cb
    else:
        rows = [_row_dict(r) for r in s.scalars(select(Record).where(Record.id.in_([ca, cb])))]
        canonical = choose_canonical(rows)
    other = cb if canonical == ca else ca
    moving = cluster_b if other == cb else cluster_a
    blocked: list[str] = []
    for rid in sorted(moving & full_text.keys()):
        blocked.append(f"record #{rid} {full_text[rid]}: a record that reached full text is "
                       "never linked as a duplicate; if these are two reports of one study "
                       "(a protocol and its results), choose “Same study, another report”")
    for x, y in _crossing(cluster_a, cluster_b, _blocked_pairs(s)):
        blocked.append(f"records #{x} and #{y} were kept apart by a person (not duplicates, "
                       "or another report of the same study); confirming would join them "
                       "through other records")
    joined = cluster_a | cluster_b
    settles = tuple(int(i) for i, a, b in s.execute(select(
        DedupCandidate.id, DedupCandidate.record_a, DedupCandidate.record_b).where(
        DedupCandidate.status == PENDING, DedupCandidate.id != cand.id))
        if a in joined and b in joined)
    reports = set(s.scalars(select(Report.record_id).where(Report.record_id.in_([ca, cb]))))
    return ConfirmPlan(cand.id, cand.record_a, cand.record_b, int(canonical),
                       tuple(sorted(moving)), settles, tuple(blocked), bool(reports))


def plan_confirm(store: Store, candidate_id: int) -> ConfirmPlan:
    """What :func:`confirm_candidate` would do to this pair (nothing is written)."""
    with store.session() as s:
        cand = s.get(DedupCandidate, candidate_id)
        if cand is None:
            raise DedupStoreError(f"no duplicate candidate #{candidate_id}")
        return _plan(s, cand)


def _row_dict(rec: Record) -> dict[str, Any]:
    return {"record_id": rec.id, **{f: getattr(rec, f) for f in MERGE_FIELDS}}


def _refresh_merged(s: Session, canonical_id: int) -> None:
    """Recompute ``merged`` of a canonical record from its live duplicates."""
    canonical = s.get(Record, canonical_id)
    if canonical is None:
        return
    dup_ids = list(
        s.scalars(
            select(DuplicateLink.record_id).where(
                DuplicateLink.canonical_id == canonical_id, DuplicateLink.undone_at.is_(None)
            )
        )
    )
    dups = [_row_dict(r) for r in s.scalars(select(Record).where(Record.id.in_(dup_ids)))]
    canonical.merged = merge_fields(_row_dict(canonical), dups) if dups else {}


def _lock_links(s: Session) -> None:
    """Serialise dedup writers on PostgreSQL before they read the live links.

    Each writer reads the live links and then writes links that are straight
    *given what it read*; two writers reading at once (two leads confirming
    a~b and b~c) would each write a link the other's makes into a chain. The
    transaction-scoped advisory lock makes the second wait until the first has
    committed, so it reads the first's links (READ COMMITTED takes a fresh
    snapshot per statement). On SQLite, pysqlite runs reads outside any transaction
    until the first write, so two writers could both read before either writes:
    ``BEGIN IMMEDIATE`` takes the write lock before the reads instead.
    """
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DEDUP_LOCK_KEY})
    elif dialect == "sqlite":
        raw = s.connection().connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")


def _move_duplicates(
    s: Session,
    old: int,
    new: int,
    *,
    actor: str | None,
    why: str,
    method: str | None = None,
    score: float | None = None,
    run_id: str | None = None,
    **detail: Any,
) -> list[DuplicateLink]:
    """Re-point every live duplicate of ``old`` at ``new``, before ``old`` itself is linked.

    Without this, linking a canonical record to another one makes a chain
    (x→old→new): the queue hides ``old`` while ``x`` still names it, so x's
    cluster has no screenable record. Old links are stamped undone and new ones
    made (links are never edited); ``method`` and ``score`` default to the old
    link's. The audit row of each new link names the link it replaces
    (``moved_from_link``), which :func:`undo_run` uses to put it back. The
    caller refreshes the merged fields of both records.
    """
    old_links = s.scalars(
        select(DuplicateLink)
        .where(DuplicateLink.canonical_id == old, DuplicateLink.undone_at.is_(None))
        .order_by(DuplicateLink.id)
    ).all()
    if not old_links:
        return []
    now = utcnow()
    for lk in old_links:
        lk.undone_at, lk.undone_by = now, actor
    s.flush()  # at most one live link per record: stamp the old ones before adding new ones
    new_links = [
        DuplicateLink(
            record_id=lk.record_id,
            canonical_id=new,
            score=lk.score if score is None else score,
            method=method or lk.method,
            reason=f"{why} (moved from #{old} to #{new})",
            run_id=run_id,
            created_by=actor,
        )
        for lk in old_links
    ]
    s.add_all(new_links)
    s.flush()
    for lk, moved in zip(old_links, new_links, strict=True):
        repo.audit(
            s,
            actor,
            "link_duplicate",
            "duplicate_link",
            moved.id,
            record_id=moved.record_id,
            canonical_id=new,
            method=moved.method,
            moved_from_link=lk.id,
            **({"run_id": run_id} if run_id else {}),
            **detail,
        )
    return new_links


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def deduplicate_review(
    store: Store, *, actor: str | None = None, progress: bool = False
) -> DedupSummary:
    """Find duplicates among all records of the review and write links and candidates.

    Existing live links are kept (a person may have made them): a cluster keeps
    a record that is already a canonical as its canonical, and when the run
    links one canonical record to another, the first one's duplicates move with
    it (never x→a→b). The run adds links for new duplicates and queues new
    uncertain pairs, in one transaction: the review sees all of it or none of it.
    """
    records = repo.records_frame(store)
    run_id = uuid.uuid4().hex[:12]
    if records.empty:
        return DedupSummary(run_id, 0, 0, 0, 0, 0, 0)
    table = records.rename(columns={"record_id": "ID"}).drop(columns=["canonical_id"])
    table["ID"] = table["ID"].astype(str)
    result = find_duplicates(table, progress=progress)
    by_id = {int(r["record_id"]): r for r in records.to_dict("records")}

    # best pair per record pair, to give each link its score and reason
    pair_info: dict[tuple[int, int], tuple[float, str, str]] = {}
    for a, b, score, decision, reason in zip(
        result.pairs["id_a"],
        result.pairs["id_b"],
        result.pairs["score"],
        result.pairs["decision"],
        result.pairs["reason"],
        strict=True,
    ):
        x, y = int(a), int(b)
        pair_info[(min(x, y), max(x, y))] = (float(score), str(decision), str(reason))

    links_kept = left_apart = 0
    with store.session() as s:
        _lock_links(s)
        blocked = _blocked_pairs(s)
        live = _live_canonical(s)
        known = _known_candidates(s)
        reached = _reached_full_text(s)  # never linked as a duplicate (see ConfirmPlan)
        duplicates_of: dict[int, set[int]] = {}
        for rid, canonical in live.items():
            duplicates_of.setdefault(canonical, set()).add(rid)
        new_links: list[DuplicateLink] = []
        touched: set[int] = set()  # canonicals whose merged fields need recomputing
        clusters = result.clusters.groupby("cluster_id")["ID"].agg(list)
        for members in clusters:
            if len(members) < 2:
                continue
            ids = [int(m) for m in members]
            # keep a record that is already a canonical (a person may have linked to it), so
            # its duplicates stay where they are; otherwise the most complete record
            holders = [i for i in ids if duplicates_of.get(i)]
            canonical = choose_canonical([by_id[i] for i in (holders or ids)])
            for rid in ids:
                if rid == canonical:
                    continue
                if rid in live:
                    links_kept += 1
                    continue
                key = (min(rid, canonical), max(rid, canonical))
                followers = duplicates_of.get(rid, set())
                if (
                    key in blocked
                    or canonical in live
                    or rid in reached
                    or followers & reached.keys()
                    or _crossing({rid} | followers,
                                 {canonical} | duplicates_of.get(canonical, set()), blocked)
                ):
                    # a person kept these apart (or one of rid's duplicates from the
                    # canonical), or the canonical is itself linked elsewhere
                    left_apart += 1
                    continue
                score, _, reason = pair_info.get(key) or _best_pair_in_cluster(rid, ids, pair_info)
                if followers:
                    # rid is a canonical already: its duplicates go with it, straight to the
                    # new canonical, so no link points at a linked record
                    _move_duplicates(
                        s,
                        rid,
                        canonical,
                        actor=actor,
                        why=f"record #{rid}, their canonical, is a duplicate of #{canonical}",
                        method="auto",
                        run_id=run_id,
                    )
                    for f in followers:
                        live[f] = canonical
                    duplicates_of.setdefault(canonical, set()).update(followers)
                    del duplicates_of[rid]
                    touched.add(rid)
                new_links.append(
                    DuplicateLink(
                        record_id=rid,
                        canonical_id=canonical,
                        score=score,
                        method="auto",
                        reason=reason,
                        run_id=run_id,
                        created_by=actor,
                    )
                )
                live[rid] = canonical
                duplicates_of.setdefault(canonical, set()).add(rid)
        s.add_all(new_links)
        s.flush()  # one batched INSERT, ids back for the audit log
        for link in new_links:
            repo.audit(
                s,
                actor,
                "link_duplicate",
                "duplicate_link",
                link.id,
                record_id=link.record_id,
                canonical_id=link.canonical_id,
                score=link.score,
                method="auto",
                reason=link.reason,
                run_id=run_id,
            )
        for canonical in touched | {link.canonical_id for link in new_links}:
            _refresh_merged(s, canonical)

        new_candidates: list[DedupCandidate] = []
        maybe = result.pairs[result.pairs["decision"] == "maybe"]
        for a, b, score, reason in zip(
            maybe["id_a"], maybe["id_b"], maybe["score"], maybe["reason"], strict=True
        ):
            x, y = int(a), int(b)
            key = (min(x, y), max(x, y))
            if key in known or key in blocked or live.get(x, x) == live.get(y, y):
                continue  # already asked, already decided, or already one work
            known.add(key)
            new_candidates.append(
                DedupCandidate(
                    record_a=key[0],
                    record_b=key[1],
                    score=float(score),
                    reason=str(reason),
                    status=PENDING,
                    run_id=run_id,
                )
            )
        s.add_all(new_candidates)
        s.flush()
        for cand in new_candidates:
            repo.audit(
                s,
                actor,
                "add_dedup_candidate",
                "dedup_candidate",
                cand.id,
                record_a=cand.record_a,
                record_b=cand.record_b,
                score=cand.score,
                reason=cand.reason,
                run_id=run_id,
            )
        links_added, candidates_added = len(new_links), len(new_candidates)
        repo.audit(
            s,
            actor,
            "dedup_run",
            "duplicate_link",
            None,
            run_id=run_id,
            records=len(records),
            pairs_compared=result.pairs_compared,
            links_added=links_added,
            candidates_added=candidates_added,
        )
    return DedupSummary(
        run_id,
        len(records),
        result.pairs_compared,
        links_added,
        links_kept,
        candidates_added,
        left_apart,
    )


def _best_pair_in_cluster(
    rid: int, ids: Iterable[int], pair_info: dict[tuple[int, int], tuple[float, str, str]]
) -> tuple[float, str, str]:
    """Score and reason of the strongest duplicate pair joining ``rid`` to its cluster."""
    best: tuple[float, str, str] | None = None
    for other in ids:
        if other == rid:
            continue
        info = pair_info.get((min(rid, other), max(rid, other)))
        if info and info[1] == "duplicate" and (best is None or info[0] > best[0]):
            best = info
    if best is None:
        return (0.0, "duplicate", "in one cluster with the canonical record")
    return (best[0], best[1], f"{best[2]} (via another record of the cluster)")


# ---------------------------------------------------------------------------------------------
# A person's decisions
# ---------------------------------------------------------------------------------------------


def undo_link(store: Store, link_id: int, *, actor: str | None = None) -> None:
    """Undo one duplicate link; the canonical record's merged fields are recomputed."""
    with store.session() as s:
        _lock_links(s)
        link = s.get(DuplicateLink, link_id)
        if link is None or link.undone_at is not None:
            raise DedupStoreError(f"no live duplicate link #{link_id}")
        link.undone_at, link.undone_by = utcnow(), actor
        repo.audit(
            s,
            actor,
            "unlink_duplicate",
            "duplicate_link",
            link_id,
            record_id=link.record_id,
            canonical_id=link.canonical_id,
        )
        s.flush()
        _refresh_merged(s, link.canonical_id)


def undo_run(store: Store, run_id: str, *, actor: str | None = None) -> int:
    """Undo every live link one automatic run made (a run gone wrong); returns how many.

    Links the run moved (a person's x→a, moved to x→b when the run linked a to
    b) are put back where they were, so undoing a run loses no earlier link.
    """
    with store.session() as s:
        _lock_links(s)
        links = s.scalars(
            select(DuplicateLink).where(
                DuplicateLink.run_id == run_id, DuplicateLink.undone_at.is_(None)
            )
        ).all()
        if not links:
            raise DedupStoreError(f"no live duplicate links from run {run_id!r}")
        now = utcnow()
        for link in links:
            link.undone_at, link.undone_by = now, actor
            repo.audit(
                s,
                actor,
                "unlink_duplicate",
                "duplicate_link",
                link.id,
                record_id=link.record_id,
                canonical_id=link.canonical_id,
                run_id=run_id,
            )
        s.flush()
        touched = {link.canonical_id for link in links}
        touched |= _restore_moved(s, [link.id for link in links], actor=actor, run_id=run_id)
        for canonical in touched:
            _refresh_merged(s, canonical)
        return len(links)


def _restore_moved(
    s: Session, undone_ids: list[int], *, actor: str | None, run_id: str
) -> set[int]:
    """Remake the links that the just-undone links had replaced by moving them; returns the
    canonicals that gained a duplicate back.

    A link is remade only where it stays straight: its record has no live link
    and its old canonical is not itself linked (a person may have linked it since).
    """
    moved_from: dict[int, int] = {}
    for start in range(0, len(undone_ids), 5000):  # stay under SQLite's bound-parameter limit
        for row_id, detail in s.execute(
            select(AuditLog.row_id, AuditLog.detail).where(
                AuditLog.action == "link_duplicate",
                AuditLog.table_name == "duplicate_link",
                AuditLog.row_id.in_(undone_ids[start : start + 5000]),
            )
        ):
            if isinstance(detail, dict) and detail.get("moved_from_link"):
                moved_from[int(row_id)] = int(detail["moved_from_link"])
    if not moved_from:
        return set()
    live = _live_canonical(s)
    restored: set[int] = set()
    for new_id in sorted(moved_from):
        old = s.get(DuplicateLink, moved_from[new_id])
        if old is None or old.record_id in live or old.canonical_id in live:
            continue
        link = DuplicateLink(
            record_id=old.record_id,
            canonical_id=old.canonical_id,
            score=old.score,
            method=old.method,
            reason=f"put back when run {run_id} was undone: {old.reason or ''}".rstrip(": "),
            run_id=old.run_id,
            created_by=actor,
        )
        s.add(link)
        s.flush()
        repo.audit(
            s,
            actor,
            "link_duplicate",
            "duplicate_link",
            link.id,
            record_id=link.record_id,
            canonical_id=link.canonical_id,
            method=link.method,
            restored_link=old.id,
            undone_run_id=run_id,
        )
        live[link.record_id] = link.canonical_id
        restored.add(link.canonical_id)
    return restored


def pending_candidates(store: Store) -> pd.DataFrame:
    """Uncertain pairs waiting for a person, strongest first, with both titles to compare."""
    with store.session() as s:
        rows = s.execute(
            select(
                DedupCandidate.id,
                DedupCandidate.record_a,
                DedupCandidate.record_b,
                DedupCandidate.score,
                DedupCandidate.reason,
            )
            .where(DedupCandidate.status == PENDING)
            .order_by(DedupCandidate.score.desc(), DedupCandidate.id)
        ).all()
        ids = {r for row in rows for r in (row[1], row[2])}
        titles = dict(s.execute(select(Record.id, Record.title).where(Record.id.in_(ids))).all())
    frame = pd.DataFrame(rows, columns=["candidate_id", "record_a", "record_b", "score", "reason"])
    frame["title_a"] = frame["record_a"].map(titles)
    frame["title_b"] = frame["record_b"].map(titles)
    return frame


def _decide(s: Session, candidate_id: int, status: str, actor: str | None) -> DedupCandidate:
    cand = s.get(DedupCandidate, candidate_id)
    if cand is None:
        raise DedupStoreError(f"no duplicate candidate #{candidate_id}")
    if cand.status != PENDING:
        raise DedupStoreError(f"candidate #{candidate_id} was already {cand.status}")
    cand.status, cand.decided_by, cand.decided_at = status, actor, utcnow()
    repo.audit(
        s,
        actor,
        f"{status}_dedup_candidate",
        "dedup_candidate",
        candidate_id,
        record_a=cand.record_a,
        record_b=cand.record_b,
    )
    return cand


def reject_candidate(store: Store, candidate_id: int, *, actor: str | None = None) -> None:
    """A person says the pair are two works: they stay apart, now and in later runs."""
    with store.session() as s:
        _lock_links(s)
        cand = _decide(s, candidate_id, REJECTED, actor)
        live = _live_canonical(s)
        if live.get(cand.record_a, cand.record_a) == live.get(cand.record_b, cand.record_b):
            raise DedupStoreError(f"records #{cand.record_a} and #{cand.record_b} are already "
                                  "one cluster; unmerge the link that joins them first")


def confirm_candidate(store: Store, candidate_id: int, *, actor: str | None = None,
                      expect_moves: Iterable[int] | None = None) -> int:
    """A person says the pair are one work: link them (manually); returns the new link's id.

    Exactly what :func:`plan_confirm` said happens, or nothing: the two records'
    clusters become one under the canonical it named, the other cluster's records
    move to it (old links undone, new ones made, so every duplicate points straight
    at the canonical), and the other pending pairs now inside one cluster are
    settled. It refuses a record that reached full text and a join that would put a
    pair a person kept apart into one cluster. ``expect_moves`` (the records the
    page showed) makes it refuse when the data changed since the page was drawn.
    """
    with store.session() as s:
        _lock_links(s)
        cand = s.get(DedupCandidate, candidate_id)
        if cand is None:
            raise DedupStoreError(f"no duplicate candidate #{candidate_id}")
        if cand.status != PENDING:
            raise DedupStoreError(f"candidate #{candidate_id} was already {cand.status}")
        plan = _plan(s, cand)
        if plan.blocked:
            raise DedupStoreError("; ".join(plan.blocked))
        if expect_moves is not None and set(plan.moves) != {int(r) for r in expect_moves}:
            raise DedupStoreError("the clusters changed since the page was drawn; look at the "
                                  "records it would move again")
        _decide(s, candidate_id, CONFIRMED, actor)
        canonical = plan.keep
        other = next(r for r in plan.moves if _live_canonical(s).get(r, r) == r)
        reason = f"confirmed by a person: {cand.reason}"
        _move_duplicates(
            s,
            other,
            canonical,
            actor=actor,
            why=reason,
            method="manual",
            score=cand.score,
            candidate_id=candidate_id,
        )
        link = DuplicateLink(
            record_id=other,
            canonical_id=canonical,
            score=cand.score,
            method="manual",
            reason=reason,
            created_by=actor,
        )
        s.add(link)
        s.flush()
        repo.audit(
            s,
            actor,
            "link_duplicate",
            "duplicate_link",
            link.id,
            record_id=other,
            canonical_id=canonical,
            method="manual",
            candidate_id=candidate_id,
            moved=list(plan.moves),
        )
        for settled in plan.settles:
            c2 = s.get(DedupCandidate, settled)
            c2.status, c2.decided_by, c2.decided_at = CONFIRMED, actor, utcnow()
            repo.audit(s, actor, "confirmed_dedup_candidate", "dedup_candidate", settled,
                       record_a=c2.record_a, record_b=c2.record_b, settled_by=candidate_id)
        _refresh_merged(s, canonical)
        _refresh_merged(s, other)
        return link.id


def same_study_candidate(store: Store, candidate_id: int, *, actor: str | None = None
                         ) -> int | None:
    """A person says the pair are two reports of one study: keep both records, group them.

    The pair is kept apart for good (status ``same_study``); where both records'
    canonicals have reports, those reports are put into one study (the study one
    of them already belongs to, else a new one named after the first). Returns the
    study's id, or None where fewer than two reports exist yet (the pair is still
    recorded, so a later run never links them).
    """
    with store.session() as s:
        _lock_links(s)
        cand = _decide(s, candidate_id, SAME_STUDY, actor)
        live = _live_canonical(s)
        roots = [live.get(cand.record_a, cand.record_a), live.get(cand.record_b, cand.record_b)]
        if roots[0] == roots[1]:
            raise DedupStoreError(f"records #{cand.record_a} and #{cand.record_b} are one "
                                  "cluster; unmerge their link first")
        reports = s.scalars(select(Report).where(Report.record_id.in_(roots))
                            .order_by(Report.id)).all()
        if len(reports) < 2:
            return None
        study_ids = sorted({r.study_id for r in reports if r.study_id is not None})
        if len(study_ids) > 1:
            raise DedupStoreError(f"the two reports belong to different studies (#"
                                  f"{study_ids[0]} and #{study_ids[1]}); regroup them on the "
                                  "Full text page")
        if study_ids:
            sid = study_ids[0]
        else:
            rec = s.get(Record, reports[0].record_id)
            first = (rec.authors or ["Study"])[0] if rec else "Study"
            surname = str(first).split(",")[0].split()[-1] if str(first).strip() else "Study"
            study = Study(label=f"{surname} {rec.year or ''}".strip())
            s.add(study)
            s.flush()
            sid = study.id
            repo.audit(s, actor, "create_study", "study", sid, label=study.label)
        for r in reports:
            if r.study_id != sid:
                r.study_id = sid
                repo.audit(s, actor, "assign_study", "report", r.id, study_id=sid,
                           candidate_id=candidate_id)
        return sid
