"""The data page as a lead uses it: import search exports, deduplicate, download tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from review.app.widgets import unescape_markdown
from review.io import store_ops as ops
from review.store import open_store, repo


def page_script(db: str, username: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import data
    from review.store import open_store, repo

    store = open_store(db)
    try:
        who = repo.reviewers_frame(store).set_index("username").loc[username]
        user = SignedIn(int(who["reviewer_id"]), username, str(who["display_name"]),
                        str(who["role"]))
        data.render(AppContext(store=store, user=user, settings=repo.get_settings(store)))
    finally:
        store.close()


RIS = (
    "TY  - JOUR\nTI  - Mentoring and loneliness in care-experienced youth\nAU  - Okafor, A.\n"
    "PY  - 2019\nDO  - 10.1000/mentor.1\nER  - \n\n"
    "TY  - JOUR\nTI  - Peer support for young carers\nAU  - Müller, J.\nPY  - 2022\n"
    "AB  - Young carers report loneliness.\nER  - \n"
).encode()
#: Two good records, then a third cut off before its end tag (a truncated download).
TRUNCATED = RIS + b"\nTY  - JOUR\nTI  - School linkage for refugee pupils\nAU  - Lindqvist, K.\n"


def make_review(db: str, files: Path | None = None) -> dict:
    store = open_store(db)
    repo.add_reviewer(store, "lena", "Lena Lead", "lead")
    repo.add_reviewer(store, "rui", "Rui", "reviewer")
    store.close()
    return {"db": db}


@pytest.fixture
def review(tmp_path: Path) -> dict:
    return make_review(str(tmp_path / "review.db"), tmp_path / "review-files")


def open_page(review: dict, username: str = "lena") -> AppTest:
    at = AppTest.from_function(page_script, kwargs={"db": review["db"], "username": username},
                               default_timeout=30)
    at.run()
    return at


def upload(at: AppTest, name: str, data: bytes, source: str = "PubMed",
           force: bool = False) -> AppTest:
    nonce = at.session_state["data_upload_nonce"]
    at.file_uploader(key=f"data_upload_{nonce}").set_value((name, data, "text/plain"))
    at.text_input(key="data_source").input(source)
    at.checkbox(key="data_force").set_value(force)
    at.run()
    at.button(key="data_import").click().run()
    assert not at.exception, at.exception
    return at


def counts(review: dict) -> tuple[int, int]:
    store = open_store(review["db"])
    try:
        return len(repo.sources_frame(store)), repo.count_records(store)
    finally:
        store.close()


def frame(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def messages(elements) -> list[str]:
    return [unescape_markdown(e.value) for e in elements]


def test_import_shows_the_summary_and_lists_the_source(review: dict) -> None:
    at = open_page(review)
    assert any("No sources yet" in i.value for i in at.info)
    at.selectbox(key="data_kind").set_value("database")
    upload(at, "pubmed export.ris", RIS)
    assert any("Imported 2 records from pubmed export.ris as source “PubMed”" in m
               for m in messages(at.success))
    missing = frame(at, "records missing it").set_index("field")["records missing it"]
    assert missing.to_dict() == {"abstract": 1, "doi": 1}  # one record lacks each
    sources = frame(at, "kind")
    assert list(sources["name"]) == ["PubMed"] and list(sources["records"]) == [2]
    assert counts(review) == (1, 2)


def test_a_malformed_ris_shows_the_line_and_changes_nothing(review: dict) -> None:
    at = upload(open_page(review), "truncated.ris", TRUNCATED)
    third = TRUNCATED.decode().split("\n").index("TY  - JOUR", 1 + RIS.decode().split(
        "\n").index("TY  - JOUR", 1)) + 1  # 1-based line of the third record
    errors = messages(at.error)
    assert len(errors) == 1
    assert "Nothing was imported" in errors[0]
    assert f"truncated.ris, line {third} (record 3)" in errors[0]
    assert counts(review) == (0, 0)
    assert not at.success


def test_the_same_file_twice_is_refused_unless_forced(review: dict) -> None:
    at = upload(open_page(review), "a.ris", RIS)
    upload(at, "copy of a.ris", RIS, source="PubMed again")
    errors = messages(at.error)
    assert errors and "already imported" in errors[0] and "Import even if" in errors[0]
    assert counts(review) == (1, 2)
    upload(at, "copy of a.ris", RIS, source="PubMed again", force=True)
    assert counts(review) == (2, 4)


def test_a_source_needs_a_name(review: dict) -> None:
    at = upload(open_page(review), "a.ris", RIS, source="  ")
    assert any("name the source" in m for m in messages(at.error))
    assert counts(review) == (0, 0)


def test_a_reviewer_cannot_open_the_page(review: dict) -> None:
    at = open_page(review, "rui")
    assert at.exception and "lead" in at.exception[0].value
    assert not at.file_uploader


def test_decision_export_keeps_the_log_and_marks_what_counts(review: dict) -> None:
    store = open_store(review["db"])
    repo.add_source(store, name="PubMed", kind="database", file_name="a.ris", file_format="ris",
                    sha256="3" * 64, records=[{"title": "A"}, {"title": "B"}])
    recs = repo.records_frame(store)
    ids = {t: int(i) for t, i in zip(recs["title"], recs["record_id"], strict=True)}
    rv = {u: int(i) for u, i in zip(repo.reviewers_frame(store)["username"],
                                    repo.reviewers_frame(store)["reviewer_id"], strict=True)}
    add = repo.add_decision
    add(store, record_id=ids["A"], reviewer_id=rv["rui"], stage="title_abstract", label="include")
    add(store, record_id=ids["A"], reviewer_id=rv["rui"], stage="title_abstract", label="exclude",
        reason="Wrong population")
    add(store, record_id=ids["B"], reviewer_id=rv["lena"], stage="title_abstract",
        label="include")
    add(store, record_id=ids["B"], reviewer_id=rv["lena"], stage="title_abstract",
        label="retracted")
    add(store, record_id=ids["A"], reviewer_id=rv["lena"], stage="full_text", label="include")
    table = ops.decisions_for_export(store)
    store.close()
    assert list(table["label"]) == ["include", "exclude", "include", "retracted", "include"]
    # rui changed their mind (only the second counts); lena withdrew B (nothing counts)
    assert list(table["current"]) == [False, True, False, False, True]
    assert list(table["reviewer"]) == ["rui", "rui", "lena", "lena", "lena"]
    assert list(table["stage"]) == ["title_abstract"] * 4 + ["full_text"]
    assert table.loc[1, "title"] == "A" and table.loc[1, "reason"] == "Wrong population"


DUPLICATES_RIS = (
    b"TY  - JOUR\nTI  - Mentoring and loneliness in care-experienced youth: a randomised trial\n"
    b"AU  - Okafor, Adaeze\nAU  - Reyes, Maria\nPY  - 2019\nJO  - Journal of Adolescence\n"
    b"VL  - 71\nSP  - 10\nEP  - 19\nDO  - 10.1016/j.adolescence.2019.01.002\nER  - \n\n"
    b"TY  - JOUR\nTI  - =HYPERLINK(\"http://example.org\",\"School linkage for refugee pupils\")\n"
    b"AU  - Lindqvist, K.\nPY  - 2021\nER  - \n"
)
SAME_ARTICLE_RIS = (
    b"TY  - JOUR\nTI  - Mentoring and loneliness in care-experienced youth: a randomised trial.\n"
    b"AU  - Okafor, A.\nAU  - Reyes, M.\nPY  - 2019\nJO  - J Adolesc\nVL  - 71\nSP  - 10-9\n"
    b"DO  - 10.1016/J.ADOLESCENCE.2019.01.002\nER  - \n"
)


def test_deduplication_links_the_same_article_from_two_sources(review: dict) -> None:
    at = upload(open_page(review), "psycinfo.ris", DUPLICATES_RIS, source="PsycINFO")
    upload(at, "pubmed.ris", SAME_ARTICLE_RIS, source="PubMed")
    at.button(key="data_dedup").click().run()
    assert not at.exception, at.exception
    said = messages(at.success)
    assert any("1 duplicate(s) linked" in m for m in said), said
    store = open_store(review["db"])
    recs = repo.records_frame(store)
    store.close()
    linked = recs[recs["record_id"] != recs["canonical_id"]]
    assert len(linked) == 1
    assert linked["title"].iloc[0].startswith("Mentoring and loneliness")
    # the whole run can be undone from the page
    at.button(key="data_dedup_undo").click().run()
    assert any("1 link(s) removed" in m for m in messages(at.success))
    store = open_store(review["db"])
    recs = repo.records_frame(store)
    store.close()
    assert (recs["record_id"] == recs["canonical_id"]).all()


def test_downloads_records_with_stage_and_neutralised_formulas(review: dict) -> None:
    import csv
    import io

    from review.io import read_bytes

    at = upload(open_page(review), "psycinfo.ris", DUPLICATES_RIS, source="PsycINFO")
    at.button(key="data_export").click().run()  # records, CSV by default
    what, fmt, n, data = at.session_state["data_export_file"]
    assert (what, fmt, n) == ("records", "csv", 2)
    assert at.download_button(key="data_download").label == "Download records (2 rows, CSV)"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["stage"] for r in rows] == ["unscreened", "unscreened"]
    assert rows[1]["title"].startswith("'=HYPERLINK")  # a spreadsheet shows it as text
    assert rows[0]["source"] == "PsycINFO"

    at.radio(key="data_export_fmt_records").set_value("ris").run()
    at.button(key="data_export").click().run()
    back = read_bytes(at.session_state["data_export_file"][3], "records.ris")
    assert [r["title"] for r in back.records][0].startswith("Mentoring and loneliness")
    assert len(back.records) == 2

    at.radio(key="data_export_what").set_value("decisions").run()
    assert at.radio(key="data_export_fmt_decisions").options == ["CSV", "XLSX"]
    at.radio(key="data_export_fmt_decisions").set_value("xlsx").run()
    at.button(key="data_export").click().run()
    what, fmt, n, data = at.session_state["data_export_file"]
    assert (what, fmt, n) == ("decisions", "xlsx", 0)
    assert data[:2] == b"PK"  # an XLSX workbook (a ZIP container)


@pytest.mark.postgres
def test_import_dedup_and_export_on_postgresql(pg_url: str) -> None:
    review = make_review(pg_url)
    at = upload(open_page(review), "truncated.ris", TRUNCATED)
    assert messages(at.error) and counts(review) == (0, 0)
    upload(at, "psycinfo.ris", DUPLICATES_RIS, source="PsycINFO")
    upload(at, "pubmed.ris", SAME_ARTICLE_RIS, source="PubMed")
    at.button(key="data_dedup").click().run()
    assert any("1 duplicate(s) linked" in m for m in messages(at.success))
    store = open_store(review["db"])
    rv = int(repo.reviewers_frame(store).set_index("username").loc["lena", "reviewer_id"])
    repo.add_decision(store, record_id=int(repo.records_frame(store)["record_id"].iloc[0]),
                      reviewer_id=rv, stage="title_abstract", label="include")
    store.close()
    at.radio(key="data_export_what").set_value("decisions").run()
    at.radio(key="data_export_fmt_decisions").set_value("xlsx").run()
    at.button(key="data_export").click().run()  # PostgreSQL times carry a time zone
    assert not at.exception, at.exception
    assert at.session_state["data_export_file"][2] == 1
