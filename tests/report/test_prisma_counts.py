"""PRISMA 2020 boxes for a review with known flows, counted by hand in the comments below.

Sources: PubMed (5 records m1..m5), PsycINFO (4: p1..p4), a trials register (2: r1, r2),
citation searching (2: c1, c2). Duplicate links: p1→m1, p2→m2, r1→m3, c1→m4.
Left column clusters: m1 m2 m3 m4 m5 p3 p4 r2 = 8; database/register records 11 → 3 duplicates.
Right column (other methods only): c2.
Title/abstract (two reviewers): m1 inc/inc; m2 inc/exc → lead resolves include;
m3 exc/exc (Wrong population); m4 inc/inc; m5 exc/exc; p3 exc/exc; p4 marked ineligible by
automation; r2 inc/inc; c2 inc/inc.  → removed by automation 1, screened 7, excluded 3.
Full text: sought m1 m2 m4 r2 (+ c2 on the right); r2 not retrieved; m4 excluded (Wrong
comparator); m1 and m2 included and grouped as one study; c2 included (its own study).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from review.report.prisma import AUTOMATION_INELIGIBLE, counts_from_store
from review.store import repo
from review.store.models import Report, Study

TA, FT = "title_abstract", "full_text"


def _source(store, name, kind, keys):
    repo.add_source(store, name=name, kind=kind, file_name=f"{name}.ris", file_format="ris",
                    sha256=name.ljust(64, "0"), records=[{"title": k} for k in keys])


@pytest.fixture
def review(store):
    _source(store, "PubMed", "database", ["m1", "m2", "m3", "m4", "m5"])
    _source(store, "PsycINFO", "database", ["p1", "p2", "p3", "p4"])
    _source(store, "ClinicalTrials.gov", "register", ["r1", "r2"])
    _source(store, "Citation searching", "citation", ["c1", "c2"])
    ids = dict(zip(repo.records_frame(store)["title"], repo.records_frame(store)["record_id"],
                   strict=True))
    ids = {k: int(v) for k, v in ids.items()}
    for dup, canon in (("p1", "m1"), ("p2", "m2"), ("r1", "m3"), ("c1", "m4")):
        repo.link_duplicate(store, ids[dup], ids[canon], score=0.99, method="auto")
    repo.set_setting(store, "reviewers_per_record", 2)
    ana = repo.add_reviewer(store, "ana", password="x")
    ben = repo.add_reviewer(store, "ben", password="x")
    lead = repo.add_reviewer(store, "lead", role="lead", password="x")
    bot = repo.add_reviewer(store, "automation", role="automation")

    def both(key, a, b, stage=TA, reason=None):
        for who, label in ((ana, a), (ben, b)):
            repo.add_decision(store, record_id=ids[key], reviewer_id=who, stage=stage,
                              label=label, reason=reason if label == "exclude" else None)

    both("m1", "include", "include")
    both("m2", "include", "exclude", reason="Wrong outcome")
    repo.add_resolution(store, record_id=ids["m2"], stage=TA, label="include", resolved_by=lead)
    both("m3", "exclude", "exclude", reason="Wrong population")
    both("m4", "include", "include")
    both("m5", "exclude", "exclude", reason="Wrong intervention")
    both("p3", "exclude", "exclude", reason="Wrong study design")
    repo.add_decision(store, record_id=ids["p4"], reviewer_id=bot, stage=TA, label="exclude",
                      reason=AUTOMATION_INELIGIBLE)
    both("r2", "include", "include")
    both("c2", "include", "include")
    repo.ensure_reports(store)
    with store.session() as s:
        rep = {r.record_id: r for r in s.scalars(select(Report))}
        rep[ids["r2"]].retrieval = "not_retrieved"
        study = Study(label="Alvarez 2021")
        s.add(study)
        s.flush()
        rep[ids["m1"]].study_id = rep[ids["m2"]].study_id = study.id
    both("m1", "include", "include", stage=FT)
    both("m2", "include", "include", stage=FT)
    both("m4", "exclude", "exclude", stage=FT, reason="Wrong comparator")
    both("c2", "include", "include", stage=FT)
    return store, ids, {"ana": ana, "ben": ben}


EXPECTED = {
    "database_results": 9, "database_specific_results": "PubMed, 5; PsycINFO, 4",
    "register_results": 2, "register_specific_results": "ClinicalTrials.gov, 2",
    "website_results": 0, "organisation_results": 0, "citations_results": 2,
    "duplicates": 3, "excluded_automatic": 1, "excluded_other": 0,
    "records_screened": 7, "records_excluded": 3,
    "dbr_sought_reports": 4, "dbr_notretrieved_reports": 1, "dbr_assessed": 3,
    "dbr_excluded": "Wrong comparator, 1",
    "other_sought_reports": 1, "other_notretrieved_reports": 0, "other_assessed": 1,
    "other_excluded": "",
    "new_studies": 2, "new_reports": 3, "previous_studies": 0, "previous_reports": 0,
    "total_studies": 2, "total_reports": 3,
}


def test_every_box_matches_the_hand_count(review):
    store, _, _ = review
    counts = counts_from_store(store)
    assert counts.as_prisma2020() == EXPECTED
    assert counts.checks == []
    assert (counts.excluded_by_reviewers, counts.excluded_by_stopping_rule) == (3, 0)


def test_changing_one_decision_changes_exactly_its_boxes(review):
    store, ids, who = review
    for reviewer in who.values():  # both reviewers now include m4 at full text
        repo.add_decision(store, record_id=ids["m4"], reviewer_id=reviewer, stage=FT,
                          label="include")
    after = counts_from_store(store).as_prisma2020()
    changed = {k: (EXPECTED[k], after[k]) for k in EXPECTED if EXPECTED[k] != after[k]}
    assert changed == {"dbr_excluded": ("Wrong comparator, 1", ""),
                       "new_studies": (2, 3), "new_reports": (3, 4),
                       "total_studies": (2, 3), "total_reports": (3, 4)}


def test_unfinished_screening_is_reported_with_its_records(review):
    store, ids, who = review
    repo.add_decision(store, record_id=ids["m5"], reviewer_id=who["ana"], stage=TA,
                      label="include")  # m5 becomes a conflict: screened but undecided
    counts = counts_from_store(store)
    assert counts.values["records_excluded"] == 2
    assert any(f"records {ids['m5']}" in c and "neither excluded nor sought" in c
               for c in counts.checks)


def test_undoing_a_duplicate_link_adds_a_record_to_screen(review):
    store, ids, _ = review
    with store.session() as s:
        from review.store.models import DuplicateLink

        link = s.scalars(select(DuplicateLink).where(DuplicateLink.record_id == ids["p2"])).one()
    repo.unlink_duplicate(store, link.id, actor="lead")
    counts = counts_from_store(store)
    assert counts.values["duplicates"] == 2
    assert counts.values["records_screened"] == 8
    assert any(f"records {ids['p2']}" in c for c in counts.checks)  # p2 not yet screened
