"""Every rule of the decision table, fired by a pair built for it: the decision, the reason a
person reads, and whether the pair may ever share a cluster.

The reason is what a reviewer sees on the Duplicates page and in the pairs file; it must
say why (an erratum, a different DOI, a recurring title with nothing identifying the item,
...). The ``hard`` flag is what keeps two records out of one cluster even when a third
record resembles both. Mutation testing (``benchmarks/mutate_rules_table.py``) showed a
changed reason text, a rule made soft, and several per-rule thresholds went unnoticed;
here each rule of :data:`review.dedup.rules.RULES` has at least one pair that fires it,
most of them sitting exactly on the threshold the rule reads, so that a ``>=`` turned
into ``>`` or a limit moved sends the pair to another rule.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from review.dedup import find_duplicates
from review.dedup.rules import DISTINCT, DUPLICATE, FALLBACK, LIMITS, MAYBE, RULES, Facts, decide
from tests.dedup.test_rules_thresholds import pair

L = LIMITS
NO_AUTHORS = {"first_au": None, "au_share": None, "author_ok": False, "author_bad": False}
OTHER_AUTHORS = {"first_au": False, "au_share": 0.0, "author_ok": False, "author_bad": True}
NO_TITLE = {"ts": math.nan, "has_title": False}

#: (rule name, what the pair's fields say, decision, reason the person reads, hard)
CASES: list[tuple[str, dict, str, str, bool]] = [
    # -- kinds of record: never the article itself, and never clustered with it ---------
    ("kind, alike", {"kind": "erratum"}, MAYBE, "erratum vs article", True),
    ("kind, alike", {"kind": "comment"}, MAYBE, "comment/reply vs article", True),
    ("kind", {"kind": "retraction", "ts": 60.0}, DISTINCT, "retraction notice vs article", True),
    ("kind", {"kind": "protocol", "ts": 60.0}, DISTINCT, "protocol vs results", True),
    ("kind", {"kind": "erratum", "ts": 60.0}, DISTINCT, "erratum vs article", True),
    # -- a shared identifier --------------------------------------------------------------
    (
        "same id, title marks differ",
        {"doi": "same", "marks": "different part/phase/series numbers in title"},
        MAYBE,
        "same DOI but different part/phase/series numbers in title",
        True,
    ),
    (
        "same id, reliable locator differs",
        {"doi": "same", "issue_conflict": True, "iss": "different"},
        MAYBE,
        "same DOI but different issues",
        True,
    ),
    (
        "same id, reliable locator differs",
        {"pmid": "same", "pages": "different"},
        MAYBE,
        "same PubMed id but different page ranges",
        True,
    ),
    (
        "same id, reliable locator differs",
        {"doi": "same", "pages": "overlap", "range_end": "different", "end_conflict": True},
        MAYBE,
        "same DOI but page ranges end apart",
        True,
    ),
    ("same id", {"pmid": "same"}, DUPLICATE, "same PubMed id", False),
    # exactly at the title limit for a shared identifier, nothing else to lean on
    ("same id", {"doi": "same", "ts": L.title_with_id, "vol": ""}, DUPLICATE, "same DOI", False),
    (
        "same id, titles differ",
        {"doi": "same", "ts": L.title_with_id - 1, "vol": ""},
        MAYBE,
        "same DOI but titles differ",
        False,
    ),
    # -- different identifiers ------------------------------------------------------------
    (
        "different ids in a file where they are unreliable, full citation agrees",
        {
            "doi": "different",
            "doi_reliable": False,
            "ts": L.title_same,
            "pages": "same",
            "ranged": True,
            "range_end": "same",
        },
        DUPLICATE,
        "same title, authors and citation despite different DOIs "
        "(identifiers disagree often in this file)",
        False,
    ),
    (
        "different ids, otherwise identical",
        {"doi": "different", "ts": L.title_exact_despite_id},
        MAYBE,
        "different DOIs",
        True,
    ),
    ("different ids", {"pmid": "different", "ts": 90.0}, DISTINCT, "different PubMed ids", True),
    # -- no title ------------------------------------------------------------------------------
    (
        "no title, citation agrees",
        {**NO_TITLE, "pages": "same"},
        MAYBE,
        "no title to compare; citation agrees",
        False,
    ),
    ("no title", NO_TITLE, DISTINCT, "no title to compare", False),
    # -- contradictions ---------------------------------------------------------------------
    ("contradiction, alike", {"vol": "different"}, MAYBE, "different volumes", True),
    (
        "contradiction",
        {"vol": "different", "ts": L.title_near - 1},
        DISTINCT,
        "different volumes",
        True,
    ),
    # -- a title that identifies nothing alone ------------------------------------------------
    (
        "weak title, positive item identifier",
        {"weak_title": True, "recurring": True, "ts": L.title_same, "range_end": "same"},
        DUPLICATE,
        "recurring title; same full page range",
        False,
    ),
    (
        "weak title, positive item identifier",
        {"weak_title": True, "generic_title": True, "issue_positive": True, "iss": "same"},
        DUPLICATE,
        "generic title; same volume and issue",
        False,
    ),
    (
        "weak title, positive item identifier",
        {"weak_title": True, "pages": "same", "span_pages": (1, 1), "one_page": (True, True)},
        DUPLICATE,
        "generic title; same page of the same volume",
        False,
    ),
    (
        "weak title reworded, full page range and authors",
        {"weak_title": True, "ts": L.title_translated, "range_end": "same", "au_share": 0.75},
        DUPLICATE,
        "same full page range, volume and authors; title reworded",
        False,
    ),
    (
        "weak title, nothing identifies the item",
        {"weak_title": True, "recurring": True, "ts": L.title_same},
        MAYBE,
        "recurring title; nothing identifies the item",
        False,
    ),
    (
        "weak title, nothing identifies the item",
        {"weak_title": True, "generic_title": True},
        MAYBE,
        "generic title; nothing identifies the item",
        False,
    ),
    (
        "weak title, unlike",
        {"weak_title": True, "recurring": True, "ts": L.title_same - 1},
        DISTINCT,
        "recurring title",
        False,
    ),
    (
        "weak title, unlike",
        {"weak_title": True, **OTHER_AUTHORS},
        DISTINCT,
        "short title",
        False,
    ),
    # -- a short but specific title -----------------------------------------------------------
    (
        "short title, same citation",
        {"short_title": True, "ts": L.title_same, "pages": "same"},
        DUPLICATE,
        "short title; same citation",
        False,
    ),
    (
        "short title, same authors, journal, volume and year",
        {"short_title": True, "ts": L.title_same},
        DUPLICATE,
        "short title; same authors, journal, volume and year",
        False,
    ),
    (
        "short title",
        {"short_title": True, "ts": L.title_same, "pages": "overlap"},
        MAYBE,
        "short title",
        False,
    ),
    (
        "short title, unlike",
        {"short_title": True, "pages": "same", **OTHER_AUTHORS},
        DISTINCT,
        "short title",
        False,
    ),
    (
        "short title, unlike",
        {"short_title": True, "ts": L.title_same - 1},
        DISTINCT,
        "short title",
        False,
    ),
    # -- an identifying title -------------------------------------------------------------------
    (
        "same title, different authors",
        {"ts": L.title_same, **OTHER_AUTHORS},
        MAYBE,
        "same title, different authors",
        False,
    ),
    (
        "same title, no authors",
        {"ts": L.title_same, **NO_AUTHORS, "vol": "", "jc": None},  # one agreeing field: year
        MAYBE,
        "same title; authors missing and little else to compare",
        False,
    ),
    (
        "same conference paper a year apart",
        {"ts": L.title_exact, "yd": 1, "conference": (True, True), "au_share": 0.75},
        DUPLICATE,
        "same title and authors of a conference paper indexed a year apart",
        False,
    ),
    (
        "same title, a year apart",
        # one agreeing field, the journal (one author each: no 'all the authors' support)
        {"ts": L.title_same, "yd": 1, "vol": "", "many_authors": False},
        MAYBE,
        "same title; years one apart",
        False,
    ),
    (
        "one abstract in two supplements",
        {
            "ts": L.title_exact,
            "conference": (True, True),
            "jc": False,
            "vol": "different",  # two meetings' supplements: two volumes, no contradiction
            "au_share": L.authors_ok,
        },
        DUPLICATE,
        "same meeting abstract in two supplements",
        False,
    ),
    (
        "same title, different journals",
        {"ts": L.title_same, "jc": False},
        MAYBE,
        "same title; different journals",
        False,
    ),
    (
        "same title, authors and citation",
        {"ts": L.title_exact},
        DUPLICATE,
        "same title, authors and citation agree",
        False,
    ),
    (
        "same title, authors and citation",
        {"ts": L.title_same},
        DUPLICATE,
        "near-identical title, authors and citation agree",
        False,
    ),
    (
        "similar title, authors and citation",
        {"ts": L.title_similar, "pages": "same"},
        DUPLICATE,
        "similar title; authors and citation agree",
        False,
    ),
    (
        # support from all the authors: exactly 'many' of them, with pages and year
        "similar title, authors and citation",
        {"ts": L.title_similar, "pages": "same", "jc": None, "vol": "", "au_share": L.authors_many},
        DUPLICATE,
        "similar title; authors and citation agree",
        False,
    ),
    ("similar title", {"ts": L.title_similar}, MAYBE, "similar title", False),
    (
        "similar title, authors differ",
        {"ts": L.title_similar, "first_au": False, "au_share": 0.6, "author_ok": False},
        DISTINCT,
        "similar title, authors differ",
        False,
    ),
    (
        "reworded title, full citation and authors",
        {"ts": L.title_translated, "pages": "same", "ranged": True, "au_share": L.authors_ok},
        DUPLICATE,
        "same citation and authors; title translated or reworded",
        False,
    ),
    (
        "reworded title, same citation and first author",
        {"ts": L.title_translated - 1, "pages": "same", "ranged": True},
        MAYBE,
        "same citation and first author; titles differ",
        False,
    ),
    (
        "reworded title, same long abstract",
        {"ts": 60.0, "long_abstracts": True, "ab_sim": L.abstract_twin, "yd": 1},
        DUPLICATE,
        "same abstract and authors; title reworded",
        False,
    ),
    ("related title", {"ts": L.title_related}, MAYBE, "related title", False),
    ("titles differ", {"ts": L.title_related - 1}, DISTINCT, "titles differ", False),
]


def _first_rule(f: Facts) -> str:
    return next((r.name for r in RULES if r.when(f)), FALLBACK.name)


def test_every_rule_has_a_pair_that_fires_it() -> None:
    assert {r.name for r in (*RULES, FALLBACK)} == {c[0] for c in CASES}


@pytest.mark.parametrize(
    ("rule", "changes", "decision", "reason", "hard"),
    CASES,
    ids=[f"{c[0]}:{c[3][:40]}" for c in CASES],
)
def test_rule_decision_reason_and_hardness(
    rule: str, changes: dict, decision: str, reason: str, hard: bool
) -> None:
    f = pair(**changes)
    assert _first_rule(f) == rule
    v = decide(f)
    assert (v.decision, v.reason, v.hard) == (decision, reason, hard)


# -- the contradictions a person reads ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"pages": "different"}, "different page ranges"),
        ({"vol": "different"}, "different volumes"),
        ({"issue_conflict": True}, "different issues (the issue is reliable in this file)"),
        (
            {
                "end_conflict": True,
                "range_end": "different",
                "pages": "overlap",
                "weak_title": True,
            },
            "page ranges end apart (the last page is reliable in this file)",
        ),
        ({"yd": 2, "years": (2018, 2020)}, "years 2018 and 2020"),
        ({"cochrane": (True, True), "yd": 1}, "Cochrane review update (different years)"),
        ({"cochrane": (True, False), "jc": False}, "Cochrane review vs journal article"),
        (
            {"conference": (True, False), "vol": "", "span_pages": (1, 8)},
            "conference abstract vs journal article",
        ),
        ({"ab_sim": L.abstract_different - 1}, "different abstracts"),
        (
            {"pages": "different", "vol": "different", "yd": 3, "years": (2020, 2017)},
            "different page ranges; different volumes; years 2017 and 2020",
        ),
    ],
)
def test_each_contradiction_is_named_in_the_reason(changes: dict, reason: str) -> None:
    v = decide(pair(**changes))
    assert (v.decision, v.reason, v.hard) == (MAYBE, reason, True)


def test_contradictions_that_are_not_ones() -> None:
    """Limits of each contradiction, as a reviewer would draw them."""
    # years one apart, a Cochrane review in the same year, abstracts just similar enough
    assert pair(yd=1, years=(2019, 2020)).conflicts == ""
    assert pair(cochrane=(True, True)).conflicts == ""
    assert pair(ab_sim=L.abstract_different).conflicts == ""
    # a Cochrane review beside a record with no journal to compare: nothing to say
    assert pair(cochrane=(True, False), jc=None).conflicts == ""
    # the last page disagreeing matters for a weak title only (a typo is likelier otherwise)
    assert pair(end_conflict=True, range_end="different", pages="overlap").conflicts == ""


# -- meeting abstracts: abstract numbers are not page ranges -----------------------------------

MEETING = {
    "conference": (True, False),
    "one_page": (False, True),
    "span_pages": (0, 1),
    "pages": "different",  # abstract number P123 beside the page the journal printed it on
    "ts": L.title_same,
}


def test_one_meeting_abstract_indexed_twice_is_linked() -> None:
    f = pair(**MEETING)
    assert f.same_abstract_meeting
    assert decide(f).decision == DUPLICATE


@pytest.mark.parametrize(
    "changes",
    [
        {"ts": L.title_same - 1},
        {"jc": None},  # one venue must be known to be the same
        {"vol": "different"},
        {"yd": 1},  # a year apart: only two conference records with one first author
        {"one_page": (False, False), "span_pages": (0, 6)},  # the journal record is an article
        {"first_au": False, "au_share": L.authors_ok - 0.01, "author_ok": False},
        {"conference": (False, False)},
    ],
)
def test_not_one_meeting_abstract(changes: dict) -> None:
    f = pair(**{**MEETING, **changes})
    assert not f.same_abstract_meeting
    assert decide(f).decision != DUPLICATE


def test_meeting_abstract_a_year_apart_needs_both_conference_records_and_first_author() -> None:
    both = {**MEETING, "conference": (True, True), "yd": 1}
    assert pair(**both).same_abstract_meeting
    assert not pair(**both, first_au=None, au_share=1.0).same_abstract_meeting
    assert not pair(**{**both, "yd": 2}).same_abstract_meeting


@pytest.mark.parametrize(
    "changes",
    [
        {"ts": L.title_exact - 0.01},
        {"jc": True},  # one venue: the meeting-abstract rule's business, not this one
        {"jc": None},
        {"yd": 1},
        {"first_au": False},
        {"au_share": L.authors_ok - 0.01},
        {"many_authors": False},
        {"conference": (True, False)},
    ],
)
def test_not_one_abstract_in_two_supplements(changes: dict) -> None:
    base = {
        "ts": L.title_exact,
        "conference": (True, True),
        "jc": False,
        "au_share": L.authors_ok,
    }
    assert pair(**base).abstract_twice
    assert not pair(**{**base, **changes}).abstract_twice


# -- the same page of the same volume identifies a one-page item --------------------------------


@pytest.mark.parametrize(
    ("changes", "item_id"),
    [
        ({"pages": "same", "span_pages": (1, 1)}, "same page of the same volume"),
        ({"pages": "same", "span_pages": (1, 2)}, ""),
        ({"pages": "same", "span_pages": (2, 1)}, ""),
        ({"pages": "same", "span_pages": (1, 1), "yd": 1}, ""),
        ({"pages": "same", "span_pages": (1, 1), "vol": ""}, ""),
        ({"range_end": "same", "yd": 1}, "same full page range"),
        ({"range_end": "same", "yd": 2}, ""),
        ({"range_end": "same", "yd": None}, ""),
        ({"range_end": "same", "vol": "different"}, ""),
        ({"issue_positive": True}, "same volume and issue"),
        ({"issue_positive": True, "pages": "same"}, "same volume and issue"),
        ({"issue_positive": True, "pages": "overlap"}, ""),
        ({"issue_positive": True, "yd": 1}, ""),
        ({"issue_positive": True, "end_conflict": True}, ""),
    ],
)
def test_positive_item_identifier(changes: dict, item_id: str) -> None:
    assert pair(**changes).positive_item_id == item_id


# -- supports: one field fewer or more moves a pair across the line ---------------------------


def test_same_title_without_authors_links_on_two_agreeing_fields_not_one() -> None:
    one = pair(ts=L.title_same, **NO_AUTHORS, vol="", jc=None)
    two = pair(ts=L.title_same, **NO_AUTHORS, jc=None)
    assert (one.support, two.support) == (L.support_little - 1, L.support_little)
    assert decide(one).decision == MAYBE
    assert decide(two).reason == "near-identical title, authors and citation agree"


def test_same_title_a_year_apart_links_on_two_agreeing_fields_not_one() -> None:
    one = pair(yd=1, vol="", many_authors=False)
    two = pair(yd=1, many_authors=False)
    assert decide(one).reason == "same title; years one apart"
    assert decide(two).decision == DUPLICATE


def test_conference_paper_a_year_apart_needs_the_exact_title_and_both_conference_records() -> None:
    base = {"yd": 1, "conference": (True, True), "vol": "", "many_authors": False}
    assert decide(pair(**base, ts=L.title_exact)).decision == DUPLICATE
    assert decide(pair(**base, ts=L.title_exact - 0.01)).decision == MAYBE
    assert decide(pair(**{**base, "conference": (True, False)}, ts=100.0)).decision == MAYBE
    assert decide(pair(**base, ts=100.0, jc=False)).decision == MAYBE
    assert decide(pair(**base, ts=100.0, au_share=L.authors_ok - 0.01)).decision == MAYBE


def test_all_the_authors_count_as_support_only_from_the_many_authors_limit() -> None:
    base = {"ts": L.title_similar, "pages": "same", "jc": None, "vol": ""}
    assert decide(pair(**base, au_share=L.authors_many)).decision == DUPLICATE
    assert decide(pair(**base, au_share=L.authors_many - 0.01)).reason == "similar title"
    assert decide(pair(**base, au_share=1.0, many_authors=False)).reason == "similar title"


def test_short_title_with_other_authors_is_never_linked() -> None:
    for extra in ({"pages": "same"}, {}, {"pages": "overlap"}):
        v = decide(pair(short_title=True, **OTHER_AUTHORS, **extra))
        assert (v.decision, v.reason) == (DISTINCT, "short title")


# -- the reason reaches the pairs file -----------------------------------------------------------

ARTICLE = {
    "title": "Mepolizumab for severe eosinophilic asthma in adolescents",
    "author": "Ortiz, Ana and Kim, Sun-Hee",
    "year": "2020",
    "journal": "Pediatric Pulmonology",
    "volume": "55",
    "number": "5",
    "pages": "1101-1109",
}


@pytest.mark.parametrize(
    ("a", "b", "decision", "reason"),
    [
        (
            ARTICLE,
            {**ARTICLE, "author": "Ortiz, A. and Kim, S.", "journal": "Pediatr Pulmonol"},
            DUPLICATE,
            "same title, authors and citation agree",
        ),
        (
            ARTICLE,
            {**ARTICLE, "title": "Erratum: " + ARTICLE["title"], "number": "9", "pages": "2501"},
            MAYBE,
            "erratum vs article",
        ),
        (
            ARTICLE,
            {**ARTICLE, "volume": "56", "number": "", "pages": "", "year": "2021"},
            MAYBE,
            "different volumes",
        ),
        (
            {**ARTICLE, "doi": "10.1002/ppul.24701"},
            {**ARTICLE, "doi": "10.1002/ppul.24702", "pages": ""},
            MAYBE,
            "different DOIs",
        ),
        (
            ARTICLE,
            {**ARTICLE, "author": "Brassard, Paul and Renoux, Christel", "pages": ""},
            MAYBE,
            "same title, different authors",
        ),
    ],
)
def test_reason_reaches_the_pairs_file(a: dict, b: dict, decision: str, reason: str) -> None:
    result = find_duplicates(pd.DataFrame([{"ID": "a", **a}, {"ID": "b", **b}]))
    rows = result.pairs[["id_a", "id_b", "decision", "reason"]].values.tolist()
    assert rows == [["a", "b", decision, reason]]
    assert decision in {"duplicate", "maybe"}  # the words the pairs file shows


# -- the limits as documented in :class:`~review.dedup.rules.Limits`, read as literal values:
# a limit moved changes which pairs a reviewer sees linked, so it must be a deliberate change


@pytest.mark.parametrize(
    ("at", "below", "reason_at"),
    [
        ({"ts": 95.0}, {"ts": 94.9}, "near-identical title, authors and citation agree"),
        ({"ts": 99.5}, {"ts": 99.4}, "same title, authors and citation agree"),
        ({"ts": 90.0, "vol": "different"}, {"ts": 89.9, "vol": "different"}, "different volumes"),
        (
            {"ts": 85.0, "pages": "same"},
            {"ts": 84.9, "pages": "same"},
            "similar title; authors and citation agree",
        ),
        ({"ts": 80.0}, {"ts": 79.9}, "related title"),
        (
            {"ts": 80.0, "doi": "same", "vol": ""},
            {"ts": 79.9, "doi": "same", "vol": ""},
            "same DOI",
        ),
        (
            {"ts": 50.0, "pages": "same", "ranged": True},
            {"ts": 49.9, "pages": "same", "ranged": True},
            "same citation and authors; title translated or reworded",
        ),
        ({"ts": 97.0, "doi": "different"}, {"ts": 96.9, "doi": "different"}, "different DOIs"),
        (
            {"ts": 85.0, "pages": "same", "jc": None, "vol": "", "au_share": 0.9},
            {"ts": 85.0, "pages": "same", "jc": None, "vol": "", "au_share": 0.89},
            "similar title; authors and citation agree",
        ),
        (
            {"ts": 85.0, "ab_sim": 90.0},
            {"ts": 85.0, "ab_sim": 89.9},
            "similar title; authors and citation agree",
        ),
        (
            {
                "ts": 85.0,
                "pages": "same",
                "jc": None,
                "vol": "",
                "many_authors": False,
                "ab_sim": 90.0,
            },
            {
                "ts": 85.0,
                "pages": "same",
                "jc": None,
                "vol": "",
                "many_authors": False,
                "ab_sim": 89.9,
            },
            "similar title; authors and citation agree",
        ),
        (
            {"ts": 60.0, "long_abstracts": True, "ab_sim": 95.0},
            {"ts": 60.0, "long_abstracts": True, "ab_sim": 94.9},
            "same abstract and authors; title reworded",
        ),
        ({"ab_sim": 50.0}, {"ab_sim": 49.9}, "same title, authors and citation agree"),
    ],
)
def test_documented_limits(at: dict, below: dict, reason_at: str) -> None:
    v_at, v_below = decide(pair(**at)), decide(pair(**below))
    assert v_at.reason == reason_at
    assert (v_below.decision, v_below.reason) != (v_at.decision, v_at.reason)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # a reliable DOI disagreeing is never outweighed by the citation
        (
            {"doi": "different", "ts": 95.0, "pages": "same", "ranged": True, "range_end": "same"},
            "different DOIs",
        ),
        # two PubMed ids disagreeing where DOIs are reliable: the full citation decides
        (
            {"pmid": "different", "ts": 95.0, "pages": "same", "ranged": True, "range_end": "same"},
            "same title, authors and citation despite different PubMed ids "
            "(identifiers disagree often in this file)",
        ),
        ({"doi": "different", "ts": 97.0, "vol": "different"}, "different DOIs"),
        ({"doi": "different", "ts": 97.0, "pages": "different"}, "different DOIs"),
        # one journal under two names, same pages: linked
        ({"jc": False, "pages": "same"}, "same title, authors and citation agree"),
        ({"yd": 1, "ts": 85.0, "pages": "same"}, "similar title; authors and citation agree"),
        ({"ts": 85.0, **NO_AUTHORS, "vol": ""}, "similar title"),
        ({"ts": 80.0, "vol": "", "many_authors": False}, "related title"),
        ({"ts": 60.0, "long_abstracts": False, "ab_sim": 96.0}, "titles differ"),
        (
            # one conference record beside a one-page journal record: not a conference paper twice
            {
                "ts": 99.5,
                "yd": 1,
                "conference": (False, True),
                "span_pages": (1, 1),
                "vol": "",
                "many_authors": False,
            },
            "same title; years one apart",
        ),
        (
            {"ts": 99.5, "conference": (False, True), "jc": False, "au_share": 0.75},
            "conference abstract vs journal article",
        ),
    ],
)
def test_more_pairs_and_their_reasons(changes: dict, reason: str) -> None:
    assert decide(pair(**changes)).reason == reason


def test_different_ids_with_a_disagreeing_locator_are_not_even_asked_about() -> None:
    """Different DOIs and different volumes or page ranges: two items, no question left."""
    for locator in ({"vol": "different"}, {"pages": "different"}):
        v = decide(pair(doi="different", ts=100.0, **locator))
        assert (v.decision, v.reason, v.hard) == (DISTINCT, "different DOIs", True)


def test_a_conference_abstract_in_another_volume_names_both_contradictions() -> None:
    f = pair(conference=(True, False), vol="different", range_end="same", span_pages=(8, 8))
    assert f.conflicts == "different volumes; conference abstract vs journal article"


def test_title_marks_yield_to_a_full_citation_only_for_near_titles() -> None:
    full = {
        "marks": "different numbers in title",
        "pages": "same",
        "ranged": True,
        "range_end": "same",
    }
    assert pair(**full, ts=90.0).conflicts == ""
    assert pair(**full, ts=89.9).conflicts == "different numbers in title"
    assert not pair(ranged=True, range_end="same", pages="same", vol="").full_citation
    assert not pair(ranged=True, range_end="different", pages="same").full_citation
    assert pair(ranged=True, range_end="", pages="same").full_citation


def test_meeting_abstract_either_way_round() -> None:
    mirrored = {
        **MEETING,
        "conference": (False, True),
        "one_page": (True, False),
        "span_pages": (1, 0),
    }
    assert pair(**mirrored).same_abstract_meeting
    assert not pair(**{**mirrored, "one_page": (False, False)}).same_abstract_meeting


@pytest.mark.parametrize(
    ("changes", "conflict"),
    [
        ({"cochrane": (False, True), "yd": 1, "jc": False}, "Cochrane review vs journal article"),
        ({"conference": (False, True), "vol": "", "span_pages": (8, 1)}, True),
        ({"conference": (True, False), "vol": "", "span_pages": (1, 0)}, True),
        ({"conference": (True, False), "vol": "", "span_pages": (1, 2)}, False),
        ({"conference": (True, False), "vol": "", "span_pages": (1, 3)}, True),
        ({"conference": (True, False), "vol": "", "span_pages": (1, 2), "jc": None}, False),
        ({"conference": (True, False), "vol": "", "span_pages": (1, 2), "jc": False}, True),
        ({"conference": (True, False), "pages": "overlap", "span_pages": (1, 8)}, False),
        ({"conference": (True, False), "pages": "same", "span_pages": (1, 8)}, False),
        ({"conference": (True, False), "span_pages": (0, 8)}, False),
        (
            {"conference": (True, False), "range_end": "same", "vol": "", "span_pages": (8, 8)},
            False,
        ),
    ],
)
def test_conference_abstract_beside_a_journal_record(changes: dict, conflict: object) -> None:
    """A meeting abstract printed in the journal (one or two pages, or in the same issue) is
    the abstract itself; beside a longer article elsewhere it is another item."""
    got = pair(**changes).conflicts
    if isinstance(conflict, str):
        assert got == conflict
    else:
        assert ("conference abstract vs journal article" in got) is conflict


def test_a_copy_without_its_year_beside_a_recurring_column_is_told_the_title_recurs() -> None:
    """A title recurs when either record's title does: an export that lost the year puts the
    copy in no year's group, yet the reviewer must read "recurring title", not "generic"."""
    column = "Notes from the field: rural outreach to isolated adolescents"
    base = {"title": column, "journal": "Journal of Youth Work", "volume": "5",
            "authors": "Smith, J.; Doe, A."}
    result = find_duplicates(pd.DataFrame([
        {"ID": "march", **base, "year": 2010, "number": "1", "pages": "10-11"},
        {"ID": "june", **base, "year": 2010, "number": "2", "pages": "20-21"},
        {"ID": "no-year", **base, "year": None, "number": "1", "pages": "10-11"},
    ]))
    reasons = {tuple(sorted((r.id_a, r.id_b))): (r.decision, r.reason)
               for r in result.pairs.itertuples(index=False)}
    decision, reason = reasons[("march", "no-year")]
    assert decision == "maybe" and reason.startswith("recurring title")
    assert reasons[("june", "march")] == ("maybe", "different page ranges")
