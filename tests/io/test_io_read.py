"""read_records / read_bytes: format detection, encodings, bad files, the summary."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from rich.console import Console

from review.io import ImportFormatError, read_bytes, read_records
from review.io.progress import PROGRESS_THRESHOLD, record_progress

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"
RIS = b"TY  - JOUR\nTI  - Caf\xc3\xa9 culture and belonging\nAU  - M\xc3\xbcller, J\nER  - \n"


def test_summary_has_hash_format_and_missing_counts(tmp_path: Path):
    path = tmp_path / "search.ris"
    data = (
        b"TY  - JOUR\nTI  - One\nAU  - A, B\nPY  - 2020\nER  - \n"
        b"TY  - JOUR\nTI  - Two\nAB  - Text\nDO  - 10.1000/two\nER  - \n"
    )
    path.write_bytes(data)
    imported = read_records(path)
    assert imported.path == path
    assert imported.fmt == "ris"
    assert imported.sha256 == hashlib.sha256(data).hexdigest()
    assert imported.missing == {"title": 0, "authors": 1, "year": 1, "abstract": 1, "doi": 1}
    assert imported.warnings == []


def test_read_bytes_matches_read_records():
    data = (FIXTURES / "endnote.ris").read_bytes()
    from_disk = read_records(FIXTURES / "endnote.ris")
    from_upload = read_bytes(data, "endnote.ris")
    assert from_upload.records == from_disk.records
    assert from_upload.sha256 == from_disk.sha256


@pytest.mark.parametrize(
    ("fixture", "fmt"),
    [
        ("scopus.ris", "ris"),
        ("pubmed.nbib", "nbib"),
        ("wos_plain.txt", "wos"),
        ("zotero.bib", "bibtex"),
        ("scopus.csv", "csv"),
        ("wos_tab.txt", "csv"),
    ],
)
def test_content_decides_when_the_name_says_nothing(fixture: str, fmt: str):
    data = (FIXTURES / fixture).read_bytes()
    imported = read_bytes(data, "download")
    assert imported.fmt == fmt
    assert imported.warnings == []


def test_content_wins_over_a_wrong_extension_with_a_warning():
    data = (FIXTURES / "pubmed.nbib").read_bytes()
    imported = read_bytes(data, "pubmed.ris")
    assert imported.fmt == "nbib"
    assert imported.records[0]["pmid"] == "34567890"
    assert imported.warnings == [
        "pubmed.ris: the extension says RIS but the content is PubMed MEDLINE/nbib; "
        "read as PubMed MEDLINE/nbib"
    ]


@pytest.mark.parametrize(
    ("name", "data", "line", "expected"),
    [
        ("search.ris", b"<!DOCTYPE html>\n<html>Session expired</html>\n", 1, "not RIS"),
        ("refs.bib", b"\nJust some notes\nabout papers\n", 2, "not BibTeX"),
        ("pubmed.nbib", b"PMID 12345 (copied from a web page)\n", 1, "not PubMed MEDLINE"),
        ("export.xlsx", b"plain text\n", 1, "not Excel XLSX"),
        ("notes.txt", b"Dear reviewer,\nplease find\n", 1, "not a format we can read"),
    ],
)
def test_wrong_format_for_the_extension_is_refused(name, data, line, expected):
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data, name)
    assert info.value.file == name
    assert info.value.line == line
    assert expected in str(info.value)
    assert str(info.value).startswith(f"{name}, line {line}: ")


def test_forced_format_that_disagrees_with_content_is_noted():
    data = (FIXTURES / "scopus.ris").read_bytes()
    imported = read_bytes(data, "scopus.ris", fmt="csv")
    assert imported.fmt == "ris"
    assert "format 'csv' was requested" in imported.warnings[0]


def test_unknown_forced_format():
    with pytest.raises(ImportFormatError, match="unknown format 'endnote'"):
        read_bytes(RIS, "a.ris", fmt="endnote")


def test_missing_file_is_an_import_error(tmp_path: Path):
    with pytest.raises(ImportFormatError) as info:
        read_records(tmp_path / "gone.ris")
    assert info.value.file == "gone.ris"


# ---- encodings -----------------------------------------------------------------------


def test_utf8_with_and_without_bom_read_the_same():
    plain = read_bytes(RIS, "a.ris").records[0]
    bom = read_bytes(b"\xef\xbb\xbf" + RIS, "a.ris").records[0]
    assert plain["title"] == bom["title"] == "Café culture and belonging"
    assert bom["original"]["TY"] == "JOUR"  # the BOM does not stick to the first tag


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(codec: str):
    text = RIS.decode("utf-8")
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data  # the bare -be codec writes no BOM
    imported = read_bytes(data, "win.ris")
    assert imported.records[0]["authors"] == ["Müller, J"]


def test_windows_1252_is_accepted_with_a_warning_when_unambiguous():
    text = "TY  - JOUR\nTI  - Caf\u00e9 culture \u2013 young people\u2019s belonging\nER  - \n"
    imported = read_bytes(text.encode("cp1252"), "endnote-win.ris")
    assert imported.encoding == "cp1252"
    assert imported.records[0]["title"] == "Café culture – young people’s belonging"
    assert "Windows-1252" in imported.warnings[0]
    assert "line 2" in imported.warnings[0]


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("TY  - JOUR\nTI  - Одиночество подростков\nER  - \n", "cp1251"),
        ("TY  - JOUR\nTI  - 孤独感と学校\nER  - \n", "shift_jis"),
        ("TY  - JOUR\nTI  - Μοναξιά εφήβων\nER  - \n", "cp1253"),
    ],
)
def test_other_legacy_encodings_are_refused_not_garbled(text: str, codec: str):
    with pytest.raises(ImportFormatError) as info:
        read_bytes(text.encode(codec), "legacy.ris")
    assert info.value.line == 2
    assert "re-save the file as UTF-8" in str(info.value)


def test_utf16_without_bom_is_refused_with_a_hint():
    with pytest.raises(ImportFormatError) as info:
        read_bytes(RIS.decode().encode("utf-16-le"), "nobom.ris")
    assert "UTF-16 without a byte-order mark" in str(info.value)
    assert info.value.line == 1


# ---- binary and empty files ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "legacy Office"),
        (b"\x1f\x8b\x08\x00" + bytes(20), "gzip"),
        (bytes(range(256)) * 8, "binary content"),
        (
            b"TY  - JOUR\nTI  - x" + bytes(range(1, 9)) + bytes(range(14, 20)) + b"\nER  - \n",
            "control",
        ),
    ],
)
def test_binary_files_are_refused(data: bytes, expected: str):
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data, "search.ris")
    assert expected in str(info.value)
    assert str(info.value).startswith("search.ris, line ")


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("search.ris", RIS)
    with pytest.raises(ImportFormatError) as info:
        read_bytes(buffer.getvalue(), "search.zip")
    assert "ZIP archive" in str(info.value) and info.value.line == 1


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\n"])
def test_empty_file(data: bytes):
    with pytest.raises(ImportFormatError, match=r"^empty\.ris: the file is empty$"):
        read_bytes(data, "empty.ris")


# ---- titles ---------------------------------------------------------------------------


def test_every_record_without_a_title_is_refused():
    data = b"\nTY  - JOUR\nAU  - Smith, J\nER  - \n\nTY  - JOUR\nPY  - 2020\nER  - \n"
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data, "authors-only.ris")
    assert (info.value.line, info.value.record) == (2, 1)
    assert "none of the 2 records has a title" in str(info.value)


def test_empty_title_column_is_refused():
    with pytest.raises(ImportFormatError) as info:
        read_bytes(b"Title,Year\n,2020\n,2021\n", "blank-titles.csv")
    assert (info.value.line, info.value.record) == (2, 1)


def test_some_records_without_title_import_and_are_counted():
    data = b"TY  - JOUR\nTI  - Has one\nER  - \nTY  - JOUR\nAU  - Doe, J\nER  - \n"
    imported = read_bytes(data, "partial.ris")
    assert len(imported.records) == 2
    assert imported.missing["title"] == 1
    assert imported.warnings == ["partial.ris: 1 record(s) have no title"]


# ---- progress -------------------------------------------------------------------------


def _ris_with(n: int) -> bytes:
    return b"".join(b"TY  - JOUR\nTI  - Record %d\nER  - \n" % i for i in range(n))


def test_progress_bar_only_for_large_files(capsys: pytest.CaptureFixture[str]):
    read_bytes(_ris_with(50), "small.ris", progress=True)
    assert capsys.readouterr().err == ""
    imported = read_bytes(_ris_with(PROGRESS_THRESHOLD + 1), "large.ris", progress=True)
    assert len(imported.records) == PROGRESS_THRESHOLD + 1
    assert "Reading large.ris" in capsys.readouterr().err


def test_progress_counts_reach_the_total():
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    with record_progress(PROGRESS_THRESHOLD + 10, "x", True, console) as advance:
        for _ in range(PROGRESS_THRESHOLD + 10):
            advance(1)
    assert f"{PROGRESS_THRESHOLD + 10}/{PROGRESS_THRESHOLD + 10}" in console.file.getvalue()


def test_every_fixture_gives_json_ready_records():
    for path in sorted(FIXTURES.iterdir()):
        for record in read_records(path).records:
            json.dumps(record)  # the store keeps records (original fields too) as JSON
            assert isinstance(record["authors"], list)
            assert record["year"] is None or isinstance(record["year"], int)
