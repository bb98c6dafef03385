"""Exports: CSV/XLSX/RIS round-trips, formula neutralising, atomic writes."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from review.io import read_records
from review.io.export import records_frame, write_csv, write_ris, write_xlsx
from review.records import FIELDS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"
COMPARED = [f for f in FIELDS]


def _normalised(records: list[dict]) -> list[dict]:
    return [{f: r.get(f) for f in COMPARED} for r in records]


@pytest.fixture
def records() -> list[dict]:
    """Records from several formats, with accents, lists, a PMID and gaps."""
    out: list[dict] = []
    for name in ("endnote.ris", "pubmed.nbib", "zotero.bib", "scopus.csv"):
        out += read_records(FIXTURES / name).records
    return out


def test_csv_round_trip(records: list[dict], tmp_path: Path):
    path = write_csv(records_frame(records), tmp_path / "records.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel-friendly UTF-8
    again = read_records(path)
    assert _normalised(again.records) == _normalised(records)


def test_xlsx_round_trip(records: list[dict], tmp_path: Path):
    path = write_xlsx(records_frame(records), tmp_path / "records.xlsx")
    again = read_records(path)
    assert again.fmt == "xlsx"
    assert _normalised(again.records) == _normalised(records)
    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "A2"


def test_ris_round_trip(records: list[dict], tmp_path: Path):
    path = write_ris(records, tmp_path / "records.ris")
    again = read_records(path)
    assert again.fmt == "ris"
    assert _normalised(again.records) == _normalised(records)


def test_extra_columns_travel_in_tables_and_as_ris_notes(tmp_path: Path):
    record = read_records(FIXTURES / "zotero.ris").records[0]
    record = {**record, "stage": "title_abstract: include", "record_id": 17}
    frame = records_frame([record])
    assert list(frame.columns[: len(FIELDS)]) == list(FIELDS)
    table = pd.read_csv(write_csv(frame, tmp_path / "r.csv"), dtype=str, encoding="utf-8-sig")
    assert table.loc[0, "stage"] == "title_abstract: include"
    assert table.loc[0, "record_id"] == "17"
    assert "original" not in table.columns
    ris = write_ris([record], tmp_path / "r.ris").read_text(encoding="utf-8")
    assert "N1  - stage: title_abstract: include" in ris
    assert "N1  - PMID: 30412345" in ris


DANGEROUS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def test_csv_cells_are_neutralised_against_formulas(tmp_path: Path):
    frame = pd.DataFrame(
        {"title": DANGEROUS, "authors": [["=Bad, Author"]] * len(DANGEROUS), "year": [2020] * 6}
    )
    path = write_csv(frame, tmp_path / "unsafe.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["title"] for row in rows] == ["'" + value for value in DANGEROUS]
    assert rows[0]["authors"] == "'=Bad, Author"
    assert rows[0]["year"] == "2020"  # numbers are not text and are left alone
    # ...and our reader gives the original text back.
    assert [r["title"].strip() for r in read_records(path).records] == [
        v.strip() for v in DANGEROUS
    ]


def test_xlsx_cells_are_neutralised_against_formulas(tmp_path: Path):
    frame = pd.DataFrame({"title": DANGEROUS, "abstract": ["ok\x0bwith a vertical tab"] * 6})
    path = write_xlsx(frame, tmp_path / "unsafe.xlsx")
    sheet = load_workbook(path).active
    titles = [sheet.cell(row=i, column=1).value for i in range(2, 2 + len(DANGEROUS))]
    assert titles == ["'" + value for value in DANGEROUS]
    assert all(sheet.cell(row=i, column=1).data_type == "s" for i in range(2, 8))
    assert sheet.cell(row=2, column=2).value == "okwith a vertical tab"  # illegal in XLSX


def test_failed_write_leaves_the_old_file_and_no_debris(tmp_path: Path, monkeypatch):
    target = tmp_path / "records.csv"
    target.write_text("previous export\n")

    def explode(self, path, **kwargs):
        Path(path).write_text("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", explode)
    with pytest.raises(OSError, match="disk full"):
        write_csv(pd.DataFrame({"title": ["x"]}), target)
    assert target.read_text() == "previous export\n"
    assert list(tmp_path.iterdir()) == [target]


def test_xlsx_cuts_cells_excel_cannot_hold_and_says_so(tmp_path: Path):
    frame = pd.DataFrame({"title": ["Long"], "abstract": ["x" * 40_000]})
    with pytest.warns(UserWarning, match="1 cell"):
        path = write_xlsx(frame, tmp_path / "long.xlsx")
    assert len(load_workbook(path).active.cell(row=2, column=2).value) == 32_767


def test_gaps_stay_empty_and_years_stay_whole_numbers(tmp_path: Path):
    frame = records_frame(
        [
            {"title": "With year", "authors": ["A, B"], "year": 2020, "original": {"TI": "x"}},
            {"title": "No year", "authors": [], "year": None, "original": {}},
        ]
    )
    path = write_csv(frame, tmp_path / "gaps.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["year"], r["authors"], r["doi"]) for r in rows] == [
        ("2020", "A, B", ""),
        ("", "", ""),
    ]
