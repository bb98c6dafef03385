"""Does a review agree with itself? The checks ``review check`` runs across the views.

The app's pages, ``review prisma``, ``review tables``, the synthesis and
``review meta`` all count included reports and studies with one rule
(:func:`review.stages.included_reports`). What can still make them tell a lead different
stories is *data* that one stage left behind another's back: a report whose record
was later linked as a duplicate (PRISMA stops counting it, its study and extraction
stay), a pair a person kept apart that sits in one cluster anyway, a pair still "to
check" although its two records are one cluster. These checks find such rows from
the store and name them, so ``review check`` never says "No problems found" about a
review whose numbers disagree.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import select

from review.store import Store, repo
from review.store.models import Decision, DedupCandidate, Report

SHOWN = 10


class Problem(NamedTuple):
    """One disagreement: which check, what is wrong in words, the rows behind it
    (``review.integrity`` turns these into its own problems)."""

    check: str
    message: str
    rows: tuple[int, ...] = ()


def _sample(ids) -> str:
    ids = sorted({int(i) for i in ids})
    more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
    return ", ".join(f"#{i}" for i in ids[:SHOWN]) + more


def cluster_problems(candidates: pd.DataFrame, canonical_of: dict[int, int]) -> list[Problem]:
    """Pairs a person kept apart that are one cluster, and pending pairs already one cluster.

    ``candidates`` has id, record_a, record_b, status; ``canonical_of`` maps a linked
    record to its canonical record (records absent are their own canonical).
    """
    out: list[Problem] = []

    def root(r: Any) -> int:
        return canonical_of.get(int(r), int(r))

    same = [root(a) == root(b) for a, b in zip(candidates["record_a"], candidates["record_b"],
                                               strict=True)]
    joined = candidates[pd.Series(same, index=candidates.index, dtype=bool)]
    rejected = joined[joined["status"].isin(("rejected", "same_study"))]
    if len(rejected):
        pairs = "; ".join(f"#{a} and #{b}" for a, b in list(zip(
            rejected["record_a"], rejected["record_b"], strict=True))[:SHOWN])
        out.append(Problem("views", f"{len(rejected)} pair(s) a person marked as two works sit "
                           f"in one duplicate cluster (joined through other records): {pairs}",
                           tuple(int(i) for i in rejected["id"])))
    pending = joined[joined["status"] == "pending"]
    if len(pending):
        out.append(Problem("views", f"{len(pending)} duplicate pair(s) are still 'to check' "
                           f"although their records are already one cluster: candidates "
                           f"{_sample(pending['id'])}", tuple(int(i) for i in pending["id"])))
    return out


def report_problems(reports: pd.DataFrame, ft_decided: set[int],
                    canonical_of: dict[int, int]) -> list[Problem]:
    """Reports (and full-text decisions) whose record is linked as a duplicate.

    Such a report is left out of PRISMA (which counts clusters) while its study
    and extractions stay: the views would disagree, so every such row is named.
    """
    out: list[Problem] = []
    # a plain sought report of a linked record counts nowhere and harms nothing; one with a
    # study or full-text decisions would leave its study and extractions behind
    linked = reports["record_id"].astype(int).isin(set(canonical_of))
    carries = reports["study_id"].notna() | reports["record_id"].astype(int).isin(ft_decided)
    orphans = reports[linked & carries]
    if len(orphans):
        names = "; ".join(
            f"report #{int(r.report_id)} (record #{int(r.record_id)} → "
            f"#{canonical_of[int(r.record_id)]}"
            + (f", study #{int(r.study_id)}" if pd.notna(r.study_id) else "") + ")"
            for r in list(orphans.itertuples(index=False))[:SHOWN])
        out.append(Problem("views", f"{len(orphans)} report(s) belong to a record linked as a "
                           "duplicate, so PRISMA no longer counts them while their study and "
                           f"extractions remain: {names}; unmerge the link or regroup the study",
                           tuple(int(i) for i in orphans["record_id"])))
    dup_decided = ft_decided & set(canonical_of) - set(orphans["record_id"].astype(int))
    if dup_decided:
        out.append(Problem("views", f"{len(dup_decided)} record(s) with full-text decisions are "
                           f"linked as duplicates: records {_sample(dup_decided)}",
                           tuple(sorted(dup_decided))))
    return out


def count_problems(counts: dict[str, tuple[int, int]]) -> list[Problem]:
    """Views whose (included reports, included studies) differ from PRISMA's."""
    base = counts.get("PRISMA")
    if base is None:
        return []
    differ = {k: v for k, v in counts.items() if v != base}
    if not differ:
        return []
    said = "; ".join(f"{k}: {r} reports of {s} studies" for k, (r, s) in counts.items())
    return [Problem("views", f"the views count included reports/studies differently: {said}")]


def view_counts(store: Store) -> dict[str, tuple[int, int]]:
    """(included reports, included studies) as PRISMA, the tables and the app count them."""
    from review.report.inputs import extractions_frame, included_studies
    from review.report.prisma import counts_from_store
    from review.screening import fulltext as fulltext_ops  # the full-text page's numbers

    p = counts_from_store(store).values
    inc = included_studies(store)
    c = fulltext_ops.progress_counts(fulltext_ops.reports_frame(store))
    out = {"PRISMA": (int(p["new_reports"]), int(p["new_studies"])),
           "tables": (len(inc), int(inc["study_key"].nunique()) if len(inc) else 0),
           "full-text page": (int(c["included"]), int(c["included_studies"]))}
    ex = extractions_frame(store)
    grouped = {int(s) for s in inc["study_id"].dropna()}
    outside = {int(s) for s in ex["study_id"]} - grouped
    if outside:
        out["synthesis (studies not included)"] = (0, len(outside))
    return out


def view_problems(store: Store) -> list[Problem]:
    """Every disagreement between the views this module can detect in a review."""
    with store.session() as s:
        canonical_of = {int(r): int(c) for r, c in zip(*(
            repo.live_links(s)[k] for k in ("record_id", "canonical_id")), strict=True)}
        candidates = pd.DataFrame(s.execute(select(
            DedupCandidate.id, DedupCandidate.record_a, DedupCandidate.record_b,
            DedupCandidate.status)).all(), columns=["id", "record_a", "record_b", "status"])
        reports = pd.DataFrame(s.execute(select(Report.id, Report.record_id, Report.study_id)
                                         ).all(), columns=["report_id", "record_id", "study_id"])
        ft_decided = {int(r) for r in s.scalars(select(Decision.record_id).where(
            Decision.stage == "full_text").distinct())}
    problems = cluster_problems(candidates, canonical_of)
    problems += report_problems(reports, ft_decided, canonical_of)
    problems += count_problems(view_counts(store))
    return problems
