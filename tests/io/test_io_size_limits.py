"""Limits on what an import unpacks and parses, not on the file's size on disk (issue 17).

Before: a 1 MB workbook unpacked to millions of rows (225 s, 4.7 GB, killed), a
196 KB workbook imported a 200,000,000-character title, and a 1.7 MB CSV with
200,000 columns took 45 s and 1.4 GB. The workbooks here are written by hand,
as a hostile file would be: nothing in them is what a spreadsheet program
would produce, only what a ZIP container can hold.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from review.io import ImportFormatError, open_stream, read_bytes, read_records
from review.io.limits import MAX_COLUMNS, MAX_FIELD_CHARS, MAX_RECORDS

_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument'
        '.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
        '"xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id='
        '"rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/></Relationships>'),
}


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _workbook(path: Path, rows, repeat_last: int = 0) -> Path:
    """A workbook whose sheet holds ``rows`` (lists of cell texts), written in pieces.

    ``repeat_last`` writes one more row that many times (without row numbers,
    which the format allows), as a hostile generator would.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, xml in _PARTS.items():
            zf.writestr(name, xml)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                     b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            for r, cells in enumerate(rows, 1):
                xml = "".join(_cell(f"{chr(65 + i)}{r}", t) for i, t in enumerate(cells))
                fh.write(f'<row r="{r}">{xml}</row>'.encode())
            block = ('<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 10_000).encode()
            for _ in range(repeat_last // 10_000):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")
    return path


def test_a_small_valid_workbook_is_still_read(tmp_path: Path) -> None:
    rows = [["Title", "Year"]] + [[f"Peer mentoring trial {i}", "2021"] for i in range(3)]
    records = read_records(_workbook(tmp_path / "ok.xlsx", rows)).records
    assert [r["title"] for r in records] == [f"Peer mentoring trial {i}" for i in range(3)]


def test_workbook_with_more_rows_than_the_limit_is_refused_unparsed(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "rows.xlsx", [["Title"]], repeat_last=MAX_RECORDS + 10_000)
    assert path.stat().st_size < 1_000_000  # small on disk: the size check alone lets it in
    with pytest.raises(ImportFormatError, match=r"rows\.xlsx: the sheet has more than "
                       r"1,000,000 rows; the limit is 1,000,000 records per file"):
        list(open_stream(path))


@pytest.mark.parametrize("chars", [MAX_FIELD_CHARS + 1, 50_000_000])
def test_workbook_with_a_huge_cell_is_refused(tmp_path: Path, chars: int) -> None:
    path = _workbook(tmp_path / "title.xlsx", [["Title"], ["a" * chars]])
    with pytest.raises(ImportFormatError, match=r"title\.xlsx.*1,000,000 characters"):
        read_bytes(path.read_bytes(), path.name)
    with pytest.raises(ImportFormatError, match=r"title\.xlsx.*1,000,000 characters"):
        list(open_stream(path))


def test_csv_with_200000_columns_is_refused_at_its_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("Title," + ",".join(f"c{i}" for i in range(200_000)) + "\nA study,"
                    + "," * 200_000 + "\n")
    with pytest.raises(ImportFormatError, match=r"wide\.csv, line 1: the header row .* the "
                       r"limit is 1,000 columns"):
        list(open_stream(path))
    with pytest.raises(ImportFormatError, match=r"wide\.csv, line 1: .*1,000 columns"):
        read_bytes(path.read_bytes(), path.name)


def test_csv_just_over_the_column_limit_is_refused_with_the_count(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    n = MAX_COLUMNS + 1
    path.write_text("Title," + ",".join(f"c{i}" for i in range(n - 1)) + "\nA study\n")
    with pytest.raises(ImportFormatError, match=f"has {n:,} columns; the limit is 1,000"):
        list(open_stream(path))


def test_csv_field_over_the_limit_is_refused_naming_the_record(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("Title,Abstract\nFirst study,short\nSecond study,"
                    + "b" * (MAX_FIELD_CHARS + 1) + "\n")
    with pytest.raises(ImportFormatError, match=r"long\.csv, record 2: field '(abstract|"
                       r"Abstract)' is 1,000,001 characters long; the limit is 1,000,000"):
        list(open_stream(path))


def test_ris_field_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.ris"
    path.write_text("TY  - JOUR\nTI  - Short\nER  - \n\nTY  - JOUR\nTI  - "
                    + "t" * (MAX_FIELD_CHARS + 1) + "\nER  - \n")
    with pytest.raises(ImportFormatError, match=r"long\.ris.*record 2: field .* the limit is "
                       r"1,000,000 characters per field"):
        list(open_stream(path))
