"""The normalisers every reader shares."""

from __future__ import annotations

import pytest

from review.io.fields import (
    doi_from_text,
    join_pages,
    normalise_doi,
    parse_year,
    pmid_from_text,
    split_names,
    word_type,
)


@pytest.mark.parametrize(
    ("value", "doi"),
    [
        ("10.1016/j.adolescence.2020.12.003", "10.1016/j.adolescence.2020.12.003"),
        ("https://doi.org/10.1037/dev0000950", "10.1037/dev0000950"),
        ("http://dx.doi.org/10.1037%2Fdev0000950", "10.1037/dev0000950"),
        ("doi:10.1111/jcpp.13000.", "10.1111/jcpp.13000"),
        ("DOI 10.1111/jcpp.13000", "10.1111/jcpp.13000"),
        (["", "10.5555/x1"], "10.5555/x1"),
        ("not a doi", None),
        ("", None),
    ],
)
def test_normalise_doi(value, doi):
    assert normalise_doi(value) == doi


def test_doi_only_taken_from_notes_when_clearly_a_doi():
    assert doi_from_text(["https://www.scopus.com/record?eid=2-s2.0-1"]) is None
    assert doi_from_text(["Cited by 3", "doi: 10.1000/abc"]) == "10.1000/abc"
    assert doi_from_text(["https://doi.org/10.1000/abc"]) == "10.1000/abc"


def test_pmid_from_labels_and_links():
    assert pmid_from_text(["PMID: 30412345"]) == "30412345"
    assert pmid_from_text(["https://pubmed.ncbi.nlm.nih.gov/29684289/"]) == "29684289"
    assert pmid_from_text(["PMCID: PMC123"]) is None


@pytest.mark.parametrize(
    ("values", "year"),
    [
        (("2016///",), 2016),
        (("2016/05/03/",), 2016),
        (("2015 Dec-2016 Jan",), 2015),
        ((None, "Published 12 May 2020"), 2020),
        ((2019.0,), 2019),
        (("volume 1234",), None),
    ],
)
def test_parse_year(values, year):
    assert parse_year(*values) == year


@pytest.mark.parametrize(
    ("start", "end", "pages"),
    [
        ("1021-9", None, "1021-1029"),  # MEDLINE abbreviation
        ("245", "51", "245-251"),
        ("123--130", None, "123-130"),
        ("123\u2013130", None, "123-130"),
        ("e0123", None, "e0123"),
        ("12", "12", "12"),
        ("S10", "S14", "S10-S14"),
        (None, None, None),
    ],
)
def test_join_pages(start, end, pages):
    assert join_pages(start, end) == pages


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Smith, John; Doe, Jane", ["Smith, John", "Doe, Jane"]),
        ("Harper, L. and Mensah, K.", ["Harper, L.", "Mensah, K."]),
        ("Smith J., Doe A.B., Lee C.", ["Smith J.", "Doe A.B.", "Lee C."]),
        ("Smith, John", ["Smith, John"]),
        ("[No author name available]", []),
    ],
)
def test_split_names(cell, names):
    assert split_names(cell) == names


@pytest.mark.parametrize(
    ("labels", "kind"),
    [
        (("JOUR",), "article"),
        ((["English Abstract", "Journal Article"],), "article"),
        (("Conference Paper",), "inproceedings"),
        (("bookSection",), "incollection"),
        (("Book Chapter",), "incollection"),
        (("Proceedings Paper", "C"), "inproceedings"),
        (("Doctoral Thesis",), "phdthesis"),
        (("Dataset",), "misc"),
        ((None,), None),
    ],
)
def test_word_type(labels, kind):
    assert word_type(*labels) == kind
