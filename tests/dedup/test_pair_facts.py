"""What the decision reads about a pair of real records, and the score a person sees.

Mutation testing (mutmut on review/dedup/rules.py and evidence.py, see
pyproject.toml) showed these readings were not pinned by any test: who counts as
the same author, which fields must hold on *both* records (two authors, a page
range) and which on *either* (a generic or recurring title, a title too short to
identify a work), when a year or an abstract is too little to compare, which
recurring titles the file reveals, and how the 0–1 score ranks a pair. A slip in
any of them links a pair a reviewer would keep apart, or hides one from the maybe
list; each test states the behaviour in the terms a reviewer uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from review.dedup import find_duplicates
from review.dedup.evidence import FileEvidence, learn
from review.dedup.normalise import normalise_authors
from review.dedup.prepare import Prepared, prepare
from review.dedup.rules import DISTINCT, Facts, compare_authors, decide, facts
from review.dedup.score import _title_pairs

TITLE = "Inhaled corticosteroids and pneumonia risk in chronic obstructive pulmonary disease"


def two(a: dict, b: dict) -> Facts:
    """The facts of the pair (a, b), read as the engine reads them (file of two records)."""
    df = pd.DataFrame([{"ID": "a", **a}, {"ID": "b", **b}]).fillna("")
    p = prepare(df)
    sim, truncated = _title_pairs(p, [0], [1])
    ev = learn(p, [0], [1], sim)
    return facts(p, ev, 0, 1, sim[0], truncated[0])


def record(**changes: str) -> dict:
    base = {
        "title": TITLE,
        "author": "Suissa, Samy and Ernst, Pierre",
        "year": "2019",
        "journal": "Thorax",
        "volume": "74",
        "number": "3",
        "pages": "221-229",
    }
    return {**base, **changes}


# -- who is the same author ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "one_person"),
    [
        ("Smith, J.", "Smith, J.", True),
        ("Smith, J.", "Smith, John", True),
        ("Wang, T.", "Wang, J.", False),  # one surname, two first initials: two people
        ("Christensen, K.", "Christ, K.", True),  # a surname cut short (4+ letters kept)
        ("Christensen, K.", "Christ, L.", False),
        ("Fern, A.", "Fernandez, A.", True),  # four letters kept are enough, either way round
        ("Fernandez, A.", "Fern, A.", True),
        ("Fer, A.", "Fernandez, A.", False),  # three are not
        ("Ng, K.", "Nguyen, K.", False),  # 'Ng' is too short to be a cut 'Nguyen'
        ("Gonzalez, M.", "Gonzales, M.", True),  # one typo in a long surname
        ("Gonzalez, M.", "Gonzales, R.", False),
        ("Smith, J.", "Smyth, J.", True),  # five letters are a long surname
        ("Hansen, P.", "Jensen, P.", False),  # two letters apart: two names
        ("Chen, L.", "Chan, L.", False),  # one letter apart, but short surnames are names
        ("Kowalski, P.", "Kowalczyk, P.", False),  # two letters apart
        ("Le, Quintrec M.", "Le Quintrec, M.", True),  # a garbled split, one name word shared
        ("Le, Jun", "Le, Ann", False),
        ("Van, Dijk A.", "Van Dijk, A.", True),  # the shared word has four letters
        ("Van, Berg A.", "Van Dijk, A.", False),  # only the three-letter particle is shared
    ],
)
def test_first_authors_one_person_or_two(x: str, y: str, one_person: bool) -> None:
    first, _ = compare_authors(normalise_authors(x), normalise_authors(y))
    assert first is one_person


def test_author_share_is_of_the_shorter_list_found_in_the_longer() -> None:
    three = normalise_authors("Suissa, S. and Ernst, P. and Dell'Aniello, S.")
    two_ = normalise_authors("Suissa, S. and Ernst, P.")
    other = normalise_authors("Suissa, S. and Brassard, P. and Renoux, C. and Azoulay, L.")
    assert compare_authors(three, two_) == (True, 1.0)
    assert compare_authors(two_, three) == (True, 1.0)
    assert compare_authors(two_, other) == (True, 0.5)
    assert compare_authors(other, two_) == (True, 0.5)
    assert compare_authors(normalise_authors("Ng, K."), normalise_authors("Tan, L.")) == (
        False,
        0.0,
    )


def test_long_author_lists_are_compared_on_their_first_twelve_names() -> None:
    """Twelve names of the shorter list are looked for: a consortium paper's long list
    does not make the comparison slow, and a 13th name does not decide it."""
    names = [
        "Abe", "Brandt", "Cortez", "Dumas", "Eriksen", "Fujita", "Gallo", "Horvath",
        "Ibsen", "Jovanovic", "Kaur", "Lindqvist", "Moreau", "Novak", "Okafor",
    ]  # fmt: skip
    a = normalise_authors(" and ".join(f"{n}, A." for n in names[:12] + ["Moreau"]))
    b = normalise_authors(" and ".join(f"{n}, A." for n in names[:12] + ["Novak", "Okafor"]))
    assert compare_authors(a, b) == (True, 1.0)
    c = normalise_authors(" and ".join(f"{n}, A." for n in names[:11] + ["Moreau"]))
    assert compare_authors(c, b) == (True, 11 / 12)


def test_co_authors_are_found_despite_a_typo_or_a_cut_surname() -> None:
    """The share counts a co-author spelt with a typo or cut short as found, as it does for
    the first author: one misspelt name must not make the author lists look different."""
    a = normalise_authors("Suissa, S. and Ernst, P. and Gonzalez, M. and Christensen, K.")
    b = normalise_authors("Suissa, S. and Ernst, P. and Gonzales, M. and Christ, K.")
    assert compare_authors(a, b) == (True, 1.0)
    assert compare_authors(b, a) == (True, 1.0)


def test_a_consortium_list_is_searched_on_its_first_forty_names() -> None:
    """A short record's co-author is looked for among the first 40 names of a consortium's
    long list; the 41st and later names are not compared (normalise keeps 40 names, and
    the comparison stays quick)."""
    surnames = """Abe Brandt Cortez Dumas Eriksen Fujita Gallo Horvath Ibsen Jovanovic Kaur
        Lindqvist Moreau Novak Okafor Petrov Quispe Rossi Silva Tanaka Ueda Varga Weber Xu
        Yilmaz Zhou Alvarez Becker Costa Dubois Esposito Fischer Garcia Hoffmann Ivanova
        Jensen Kowalczyk Larsen Mendes Nakamura Olsen Popescu Richter Schmidt Takahashi"""
    members = [f"{n}, A." for n in surnames.split()]
    consortium = normalise_authors(" and ".join(members))
    fortieth = normalise_authors(f"{members[0]} and {members[39]}")
    forty_first = normalise_authors(f"{members[0]} and {members[40]}")
    assert compare_authors(fortieth, consortium) == (True, 1.0)
    assert compare_authors(forty_first, consortium) == (True, 0.5)


def test_the_same_first_author_or_three_quarters_of_the_list_make_authors_agree() -> None:
    """Either is enough: an author list grown by later co-authors, or a first author
    entered differently on one record with three of four names found."""
    grown = two(
        record(author="Suissa, Samy and Ernst, Pierre"),
        record(author="Suissa, Samy and Renoux, Christel and Azoulay, Laurent"),
    )
    assert (grown.first_au, grown.au_share, grown.author_ok) == (True, 0.5, True)
    four = "Ernst, Pierre and Renoux, Christel and Azoulay, Laurent"
    three_of_four = two(
        record(author=f"Suissa, Samy and {four}"), record(author=f"Brassard, Paul and {four}")
    )
    assert (three_of_four.first_au, three_of_four.au_share) == (False, 0.75)
    assert three_of_four.author_ok


def test_different_authors_keep_one_title_on_the_maybe_list() -> None:
    """One title, one journal and year, wholly different authors: not the same paper."""
    a = record(author="Brassard, Paul and Renoux, Christel")
    b = record(author="Okafor, Ngozi and Lindqvist, Erik")
    f = two({**a, "pages": "", "number": ""}, {**b, "pages": "", "number": ""})
    assert (f.first_au, f.author_bad) == (False, True)
    assert decide(f).reason == "same title, different authors"


# -- fields that must hold on both records, or on either --------------------------------------


def test_many_authors_needs_two_or_more_on_each_record() -> None:
    assert two(record(), record()).many_authors
    assert not two(record(), record(author="Suissa, Samy")).many_authors
    assert not two(record(author="Suissa, Samy"), record()).many_authors


def test_a_page_range_needs_two_pages_on_each_record() -> None:
    assert two(record(), record()).ranged
    assert two(record(pages="221-222"), record(pages="221-222")).ranged
    one = two(record(pages="221"), record(pages="221-229"))
    assert not one.ranged
    assert one.one_page == (True, False) and one.span_pages == (1, 9)
    assert two(record(pages="221-229"), record(pages="221")).one_page == (False, True)
    assert two(record(), record(pages="221-230")).range_end == "different"
    assert two(record(), record()).range_end == "same"
    # a range starting elsewhere, or one page only, says nothing about where it ends
    assert two(record(), record(pages="222-229")).range_end == ""
    assert two(record(pages="221"), record(pages="221-229")).range_end == ""
    assert two(record(pages="221-229, 240-241"), record()).range_end == ""


def test_a_short_generic_or_recurring_title_on_either_record_weakens_the_pair() -> None:
    short = two(record(title="Empyema thoracis"), record())
    assert short.short_title
    assert two(record(), record(title="Empyema thoracis")).short_title
    assert not two(record(), record()).short_title
    generic = two(record(title="Editorial"), record(title="Editorial comment"))
    assert generic.generic_title and generic.weak_title
    assert not two(record(), record()).generic_title


def _with_sure_duplicates(rows: list[dict]) -> tuple[Prepared, FileEvidence]:
    """The rows in a file where ten sure duplicate pairs agree on their issue (so the issue
    is learnt reliable), the evidence learnt from those pairs."""
    sure = []
    for k in range(10):
        r = record(
            title=f"Sputum eosinophils guide steroid dosing in cohort {k} of adults with asthma",
            author=f"Author{'abcdefghij'[k]}, A.",
            volume=str(40 + k),
            number=str(k % 4 + 1),
        )
        sure += [r, r]
    df = pd.DataFrame([{"ID": str(k), **r} for k, r in enumerate(rows + sure)]).fillna("")
    p = prepare(df)
    a = np.arange(len(rows), len(df), 2)
    return p, learn(p, a, a + 1, np.full(len(a), 100.0))


def test_a_title_recurring_in_the_file_marks_every_pair_that_carries_it() -> None:
    """A column title seen in two issues of one volume recurs; each of its pairs needs a
    positive identifier, even with a record whose own fields would not show it."""
    column = "Highlights of this issue in respiratory medicine"
    rows = [record(title=column, number=str(k)) for k in (1, 2)]
    rows.append(record(title=column, number="", pages=""))
    p, ev = _with_sure_duplicates(rows)
    assert ev.reliable("issue")
    assert ev.recurring[:3] == [True, True, True]
    f = facts(p, ev, 0, 2, 100.0)
    assert f.recurring and f.weak_title
    assert decide(f).reason == "recurring title; nothing identifies the item"


def test_recurring_from_two_issues_or_page_ranges_not_from_abstract_numbers() -> None:
    title = "Clinical year in review of pulmonary infections and sepsis care"

    def recurring(rows: list[dict]) -> list[bool]:
        return _with_sure_duplicates(rows)[1].recurring[: len(rows)]

    issues = [record(title=title, number="1", pages=""), record(title=title, number="2", pages="")]
    assert recurring(issues) == [True, True]
    ranges = [record(title=title, number=""), record(title=title, number="", pages="301-309")]
    assert recurring(ranges) == [True, True]
    # the same copy twice, and three copies with one page range: one item
    assert recurring([record(title=title), record(title=title)]) == [False, False]
    assert recurring([record(title=title)] * 3) == [False, False, False]
    # meeting abstracts numbered in the pages field: the numbers are not pages
    meeting = {"title": title, "journal": "Eur Respir J", "volume": "54", "year": "2019"}
    abstracts = [
        {**meeting, "pages": "PA101", "ENTRYTYPE": "inproceedings"},
        {**meeting, "pages": "PA207", "ENTRYTYPE": "inproceedings"},
    ]
    assert recurring(abstracts) == [False, False]


# -- too little to compare -----------------------------------------------------------------------


def test_a_missing_year_is_unknown_not_a_difference() -> None:
    assert two(record(), record()).yd == 0
    assert two(record(year=""), record()).yd is None
    assert two(record(), record(year="")).yd is None
    assert two(record(), record(year="2021")).yd == 2


def test_identifiers_and_issues_compare_only_when_both_records_have_them() -> None:
    assert two(record(pmid="31000001"), record(pmid="31000001")).pmid == "same"
    assert two(record(pmid="31000001"), record(pmid="31000002")).pmid == "different"
    assert two(record(pmid="31000001"), record()).pmid == ""
    assert two(record(), record(number="4")).iss == "different"
    assert two(record(), record(number="")).iss == ""
    assert two(record(number=""), record()).iss == ""
    # one issue of two different volumes is no positive identifier of the item
    assert two(record(), record()).issue_positive
    assert not two(record(), record(volume="75")).issue_positive


def test_abstracts_compare_only_when_both_are_long_enough() -> None:
    def text(n: int) -> str:
        """n characters of abstract words (the key drops punctuation and edge spaces)."""
        return ("fewer exacerbations with placebo " * 20)[: n - 1] + "x"

    assert two(record(abstract=text(150)), record(abstract=text(150))).ab_sim == 100
    assert two(record(abstract=text(149)), record(abstract=text(400))).ab_sim is None
    assert two(record(abstract=text(400)), record(abstract=text(149))).ab_sim is None
    assert not two(record(abstract=text(299)), record(abstract=text(400))).long_abstracts
    assert two(record(abstract=text(300)), record(abstract=text(300))).long_abstracts


def test_unrelated_titles_are_distinct_and_no_contradiction() -> None:
    """'Titles differ' is not a contradiction: a chain through other records may join them."""
    f = two(record(), record(title="Cryobiopsy yield in interstitial lung disease", volume=""))
    v = decide(f)
    assert (v.decision, v.reason, v.hard) == (DISTINCT, "titles differ", False)


# -- the score a person sees -----------------------------------------------------------------------


def test_score_rises_with_each_agreeing_field_and_falls_with_each_disagreeing_one() -> None:
    """The 0–1 score orders the maybe list: more agreement must never score lower."""
    full = two(record(doi="10.1136/thx.2019.1"), record(doi="10.1136/thx.2019.1"))
    assert decide(full).score == 1.0
    base = decide(two(record(), record())).score
    assert base == 1.0
    worse = {
        "year": record(year="2020"),
        "two years": record(year="2021"),
        "volume": record(volume="75"),
        "pages": record(pages="301-309"),
        "authors": record(author="Okafor, Ngozi and Lindqvist, Erik"),
        "title": record(title=TITLE.replace("pneumonia", "fracture")),
    }
    scores = {k: decide(two(record(), r)).score for k, r in worse.items()}
    assert all(0.0 < s < base for s in scores.values()), scores
    assert scores["two years"] < scores["year"]
    overlap = decide(two(record(), record(pages="225-240"))).score
    assert scores["pages"] < overlap < base
    half = decide(two(record(), record(author="Suissa, Samy and Renoux, Christel")))
    assert scores["authors"] < half.score <= base
    some = decide(
        two(record(author="Suissa, S. and Ernst, P."), record(author="Brassard, P. and Ernst, P."))
    )
    assert scores["authors"] < some.score < base  # first authors differ, half the list shared
    ab = "Exacerbations were fewer with the inhaled combination than with placebo. " * 4
    other = "Mortality at one year did not differ between the two groups of patients. " * 4
    assert decide(two(record(abstract=ab), record(abstract=other))).score < base
    # a journal name differing where the citation does not show it to be one venue
    unpaged = decide(two(record(pages=""), record(pages=""))).score
    journal = decide(two(record(pages=""), record(pages="", journal="Lancet"))).score
    assert journal < unpaged
    doi = decide(two(record(doi="10.1136/thx-2019-1"), record(doi="10.1136/thx-2019-2")))
    assert doi.score < base
    no_title = decide(two(record(title=""), record(title="")))
    assert 0.0 < no_title.score <= 1.0


def test_a_differing_doi_lowers_the_score_most_and_several_fields_more_than_it() -> None:
    """Among single disagreements beside an agreeing title, a different DOI costs most
    (it names another item); the year, journal, volume, page range, author list or
    abstract each cost less. Yet authors, year and volume all differing together rank
    below the DOI alone: several disagreements outweigh one."""
    doi = "10.1136/thorax-2018-212233"
    base = record(doi=doi)
    other_doi = decide(two(base, record(doi="10.1136/thorax-2018-212234"))).score
    ab = "Exacerbations were fewer with the inhaled combination than with placebo. " * 4
    other_ab = "Mortality at one year did not differ between the two groups of patients. " * 4
    single = {
        "years": (base, record(doi=doi, year="2021")),
        "volume": (base, record(doi=doi, volume="75")),
        "pages": (base, record(doi=doi, pages="301-309")),
        "authors": (base, record(doi=doi, author="Okafor, Ngozi and Lindqvist, Erik")),
        "journal": (record(doi=doi, pages=""), record(doi=doi, pages="", journal="Lancet")),
        "abstract": (record(doi=doi, abstract=ab), record(doi=doi, abstract=other_ab)),
    }
    scores = {k: decide(two(a, b)).score for k, (a, b) in single.items()}
    assert all(other_doi < s < 1.0 for s in scores.values()), (other_doi, scores)
    several = record(author="Okafor, Ngozi and Lindqvist, Erik", year="2021", volume="76")
    assert decide(two(record(), several)).score < other_doi


def test_the_score_weighs_only_the_evidence_that_exists() -> None:
    """A field missing on a record neither raises nor lowers the score: a pair agreeing on
    all it has (its abstract too, or everything but a missing title) scores the top 1.0,
    and two records with nothing at all to compare score 0."""
    ab = "Exacerbations were fewer with the inhaled combination than with placebo. " * 4
    assert decide(two(record(abstract=ab), record(abstract=ab))).score == 1.0
    untitled = decide(two(record(title=""), record(title="")))
    assert untitled.reason == "no title to compare; citation agrees"
    assert untitled.score == 1.0
    bare = decide(two({"url": "https://example.org/a"}, {"url": "https://example.org/b"}))
    assert (bare.decision, bare.reason, bare.score) == (DISTINCT, "no title to compare", 0.0)


def test_unrelated_titles_still_get_a_score_below_related_ones() -> None:
    """The fallback 'titles differ' verdict carries a score like every other, so the pairs
    list can be sorted by it; related titles score above unrelated ones."""
    unrelated = decide(
        two(record(), record(title="Cryobiopsy yield in interstitial lung disease", volume=""))
    )
    assert unrelated.reason == "titles differ"
    related = decide(two(record(), record(title=TITLE.replace("pneumonia", "fracture"))))
    assert 0.0 < unrelated.score < related.score


def test_records_carrying_several_dois_link_on_any_shared_one() -> None:
    """A record indexed with its own DOI and a reprint's (two DOIs in one field) is the same
    item as a record with either one: 'same DOI', a duplicate."""
    both = record(doi="10.1136/thorax-2018-212233 10.1016/j.rmed.2019.05.002")
    reprint = record(doi="10.1016/j.rmed.2019.05.002", volume="", number="", pages="")
    for a, b in ((both, reprint), (reprint, both)):
        v = decide(two(a, {**b, "journal": "Respir Med"}))
        assert (v.decision, v.reason) == ("duplicate", "same DOI")
    apart = decide(two(both, record(doi="10.1016/j.rmed.2019.05.003")))
    assert apart.reason.startswith("different DOIs")


def test_a_group_of_exact_copies_is_one_cluster_and_one_pair_per_copy() -> None:
    result = find_duplicates(pd.DataFrame([{"ID": str(k), **record()} for k in range(3)]))
    assert len(result.duplicate_groups) == 1


# -- what the file teaches -----------------------------------------------------------------------


def _learnt(pairs: list[tuple[dict, dict]]) -> FileEvidence:
    rows = [r for pair in pairs for r in pair]
    df = pd.DataFrame([{"ID": str(k), **r} for k, r in enumerate(rows)]).fillna("")
    a = np.arange(0, len(rows), 2)
    return learn(prepare(df), a, a + 1, np.full(len(a), 100.0))


def _sure(k: int, **changes: str) -> dict:
    base = {
        "title": f"Sputum eosinophils guide steroid dosing in cohort {k} of adults with asthma",
        "author": f"Author{'abcdefghijkl'[k]}, A. and Other, B.",
        "volume": str(40 + k),
        "pages": f"{100 + 20 * k}-{110 + 20 * k}",
    }
    return record(**{**base, **changes})


def test_last_page_is_learnt_reliable_or_not_from_sure_duplicates() -> None:
    """Ranges that start together and end apart on sure duplicates: the last page is noise."""
    agree = _learnt([(_sure(k), _sure(k)) for k in range(10)])
    assert agree.reliable("range_end") and agree.rates["range_end"].pairs == 10
    apart = _learnt(
        [(_sure(k), _sure(k, pages=f"{100 + 20 * k}-{112 + 20 * k}")) for k in range(10)]
    )
    assert not apart.reliable("range_end") and apart.rates["range_end"].pairs == 10
    # ranges starting on different pages say nothing about the last page
    moved = _learnt(
        [(_sure(k), _sure(k, pages=f"{101 + 20 * k}-{110 + 20 * k}")) for k in range(10)]
    )
    assert moved.rates["range_end"].pairs == 0


@pytest.mark.parametrize(
    "unsure",
    [
        {"year": "2020"},  # a year apart
        {"author": "Brandt, K. and Other, B."},  # another first author
        {"ENTRYTYPE": "inproceedings"},  # a meeting abstract of the article
        {"title": "Erratum: Sputum eosinophils guide steroid dosing in adults"},
    ],
)
def test_only_sure_duplicates_teach_the_file(unsure: dict) -> None:
    """Pairs that may be two works never lower a field's reliability."""
    ev = _learnt([(_sure(k), _sure(k, number="9", **unsure)) for k in range(10)])
    assert ev.rates["issue"].pairs == 0 and ev.reliable("issue")


