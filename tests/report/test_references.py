"""Reference lists of included studies: APA 7 formatting by hand-written rule, RIS round trip."""

from __future__ import annotations

import pytest
import rispy
from docx import Document
from evidence_review import CITATION_RECORDS, RECORDS, SCOPUS_DUPLICATE, build

from review.report import inputs, references
from review.report.references import (
    apa_authors,
    doi_url,
    format_reference,
    parse_name,
    short_citation,
)

INCLUDED_KEYS = ("ok19", "ok17", "li21", "sa20", "sb20", "na18")


@pytest.mark.parametrize(
    ("raw", "apa"),
    [
        ("Okafor, Chidi Nnamdi", "Okafor, C. N."),  # RIS / EndNote
        ("Okafor CN", "Okafor, C. N."),  # MEDLINE AU
        ("Ó Súilleabháin M.K.", "Ó Súilleabháin, M. K."),  # Scopus, two-word surname
        ("Chidi Okafor", "Okafor, C."),  # given name first
        ("van der Berg, Anna", "van der Berg, A."),
        ("Ludwig van Beethoven", "van Beethoven, L."),
        ("Lee, Jean-Paul", "Lee, J.-P."),  # hyphenated given names keep the hyphen
        ("Smith, John, Jr.", "Smith, J., Jr."),
        ("Smith, J. A.", "Smith, J. A."),
        ("WHO Collaborative Group", "WHO Collaborative Group"),  # a group keeps its name
        ("{World Health Organization}", "World Health Organization"),
    ],
)
def test_names_in_every_export_style_become_surname_and_initials(raw, apa):
    assert parse_name(raw).apa() == apa


def test_author_lists_follow_apa7():
    assert apa_authors(["Okafor, C"]) == "Okafor, C."
    assert apa_authors(["Okafor, C", "Smith, J"]) == "Okafor, C., & Smith, J."
    assert apa_authors(["A, B", "C, D", "E, F"]) == "A, B., C, D., & E, F."
    many = [f"Author{i}, X" for i in range(1, 26)]
    shown = apa_authors(many)
    assert shown.startswith("Author1, X., Author2, X.,")
    assert "Author19, X., . . . Author25, X." in shown
    assert "Author20" not in shown


def test_a_journal_article_has_the_apa_shape():
    rec = RECORDS["ok19"]
    assert format_reference(rec) == (
        "Okafor, C. N., Smith, J. A., & van der Berg, A. (2019). Effects of volunteer mentoring "
        "on loneliness in care-experienced young people: a randomised controlled trial. "
        "Journal of Adolescence, 72(3), 45–67. https://doi.org/10.1016/j.adolescence.2019.01.004")
    md = format_reference(rec, "markdown")
    assert "*Journal of Adolescence*, *72*(3), 45–67." in md


def test_missing_parts_are_handled_as_apa_asks():
    no_year = {"title": "Peer support", "authors": ["Li, Wei"], "journal": "J", "volume": "1"}
    assert "Li, W. (n.d.). Peer support. J, 1." == format_reference(no_year)
    no_author = {"title": "Loneliness in schools", "year": 2020, "type": "techreport",
                 "publisher": "Youth Trust", "url": "https://example.org/r"}
    assert format_reference(no_author) == (
        "Loneliness in schools. (2020). Youth Trust. https://example.org/r")
    # A report stands alone, so its title is italic.
    assert format_reference(no_author, "markdown").startswith("*Loneliness in schools.*")
    assert doi_url("doi:10.1/ABC") == "https://doi.org/10.1/ABC"
    assert doi_url("https://dx.doi.org/10.1/abc") == "https://doi.org/10.1/abc"
    question = {"title": "Does mentoring work?", "authors": ["Ng, K"], "year": 2019}
    assert "(2019). Does mentoring work? " in format_reference(question) + " "


def test_markdown_escapes_characters_that_would_turn_into_markup():
    rec = {"title": "Effects of *star* peers_on_loneliness", "authors": ["Li, W"], "year": 2020}
    md = format_reference(rec, "markdown")
    assert r"\*star\*" in md and r"peers\_on\_loneliness" in md


def test_short_citation_uses_the_first_authors_surname():
    assert short_citation(["Okafor CN", "Smith J"], 2019) == "Okafor 2019"
    assert short_citation(["Ó Súilleabháin M.K."], 2020.0) == "Ó Súilleabháin 2020"
    assert short_citation([], None) == "Anonymous n.d."


@pytest.fixture
def reports(sqlite_store):
    build(sqlite_store)
    return inputs.included_studies(sqlite_store)


def test_reference_list_has_every_report_of_every_included_study(reports):
    groups = references.grouped_references(reports)
    assert [c for c, _ in groups] == ["Lindqvist 2021", "Nakamura 2018", "Okafor 2019",
                                      "Smith 2020a", "Smith 2020b"]
    okafor = dict(groups)["Okafor 2019"]
    assert [r["year"] for r in okafor] == [2017, 2019]  # a study's protocol before its results


def test_ris_rereads_to_the_same_titles_and_dois(reports, tmp_path):
    path = references.write_ris(reports, tmp_path / "included.ris")
    with path.open(encoding="utf-8") as fh:
        entries = rispy.load(fh)
    expected = {**RECORDS, **CITATION_RECORDS}
    titles = {expected[k]["title"] for k in INCLUDED_KEYS}
    assert {e["title"] for e in entries} == titles
    dois = {e["title"]: e.get("doi") for e in entries}
    for key in INCLUDED_KEYS:
        want = expected[key].get("doi") or (SCOPUS_DUPLICATE["doi"] if key == "li21" else None)
        assert dois[expected[key]["title"]] == want, key
    notes = {e["title"]: e.get("notes", []) for e in entries}
    assert "study: Okafor 2019" in notes[RECORDS["ok17"]["title"]]
    assert "study: Smith 2020b" in notes[RECORDS["sb20"]["title"]]


def test_doi_missing_from_the_canonical_record_comes_from_its_duplicate(reports):
    li = reports[reports["short_citation"] == "Lindqvist 2021"].iloc[0].to_dict()
    assert format_reference(li).endswith(f"https://doi.org/{SCOPUS_DUPLICATE['doi']}")


def test_docx_markdown_and_text_lists(reports, tmp_path):
    paths = references.write_references(reports, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        f"included_references.{ext}" for ext in ("ris", "docx", "md", "txt"))
    doc = Document(str(tmp_path / "included_references.docx"))
    texts = [p.text for p in doc.paragraphs]
    okafor_ref = format_reference(RECORDS["ok19"])
    assert okafor_ref in texts
    assert texts.index("Okafor 2019") < texts.index(okafor_ref)
    para = doc.paragraphs[texts.index(okafor_ref)]
    italic = [r.text for r in para.runs if r.italic]
    assert italic == ["Journal of Adolescence", "72"]
    assert para.paragraph_format.first_line_indent < 0  # hanging indent
    md = (tmp_path / "included_references.md").read_text(encoding="utf-8")
    assert md.startswith("# References of included studies")
    assert "**Smith 2020a**" in md and format_reference(RECORDS["sa20"], "markdown") in md
    txt = (tmp_path / "included_references.txt").read_text(encoding="utf-8")
    assert okafor_ref in txt and "*" not in txt
