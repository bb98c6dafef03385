"""BibTeX as Zotero, JabRef and Google Scholar write it."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.io import ImportFormatError, read_bytes, read_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"


def test_zotero_bibtex_fields_accents_and_braces():
    imported = read_records(FIXTURES / "zotero.bib")
    assert imported.fmt == "bibtex"
    article, paper, book = imported.records

    # {\'a} → á, {\AA} → Å; "and"-separated names in "Last, First" form.
    assert article["authors"] == ["Nakamura, Yui", "O'Brien, Siobhán", "Åberg, Lars"]
    assert article["title"] == (
        "School belonging and loneliness in early adolescence: a longitudinal study"
    )
    assert article["journal"] == "Journal of Youth and Adolescence"
    assert (article["year"], article["volume"], article["issue"]) == (2019, "48", "3")
    assert article["pages"] == "545-557"  # BibTeX's "--"
    assert article["doi"] == "10.1007/s10964-018-0000-1"
    assert article["pmid"] == "30412345"
    assert article["keywords"] == ["belonging", "loneliness", "school connectedness"]
    assert article["abstract"].endswith("(50% of pupils).")  # \% decoded
    # URLs are not LaTeX: "%20" must not start a comment.
    assert article["url"] == (
        "https://link.springer.com/article/10.1007/s10964-018-0000-1?utm_source=x%20y"
    )
    assert article["type"] == "article"
    assert article["original"]["ID"] == "nakamura_school_2019"
    assert article["original"]["shorttitle"] == "School belonging and loneliness"

    # Braced words keep their case but lose their braces; a braced corporate
    # name stays one author; the proceedings title is the source.
    assert paper["title"] == "Mentoring and COVID-19: keeping looked-after children connected"
    assert paper["authors"] == ["Müller, Jürgen", "World Health Organization"]
    assert paper["journal"] == "Proceedings of the European Conference on Developmental Psychology"
    assert paper["type"] == "inproceedings"
    assert paper["pages"] == "77-84"

    # Quoted values and bare numbers.
    assert book["title"] == "Community Capacity Building for Children's Wellbeing"
    assert book["year"] == 2017
    assert book["type"] == "book"
    assert book["journal"] is None


def test_first_last_names_are_turned_round_and_strings_resolved():
    data = (
        b'@string{jcpp = "Journal of Child Psychology and Psychiatry"}\n'
        b"@Article{k1, AUTHOR = {Jane Doe and Ludwig van Beethoven}, TITLE = {T},"
        b" JOURNAL = jcpp, YEAR = {2001}}\n"
    )
    record = read_bytes(data, "scholar.bib").records[0]
    assert record["authors"] == ["Doe, Jane", "van Beethoven, Ludwig"]
    assert record["journal"] == "Journal of Child Psychology and Psychiatry"  # @string resolved
    assert record["year"] == 2001


def test_repeated_citation_keys_are_both_imported():
    data = b"@article{smith2020, title={First}}\n@article{smith2020, title={Second}}\n"
    imported = read_bytes(data, "two-searches.bib")
    assert [r["title"] for r in imported.records] == ["First", "Second"]
    assert any("smith2020" in w and "repeats" in w for w in imported.warnings)


def test_broken_entry_is_reported_with_its_line():
    data = b"@article{a,\n  title = {Fine},\n}\n\n@article{b,\n  title = {Never closed,\n"
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data, "cut.bib")
    assert (info.value.file, info.value.line, info.value.record) == ("cut.bib", 5, 2)
    assert "Unexpectedly reached end of file" in str(info.value)
