"""Evidence tables from a review with known outcomes (hand count in ``evidence_review.py``)."""

from __future__ import annotations

import pandas as pd
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from evidence_review import CHARACTERISTICS, FT, build
from openpyxl import load_workbook
from typer.testing import CliRunner

from review.cli import app
from review.report import inputs, tables
from review.report.prisma import counts_from_store
from review.store import repo

INCLUDED = ["Lindqvist 2021", "Nakamura 2018", "Okafor 2019", "Smith 2020a", "Smith 2020b"]


@pytest.fixture
def review(sqlite_store):
    return sqlite_store, build(sqlite_store)


@pytest.fixture
def review_any_backend(store):
    """The same review on SQLite and, where configured, PostgreSQL (JSON and join queries)."""
    return store, build(store)


def _row(table: pd.DataFrame, study: str) -> pd.Series:
    rows = table[table["Study"] == study]
    assert len(rows) == 1, f"{study}: {len(rows)} rows"
    return rows.iloc[0]


def test_one_row_per_included_study_matching_the_prisma_box(review):
    store, _ = review
    result = tables.tables_from_store(store)
    chars = result.tables["characteristics_of_included_studies"]
    assert list(chars["Study"]) == INCLUDED
    assert len(chars) == counts_from_store(store).values["new_studies"]
    # The study extracted before its only report was excluded is in no table but Table 2.
    for key, table in result.tables.items():
        if key != "characteristics_of_excluded_reports":
            assert not table.astype(str).apply(lambda c: c.str.contains("Evans")).any().any()


def test_a_study_row_shows_what_its_forms_say(review_any_backend):
    store, _ = review_any_backend
    chars = tables.tables_from_store(store).tables["characteristics_of_included_studies"]
    okafor = _row(chars, "Okafor 2019")
    expected = CHARACTERISTICS["okafor"]
    assert okafor["Design"] == expected["design"]
    assert okafor["Country"] == "United Kingdom"
    assert okafor["Sample size"] == 212
    assert okafor["Setting"] == "Community venue"  # the codebook's label, not the code
    assert okafor["Age (years)"] == "14–21 (mean 18.9)"
    assert okafor["Population"] == "Care-experienced young people\nTargeted: Care experience"
    assert okafor["Intervention"] == (
        "Mentoring\nVolunteer mentoring programme; 5 sessions of 60 min over 10 weeks")
    assert okafor["Comparator"] == "Usual care or services"
    # Two loneliness results with the same measure are one entry.
    assert okafor["Outcomes (measures)"] == (
        "Loneliness (UCLA Loneliness Scale v3); Social support (MSPSS)")
    assert okafor["Risk of bias (overall)"] == "High (RoB 2)"
    smith = _row(chars, "Smith 2020a")
    assert smith["Population"] == "Young carers\nUniversal"
    assert smith["Setting"] == "Community venue; Online"


def test_consensus_outranks_reviewers_rows_and_drafts(review_any_backend):
    store, _ = review_any_backend
    chars = tables.tables_from_store(store).tables["characteristics_of_included_studies"]
    lindqvist = _row(chars, "Lindqvist 2021")
    assert lindqvist["Country"] == "Sweden"  # not the reviewers' Norway, not the draft's Denmark
    assert lindqvist["Risk of bias (overall)"] == "Serious (ROBINS-I)"
    assert lindqvist["Age (years)"] == "12–17"


def test_studies_without_extractions_keep_their_row_and_are_named_in_the_notes(review):
    store, _ = review
    result = tables.tables_from_store(store)
    chars = result.tables["characteristics_of_included_studies"]
    assert pd.isna(_row(chars, "Smith 2020b")["Sample size"])
    assert _row(chars, "Nakamura 2018")["Design"] == ""
    assert any("Nakamura 2018" in n and "Smith 2020b" in n for n in result.notes)


def test_excluded_reports_list_their_final_reasons(review):
    store, _ = review
    excluded = tables.tables_from_store(store).tables["characteristics_of_excluded_reports"]
    assert dict(zip(excluded["Report"], excluded["Reason for exclusion"], strict=True)) == {
        "Evans 2015": "Wrong study design",  # the lead's resolution, not a reviewer's reason
        "Wright 2016": "Wrong comparator",
    }
    prisma = counts_from_store(store)
    assert len(excluded) == sum(prisma.ft_reasons.values()) + sum(
        prisma.other_ft_reasons.values())


def test_mechanism_table_counts_studies_per_type_and_mechanism(review):
    store, _ = review
    mech = tables.tables_from_store(store).tables["mechanisms_by_intervention_type"]
    cells = mech.set_index("Mechanism")
    assert list(cells.columns) == ["Mentoring (n = 2)", "Peer support (n = 1)"]
    assert cells.loc["Trust-building", "Mentoring (n = 2)"] == "2 (Lindqvist 2021; Okafor 2019)"
    assert cells.loc["Trust-building", "Peer support (n = 1)"] == "1 (Smith 2020a)"
    assert cells.loc["Reciprocity", "Peer support (n = 1)"] == "1 (Smith 2020a)"
    assert cells.loc["Reciprocity", "Mentoring (n = 2)"] == ""
    assert cells.loc["Consistency and stability of a relationship",
                     "Mentoring (n = 2)"] == "1 (Okafor 2019)"
    assert cells.loc["Sense of belonging", "Mentoring (n = 2)"] == "1 (Lindqvist 2021)"
    assert len(cells) == 4  # no row for mechanisms no included study coded


