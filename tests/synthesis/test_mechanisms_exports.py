"""Table exports (CSV, XLSX, DOCX) and the one-call narrative synthesis on the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from openpyxl import load_workbook

from review.extraction.codebook import load_codebook
from review.synthesis import mechanisms as mech
from review.synthesis.exports import export_table, to_csv, to_docx, to_xlsx
from review.synthesis.narrative import write_narrative_synthesis

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def table():
    return pd.DataFrame(
        {
            "Study": ["Ó Súilleabháin 2020", "da Silva 2021"],
            "Loneliness": ["▲", "◄►"],
            "Quote": ["“A long quote that goes on. " * 8, None],
            "Codes": [["trust_building", "reciprocity"], []],
            "n": [143, 182],
        }
    )


def test_csv_keeps_unicode_and_joins_lists(tmp_path, table):
    path = to_csv(table, tmp_path / "t.csv")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"  # BOM so Excel reads UTF-8
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["Study"].tolist() == ["Ó Súilleabháin 2020", "da Silva 2021"]
    assert back["Loneliness"].tolist() == ["▲", "◄►"]
    assert back["Codes"].iloc[0] == "trust_building; reciprocity"
    assert back["n"].tolist() == [143, 182]


def test_xlsx_has_a_formatted_frozen_header_and_fitted_wrapped_columns(tmp_path, table):
    path = to_xlsx({"Effect direction": table, "Second/part": table.head(1)}, tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Effect direction", "Second-part"]
    ws = wb["Effect direction"]
    assert [c.value for c in ws[1]] == ["Study", "Loneliness", "Quote", "Codes", "n"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:E3"
    assert ws["A2"].value == "Ó Súilleabháin 2020"
    assert ws["C2"].alignment.wrap_text
    assert ws["E2"].value == 143
    assert ws["C3"].value is None
    # Long quotes are capped so they wrap; short columns stay narrow.
    assert ws.column_dimensions["C"].width == 60
    assert ws.column_dimensions["B"].width < 15


def test_docx_is_a_landscape_table_with_a_repeating_header(tmp_path, table):
    path = to_docx(table, tmp_path / "t.docx", title="Effect direction", notes="▲ benefit")
    doc = Document(str(path))
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width > section.page_height
    grid = doc.tables[0]
    assert [c.text for c in grid.rows[0].cells] == ["Study", "Loneliness", "Quote", "Codes", "n"]
    assert grid.rows[1].cells[0].text == "Ó Súilleabháin 2020"
    assert grid.rows[2].cells[2].text == ""
    assert 'w:tblHeader w:val="true"' in grid.rows[0]._tr.xml
    assert doc.paragraphs[0].text == "Effect direction"
    assert doc.paragraphs[-1].text == "▲ benefit"


def test_named_index_becomes_the_first_column(tmp_path):
    wide = pd.DataFrame({"Trust": [2, 0]}, index=pd.Index(["Mentoring", "Peer"], name="Type"))
    back = pd.read_csv(to_csv(wide, tmp_path / "w.csv"), encoding="utf-8-sig")
    assert back.columns.tolist() == ["Type", "Trust"]


def test_export_table_picks_the_format_from_the_suffix(tmp_path, table):
    assert export_table(table, tmp_path / "a.xlsx").exists()
    assert export_table({"only": table}, tmp_path / "a.csv").exists()
    with pytest.raises(ValueError, match="a CSV file holds one table"):
        export_table({"a": table, "b": table}, tmp_path / "b.csv")
    with pytest.raises(ValueError, match="export as .csv, .xlsx or .docx"):
        export_table(table, tmp_path / "a.pdf")


def test_failed_export_leaves_the_previous_file_alone(tmp_path, table):
    path = to_csv(table, tmp_path / "t.csv")
    before = path.read_bytes()
    with pytest.raises(TypeError):
        to_csv("not a table", path)  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


@pytest.mark.slow
def test_demo_extractions_render_every_table_and_figure(tmp_path):
    demo = ROOT / "data" / "demo" / "extractions.json"
    assert demo.is_file(), f"the committed demo extractions are missing: {demo}"
    codebook = load_codebook(ROOT / "extraction_forms" / "codebook.yaml")
    extractions = mech.extractions_frame(json.loads(demo.read_text(encoding="utf-8")))
    written = write_narrative_synthesis(extractions, tmp_path, codebook, formats=("csv",))
    names = {p.name for p in written}
    assert {
        "mechanism_table.csv",
        "mechanism_table.png",
        "mechanism_table.svg",
        "effect_direction.csv",
        "effect_direction.png",
        "for_whom.csv",
        "cmo_configurations.csv",
        "direction_summary.csv",
        "rob2_traffic_light.png",
        "rob2_summary.png",
        "robins_traffic_light.png",
        "robins_summary.png",
    } <= names
    effect = pd.read_csv(tmp_path / "effect_direction.csv", encoding="utf-8-sig")
    included = pd.read_csv(ROOT / "data" / "demo" / "included.csv")
    assert len(effect) == len(included)  # every included demo study has results
