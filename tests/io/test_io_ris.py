"""RIS exports as Scopus, EndNote and Zotero write them, read through rispy."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.io import ImportFormatError, read_bytes, read_records
from review.records import FIELDS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"


def test_scopus_ris_with_bom_and_crlf_reads_every_field():
    data = (FIXTURES / "scopus.ris").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # the fixture is what we claim
    imported = read_records(FIXTURES / "scopus.ris")
    assert imported.fmt == "ris"
    assert len(imported.records) == 2
    first, second = imported.records
    assert first["title"] == (
        "Lonely young adults in modern Britain: findings from an epidemiological cohort study"
    )
    assert first["authors"] == [
        "Matthews, T.",
        "Danese, A.",
        "Caspi, A.",
        "Fisher, H.L.",
        "Goldman-Mellor, S.",
    ]
    assert first["year"] == 2019
    assert first["journal"] == "Psychological Medicine"  # T2 wins over the J2 abbreviation
    assert (first["volume"], first["issue"], first["pages"]) == ("49", "2", "268-277")
    assert first["doi"] == "10.1017/S0033291718000788"
    assert first["keywords"] == ["Loneliness", "mental health", "young adults", "social support"]
    assert first["abstract"].startswith("Background: The aim of this study")
    assert first["abstract"].endswith("Longitudinal Twin Study.")
    assert "\r" not in first["abstract"]
    assert first["type"] == "article"
    assert first["language"] == "English"
    assert first["publisher"] == "Cambridge University Press"
    assert first["issn"] == "00332917"
    # Tags with no normalised field are kept under their own names.
    assert first["original"]["DB"] == "Scopus"
    assert first["original"]["C2"] == "29684289"
    assert first["original"]["J2"] == "Psychol. Med."
    assert first["original"]["N1"][0].startswith("Export Date: 14 March 2024")
    # A DOI written as a doi.org URL in DO, a single page and a ;-joined KW line.
    assert second["doi"] == "10.5555/ECCAMH.2022.045"
    assert second["pages"] == "e045"
    assert second["type"] == "inproceedings"
    assert second["keywords"] == ["peer mentoring", "school linkage", "loneliness"]
    assert imported.missing == {"title": 0, "authors": 0, "year": 0, "abstract": 0, "doi": 0}


def test_every_record_has_the_shared_shape():
    for record in read_records(FIXTURES / "endnote.ris").records:
        assert set(record) == {*FIELDS, "original"}


def test_endnote_continuation_lines_and_tag_variants():
    imported = read_records(FIXTURES / "endnote.ris")
    review, chapter, article = imported.records

    # KW followed by untagged lines: each line is one keyword.
    assert review["keywords"] == ["loneliness", "social support", "adolescence", "peer relations"]
    # A hard-wrapped abstract is joined with single spaces.
    assert review["abstract"] == (
        "Loneliness is a common experience in childhood and adolescence. In this review we "
        "describe developmental changes in the antecedents of loneliness and discuss how "
        "social support from family, peers and school may buffer its effects."
    )
    assert review["journal"] == "Perspectives on Psychological Science"  # JO over JA
    assert review["year"] == 2015  # Y1 2015///
    assert review["doi"] == "10.1177/1745691615568999"  # from M3
    assert review["original"]["Y3"] == "2015/03/01"  # tags rispy does not know survive
    assert review["original"]["RN"].startswith("Screened by PQ")

    # Editors (A2) are not authors; the book title (T2) is the source; the
    # short title stays in the original fields.
    assert chapter["authors"] == ["Morales, Lucia"]
    assert chapter["original"]["A2"] == ["Brennan, Kieran", "Osei, Abena"]
    assert chapter["title"] == "Family support services and children's sense of belonging"
    assert chapter["journal"] == "Handbook of Community Approaches to Child Wellbeing"
    assert chapter["original"]["ST"] == "Family support and belonging"
    assert chapter["type"] == "incollection"
    assert chapter["year"] == 2016
    assert chapter["pages"] == "115-139"
    assert chapter["doi"] == "10.4324/9781315000000-8"  # from the doi.org link in L3
    # A blank line inside the record does not end it or add an empty keyword.
    assert chapter["keywords"] == [
        "family support",
        "service integration",
        "community capacity building",
    ]
    assert chapter["abstract"] == (
        "This chapter reviews family support services, service integration and community "
        "capacity building."
    )

    # Old-style tags: A1 authors, T1 title, JF journal, Y1 with month and day.
    assert article["authors"] == ["Chen, Wei", "Sutherland, Iain"]
    assert article["title"].startswith("Community capacity building to reduce isolation")
    assert article["journal"] == "Children and Youth Services Review"
    assert article["year"] == 2018
    assert article["pmid"] == "30123456"  # from "N1  - PMID: ..."
    assert article["doi"] is None and article["abstract"] is None
    assert imported.missing["doi"] == 1 and imported.missing["abstract"] == 1


def test_zotero_ris_page_range_in_sp_and_corporate_author():
    article, report = read_records(FIXTURES / "zotero.ris").records
    assert article["authors"] == ["Nakamura, Yui", "O'Brien, Siobhán", "Åberg, Lars"]
    assert article["pages"] == "545-557"  # Zotero writes the whole range into SP
    assert article["year"] == 2019
    assert article["pmid"] == "30412345"
    assert article["abstract"].endswith("(β = −0.21).")
    assert report["type"] == "techreport"
    assert report["authors"] == ["Early Intervention Foundation"]
    assert report["publisher"] == "Early Intervention Foundation"


@pytest.mark.parametrize(
    ("py", "year"),
    [("2016///", 2016), ("2016/05/03/", 2016), ("2016", 2016), ("/2016//", 2016), ("n.d.", None)],
)
def test_year_forms(py: str, year: int | None):
    data = f"TY  - JOUR\nTI  - A title\nPY  - {py}\nER  - \n".encode()
    assert read_bytes(data, "y.ris").records[0]["year"] == year


def test_journal_priority_and_doi_from_url():
    data = (
        b"TY  - JOUR\nTI  - T\nJ2  - J Abbr\nJA  - J Std Abbr\nJO  - J Other\nJF  - Journal Full\n"
        b"UR  - https://dx.doi.org/10.1234%2FABC.5\nER  - \n"
    )
    record = read_bytes(data, "j.ris").records[0]
    assert record["journal"] == "Journal Full"
    assert record["doi"] == "10.1234/ABC.5"


def test_repeated_single_value_tag_keeps_both_and_continuations_do_not_crash():
    # rispy 0.10 raises TypeError when a repeated tag is continued, and KeyError
    # when a blank or untagged line follows TY after a record that ended with AB.
    data = (
        b"TY  - JOUR\nTI  - First\nT2  - Journal One\nT2  - Journal Two\n  continued\nAB  - abc\n"
        b"ER  - \n\nTY  - JOUR\n\nstray text\nTI  - Second\nER  - \n"
    )
    first, second = read_bytes(data, "q.ris").records
    assert first["journal"] == "Journal One"
    assert first["original"]["T2"] == ["Journal One", "Journal Two continued"]
    assert second["title"] == "Second"
    assert second["original"]["_untagged"] == ["stray text"]


def test_truncated_record_names_file_line_and_record():
    text = (FIXTURES / "endnote.ris").read_text()
    cut = text[: text.rindex("ER  -")]  # the last record loses its end tag
    with pytest.raises(ImportFormatError) as info:
        read_bytes(cut.encode(), "search.ris")
    err = info.value
    last_start = cut.count("\n", 0, cut.rindex("TY  - JOUR")) + 1
    assert (err.file, err.line, err.record) == ("search.ris", last_start, 3)
    assert str(err).startswith(f"search.ris, line {last_start} (record 3): ")
    assert "truncated" in str(err)


def test_tagged_lines_between_records_are_an_error_not_silently_dropped():
    data = b"TY  - JOUR\nTI  - A\nER  - \nTI  - B\nAU  - X\nER  - \n"
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data, "lost.ris")
    assert (info.value.line, info.value.record) == (4, 2)
    assert "'TI' tag outside a record" in str(info.value)


def test_unknown_tags_repeat_as_lists():
    data = b"TY  - JOUR\nTI  - A\nC7  - e1\nXY  - one\nXY  - two\nER  - \n"
    original = read_bytes(data, "u.ris").records[0]["original"]
    assert original["C7"] == "e1"
    assert original["XY"] == ["one", "two"]


def test_classic_mac_line_endings():
    data = b"TY  - JOUR\rTI  - Old Mac export\rAU  - Doe, J\rER  - \r"
    record = read_bytes(data, "mac.ris").records[0]
    assert (record["title"], record["authors"]) == ("Old Mac export", ["Doe, J"])