def test_cmo_table_has_every_configuration_of_included_studies(review):
    store, _ = review
    cmo = tables.tables_from_store(store).tables["cmo_configurations"]
    assert sorted(zip(cmo["Study"], cmo["Context"], strict=True)) == [
        ("Lindqvist 2021", "context 1"), ("Okafor 2019", "context 1"),
        ("Okafor 2019", "context 2"), ("Smith 2020a", "context 1"), ("Smith 2020a", "context 2")]
    assert list(cmo["Intervention type"]) == ["Mentoring"] * 3 + ["Peer support"] * 2


def test_excluding_a_study_at_full_text_removes_it_from_every_table(review_any_backend):
    store, info = review_any_backend
    ids, who = info["ids"], info["reviewers"]
    for key in ("ok19", "ok17"):
        for reviewer in (who["ana"], who["ben"]):
            repo.add_decision(store, record_id=ids[key], reviewer_id=reviewer, stage=FT,
                              label="exclude", reason="Wrong comparator")
    result = tables.tables_from_store(store)
    assert "Okafor 2019" not in set(result.tables["characteristics_of_included_studies"]["Study"])
    mech = result.tables["mechanisms_by_intervention_type"].set_index("Mechanism")
    assert mech.loc["Trust-building", "Mentoring (n = 1)"] == "1 (Lindqvist 2021)"
    assert "Consistency and stability of a relationship" not in mech.index
    excluded = result.tables["characteristics_of_excluded_reports"]
    assert list(excluded["Report"]) == ["Evans 2015", "Okafor 2017", "Okafor 2019", "Wright 2016"]


