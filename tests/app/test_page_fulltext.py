"""The full-text page as a reviewer uses it: reports sought, PDFs attached, decisions, studies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from app_helpers import shown_html
from markdown_it import MarkdownIt
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from review.app.widgets import escape_markdown
from review.screening import fulltext as ops
from review.store import open_store, repo
from review.store.files import FileRejected, check_pdf, files_root, store_pdf, stored_path
from review.store.models import Report

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NASTY = "<script>alert('x')</script> **bold** [link](javascript:alert(1)) $x$ :red[hot] ![i](http://t/p.png)"


def page_script(db: str, username: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import fulltext
    from review.store import open_store, repo

    store = open_store(db)
    try:
        who = repo.reviewers_frame(store).set_index("username").loc[username]
        user = SignedIn(int(who["reviewer_id"]), username, str(who["display_name"]),
                        str(who["role"]))
        fulltext.render(AppContext(store=store, user=user, settings=repo.get_settings(store)))
    finally:
        store.close()


RECORDS = [
    {"title": "Mentoring for care-experienced young people", "authors": ["Okafor, A."],
     "year": 2019, "journal": "Child Dev"},
    {"title": "Mentoring trial follow-up", "authors": ["Okafor A"], "year": 2021},
    {"title": NASTY, "authors": ["Lindqvist, K."], "year": 2021},
    {"title": "Peer support for young carers", "authors": ["Müller, J."], "year": 2022},
    {"title": "Excluded at title/abstract", "authors": ["Nobody, N."], "year": 2010},
]


def make_review(db: str, files: Path | None = None) -> dict:
    """Five records, four included at title/abstract by the lead; reviewers lena, rui, sam."""
    store = open_store(db)
    repo.add_source(store, name="PubMed", kind="database", file_name="p.ris", file_format="ris",
                    sha256="0" * 64, records=RECORDS)
    lead = repo.add_reviewer(store, "lena", "Lena Lead", "lead")
    rui = repo.add_reviewer(store, "rui", "Rui", "reviewer")
    sam = repo.add_reviewer(store, "sam", "Sam", "reviewer")
    ids = dict(zip(repo.records_frame(store)["title"], repo.records_frame(store)["record_id"],
                   strict=True))
    for rec in RECORDS:
        label = "exclude" if rec["title"].startswith("Excluded") else "include"
        repo.add_decision(store, record_id=int(ids[rec["title"]]), reviewer_id=lead,
                          stage="title_abstract", label=label)
    store.close()
    return {"db": str(db), "ids": ids, "lead": lead, "rui": rui, "sam": sam,
            "files": files}


@pytest.fixture
def review(tmp_path: Path) -> dict:
    return make_review(str(tmp_path / "review.db"), tmp_path / "review-files")


def open_page(review: dict, username: str) -> AppTest:
    at = AppTest.from_function(page_script, kwargs={"db": review["db"], "username": username},
                               default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def frame(at: AppTest, column: str):
    """The first table on the page that has ``column`` (tables carry no key)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def report_id(review: dict, title: str) -> int:
    store = open_store(review["db"])
    try:
        repo.ensure_reports(store)  # what opening the page does first
        with store.session() as s:
            return s.scalars(select(Report.id).where(
                Report.record_id == int(review["ids"][title]))).one()
    finally:
        store.close()


def report_row(review: dict, rid: int) -> Report:
    store = open_store(review["db"])
    try:
        with store.session() as s:
            return s.get(Report, rid)
    finally:
        store.close()


def test_included_records_become_reports_sought(review: dict) -> None:
    at = open_page(review, "rui")
    assert metric(at, "Reports sought") == "4"
    assert any("4 record(s) included" in i.value for i in at.info)
    table = frame(at, "retrieval")
    assert len(table) == 4
    assert "Excluded at title/abstract" not in set(table["title"])
    # opening the page again does not seek them twice
    at2 = open_page(review, "rui")
    assert metric(at2, "Reports sought") == "4"
    assert not at2.info


