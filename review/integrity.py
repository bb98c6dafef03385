"""Is a review's database consistent? The checks to run after a crash, a restore or a load test.

The store's rules (a source lands whole or not at all; a duplicate points
straight at its canonical record; a decision lands once per request; no record
is handed to more reviewers than the review asks for) are kept by transactions
and constraints while the code runs. This module checks them *afterwards*,
from the rows alone, so that a killed process, a restored backup or a
hand-edited database can be judged by what is actually stored rather than by
what the code meant to do. The core (:func:`find_problems`) is a pure function
over plain tables; :func:`check_review` reads them from a store and also makes
sure the PRISMA counts still compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import inspect, select

from review.store import repo
from review.store.db import Store, head_revision, schema_revision
from review.store.files import files_location, sha256_file
from review.store.models import (
    LABELS,
    STAGES,
    Assignment,
    Base,
    Decision,
    DedupCandidate,
    DuplicateLink,
    Record,
    Report,
    Resolution,
    Reviewer,
    Source,
)

#: How many record ids a problem's message names before "and N more".
SHOWN = 10


@dataclass(frozen=True)
class Problem:
    """One broken rule: which check, what is wrong in words, and the rows behind it."""

    check: str
    message: str
    rows: tuple[int, ...] = ()


@dataclass
class ReviewTables:
    """The rows the checks read (column names as in the database)."""

    sources: pd.DataFrame  # id, name, record_count
    records: pd.DataFrame  # id, source_id, position
    links: pd.DataFrame  # id, record_id, canonical_id, undone_at
    decisions: pd.DataFrame  # id, record_id, reviewer_id, stage, label, request_id
    assignments: pd.DataFrame  # id, record_id, reviewer_id, stage
    candidates: pd.DataFrame  # id, record_a, record_b
    resolutions: pd.DataFrame  # id, record_id, stage, label
    reviewers: pd.DataFrame  # id, role
    reviewers_per_record: int = 1
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def _ids(values) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in values}))


def _sample(ids: tuple[int, ...]) -> str:
    more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
    return ", ".join(str(i) for i in ids[:SHOWN]) + more


def _source_problems(t: ReviewTables) -> list[Problem]:
    """A source whose records are not all there (or not positions 1..n) is half imported."""
    out = []
    per_source = t.records.groupby("source_id")["position"].agg(["count", "min", "max", "nunique"])
    for src in t.sources.itertuples(index=False):
        want = int(src.record_count)
        if src.id in per_source.index:
            got = per_source.loc[src.id]
            n, lo, hi, uniq = int(got["count"]), int(got["min"]), int(got["max"]), int(
                got["nunique"])
        else:
            n = lo = hi = uniq = 0
        if n != want:
            out.append(Problem("half_import", f"source #{src.id} ({src.name}) says {want} "
                               f"records but {n} are stored", (int(src.id),)))
        elif n and (lo != 1 or hi != n or uniq != n):
            out.append(Problem("half_import", f"source #{src.id} ({src.name}): record positions "
                               f"are not 1..{n} (from {lo} to {hi}, {uniq} distinct)",
                               (int(src.id),)))
    orphans = _ids(t.records.loc[~t.records["source_id"].isin(t.sources["id"]), "id"])
    if orphans:
        out.append(Problem("orphan_record", f"{len(orphans)} records belong to no source: "
                           f"records {_sample(orphans)}", orphans))
    return out


def _link_problems(t: ReviewTables) -> list[Problem]:
    """Live links must join existing records, one per record, straight to a canonical record."""
    out = []
    live = t.links[t.links["undone_at"].isna()]
    known = set(t.records["id"].astype(int))
    orphan = live[~live["record_id"].isin(known) | ~live["canonical_id"].isin(known)]
    if len(orphan):
        ids = _ids(orphan["id"])
        out.append(Problem("orphan_link", f"{len(ids)} live duplicate links point at records "
                           f"that do not exist: links {_sample(ids)}", ids))
    own = live[live["record_id"] == live["canonical_id"]]
    if len(own):
        ids = _ids(own["record_id"])
        out.append(Problem("self_link", f"{len(ids)} records are linked to themselves: "
                           f"records {_sample(ids)}", ids))
    counts = live["record_id"].value_counts()
    twice = _ids(counts[counts > 1].index)
    if twice:
        out.append(Problem("two_live_links", f"{len(twice)} records have more than one live "
                           f"duplicate link (their canonical is ambiguous): records "
                           f"{_sample(twice)}", twice))
    linked = set(live["record_id"].astype(int))
    chained = live[live["canonical_id"].isin(linked) & (live["record_id"] != live["canonical_id"])]
    if len(chained):
        ids = _ids(chained["record_id"])
        out.append(Problem("link_chain", f"{len(ids)} records are linked to a record that is "
                           f"itself a duplicate (a→b→c): records {_sample(ids)}", ids))
    return out


def _decision_problems(t: ReviewTables) -> list[Problem]:
    out = []
    d = t.decisions
    known = set(t.records["id"].astype(int))
    people = set(t.reviewers["id"].astype(int))
    orphan = d[~d["record_id"].isin(known) | ~d["reviewer_id"].isin(people)]
    if len(orphan):
        ids = _ids(orphan["id"])
        out.append(Problem("orphan_decision", f"{len(ids)} decisions name a record or reviewer "
                           f"that does not exist: decisions {_sample(ids)}", ids))
    odd = d[~d["stage"].isin(STAGES) | ~d["label"].isin(LABELS)]
    if len(odd):
        ids = _ids(odd["id"])
        out.append(Problem("unknown_label", f"{len(ids)} decisions have an unknown stage or "
                           f"label: decisions {_sample(ids)}", ids))
    req = d["request_id"].dropna()
    repeated = req[req.duplicated(keep=False)]
    if len(repeated):
        ids = _ids(d.loc[repeated.index, "id"])
        out.append(Problem("repeated_request", f"{repeated.nunique()} request ids were stored "
                           f"more than once (a retried click landed twice): decisions "
                           f"{_sample(ids)}", ids))
    r = t.resolutions
    bad = r[~r["record_id"].isin(known)]
    if len(bad):
        ids = _ids(bad["id"])
        out.append(Problem("orphan_resolution", f"{len(ids)} resolutions name a record that "
                           f"does not exist: resolutions {_sample(ids)}", ids))
    return out


def holders(t: ReviewTables) -> pd.DataFrame:
    """Distinct people (not the automation) holding each record per stage: record_id, stage, n.

    A person holds a record when it was handed to them or they decided it, so
    a decision made outside the queue counts too.
    """
    automation = set(t.reviewers.loc[t.reviewers["role"] == "automation", "id"].astype(int))
    both = pd.concat([t.assignments[["record_id", "reviewer_id", "stage"]],
                      t.decisions[["record_id", "reviewer_id", "stage"]]], ignore_index=True)
    both = both[~both["reviewer_id"].isin(automation)].drop_duplicates()
    return both.groupby(["record_id", "stage"]).size().rename("n").reset_index()


def _queue_problems(t: ReviewTables) -> list[Problem]:
    out = []
    n = holders(t)
    over = n[n["n"] > t.reviewers_per_record]
    if len(over):
        ids = _ids(over["record_id"])
        out.append(Problem("too_many_reviewers", f"{len(ids)} records are held by more than "
                           f"{t.reviewers_per_record} reviewer(s) at one stage (the review's "
                           f"setting now): records {_sample(ids)}", ids))
    a = t.assignments
    twice = a[a.duplicated(["record_id", "reviewer_id", "stage"], keep=False)]
    if len(twice):
        ids = _ids(twice["record_id"])
        out.append(Problem("handed_twice", f"{len(ids)} records were handed to the same "
                           f"reviewer twice: records {_sample(ids)}", ids))
    known = set(t.records["id"].astype(int))
    c = t.candidates
    bad = c[~c["record_a"].isin(known) | ~c["record_b"].isin(known)]
    if len(bad):
        ids = _ids(bad["id"])
        out.append(Problem("orphan_candidate", f"{len(ids)} duplicate candidates name a record "
                           f"that does not exist: candidates {_sample(ids)}", ids))
    return out


def find_problems(t: ReviewTables) -> list[Problem]:
    """Every broken rule in the tables, in the order a reader would fix them."""
    return (_source_problems(t) + _link_problems(t) + _decision_problems(t)
            + _queue_problems(t))


def _frame(s, *cols) -> pd.DataFrame:
    return pd.DataFrame(s.execute(select(*cols)).all(), columns=[c.key for c in cols])


def read_tables(store: Store) -> ReviewTables:
    """The rows :func:`find_problems` needs, read in one transaction (one consistent view)."""
    with store.session() as s:
        per = repo.settings_in(s).reviewers_per_record
        return ReviewTables(
            sources=_frame(s, Source.id, Source.name, Source.record_count),
            records=_frame(s, Record.id, Record.source_id, Record.position),
            links=_frame(s, DuplicateLink.id, DuplicateLink.record_id, DuplicateLink.canonical_id,
                         DuplicateLink.undone_at),
            decisions=_frame(s, Decision.id, Decision.record_id, Decision.reviewer_id,
                             Decision.stage, Decision.label, Decision.request_id),
            assignments=_frame(s, Assignment.id, Assignment.record_id, Assignment.reviewer_id,
                               Assignment.stage),
            candidates=_frame(s, DedupCandidate.id, DedupCandidate.record_a,
                              DedupCandidate.record_b),
            resolutions=_frame(s, Resolution.id, Resolution.record_id, Resolution.stage,
                               Resolution.label),
            reviewers=_frame(s, Reviewer.id, Reviewer.role),
            reviewers_per_record=per,
        )


def schema_problems(store: Store) -> list[Problem]:
    """The database is at this release's schema revision and holds every table and column.

    Checked first: a dropped table or column would otherwise surface as a
    crash on some page, or (as before) not at all.
    """
    out = []
    rev, head = schema_revision(store.engine), head_revision()
    if rev != head:
        out.append(Problem("schema_revision", f"the database is at schema revision {rev!r}; "
                           f"this release expects {head!r}"))
    with store.engine.connect() as conn:
        insp = inspect(conn)
        present = set(insp.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                out.append(Problem("missing_table", f"table {table.name} is missing"))
                continue
            have = {c["name"] for c in insp.get_columns(table.name)}
            lacking = [c.name for c in table.columns if c.name not in have]
            if lacking:
                out.append(Problem("missing_column", f"table {table.name} lacks column(s) "
                                   f"{', '.join(lacking)}"))
    return out


def stored_file_problems(store: Store, files_dir: Path | None) -> list[Problem]:
    """Every report's PDF is in the files folder with the SHA-256 recorded when it was attached."""
    with store.session() as s:
        rows = s.execute(select(Report.id, Report.pdf_path, Report.pdf_sha256)
                         .where(Report.pdf_path.is_not(None))).all()
    rows = [r for r in rows if r.pdf_path]
    if not rows:
        return []
    if files_dir is None:
        return [Problem("missing_file", f"{len(rows)} reports have a PDF but this review has "
                        "no files folder (set REVIEW_FILES_DIR)", _ids(r.id for r in rows))]
    root = files_dir.resolve()
    missing, changed = [], []
    for r in rows:
        path = (root / r.pdf_path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            missing.append(r.id)
        elif r.pdf_sha256 and sha256_file(path) != r.pdf_sha256:
            changed.append(r.id)
    out = []
    if missing:
        ids = _ids(missing)
        out.append(Problem("missing_file", f"{len(ids)} reports' PDFs are missing from "
                           f"{root}: reports {_sample(ids)}", ids))
    if changed:
        ids = _ids(changed)
        out.append(Problem("changed_file", f"{len(ids)} reports' PDFs no longer match the "
                           f"SHA-256 recorded when attached: reports {_sample(ids)}", ids))
    return out


def check_review(store: Store, files_dir: Path | None = None) -> list[Problem]:
    """All problems in a review: schema, rows, stored PDFs, PRISMA counts that no longer compute.

    ``files_dir`` defaults to where the review keeps its files
    (:func:`review.store.files.files_location`).
    """
    problems = schema_problems(store)
    if problems:  # the row checks below would only crash on a table that is not there
        return problems
    problems = find_problems(read_tables(store))
    problems += stored_file_problems(store, files_dir or files_location(store.url))
    try:
        from review.report.prisma import counts_from_store

        counts_from_store(store)
    except Exception as exc:  # the point is to report it, whatever it is
        problems.append(Problem("prisma", f"PRISMA counts do not compute: "
                                f"{type(exc).__name__}: {exc}"))
        return problems
    from review.report.consistency import view_problems  # the views agree with each other

    return problems + [Problem(p.check, p.message, p.rows) for p in view_problems(store)]
