"""PRISMA 2020 flow counts, derived from the review's rows every time they are asked for.

Nothing here is stored: the counts come from sources, duplicate links,
decisions, resolutions and reports, so they cannot drift from the data.
Field names are those of the PRISMA2020 R package's input CSV, so the counts
can be fed to that tool too.

How records flow (the definitions a methods section can quote):

* **Columns.** A *cluster* is a canonical record plus the records linked to it
  as duplicates. Clusters with at least one record from a database or register
  flow down the left column; clusters found only by other methods (websites,
  organisations, citation searching) flow down the right one.
* **Identified** = records imported per source (as exported, before any removal).
* **Duplicates removed** = left-column database/register records minus the
  left-column clusters (one record of each cluster stays).
* **Marked ineligible by automation tools** = clusters excluded at
  title/abstract by the automation reviewer with the reason
  :data:`AUTOMATION_INELIGIBLE`; **removed for other reasons** = clusters whose
  final title/abstract reason is :data:`REMOVED_OTHER`.
* **Screened** = the remaining left-column clusters; **excluded** = those whose
  final title/abstract label is *exclude*, split into excluded by reviewers and
  by the stopping rule (automation reviewer, reason :data:`STOPPING_RULE`).
* **Sought for retrieval** = clusters included at title/abstract (a report row);
  **not retrieved** = reports marked so; **assessed** = sought − not retrieved;
  **excluded** = final full-text label *exclude*, by reason.
* **Included**: reports whose final full-text label is *include*; studies are
  the distinct studies those reports are grouped into (an ungrouped report
  counts as a study of its own).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from review.report import evidence

AUTOMATION_INELIGIBLE = "Marked ineligible by automation tool"
REMOVED_OTHER = "Removed before screening (other reason)"
STOPPING_RULE = "Not screened: stopping rule"
DATABASE_KINDS = ("database", "register")

#: The PRISMA2020 R package's input field names, in its order.
FIELDS = (
    "database_results", "database_specific_results", "register_results",
    "register_specific_results", "website_results", "organisation_results",
    "citations_results", "duplicates", "excluded_automatic", "excluded_other",
    "records_screened", "records_excluded", "dbr_sought_reports", "dbr_notretrieved_reports",
    "dbr_assessed", "dbr_excluded", "other_sought_reports", "other_notretrieved_reports",
    "other_assessed", "other_excluded", "new_studies", "new_reports", "previous_studies",
    "previous_reports", "total_studies", "total_reports",
)


@dataclass
class PrismaInputs:
    """Plain tables a PRISMA count needs; :func:`inputs_from_store` reads them from a review.

    * records: record_id, canonical_id, source_name, source_kind
    * sources: name, kind, records (as imported)
    * ta / ft: :func:`review.stages.stage_outcomes` rows (record_id, label, status, reason)
    * ta_automation: record ids whose current title/abstract decision is the automation's
    * reports: record_id, retrieval ('sought' / 'not_retrieved'), study_id (may be NA),
      report_id (optional)
    """

    records: pd.DataFrame
    sources: pd.DataFrame
    ta: pd.DataFrame
    ft: pd.DataFrame
    reports: pd.DataFrame
    ta_automation: set[int] = field(default_factory=set)
    previous_studies: int = 0
    previous_reports: int = 0


@dataclass
class PrismaCounts:
    """Every box of the flow diagram, plus the records behind any inconsistency."""

    values: dict[str, Any]
    excluded_by_reviewers: int
    excluded_by_stopping_rule: int
    ft_reasons: dict[str, int]
    other_ft_reasons: dict[str, int]
    checks: list[str]
    #: Screened records with no final title/abstract label yet (unscreened, conflict, maybe).
    awaiting_screening: int = 0
    #: Reports assessed (databases/registers column) with no final full-text label yet.
    awaiting_full_text: int = 0

    def as_prisma2020(self) -> dict[str, Any]:
        """The counts keyed by the PRISMA2020 R package's field names (0 where n/a)."""
        return {k: self.values.get(k, 0) for k in FIELDS}


def _specific(sources: pd.DataFrame, kinds: tuple[str, ...]) -> str:
    mine = sources[sources["kind"].isin(kinds)]
    totals = mine.groupby("name", sort=False)["records"].sum()
    return "; ".join(f"{name}, {int(n)}" for name, n in totals.items())


def _reasons_text(reasons: dict[str, int]) -> str:
    return "; ".join(f"{r}, {n}" for r, n in reasons.items())


