"""PRISMA 2020 counts against a hand count, on 150 random reviews of each kind.

The oracle below walks the records one by one and applies the PRISMA 2020 definitions
as a reviewer would when filling the diagram by hand (a cluster with any database or
register record belongs to the left column; a record removed before screening is never
screened; a report is sought, then retrieved or not, then assessed; studies group
reports). It shares no code with :mod:`review.report.prisma`; every box, the side
counts and the consistency checks must agree on every random review.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pandas as pd
import pytest

from review.report.prisma import (
    AUTOMATION_INELIGIBLE,
    FIELDS,
    REMOVED_OTHER,
    STOPPING_RULE,
    PrismaInputs,
    prisma_counts,
)

KINDS = ("database", "register", "website", "organisation", "citation", "other")
SOURCES = {"database": ["PubMed", "PsycINFO", "Scopus"], "register": ["CT.gov", "ICTRP"],
           "website": ["Google"], "organisation": ["WHO"], "citation": ["Backward"],
           "other": ["Experts"]}
TA_REASONS = [AUTOMATION_INELIGIBLE, REMOVED_OTHER, STOPPING_RULE, "Wrong population",
              "Wrong outcome", None]
FT_REASONS = ["Wrong comparator", "No full text in English", "Wrong design", None]


def random_review(seed: int, consistent: bool) -> dict:
    """Records, clusters and decisions; ``consistent``: every screened record is finished
    and exactly the title/abstract includes have a report (so no check should fire)."""
    rng = random.Random(seed)
    records = []
    for rid in range(1, rng.randint(1, 60) + 1):
        kind = rng.choice(KINDS)
        records.append({"record_id": rid, "source_kind": kind,
                        "source_name": rng.choice(SOURCES[kind])})
    canon = {}
    for r in records:  # link about a third of the records to an earlier one
        earlier = [c for c in canon if c < r["record_id"] and canon[c] == c]
        canon[r["record_id"]] = (rng.choice(earlier) if earlier and rng.random() < 0.35
                                 else r["record_id"])
    canonicals = sorted(set(canon.values()))
    automation, ta, ft, reports = set(), {}, {}, {}
    for c in canonicals:
        if rng.random() < 0.15 and not consistent:
            continue  # not screened yet
        label = rng.choice(["include", "exclude", "exclude"] +
                           ([] if consistent else ["maybe", None]))
        reason = rng.choice(TA_REASONS) if label == "exclude" else None
        if rng.random() < 0.3:
            automation.add(c)
        ta[c] = (label, reason)
        wants_report = label == "include" if consistent else rng.random() < 0.4
        if wants_report:
            retrieval = rng.choice(["sought", "sought", "not_retrieved"])
            study = rng.choice([None, 1, 2, 3, 4])
            reports[c] = (retrieval, study)
            if retrieval == "sought":
                ft_label = rng.choice(["include", "exclude"] +
                                      ([] if consistent else ["maybe", None]))
                ft[c] = (ft_label, rng.choice(FT_REASONS) if ft_label == "exclude" else None)
    return {"records": records, "canon": canon, "automation": automation, "ta": ta, "ft": ft,
            "reports": reports, "previous": (rng.randint(0, 5), rng.randint(0, 9))}


def as_inputs(review: dict) -> PrismaInputs:
    records = pd.DataFrame([{**r, "canonical_id": review["canon"][r["record_id"]]}
                            for r in review["records"]])
    sources = (records.groupby(["source_name", "source_kind"], sort=False).size()
               .reset_index().set_axis(["name", "kind", "records"], axis=1))

    def outcomes(rows: dict) -> pd.DataFrame:
        return pd.DataFrame([{"record_id": r, "label": lab, "status": "agreed", "reason": why}
                             for r, (lab, why) in rows.items()],
                            columns=["record_id", "label", "status", "reason"])

    reports = pd.DataFrame([{"record_id": r, "retrieval": how,
                             "study_id": pd.NA if study is None else study}
                            for r, (how, study) in review["reports"].items()],
                           columns=["record_id", "retrieval", "study_id"])
    return PrismaInputs(records=records, sources=sources, ta=outcomes(review["ta"]),
                        ft=outcomes(review["ft"]), reports=reports,
                        ta_automation=set(review["automation"]),
                        previous_studies=review["previous"][0],
                        previous_reports=review["previous"][1])


def hand_count(review: dict) -> dict:
    """The diagram filled in by hand, one record at a time."""
    out: dict = defaultdict(int)
    named: dict[str, dict[str, int]] = {"database": {}, "register": {}}
    members = defaultdict(list)
    for r in review["records"]:
        kind = r["source_kind"]
        box = {"database": "database_results", "register": "register_results",
               "website": "website_results", "organisation": "organisation_results",
               "citation": "citations_results", "other": "citations_results"}[kind]
        out[box] += 1
        if kind in named:
            named[kind][r["source_name"]] = named[kind].get(r["source_name"], 0) + 1
        members[review["canon"][r["record_id"]]].append(kind)
    out["database_specific_results"] = "; ".join(f"{n}, {k}" for n, k in named["database"].items())
    out["register_specific_results"] = "; ".join(f"{n}, {k}" for n, k in named["register"].items())

    left, right = [], []
    for c, kinds in members.items():
        (left if "database" in kinds or "register" in kinds else right).append(c)
    db_records = sum(1 for r in review["records"] if r["source_kind"] in ("database", "register"))
    out["duplicates"] = db_records - len(left)

    screened, excluded, by_rule = [], [], 0
    for c in left:
        label, reason = review["ta"].get(c, (None, None))
        if label == "exclude" and reason == AUTOMATION_INELIGIBLE and c in review["automation"]:
            out["excluded_automatic"] += 1
            continue
        if label == "exclude" and reason == REMOVED_OTHER:
            out["excluded_other"] += 1
            continue
        screened.append(c)
        if label == "exclude":
            excluded.append(c)
            by_rule += reason == STOPPING_RULE and c in review["automation"]
    out["records_screened"] = len(screened)
    out["records_excluded"] = len(excluded)

    included, reasons = [], {"dbr": defaultdict(int), "other": defaultdict(int)}
    awaiting_ft = 0
    for prefix, ids in (("dbr", left), ("other", right)):
        for c in ids:
            if c not in review["reports"]:
                continue
            out[f"{prefix}_sought_reports"] += 1
            if review["reports"][c][0] == "not_retrieved":
                out[f"{prefix}_notretrieved_reports"] += 1
                continue
            out[f"{prefix}_assessed"] += 1
            label, reason = review["ft"].get(c, (None, None))
            if label == "include":
                included.append(c)
            elif label == "exclude":
                reasons[prefix][reason or "No reason given"] += 1
            elif prefix == "dbr":
                awaiting_ft += 1
    studies = {("study", review["reports"][c][1]) if review["reports"][c][1] is not None
               else ("report", c) for c in included}
    out["new_reports"], out["new_studies"] = len(included), len(studies)
    out["previous_studies"], out["previous_reports"] = review["previous"]
    out["total_studies"] = out["new_studies"] + out["previous_studies"]
    out["total_reports"] = out["new_reports"] + out["previous_reports"]
    awaiting_ta = sum(1 for c in screened if c not in excluded and c not in review["reports"])
    return {"values": dict(out), "reasons": reasons, "by_rule": by_rule,
            "by_reviewers": len(excluded) - by_rule, "awaiting_ta": awaiting_ta,
            "awaiting_ft": awaiting_ft}


def parse_reasons(text: str) -> list[tuple[str, int]]:
    if not text:
        return []
    pairs = [part.rsplit(", ", 1) for part in text.split("; ")]
    return [(reason, int(n)) for reason, n in pairs]


@pytest.mark.parametrize("consistent", [True, False])
def test_every_box_matches_the_hand_count_on_random_reviews(consistent):
    for seed in range(150):
        review = random_review(seed, consistent)
        got = prisma_counts(as_inputs(review))
        want = hand_count(review)
        for key in FIELDS:
            if key in ("dbr_excluded", "other_excluded"):
                prefix = key.split("_")[0]
                pairs = parse_reasons(got.values[key])
                assert dict(pairs) == dict(want["reasons"][prefix]), (seed, key)
                assert [n for _, n in pairs] == sorted((n for _, n in pairs), reverse=True)
                assert (got.ft_reasons if prefix == "dbr" else got.other_ft_reasons) == \
                    dict(pairs), (seed, key)
            else:
                assert got.values[key] == want["values"].get(key, 0 if key.endswith(
                    ("results", "reports", "assessed", "automatic", "other", "duplicates",
                     "screened", "excluded")) else ""), (seed, key)
        assert got.as_prisma2020() == {k: got.values[k] for k in FIELDS}
        assert got.excluded_by_stopping_rule == want["by_rule"], seed
        assert got.excluded_by_reviewers == want["by_reviewers"], seed
        assert got.awaiting_screening == want["awaiting_ta"], seed
        assert got.awaiting_full_text == want["awaiting_ft"], seed
        if consistent:
            assert got.checks == [], (seed, got.checks)


def _one_source_review() -> dict:
    """Twelve PubMed records, no duplicates; 1-10 included and sought, 11-12 excluded."""
    records = [{"record_id": r, "source_kind": "database", "source_name": "PubMed"}
               for r in range(1, 13)]
    ta = {r: ("include", None) for r in range(1, 11)} | {11: ("exclude", "Wrong population"),
                                                           12: ("exclude", "Wrong outcome")}
    return {"records": records, "canon": {r: r for r in range(1, 13)}, "automation": set(),
            "ta": ta, "ft": {r: ("include", None) for r in range(1, 11)},
            "reports": {r: ("sought", None) for r in range(1, 11)}, "previous": (0, 0)}


def test_a_finished_review_has_no_checks():
    got = prisma_counts(as_inputs(_one_source_review()))
    assert got.checks == []
    assert got.values["records_screened"] == 12 and got.values["new_studies"] == 10


def test_a_source_count_that_does_not_match_its_records_is_named():
    inp = as_inputs(_one_source_review())
    inp.sources.loc[0, "records"] = 13
    checks = prisma_counts(inp).checks
    assert checks[0] == ("identified records (13) differ from database/register records in the "
                         "review (12): a source's stored count does not match its records")
    assert checks[1] == ("records screened (12) ≠ identified (13) − removed before screening "
                         "(0)")


def test_unfinished_screening_names_the_records():
    review = _one_source_review()
    for r in range(1, 13):
        review["ta"][r] = ("maybe", None)
    review["reports"], review["ft"] = {}, {}
    checks = prisma_counts(as_inputs(review)).checks
    assert checks == [
        "12 screened records are neither excluded nor sought (screening unfinished, a conflict "
        "or a 'maybe'): records 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"]


def test_includes_without_a_report_and_reports_without_an_include_are_named():
    review = _one_source_review()
    del review["reports"][3]
    review["reports"][11] = ("sought", None)
    checks = prisma_counts(as_inputs(review)).checks
    assert checks == [
        "1 screened records are neither excluded nor sought (screening unfinished, a conflict "
        "or a 'maybe'): records 3",
        "2 records included at title/abstract and reports sought differ: records 3, 11",
        "1 reports assessed have no final full-text decision: records 11"]


def test_exactly_ten_records_are_listed_without_and_more():
    review = _one_source_review()
    for r in range(1, 11):
        review["ft"][r] = ("maybe", None)
    checks = prisma_counts(as_inputs(review)).checks
    assert checks == ["10 reports assessed have no final full-text decision: records "
                      "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"]


def test_a_previous_version_of_the_review_is_read_from_its_settings(store):
    """Updated reviews: the previous studies and reports come from the review's settings."""
    from review.report.prisma import counts_from_store
    from review.store import repo

    repo.set_setting(store, "previous_studies", 3)
    repo.set_setting(store, "previous_reports", 5)
    values = counts_from_store(store).values
    assert (values["previous_studies"], values["previous_reports"]) == (3, 5)
    assert (values["total_studies"], values["total_reports"]) == (3, 5)
