"""Seeding the ranking model with papers the lead already knows are relevant (ASReview's
"prior knowledge").

The lead uploads a file of key papers (RIS, or any export :mod:`review.io`
reads: MEDLINE, Web of Science, BibTeX, CSV/TSV, XLSX). :func:`plan_seed`
reads it with the same readers and limits as a search import, and matches
each paper to the review's records with the one rule of
:mod:`review.screening.matching` (DOI, then PMID, then title). A paper that
lands on a duplicate counts for the record it duplicates. The page shows the
plan -- what matched, by what, and what did not, and why -- before anything
is written.

:func:`apply_seed` re-reads and re-matches the same bytes on the server (a
plan held by the page is never trusted) and records each matched record as
the lead's *include* at title/abstract through
:func:`review.screening.record_list.change_decision`: a new decision, the
old one kept, audited (``via`` names the file). A record the lead already
includes is left alone, and a repeated confirmation lands once (each
decision's request id is the file's hash and the record). The ranking
takes a record any reviewer includes as relevant
(:func:`review.screening.store_ops.current_labels`), so the next refit uses
the seeds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from review import io as rio
from review.screening.matching import Candidate, Matcher, candidate
from review.screening.record_list import RecordListError, Viewer, change_decision
from review.store import Store
from review.store.models import Decision, DuplicateLink, Record

STAGE = "title_abstract"
#: The largest file of key papers taken, in MB (the uploader shows the same number). The
#: readers' own limits (records per file, characters per field, whole-file formats) apply too.
MAX_SEED_MB = 50
#: Papers in one seed file: "known relevant papers" are a handful to a few hundred.
MAX_SEED_PAPERS = 5_000


class SeedError(RecordListError):
    """The file is refused as a whole (not the lead, too large, unreadable, too many papers)."""


@dataclass
class SeedRow:
    """One paper of the file and what became of it."""

    paper: int  # its number in the file, from 1
    title: str
    record_id: int | None = None
    by: str = ""
    status: str = ""  # why it was not matched, or what confirming does
    include: bool = False  # confirming records it as the lead's include
    replaces: int = 0  # the lead's decision on the record it follows (0: none)


@dataclass
class SeedPlan:
    file: str
    sha256: str
    matched: list[SeedRow] = field(default_factory=list)
    unmatched: list[SeedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def to_include(self) -> list[int]:
        """Records that confirming will record as the lead's includes."""
        return [r.record_id for r in self.matched if r.record_id is not None and r.include]


TO_INCLUDE = "will be recorded as your include"
ALREADY = "already included by you"


def _lead(viewer: Viewer) -> None:
    if viewer.role != "lead":
        raise SeedError(f"only the lead may seed the ranking model ({viewer.username} is a "
                        f"{viewer.role})")


def _candidates(store: Store) -> tuple[Matcher, dict[int, int]]:
    """Every record, and the live duplicate links (duplicate → the record it duplicates)."""
    with store.session() as s:
        rows = s.execute(select(Record.id, Record.id, Record.doi, Record.pmid, Record.title))
        cands: list[Candidate] = [candidate(*r) for r in rows]
        links = dict(s.execute(select(DuplicateLink.record_id, DuplicateLink.canonical_id)
                               .where(DuplicateLink.undone_at.is_(None))).all())
    return Matcher(cands), {int(k): int(v) for k, v in links.items()}


def _my_labels(store: Store, reviewer_id: int, ids: set[int]) -> dict[int, tuple[str, int]]:
    """The viewer's current title/abstract (label, decision id) on each of ``ids``."""
    if not ids:
        return {}
    out: dict[int, tuple[str, int]] = {}
    with store.session() as s:
        for did, rid, label in s.execute(select(Decision.id, Decision.record_id, Decision.label)
                                    .where(Decision.reviewer_id == reviewer_id,
                                           Decision.stage == STAGE,
                                           Decision.record_id.in_(sorted(ids)))
                                    .order_by(Decision.id)):
            out[int(rid)] = (str(label), int(did))  # in id order: the latest stays
    return out


def plan_seed(store: Store, viewer: Viewer, data: bytes, filename: str) -> SeedPlan:
    """Read ``data`` (an upload named ``filename``) and match each paper; writes nothing."""
    _lead(viewer)
    if len(data) > MAX_SEED_MB * 1_048_576:
        raise SeedError(f"{filename}: {len(data) / 1_048_576:,.0f} MB; a file of key papers "
                        f"may be at most {MAX_SEED_MB} MB")
    try:
        imported = rio.read_bytes(data, filename)
    except rio.ImportFormatError as exc:
        raise SeedError(str(exc)) from exc
    if imported.n_records == 0:
        raise SeedError(f"{filename}: no papers found in the file")
    if imported.n_records > MAX_SEED_PAPERS:
        raise SeedError(f"{filename}: {imported.n_records:,} papers; seed at most "
                        f"{MAX_SEED_PAPERS:,} known relevant papers at once")
    matcher, links = _candidates(store)
    plan = SeedPlan(file=filename, sha256=hashlib.sha256(data).hexdigest(),
                    warnings=list(imported.warnings))
    found: dict[int, int] = {}  # record → the first paper that matched it
    for n, paper in enumerate(imported.records, start=1):
        title = str(paper.get("title") or "").strip() or "(no title)"
        hits, how = matcher.match([("doi", "DOI", paper.get("doi")),
                                   ("pmid", "PMID", paper.get("pmid")),
                                   ("title", "title", paper.get("title"))])
        ids = sorted({links.get(c.record_id, c.record_id) for c in hits})
        row = SeedRow(paper=n, title=title, by=how)
        if not ids:
            row.status = "matches no record of the review (DOI, PMID or title)"
            plan.unmatched.append(row)
        elif len(ids) > 1:
            row.status = ("matches records " + ", ".join(f"#{i}" for i in ids[:5])
                          + f" by {how}: include the right one on Records")
            plan.unmatched.append(row)
        elif ids[0] in found:
            row.record_id = ids[0]
            row.status = f"the same record as paper {found[ids[0]]} of the file"
            plan.unmatched.append(row)
        else:
            row.record_id = ids[0]
            found[ids[0]] = n
            plan.matched.append(row)
    mine = _my_labels(store, viewer.reviewer_id, set(found))
    for row in plan.matched:
        label: str | None
        label, row.replaces = mine.get(int(row.record_id or 0), (None, 0))
        row.include = label != "include"
        row.status = ALREADY if label == "include" else (
            TO_INCLUDE if label in (None, "retracted") else f"{TO_INCLUDE} (your {label} stays "
                                                           "in the history)")
    return plan


def apply_seed(store: Store, viewer: Viewer, data: bytes, filename: str,
               settings: dict[str, Any]) -> SeedPlan:
    """Match the file again here, on the server, and record each match as the lead's include.

    Returns the plan it acted on; ``plan.to_include`` are the records it wrote. A record
    refused now (it became a duplicate since the preview) moves to ``unmatched`` with why.
    """
    plan = plan_seed(store, viewer, data, filename)
    for row in list(plan.matched):
        if row.record_id is None or not row.include:
            continue
        try:  # the request id makes a double click land once, yet a later re-seed still counts
            change_decision(store, viewer, row.record_id, STAGE, "include", settings,
                            note=f"known relevant paper {row.paper} of {filename}"[:2000],
                            request_id=f"seed:{plan.sha256[:32]}:{row.record_id}:{row.replaces}",
                            via=f"seed from {filename}"[:200])
        except RecordListError as exc:
            row.include, row.status = False, str(exc)
            plan.matched.remove(row)
            plan.unmatched.append(row)
    return plan