def _reason(value: Any) -> str:
    """A full-text exclusion reason as the diagram prints it (a missing one is named so)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip():
        return "No reason given"
    return str(value)


def prisma_counts(inp: PrismaInputs) -> PrismaCounts:
    """Count every PRISMA 2020 box from the review's tables and check they add up."""
    rec = inp.records
    db_record = rec["source_kind"].isin(DATABASE_KINDS)
    clusters = rec.groupby("canonical_id")["source_kind"].agg(
        lambda kinds: any(k in DATABASE_KINDS for k in kinds))
    left = set(clusters[clusters].index.astype(int))
    right = set(clusters[~clusters].index.astype(int))

    src = inp.sources
    v: dict[str, Any] = {
        "database_results": int(src.loc[src["kind"] == "database", "records"].sum()),
        "database_specific_results": _specific(src, ("database",)),
        "register_results": int(src.loc[src["kind"] == "register", "records"].sum()),
        "register_specific_results": _specific(src, ("register",)),
        "website_results": int(src.loc[src["kind"] == "website", "records"].sum()),
        "organisation_results": int(src.loc[src["kind"] == "organisation", "records"].sum()),
        "citations_results": int(src.loc[src["kind"].isin(("citation", "other")),
                                         "records"].sum()),
    }
    v["duplicates"] = int(db_record.sum()) - len(left)

    ta = inp.ta
    ta_label = dict(zip(ta["record_id"].astype(int), ta["label"], strict=True))
    ta_reason = dict(zip(ta["record_id"].astype(int), ta["reason"], strict=True))
    auto_inel = {r for r in left if r in inp.ta_automation and ta_label.get(r) == "exclude"
                 and ta_reason.get(r) == AUTOMATION_INELIGIBLE}
    removed_other = {r for r in left if ta_label.get(r) == "exclude"
                     and ta_reason.get(r) == REMOVED_OTHER}
    v["excluded_automatic"] = len(auto_inel)
    v["excluded_other"] = len(removed_other)
    screened = left - auto_inel - removed_other
    v["records_screened"] = len(screened)
    excluded = {r for r in screened if ta_label.get(r) == "exclude"}
    by_rule = {r for r in excluded if r in inp.ta_automation
               and ta_reason.get(r) == STOPPING_RULE}
    v["records_excluded"] = len(excluded)

    reports = inp.reports
    retrieval = dict(zip(reports["record_id"].astype(int), reports["retrieval"], strict=True))
    ft = inp.ft
    ft_label = dict(zip(ft["record_id"].astype(int), ft["label"], strict=True))
    ft_reason = dict(zip(ft["record_id"].astype(int), ft["reason"], strict=True))

    def column(ids: set[int], prefix: str) -> tuple[set[int], dict[str, int]]:
        sought = {r for r in ids if r in retrieval}
        not_retrieved = {r for r in sought if retrieval[r] == "not_retrieved"}
        assessed = sought - not_retrieved
        ex = [r for r in assessed if ft_label.get(r) == "exclude"]
        reasons = Counter(_reason(ft_reason.get(r)) for r in ex)
        v[f"{prefix}_sought_reports"] = len(sought)
        v[f"{prefix}_notretrieved_reports"] = len(not_retrieved)
        v[f"{prefix}_assessed"] = len(assessed)
        v[f"{prefix}_excluded"] = _reasons_text(dict(reasons.most_common()))
        return {r for r in assessed if ft_label.get(r) == "include"}, dict(reasons.most_common())

    _, reasons_left = column(left, "dbr")
    _, reasons_right = column(right, "other")
    # Included reports and studies: the rule every view shares (review.report.evidence).
    included = evidence.included_reports(_with_report_ids(reports), ft_label,
                                         set(rec["record_id"].astype(int)) - left - right)
    v["new_reports"] = len(included)
    v["new_studies"] = int(included["study_key"].nunique())
    v["previous_studies"] = int(inp.previous_studies)
    v["previous_reports"] = int(inp.previous_reports)
    v["total_studies"] = v["new_studies"] + v["previous_studies"]
    v["total_reports"] = v["new_reports"] + v["previous_reports"]

    checks = _checks(v, screened, excluded, left, retrieval, ta_label, ft_label, db_record)
    awaiting_ta = {r for r in screened - excluded if r not in retrieval}
    awaiting_ft = {r for r, how in retrieval.items() if r in left and how != "not_retrieved"
                   and ft_label.get(r) not in ("include", "exclude")}
    return PrismaCounts(values=v, excluded_by_reviewers=len(excluded - by_rule),
                        excluded_by_stopping_rule=len(by_rule), ft_reasons=reasons_left,
                        other_ft_reasons=reasons_right, checks=checks,
                        awaiting_screening=len(awaiting_ta), awaiting_full_text=len(awaiting_ft))


