"""CSV/TSV/XLSX exports: Scopus, Zotero, Covidence, Rayyan and hand-made sheets."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from review.io import ImportFormatError, read_bytes, read_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"


def test_scopus_csv():
    imported = read_records(FIXTURES / "scopus.csv")
    assert imported.fmt == "csv"
    cohort, trial, editorial = imported.records
    assert cohort["authors"] == ["Matthews T.", "Danese A.", "Caspi A."]
    assert cohort["title"] == (
        "Lonely young adults in modern Britain: findings from an epidemiological cohort study"
    )
    assert cohort["year"] == 2019
    assert cohort["journal"] == "Psychological Medicine"  # "Source title", not "Source" (Scopus)
    assert cohort["pages"] == "268-277"  # Page start + Page end
    assert cohort["doi"] == "10.1017/S0033291718000788"
    assert cohort["pmid"] == "29684289"
    # A quoted abstract with quotes, commas and a line break inside.
    assert cohort["abstract"] == (
        'Background: Loneliness is "a public health problem", the authors argue. '
        "Methods: Participants (n = 2,232) were followed to age 18."
    )
    # Author keywords, then index keywords.
    assert cohort["keywords"] == [
        "Loneliness",
        "mental health",
        "young adults",
        "adolescent",
        "cohort analysis",
        "human",
    ]
    assert cohort["original"]["EID"] == "2-s2.0-85045122451"
    assert cohort["original"]["Cited by"] == "312"
    assert trial["pages"] == "e045123"  # article number when there are no pages
    # Scopus's placeholder is not an author.
    assert editorial["authors"] == []
    assert editorial["type"] == "article"
    assert imported.missing["authors"] == 1


def test_zotero_csv():
    article, chapter = read_records(FIXTURES / "zotero.csv").records
    assert article["authors"] == ["Nakamura, Yui", "O'Brien, Siobhán", "Åberg, Lars"]
    assert article["journal"] == "Journal of Youth and Adolescence"  # "Publication Title"
    assert article["pages"] == "545-557"  # en dash normalised
    assert article["pmid"] == "30412345"  # from "Extra: PMID: ..."
    assert article["keywords"] == ["belonging", "loneliness", "school connectedness"]
    assert article["type"] == "article"  # Item Type journalArticle
    assert chapter["type"] == "incollection"  # bookSection
    assert chapter["authors"] == ["Morales, Lucia"]  # editors are not authors
    assert chapter["year"] == 2016


def test_covidence_and_rayyan_csv():
    befriending, hyperlink = read_records(FIXTURES / "covidence.csv").records
    assert befriending["authors"] == ["Patel R", "Green S", "Kowalski M"]
    assert befriending["year"] == 2020  # "Published Year"
    assert befriending["journal"] == "Child and Adolescent Mental Health"
    assert befriending["keywords"] == ["Peer support"]  # Tags
    # A formula-looking title is just text when read.
    assert hyperlink["title"].startswith('=HYPERLINK("http://example.com","Click")')

    (rayyan,) = read_records(FIXTURES / "rayyan.csv").records
    assert rayyan["authors"] == ["Harper, L.", "Mensah, K."]  # " and "-separated
    assert rayyan["keywords"] == ["belonging", "whole-school", "loneliness"]
    assert rayyan["original"]["notes"].startswith("RAYYAN-INCLUSION")


def test_column_names_match_case_and_punctuation_insensitively():
    data = b"ARTICLE TITLE;author(s);Publication-Year;DO\nA;Doe, J;2011;10.1000/xy1\n"
    record = read_bytes(data, "excel-europe.csv").records[0]
    assert (record["title"], record["authors"], record["year"], record["doi"]) == (
        "A",
        ["Doe, J"],
        2011,
        "10.1000/xy1",
    )


def test_old_scopus_author_lists_split_after_initials():
    data = b'Title,Authors\nT,"Smith J., Doe A.B., Lee C."\n'
    assert read_bytes(data, "old.csv").records[0]["authors"] == ["Smith J.", "Doe A.B.", "Lee C."]


def test_table_without_a_title_column_names_the_columns():
    with pytest.raises(ImportFormatError) as info:
        read_bytes(b"Authors,Year\nSmith J,2020\n", "export.csv")
    assert info.value.line == 1
    assert "no column holds the title" in str(info.value)
    assert "Authors, Year" in str(info.value)


def test_malformed_csv_names_the_line():
    data = b'Title,Year\nok,1\nok2,2\n"unclosed,2020\nx,1\n'
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data, "broken.csv")
    assert (info.value.line, info.value.record) == (4, 3)


def _workbook_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_reads_the_first_sheet_with_a_title_column():
    data = _workbook_bytes(
        {
            "About": [["Exported from Covidence"], ["3 references"]],
            "References": [
                ["Title", "Authors", "Published Year", "Journal", "Volume", "DOI"],
                ["Mentoring and belonging", "Ng K; Ola B", 2021, "J Youth Stud", 7, "10.5/a"],
                [None, None, None, None, None, None],
                ["Peer support in schools", "Ito H", 2019.0, None, None, None],
            ],
        }
    )
    imported = read_bytes(data, "covidence.xlsx")
    assert imported.fmt == "xlsx"
    first, second = imported.records
    assert (first["title"], first["authors"], first["year"]) == (
        "Mentoring and belonging",
        ["Ng K", "Ola B"],
        2021,
    )
    assert first["volume"] == "7"
    assert second["year"] == 2019
    assert any("sheet 'References'" in w for w in imported.warnings)
    assert any("1 empty row" in w for w in imported.warnings)


def test_corrupt_workbook_is_an_import_error():
    data = _workbook_bytes({"S": [["Title"], ["A"]]})
    broken = data[: len(data) // 2]  # a half-downloaded file
    with pytest.raises(ImportFormatError) as info:
        read_bytes(broken, "half.xlsx")
    assert info.value.file == "half.xlsx"
