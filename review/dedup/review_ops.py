"""What the duplicates page reads: a pair side by side, the live links, who decided what.

The writes (confirm, reject, unmerge, run) are :mod:`review.dedup.store_ops`'s,
so a link made in the app and one made by ``review dedup`` follow the same
rules (every duplicate points straight at its canonical, the canonical is the
more complete record, a pair a person kept apart is never linked again, the
canonical's ``merged`` fields are recomputed). This module only shapes what a
lead looks at: the field-by-field comparison with differences marked, the
canonical the confirmation will keep, and the screening decisions that stop
counting when a record becomes a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from review.dedup import store_ops
from review.dedup.normalise import fold, text_of
from review.records import FIELDS
from review.store import Store, repo
from review.store.models import Decision, DedupCandidate, DuplicateLink, Record, Source

#: Fields shown side by side, in the order a reviewer reads a reference.
COMPARE_FIELDS = ("title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
                  "pmid", "type", "language", "publisher", "issn", "url", "keywords",
                  "abstract")  # fmt: skip
SAME, SAME_FORM, DIFFERS, ONLY_A, ONLY_B = "same", "same after normalising", "differs", \
    "only A", "only B"
#: The writes, from the dedup stage (re-exported so the page has one module to call).
DedupStoreError = store_ops.DedupStoreError
confirm_candidate = store_ops.confirm_candidate
reject_candidate = store_ops.reject_candidate
same_study_candidate = store_ops.same_study_candidate
plan_confirm = store_ops.plan_confirm
ConfirmPlan = store_ops.ConfirmPlan
undo_link = store_ops.undo_link
pending_candidates = store_ops.pending_candidates


class DedupError(ValueError):
    """A pair or record that does not exist (any more)."""


# --- reading ----------------------------------------------------------------------------------

def record_dict(s: Session, record_id: int) -> dict[str, Any]:
    """One record's fields plus ``record_id`` and ``source`` (its source's name)."""
    rec = s.get(Record, record_id)
    if rec is None:
        raise DedupError(f"there is no record #{record_id}")
    out = {f: getattr(rec, f) for f in FIELDS}
    out.update(record_id=rec.id, source=rec.source.name if rec.source else None)
    return out


def candidate_records(store: Store, candidate_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two records of a candidate pair, as :func:`record_dict` gives them."""
    with store.session() as s:
        cand = s.get(DedupCandidate, candidate_id)
        if cand is None:
            raise DedupError(f"there is no duplicate candidate #{candidate_id}")
        return record_dict(s, cand.record_a), record_dict(s, cand.record_b)


def _shown(value: Any) -> str:
    return text_of(value)


def compare_records(a: dict[str, Any], b: dict[str, Any],
                    fields: tuple[str, ...] = COMPARE_FIELDS) -> pd.DataFrame:
    """Field-by-field comparison of two records: field, A, B, status.

    ``same after normalising`` marks differences of form only (case, accents,
    HTML entities, punctuation inside a name list), which the reviewer can
    ignore; ``differs`` marks a difference in fact. Fields both records lack
    are left out.
    """
    rows = []
    for f in fields:
        va, vb = _shown(a.get(f)), _shown(b.get(f))
        if not va and not vb:
            continue
        if not vb:
            status = ONLY_A
        elif not va:
            status = ONLY_B
        elif va == vb:
            status = SAME
        elif " ".join(fold(va).split()) == " ".join(fold(vb).split()) or (
                f in ("doi", "pages", "authors") and _bare(va) == _bare(vb)):
            status = SAME_FORM
        else:
            status = DIFFERS
        rows.append({"field": f, "A": va, "B": vb, "status": status})
    return pd.DataFrame(rows, columns=["field", "A", "B", "status"])


def _bare(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalnum())


def record_titles(store: Store, record_ids: list[int]) -> dict[int, str]:
    """Each record's title (or "(no title)"), to name the records an action moves."""
    with store.session() as s:
        rows = dict(s.execute(select(Record.id, Record.title).where(
            Record.id.in_(record_ids))).all())
    return {int(r): rows.get(r) or "(no title)" for r in record_ids}


def decision_counts(store: Store, record_ids: list[int]) -> dict[int, int]:
    """How many screening decisions each record carries (they stop counting on a duplicate)."""
    with store.session() as s:
        rows = s.execute(select(Decision.record_id, func.count()).where(
            Decision.record_id.in_(record_ids)).group_by(Decision.record_id)).all()
    found = {int(r): int(n) for r, n in rows}
    return {r: found.get(r, 0) for r in record_ids}


def live_links_frame(store: Store) -> pd.DataFrame:
    """Live links with both titles: link_id, record_id, canonical_id, method, score, who, when."""
    dup, can = aliased(Record), aliased(Record)
    with store.session() as s:
        rows = s.execute(
            select(DuplicateLink.id, DuplicateLink.record_id, Source.name, dup.title,
                   DuplicateLink.canonical_id, can.title, DuplicateLink.method,
                   DuplicateLink.score, DuplicateLink.created_by, DuplicateLink.created_at)
            .join(dup, dup.id == DuplicateLink.record_id)
            .join(Source, Source.id == dup.source_id)
            .join(can, can.id == DuplicateLink.canonical_id)
            .where(DuplicateLink.undone_at.is_(None))
            .order_by(DuplicateLink.canonical_id, DuplicateLink.id)
        ).all()
    return pd.DataFrame(rows, columns=["link_id", "record_id", "source", "title",
                                       "canonical_id", "canonical_title", "method", "score",
                                       "created_by", "created_at"])


# --- deduplication ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DedupRun:
    """What a run from the app did: the line the lead reads, and the run to undo if need be."""

    message: str
    run_id: str
    links_added: int


def run_deduplication(store: Store, actor: str | None,
                      on_progress: Callable[[float, str], None] | None = None) -> DedupRun:
    """Run :func:`review.dedup.store_ops.deduplicate_review` (one transaction).

    The engine reports no progress of its own, so ``on_progress`` marks the
    steps a lead waits through: reading, finding and linking, done.
    """
    tell = on_progress or (lambda fraction, text: None)
    n = repo.count_records(store)
    tell(0.05, f"Reading {n:,} records")
    tell(0.15, f"Comparing {n:,} records and linking duplicates")
    s = store_ops.deduplicate_review(store, actor=actor)
    tell(1.0, "Done")
    message = (f"Deduplication compared {s.pairs_compared:,} pairs among {s.records:,} records: "
               f"{s.links_added:,} duplicate(s) linked, {s.candidates_added:,} uncertain "
               "pair(s) to check on the duplicates page"
               + (f", {s.left_apart:,} pair(s) left apart as a person decided"
                  if s.left_apart else "") + ".")
    return DedupRun(message=message, run_id=s.run_id, links_added=s.links_added)


def undo_deduplication(store: Store, run_id: str, actor: str | None) -> int:
    """Undo every live link of one run (:func:`review.dedup.store_ops.undo_run`)."""
    return store_ops.undo_run(store, run_id, actor=actor)