def _with_report_ids(reports: pd.DataFrame) -> pd.DataFrame:
    """``reports`` with a ``report_id`` (the record id stands in where none was read)."""
    if "report_id" in reports.columns:
        return reports
    return reports.assign(report_id=reports["record_id"])


def _sample(ids: set[int], k: int = 10) -> str:
    ids = sorted(ids)
    more = f" and {len(ids) - k} more" if len(ids) > k else ""
    return ", ".join(str(i) for i in ids[:k]) + more


def _checks(v, screened, excluded, left, retrieval, ta_label, ft_label, db_record) -> list[str]:
    """The arithmetic a peer reviewer would do on the diagram, with the records behind a gap."""
    problems: list[str] = []
    identified = v["database_results"] + v["register_results"]
    if int(db_record.sum()) != identified:
        problems.append(f"identified records ({identified}) differ from database/register "
                        f"records in the review ({int(db_record.sum())}): a source's stored "
                        "count does not match its records")
    removed = v["duplicates"] + v["excluded_automatic"] + v["excluded_other"]
    if v["records_screened"] != identified - removed:
        problems.append(f"records screened ({v['records_screened']}) ≠ identified ({identified})"
                        f" − removed before screening ({removed})")
    sought_left = {r for r in left if r in retrieval}
    undecided = screened - excluded - sought_left
    if undecided:
        problems.append(f"{len(undecided)} screened records are neither excluded nor sought "
                        f"(screening unfinished, a conflict or a 'maybe'): records "
                        f"{_sample(undecided)}")
    included_ta = {r for r in screened if ta_label.get(r) == "include"}
    if included_ta != sought_left:
        gap = included_ta ^ sought_left
        problems.append(f"{len(gap)} records included at title/abstract and reports sought "
                        f"differ: records {_sample(gap)}")
    assessed = {r for r in sought_left if retrieval[r] != "not_retrieved"}
    pending_ft = {r for r in assessed if ft_label.get(r) not in ("include", "exclude")}
    if pending_ft:
        problems.append(f"{len(pending_ft)} reports assessed have no final full-text decision: "
                        f"records {_sample(pending_ft)}")
    return problems


def inputs_from_store(store) -> PrismaInputs:
    """Read the tables :func:`prisma_counts` needs from a review."""
    from sqlalchemy import select

    from review.stages import Stage, current_decisions
    from review.store import repo
    from review.store.models import Report, Reviewer

    recs = repo.records_frame(store, columns=["title"])
    sources = repo.sources_frame(store)
    kind_of = dict(zip(sources["source_id"], sources["kind"], strict=True))
    recs = recs.assign(source_name=recs["source"],
                       source_kind=[kind_of[s] for s in recs["source_id"]])
    ta_dec = repo.decisions_frame(store, Stage.TITLE_ABSTRACT)
    with store.session() as s:
        automation = set(s.scalars(select(Reviewer.id).where(Reviewer.role == "automation")))
        reports = pd.DataFrame(s.execute(select(Report.id, Report.record_id, Report.retrieval,
                                                Report.study_id)).all(),
                               columns=["report_id", "record_id", "retrieval", "study_id"])
    cur = current_decisions(ta_dec)
    ta_auto = set(cur.loc[cur["reviewer_id"].isin(automation), "record_id"].astype(int))
    settings = repo.get_settings(store)
    return PrismaInputs(
        records=recs[["record_id", "canonical_id", "source_name", "source_kind"]],
        sources=sources[["name", "kind", "records"]],
        ta=repo.outcomes(store, Stage.TITLE_ABSTRACT), ft=repo.outcomes(store, Stage.FULL_TEXT),
        reports=reports, ta_automation=ta_auto,
        previous_studies=int(settings.get("previous_studies") or 0),
        previous_reports=int(settings.get("previous_reports") or 0))


def counts_from_store(store) -> PrismaCounts:
    """PRISMA 2020 counts for a review, as of now."""
    return prisma_counts(inputs_from_store(store))