def test_pdf_upload_is_stored_by_hash_and_a_non_pdf_is_rejected(review: dict) -> None:
    rid = report_id(review, RECORDS[0]["title"])
    at = open_page(review, "rui")
    at.selectbox(key="ft_report").set_value(rid).run()

    # a non-PDF with a .pdf name is refused by its content; nothing is written
    at.file_uploader(key=f"ft_upload_{rid}_0").set_value(
        ("paper.pdf", b"<html><body>login page</body></html>", "application/pdf")).run()
    at.button(key=f"ft_attach_{rid}").click().run()
    assert any("not a PDF" in e.value for e in at.error)
    assert report_row(review, rid).pdf_path is None
    assert not review["files"].exists()

    # a real PDF named like a path traversal is kept under its hash, inside the review's folder
    at.file_uploader(key=f"ft_upload_{rid}_0").set_value(
        ("../../../etc/evil.pdf", PDF, "application/pdf")).run()
    at.button(key=f"ft_attach_{rid}").click().run()
    assert not at.exception, at.exception
    assert any("Attached" in s.value for s in at.success)
    rep = report_row(review, rid)
    sha = hashlib.sha256(PDF).hexdigest()
    assert rep.pdf_sha256 == sha and rep.retrieval == "retrieved"
    kept = review["files"] / rep.pdf_path
    assert kept.read_bytes() == PDF
    assert kept.name == f"{sha}.pdf"
    assert not list(review["files"].parent.rglob("evil.pdf"))
    assert metric(at, "PDF attached") == "1"
    assert at.download_button(key=f"ft_dl_{rid}").label == "Download PDF"


def test_not_retrieved_with_reason_then_cannot_be_decided(review: dict) -> None:
    rid = report_id(review, RECORDS[3]["title"])
    at = open_page(review, "rui")
    at.selectbox(key="ft_report").set_value(rid).run()
    at.button(key=f"ft_nr_{rid}").click().run()
    assert any("say why" in e.value for e in at.error)  # a reason is required
    at.text_input(key=f"ft_nr_reason_{rid}").input("Author did not reply").run()
    at.button(key=f"ft_nr_{rid}").click().run()
    assert metric(at, "Not retrieved") == "1"
    rep = report_row(review, rid)
    assert (rep.retrieval, rep.not_retrieved_reason) == ("not_retrieved", "Author did not reply")
    with pytest.raises(ops.FullTextError, match="not retrieved"):
        ops.decide(open_store(review["db"]), report_id=rid, reviewer_id=review["rui"],
                   label="include")
    at.radio(key="ft_filter").set_value("Not retrieved").run()
    # The paper carries its record's number here, as on every other page.
    assert list(frame(at, "retrieval")["record"]) == [f"#{rep.record_id}"]


def test_exclusion_needs_a_full_text_reason_and_is_recorded(review: dict) -> None:
    rid = report_id(review, RECORDS[1]["title"])
    at = open_page(review, "rui")
    at.selectbox(key="ft_report").set_value(rid).run()
    at.radio(key=f"ft_label_{rid}").set_value("exclude").run()
    at.button(key=f"ft_save_{rid}").click().run()
    assert any("choose the reason" in e.value for e in at.error)
    reasons = at.selectbox(key=f"ft_reason_{rid}").options
    assert "Wrong comparator" in reasons  # the review's full-text list, not title/abstract's
    at.selectbox(key=f"ft_reason_{rid}").set_value("Wrong comparator").run()
    at.button(key=f"ft_save_{rid}").click().run()
    assert any("excluded" in s.value for s in at.success)
    assert metric(at, "Excluded by me") == "1"
    store = open_store(review["db"])
    ft = repo.outcomes(store, "full_text")
    assert ft.set_index("record_id").loc[int(review["ids"][RECORDS[1]["title"]]),
                                         "reason"] == "Wrong comparator"
    # withdrawing appends a retraction: the decision no longer counts
    at.radio(key="ft_filter").set_value("Decided by me").run()
    at.selectbox(key="ft_report").set_value(rid).run()
    at.button(key=f"ft_withdraw_{rid}").click().run()
    assert metric(at, "Decided by me") == "0"
    assert repo.outcomes(store, "full_text").empty
    store.close()


def test_blind_mode_hides_other_reviewers_full_text_decisions(review: dict) -> None:
    rid = report_id(review, RECORDS[0]["title"])
    store = open_store(review["db"])
    repo.set_setting(store, "reviewers_per_record", 2)  # dual screening from full text on
    ops.decide(store, report_id=rid, reviewer_id=review["sam"], label="exclude",
               reason="Wrong outcome")
    store.close()

    rui = open_page(review, "rui")
    rui.selectbox(key="ft_report").set_value(rid).run()
    seen = " ".join(str(e.value) for e in [*rui.text, *rui.markdown, *rui.caption])
    assert "Wrong outcome" not in seen
    assert "outcome" not in frame(rui, "retrieval").columns
    assert not [d for d in rui.dataframe if "reviewer" in d.value.columns]

    lena = open_page(review, "lena")
    lena.selectbox(key="ft_report").set_value(rid).run()
    others = frame(lena, "reviewer")
    assert list(others["reason"]) == ["Wrong outcome"]


