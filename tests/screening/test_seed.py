"""Seeding the ranking model from a file of key papers (ASReview's prior knowledge), on both
backends: matched by DOI, PMID, then title; shown before anything is written; recorded as the
lead's audited includes that the next refit learns from."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_record_list import people

from review.screening import seed
from review.screening.store_ops import current_labels
from review.store import Store, repo
from review.store.models import AuditLog, Decision, DuplicateLink

SETTINGS = {"exclusion_reasons_title_abstract": ["Wrong population"]}

RECORDS = [
    {"title": "Mentoring for lonely adolescents: a randomised trial", "doi": "10.1000/ABC.1",
     "year": 2019},
    {"title": "School belonging and loneliness in pupils", "pmid": "31234567", "year": 2020},
    {"title": "Peer support groups for isolated teenagers in rural schools", "year": 2018},
    {"title": "Family support and youth loneliness", "year": 2017},
    {"title": "Family support and youth loneliness", "year": 2017},  # the same title twice
    {"title": "Community capacity building for young people", "doi": "10.1000/dup",
     "year": 2016},
    {"title": "Community capacity building for young people.", "year": 2016},  # canonical
]

KEY_PAPERS = """TY  - JOUR
TI  - A different title in the key-paper file
DO  - https://doi.org/10.1000/abc.1
ER  -

TY  - JOUR
TI  - School belonging (MEDLINE form)
AN  - 31234567
DB  - PubMed
ER  -

TY  - JOUR
TI  - PEER SUPPORT GROUPS for isolated teenagers in rural schools
ER  -

TY  - JOUR
TI  - Family support and youth loneliness
ER  -

TY  - JOUR
TI  - Community capacity building for young people
DO  - 10.1000/DUP
ER  -

TY  - JOUR
TI  - A paper this review never found
DO  - 10.9999/nowhere
ER  -

TY  - JOUR
TI  - Mentoring for lonely adolescents: a randomised trial
ER  -
"""


@pytest.fixture
def review(store: Store):
    repo.add_source(store, name="PubMed", kind="database", file_name="a.ris",
                    file_format="ris", sha256="a", records=RECORDS)
    ids = repo.records_frame(store)["record_id"].astype(int).tolist()
    with store.session() as s:  # record 6 is a duplicate of record 7
        s.add(DuplicateLink(record_id=ids[5], canonical_id=ids[6], method="manual"))
    return store, ids, people(store)


def test_each_paper_is_matched_by_doi_pmid_then_title_and_the_rest_say_why(review) -> None:
    store, ids, who = review
    plan = seed.plan_seed(store, who["lead"], KEY_PAPERS.encode(), "key.ris")
    got = {r.paper: (r.record_id, r.by) for r in plan.matched}
    assert got == {1: (ids[0], "DOI"), 2: (ids[1], "PMID"), 3: (ids[2], "title"),
                   5: (ids[6], "DOI")}  # a duplicate's paper counts for its canonical record
    why = {r.paper: r.status for r in plan.unmatched}
    assert set(why) == {4, 6, 7}
    assert why[4] == f"matches records #{ids[3]}, #{ids[4]} by title: include the right one on " \
                     "Records"
    assert why[6] == "matches no record of the review (DOI, PMID or title)"
    assert why[7] == "the same record as paper 1 of the file"
    assert plan.to_include == [ids[0], ids[1], ids[2], ids[6]]
    with store.session() as s:  # a preview writes nothing
        assert s.scalars(select(Decision.id)).all() == []


def test_confirming_records_the_leads_includes_once_audited_and_the_model_learns_them(review
                                                                                     ) -> None:
    store, ids, who = review
    lead = who["lead"]
    from review.screening.record_list import change_decision
    change_decision(store, lead, ids[1], "title_abstract", "exclude", SETTINGS,
                    reason="Wrong population")
    change_decision(store, lead, ids[2], "title_abstract", "include", SETTINGS)
    plan = seed.plan_seed(store, lead, KEY_PAPERS.encode(), "key.ris")
    status = {r.record_id: r.status for r in plan.matched}
    assert status[ids[1]] == "will be recorded as your include (your exclude stays in the history)"
    assert status[ids[2]] == "already included by you"
    done = seed.apply_seed(store, lead, KEY_PAPERS.encode(), "key.ris", SETTINGS)
    assert done.to_include == [ids[0], ids[1], ids[6]]
    again = seed.apply_seed(store, lead, KEY_PAPERS.encode(), "key.ris", SETTINGS)
    assert again.to_include == []  # all four are now the lead's includes: nothing more written
    with store.session() as s:
        rows = s.execute(select(Decision.record_id, Decision.label).where(
            Decision.reviewer_id == lead.reviewer_id).order_by(Decision.id)).all()
        audits = s.execute(select(AuditLog.action, AuditLog.detail).where(
            AuditLog.table_name == "decision").order_by(AuditLog.id)).all()
    assert [tuple(r) for r in rows] == [(ids[1], "exclude"), (ids[2], "include"),
                                        (ids[0], "include"), (ids[1], "include"),
                                        (ids[6], "include")]
    seeded = [a for a in audits if (a.detail or {}).get("via") == "seed from key.ris"]
    assert [(a.action, a.detail["record_id"]) for a in seeded] == [
        ("decide", ids[0]), ("change_decision", ids[1]), ("decide", ids[6])]
    canonical = set(ids) - {ids[5]}
    labels = current_labels(store, canonical)
    assert {r for r, y in labels.items() if y == 1} == {ids[0], ids[1], ids[2], ids[6]}


def test_only_the_lead_seeds_and_bad_files_are_refused_naming_the_file(review, monkeypatch
                                                                       ) -> None:
    store, _ids, who = review
    with pytest.raises(seed.SeedError, match="only the lead"):
        seed.plan_seed(store, who["ana"], KEY_PAPERS.encode(), "key.ris")
    with pytest.raises(seed.SeedError, match="only the lead"):
        seed.apply_seed(store, who["ana"], KEY_PAPERS.encode(), "key.ris", SETTINGS)
    with pytest.raises(seed.SeedError, match=r"notes\.txt"):
        seed.plan_seed(store, who["lead"], b"just some words\nnot an export\n", "notes.txt")
    monkeypatch.setattr(seed, "MAX_SEED_PAPERS", 3)
    with pytest.raises(seed.SeedError, match=r"key\.ris: 7 papers; seed at most 3"):
        seed.plan_seed(store, who["lead"], KEY_PAPERS.encode(), "key.ris")
    monkeypatch.setattr(seed, "MAX_SEED_MB", 0.0001)
    with pytest.raises(seed.SeedError, match=r"key\.ris: .* at most"):
        seed.plan_seed(store, who["lead"], KEY_PAPERS.encode() * 100, "key.ris")