def test_written_files_csv_xlsx_docx(review, tmp_path):
    store, _ = review
    paths = tables.write_tables(store, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted([
        "characteristics_of_included_studies.csv", "characteristics_of_excluded_reports.csv",
        "mechanisms_by_intervention_type.csv", "cmo_configurations.csv",
        "evidence_tables.xlsx", "evidence_tables.docx"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left

    csv = pd.read_csv(tmp_path / "characteristics_of_included_studies.csv", encoding="utf-8-sig")
    assert csv.loc[csv["Study"] == "Okafor 2019", "Sample size"].item() == 212
    assert csv.loc[csv["Study"] == "Okafor 2019", "Country"].item() == "United Kingdom"

    wb = load_workbook(tmp_path / "evidence_tables.xlsx")
    assert wb.sheetnames == ["Included studies", "Excluded reports", "Mechanisms",
                             "CMO configurations"]
    ws = wb["Included studies"]
    assert [c.value for c in ws[1]] == list(tables.CHARACTERISTICS_COLUMNS)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws["E2"].alignment.wrap_text
    assert ws.column_dimensions["E"].width > ws.column_dimensions["F"].width  # population > n

    doc = Document(str(tmp_path / "evidence_tables.docx"))
    for section in doc.sections:
        assert section.orientation == WD_ORIENT.LANDSCAPE
        assert section.page_width > section.page_height
    captions = [p.text for p in doc.paragraphs if p.text.startswith("Table ")]
    assert captions == [
        "Table 1. Characteristics of included studies",
        "Table 2. Characteristics of excluded reports (full text), with reasons",
        "Table 3. Mechanisms by intervention type",
        "Table 4. Context–mechanism–outcome configurations by intervention type"]
    assert len(doc.tables) == 4
    first = doc.tables[0]
    assert [c.text for c in first.rows[0].cells] == list(tables.CHARACTERISTICS_COLUMNS)
    okafor = next(r for r in first.rows if r.cells[0].text == "Okafor 2019")
    assert okafor.cells[2].text == "United Kingdom" and okafor.cells[5].text == "212"
    # Each table is followed by its note; rows never split across pages.
    body = list(doc.element.body.iterchildren())
    for table in doc.tables:
        following = body[body.index(table._tbl) + 1]
        assert "".join(following.itertext()).startswith("Note.")
        assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in table.rows)
    # The printed CMO table leaves the if–then statement to the spreadsheet.
    assert "If–then statement" not in [c.text for c in doc.tables[3].rows[0].cells]
    assert "quote 1 (p. 1)" in [c.text for c in doc.tables[3].rows[1].cells]


def test_docx_columns_fill_the_page_and_give_prose_the_room(review, tmp_path):
    store, _ = review
    tables.write_tables(store, tmp_path)
    doc = Document(str(tmp_path / "evidence_tables.docx"))
    section = doc.sections[0]
    usable = section.page_width - section.left_margin - section.right_margin
    grid = doc.tables[0]._tbl.tblGrid.gridCol_lst
    widths = [g.w for g in grid]
    assert abs(sum(widths) - usable) / usable < 0.01
    col = {name: w for name, w in zip(tables.CHARACTERISTICS_COLUMNS, widths, strict=True)}
    assert col["Population"] > col["Sample size"]
    assert col["Intervention"] > col["Country"]


def test_column_widths_keep_words_whole_when_the_page_allows():
    df = pd.DataFrame({"Study": ["Súilleabháin 2020"], "n": [12],
                       "Prose": ["word " * 80]})
    widths = tables.column_widths(df, 20.0)
    assert sum(widths) == pytest.approx(20.0)
    assert widths[0] >= (len("Súilleabháin") + 1) * tables._CHAR_CM
    assert widths[2] > widths[0] > widths[1]


def test_choose_extractions_rules():
    rows = pd.DataFrame(
        [
            # study 1: dual extraction, no consensus yet
            (1, 1, "study_characteristics", "1", 10, "submitted", {"country": "A"}, None),
            (2, 1, "study_characteristics", "1", 11, "submitted", {"country": "B"}, None),
            # study 2: two finals by different people, the later one wins and is reported
            (3, 2, "study_characteristics", "1", 10, "final", {"country": "C"},
             "2024-01-01T10:00:00+00:00"),
            (4, 2, "study_characteristics", "1", 11, "final", {"country": "D"},
             "2024-01-02T10:00:00+00:00"),
            # study 3: a newer form version outranks an older one of the same status
            (5, 3, "study_characteristics", "2", None, "consensus", {"country": "E"}, None),
            (6, 3, "study_characteristics", "1", None, "consensus", {"country": "F"}, None),
            (7, 3, "study_characteristics", "3", 10, "draft", {"country": "G"}, None),
        ],
        columns=list(inputs.EXTRACTION_COLUMNS),
    )
    cites = {1: "One 2020", 2: "Two 2021", 3: "Three 2022"}
    dual = inputs.choose_extractions(rows, cites, single_extraction=False)
    got = {r.study_id: r.values["country"] for r in dual.frame.itertuples()}
    assert got == {2: "D", 3: "E"}
    assert dual.frame.loc[dual.frame["study_id"] == 3, "form_version"].item() == 2
    assert any("One 2020" in n and "awaiting consensus" in n for n in dual.notes)
    assert any("Two 2021" in n and "different reviewers" in n for n in dual.notes)

    single = inputs.choose_extractions(rows, cites, single_extraction=True)
    got = {r.study_id: r.values["country"] for r in single.frame.itertuples()}
    assert got[3] == "E" and got[2] == "D"
    assert got[1] in ("A", "B")
    assert any("One 2020" in n and "different reviewers" in n for n in single.notes)
    only = inputs.choose_extractions(rows, {3: "Three 2022"}, status=("draft",))
    assert list(only.frame["values"]) == [{"country": "G"}]


def test_extractions_frame_is_the_synthesis_input_shape(review):
    store, info = review
    frame = inputs.extractions_frame(store)
    assert set(frame["short_citation"]) == {"Lindqvist 2021", "Okafor 2019", "Smith 2020a"}
    assert frame.groupby(["study_id", "form_id"]).size().max() == 1
    assert frame["form_version"].map(type).eq(int).all()
    everything = inputs.extractions_frame(store, included_only=False)
    assert info["studies"]["evans"] in set(everything["study_id"])


def test_cli_writes_tables_and_references(review, tmp_path):
    store, _ = review
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["tables", "--db", store.url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("evidence_tables.docx", "evidence_tables.xlsx", "included_references.ris",
                 "included_references.docx", "included_references.md",
                 "included_references.txt", "cmo_configurations.csv"):
        assert (out / name).is_file(), name
        assert name in result.output
    assert "6 reports of 5 included studies" in result.output


def test_cli_names_a_missing_review(tmp_path):
    result = CliRunner().invoke(app, ["tables", "--db", str(tmp_path / "none.db"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "none.db" in result.output
    assert not (tmp_path / "out").exists()


def test_an_empty_review_still_gets_every_file_with_empty_tables(sqlite_store, tmp_path):
    result = tables.tables_from_store(sqlite_store)
    assert all(len(t) == 0 for t in result.tables.values())
    tables.write_evidence_tables(result, tmp_path)
    doc = Document(str(tmp_path / "evidence_tables.docx"))
    assert len(doc.tables) == 4
    assert sum("No rows yet." in p.text for p in doc.paragraphs) == 4


def test_same_named_studies_get_letters_in_the_order_given():
    got = inputs.disambiguate({"study:2": "Smith 2020", "study:10": "Smith 2020",
                               "study:3": "Jones 2019"})
    assert got == {"study:2": "Smith 2020a", "study:10": "Smith 2020b", "study:3": "Jones 2019"}