def test_grouping_reports_into_a_study(review: dict) -> None:
    a = report_id(review, RECORDS[0]["title"])
    b = report_id(review, RECORDS[1]["title"])
    at = open_page(review, "lena")
    at.multiselect(key="ft_group_reports").set_value([a, b]).run()
    at.text_input(key="ft_group_label").input("Okafor 2019").run()
    at.button(key="ft_group").click().run()
    assert not at.exception, at.exception
    studies = frame(at, "study_id")
    assert list(studies["study"]) == ["Okafor 2019"]
    assert list(studies["reports"]) == [2]
    # the same label again is refused with a hint
    at.multiselect(key="ft_group_reports").set_value([b]).run()
    at.button(key="ft_group").click().run()
    assert any("exists already" in e.value for e in at.error)


def test_one_study_per_included_report_labels_by_first_author(review: dict) -> None:
    store = open_store(review["db"])
    repo.ensure_reports(store)
    for title in (RECORDS[0]["title"], RECORDS[1]["title"], RECORDS[3]["title"]):
        ops.decide(store, report_id=report_id(review, title), reviewer_id=review["lead"],
                   label="include")
    store.close()
    at = open_page(review, "lena")
    at.button(key="ft_auto_studies").click().run()
    assert any("Created 3 studies" in s.value for s in at.success)
    labels = sorted(frame(at, "study_id")["study"])
    assert labels == ["Müller 2022", "Okafor 2019", "Okafor 2021"]
    # a reviewer (not the lead) is not offered the bulk action
    rui = open_page(review, "rui")
    assert not [b for b in rui.button if b.key == "ft_auto_studies"]


def test_record_text_is_shown_as_text(review: dict) -> None:
    rid = report_id(review, NASTY)
    at = open_page(review, "rui")
    at.selectbox(key="ft_report").set_value(rid).run()
    assert [b.body for b in shown_html(at) if "script" in b.text] == [NASTY]
    assert all("<script>alert" not in h.proto.body for h in at.get("html"))
    # rendered by a CommonMark renderer, the escaped title is the original characters only
    html = MarkdownIt("commonmark").render(escape_markdown(NASTY))
    assert "<script" not in html and "<a " not in html and "<img" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in html.replace("&#x27;", "'")


@pytest.mark.parametrize("authors, year, label", [
    (["Smith, John"], 2019, "Smith 2019"),
    (["Smith JA"], 2019, "Smith 2019"),
    (["John Smith"], 2019, "Smith 2019"),
    ([], None, "Anonymous n.d."),
])
def test_suggested_study_label(authors: list[str], year: int | None, label: str) -> None:
    assert ops.suggest_study_label(authors, year) == label


def test_pdf_checks_and_storage_stay_inside_the_review(tmp_path: Path) -> None:
    with pytest.raises(FileRejected, match="empty"):
        check_pdf(b"", "a.pdf")
    with pytest.raises(FileRejected, match="limit"):
        check_pdf(PDF + b"0" * 100, "big.pdf", max_bytes=50)
    store = open_store(tmp_path / "my review.db")
    try:
        root = files_root(store)
        assert root == (tmp_path / "my review-files").resolve()
        first = store_pdf(store, PDF)
        again = store_pdf(store, PDF)
        assert first == again  # stored once, under its hash
        with pytest.raises(FileRejected, match="outside"):
            stored_path(store, "../my review.db")
    finally:
        store.close()


@pytest.mark.postgres
def test_main_actions_on_postgresql(pg_url: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A team server: PDFs go under $REVIEW_FILES_DIR, the rest as on SQLite."""
    files = tmp_path / "shared-files"
    monkeypatch.setenv("REVIEW_FILES_DIR", str(files))
    review = make_review(pg_url, files)
    a, b = report_id(review, RECORDS[0]["title"]), report_id(review, RECORDS[1]["title"])
    at = open_page(review, "rui")
    at.selectbox(key="ft_report").set_value(a).run()
    at.file_uploader(key=f"ft_upload_{a}_0").set_value(("a.pdf", PDF, "application/pdf")).run()
    at.button(key=f"ft_attach_{a}").click().run()
    assert (files / report_row(review, a).pdf_path).read_bytes() == PDF
    at.radio(key=f"ft_label_{a}").set_value("exclude")
    at.run()
    at.selectbox(key=f"ft_reason_{a}").set_value("Wrong outcome").run()
    at.button(key=f"ft_save_{a}").click().run()
    assert metric(at, "Excluded by me") == "1"
    at.multiselect(key="ft_group_reports").set_value([a, b])
    at.text_input(key="ft_group_label").input("Okafor 2019").run()
    at.button(key="ft_group").click().run()
    assert not at.exception, at.exception
    assert list(frame(at, "study_id")["reports"]) == [2]
