"""The report page: PRISMA flow and counts, evidence tables and references, with downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from review.app.widgets import unescape_markdown
from review.extraction import store_ops as extraction_ops
from review.screening import fulltext
from review.store import open_store, repo


def page_script(db: str, username: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import report
    from review.store import open_store, repo

    store = open_store(db)
    try:
        who = repo.reviewers_frame(store).set_index("username").loc[username]
        user = SignedIn(int(who["reviewer_id"]), username, str(who["display_name"]),
                        str(who["role"]))
        report.render(AppContext(store=store, user=user, settings=repo.get_settings(store)))
    finally:
        store.close()


def rec(title: str, author: str, year: int, **more) -> dict:
    return {"title": title, "authors": [author], "year": year, "journal": "J Adolesc", **more}


def make_review(db: str, files: Path | None = None) -> dict:
    """Known flow: PubMed 4 + PsycINFO 2 records (1 duplicate), 1 citation-searching record.

    Left column: 6 records, 1 duplicate → 5 screened; 1 excluded at title/abstract → 4
    sought; 1 not retrieved → 3 assessed; 1 excluded (Wrong population) → 2 reports
    included, grouped into 1 study. Right column: 1 record sought, included as its own study.
    """
    store = open_store(db)
    pubmed = [rec("Mentoring and loneliness: a trial", "Okafor, A.", 2019),
              rec("Mentoring and loneliness: 12-month follow-up", "Okafor, A.", 2021),
              rec("Peer support in prisons for adults", "Adams, B.", 2018),
              rec("Unrelated cardiology trial", "Heart, C.", 2015)]
    psyc = [rec("Mentoring and loneliness: a trial", "Okafor, A.", 2019),
            rec("Family support for young carers", "Müller, J.", 2022)]
    citation = [rec("School linkage for refugee pupils", "Lindqvist, K.", 2021)]
    repo.add_source(store, name="PubMed", kind="database", file_name="p.nbib", file_format="nbib",
                    sha256="6" * 64, records=pubmed)
    repo.add_source(store, name="PsycINFO", kind="database", file_name="q.ris", file_format="ris",
                    sha256="7" * 64, records=psyc)
    repo.add_source(store, name="Citation searching", kind="citation", file_name="c.ris",
                    file_format="ris", sha256="8" * 64, records=citation)
    lead = repo.add_reviewer(store, "lena", "Lena Lead", "lead")
    repo.add_reviewer(store, "rui", "Rui", "reviewer")
    recs = repo.records_frame(store)
    ids = {(t, s): int(i) for t, s, i in zip(recs["title"], recs["source"], recs["record_id"],
                                             strict=True)}
    trial = ids[("Mentoring and loneliness: a trial", "PubMed")]
    repo.link_duplicate(store, ids[("Mentoring and loneliness: a trial", "PsycINFO")], trial,
                        actor="lena")
    decide = {"Unrelated cardiology trial": "exclude"}
    for (title, source), rid in ids.items():
        if source == "PsycINFO" and title.startswith("Mentoring"):
            continue  # the duplicate is not screened
        repo.add_decision(store, record_id=rid, reviewer_id=lead, stage="title_abstract",
                          label=decide.get(title, "include"))
    repo.ensure_reports(store)
    reports = fulltext.reports_frame(store).set_index("title")["report_id"].astype(int)
    fulltext.mark_not_retrieved(store, int(reports["Family support for young carers"]),
                                    "No library access", "lena")
    for title, label, reason in (
            ("Mentoring and loneliness: a trial", "include", None),
            ("Mentoring and loneliness: 12-month follow-up", "include", None),
            ("Peer support in prisons for adults", "exclude", "Wrong population"),
            ("School linkage for refugee pupils", "include", None)):
        fulltext.decide(store, report_id=int(reports[title]), reviewer_id=lead, label=label,
                            reason=reason)
    okafor = fulltext.create_study(store, "Okafor 2019", [
        int(reports["Mentoring and loneliness: a trial"]),
        int(reports["Mentoring and loneliness: 12-month follow-up"])])
    form = extraction_ops.library().get("study_characteristics")
    extraction_ops.save(store, study_id=okafor, form=form, reviewer_id=lead, submit=True,
                        actor="lena", values={
                            "design": "Randomised controlled trial", "country": "Nigeria",
                            "settings": ["community"], "population": "Care leavers",
                            "targeting": "Universal", "sample_size": 212,
                            "addresses": ["Child or young person"],
                            "intervention_types": ["mentoring"],
                            "comparator": "Usual care or services"})
    store.close()
    return {"db": db}


@pytest.fixture
def review(tmp_path: Path) -> dict:
    return make_review(str(tmp_path / "review.db"), tmp_path / "review-files")


def open_page(review: dict, view: str | None = None, username: str = "lena") -> AppTest:
    at = AppTest.from_function(page_script, kwargs={"db": review["db"], "username": username},
                               default_timeout=60)
    at.run()
    if view:
        at.radio(key="rep_view").set_value(view).run()
    return at


def frame(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def test_prisma_boxes_match_the_known_flow_and_files_are_offered(review: dict) -> None:
    at = open_page(review)
    assert not at.exception, at.exception
    assert not at.warning, [w.value for w in at.warning]  # the boxes add up
    counts = dict(zip(*[frame(at, "box")[c] for c in ("box", "n")], strict=True))
    expected = {"database_results": "6", "citations_results": "1", "duplicates": "1",
                "records_screened": "5", "records_excluded": "1", "dbr_sought_reports": "4",
                "dbr_notretrieved_reports": "1", "dbr_assessed": "3",
                "dbr_excluded": "Wrong population, 1", "other_sought_reports": "1",
                "other_assessed": "1", "new_reports": "3", "new_studies": "2"}
    assert {k: counts[k] for k in expected} == expected
    assert len(at.get("image")) == 1
    names = {b.label for b in at.get("download_button")}
    assert {"prisma_flow.svg", "prisma_flow.png", "prisma_flow.pdf", "prisma_counts.json",
            "prisma_counts.csv"} <= names


def test_evidence_tables_preview_and_downloads(review: dict) -> None:
    at = open_page(review, "Evidence tables")
    assert not at.exception, at.exception
    heads = [h.value for h in at.subheader]
    assert heads[0].startswith("Table 1.")
    chars = frame(at, "Design").set_index("Study")
    assert sorted(chars.index) == ["Lindqvist 2021", "Okafor 2019"]  # both included studies
    assert chars.loc["Okafor 2019", "Country"] == "Nigeria"  # from its extraction
    excluded = frame(at, "Reason for exclusion")
    assert list(excluded["Reason for exclusion"]) == ["Wrong population"]
    names = {b.label for b in at.get("download_button")}
    assert {"evidence_tables.xlsx", "evidence_tables.docx"} <= names


def test_references_grouped_by_study(review: dict) -> None:
    at = open_page(review, "References")
    assert not at.exception, at.exception
    shown = [unescape_markdown(m.value) for m in at.markdown]
    assert "**Okafor 2019**" in shown and "**Lindqvist 2021**" in shown
    okafor_refs = [s for s in shown if s.startswith("Okafor, A.")]
    assert len(okafor_refs) == 2  # both reports of the study
    assert any(c.value.startswith("2 studies, 3 reports") for c in at.caption)
    names = {b.label for b in at.get("download_button")}
    assert {"included_references.ris", "included_references.docx"} <= names


def test_a_reviewer_cannot_open_the_report_page(review: dict) -> None:
    at = open_page(review, username="rui")
    assert at.exception and "lead" in at.exception[0].value


@pytest.mark.postgres
def test_prisma_counts_on_postgresql(pg_url: str) -> None:
    at = open_page(make_review(pg_url))
    assert not at.exception, at.exception
    counts = dict(zip(*[frame(at, "box")[c] for c in ("box", "n")], strict=True))
    assert (counts["duplicates"], counts["records_screened"], counts["new_studies"]) == \
        ("1", "5", "2")