def test_short_titles_do_not_make_sure_duplicates() -> None:
    short = [
        (_sure(k, title="Asthma in adults"), _sure(k, title="Asthma in adults", number="9"))
        for k in range(10)
    ]
    assert _learnt(short).rates["issue"].pairs == 0


def test_a_reliable_locator_disagreeing_is_a_contradiction_read_from_the_records() -> None:
    """With no sure duplicates to learn from, issue and last page are trusted (the priors);
    a typo in one title keeps the pair itself from being a sure duplicate."""
    typo = TITLE.replace("pneumonia", "pneumonai")
    issue = two(record(), record(title=typo, number="4"))
    assert issue.issue_conflict and "different issues" in issue.conflicts
    end = two(record(), record(title=typo, pages="221-230"))
    assert end.end_conflict and not two(record(), record(title=typo)).end_conflict
    assert not issue.end_conflict and not end.issue_conflict
    assert two(record(doi="10.1136/thx-2019-1"), record()).doi_reliable


def test_a_generic_title_on_one_record_is_enough_to_weaken_the_pair() -> None:
    f = two(record(title="Editorial"), record(title="Editorial: inhaled corticosteroids"))
    g = two(record(title="Editorial: inhaled corticosteroids"), record(title="Editorial"))
    for pair in (f, g):
        assert pair.generic_title and pair.weak_title
