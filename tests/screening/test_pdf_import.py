"""Bulk PDF import: matching by DOI, PMID and title, the unmatched list, and the zip's limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from review.screening import pdf_import
from review.store import Store, repo
from review.store.models import Report

RECORDS = [
    {"title": "Peer mentoring for lonely adolescents: a randomised trial", "doi": "10.1234/ABC.1"},
    {"title": "School-based belonging programmes in rural areas", "pmid": "31234567"},
    {"title": "Family support and anxiety in children: a cohort study"},
    {"title": "Community capacity building for youth wellbeing", "doi": "10.5555/xyz-9"},
    {"title": "Duplicate title of two different reports here", "year": 2001},
    {"title": "Duplicate title of two different reports here", "year": 2002},
    {"title": "Not included at title and abstract so no report"},
]


@pytest.fixture
def review(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, dict]:
    monkeypatch.setenv("REVIEW_FILES_DIR", str(tmp_path / "files"))
    repo.add_source(store, name="PubMed", kind="database", file_name="p.ris", file_format="ris",
                    sha256="p", records=RECORDS)
    ids = repo.records_frame(store)["record_id"].astype(int).tolist()
    with store.session() as s:
        for rid in ids[:-1]:
            s.add(Report(record_id=rid))
    return store, dict(zip(range(len(ids)), ids, strict=True))


def as_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_matches_by_doi_pmid_and_title_and_lists_the_rest(review, make_pdf) -> None:
    store, ids = review
    files = {
        "downloads/10.1234_abc.1.pdf": make_pdf("Some text without identifiers"),
        "PMID31234567.pdf": make_pdf("Belonging"),
        "smith2020.pdf": make_pdf("FAMILY SUPPORT AND ANXIETY IN CHILDREN:", "a cohort study",
                             "J Child Psychol"),
        "scan.pdf": make_pdf("Published as https://doi.org/10.5555/XYZ-9."),
        "dup.pdf": make_pdf("Duplicate title of two different reports here"),
        "unknown.pdf": make_pdf("Something else entirely, nothing to match"),
        "readme.txt": b"not a pdf",
        "fake.pdf": b"<html>not a pdf</html>",
        "late.pdf": make_pdf("Not included at title and abstract so no report"),
    }
    result = pdf_import.import_pdfs(store, pdf_import.read_zip(as_zip(files)), "lead")
    got = {m["file"]: (m["record_id"], m["by"]) for m in result.matched}
    assert got == {"downloads/10.1234_abc.1.pdf": (ids[0], "doi (file name)"),
                   "PMID31234567.pdf": (ids[1], "pmid (file name)"),
                   "smith2020.pdf": (ids[2], "title (first pages)"),
                   "scan.pdf": (ids[3], "doi (first pages)")}
    why = {u["file"]: u["why"] for u in result.unmatched}
    assert set(why) == {"dup.pdf", "unknown.pdf", "readme.txt", "fake.pdf", "late.pdf"}
    assert f"#{ids[4]}" in why["dup.pdf"] and f"#{ids[5]}" in why["dup.pdf"]
    assert "not a PDF" in why["fake.pdf"] and "matches no report" in why["late.pdf"]
    with store.session() as s:
        attached = {r.record_id for r in s.query(Report).filter(Report.pdf_path.isnot(None))}
    assert attached == {ids[0], ids[1], ids[2], ids[3]}
    # A second import leaves reports that have a PDF alone (unless asked to replace).
    again = pdf_import.import_pdfs(store, pdf_import.read_zip(as_zip(
        {"PMID31234567.pdf": make_pdf("v2")})), "lead")
    assert again.matched == [] and "already has a PDF" in again.unmatched[0]["why"]


def test_a_folder_is_read_too(review, tmp_path: Path, make_pdf) -> None:
    store, ids = review
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "Community capacity building for youth wellbeing.pdf").write_bytes(make_pdf("x"))
    (folder / "notes.docx").write_bytes(b"x")
    result = pdf_import.import_pdfs(store, pdf_import.read_folder(folder), "lead")
    assert [(m["record_id"], m["by"]) for m in result.matched] == [(ids[3], "title (file name)")]


def test_zip_limits_hold_after_decompression(review, monkeypatch) -> None:
    store, _ = review
    with pytest.raises(pdf_import.ImportRejected, match="not a zip"):
        list(pdf_import.read_zip(b"PK\x03\x04 broken"))
    monkeypatch.setattr(pdf_import, "MAX_FILES", 3)
    with pytest.raises(pdf_import.ImportRejected, match="at most 3"):
        list(pdf_import.read_zip(as_zip({f"{i}.pdf": b"%PDF-" for i in range(4)})))
    monkeypatch.setattr(pdf_import, "MAX_FILES", 100)
    bomb = b"%PDF-" + b"\0" * 5_000_000  # compresses about 1000:1
    got = list(pdf_import.read_zip(as_zip({"bomb.pdf": bomb})))
    assert got[0][1] is None and "zip bomb" in got[0][2]
    # A header that lies about the size is caught while reading.
    monkeypatch.setattr(pdf_import, "MAX_PDF_BYTES", 1000)
    monkeypatch.setattr(pdf_import, "MAX_RATIO", 10**9)
    big = as_zip({"big.pdf": b"%PDF-" + bytes(range(256)) * 20})
    got = list(pdf_import.read_zip(big))
    assert got[0][1] is None and "larger than" in got[0][2]
    monkeypatch.setattr(pdf_import, "MAX_TOTAL_BYTES", 1500)
    monkeypatch.setattr(pdf_import, "MAX_PDF_BYTES", 1000)
    with pytest.raises(pdf_import.ImportRejected, match="unpacks to more"):
        list(pdf_import.read_zip(as_zip({f"{i}.pdf": b"%PDF-" + bytes(range(200)) * 4
                                         for i in range(3)})))
