"""Every named threshold of the decision, pinned by a pair on each side of it.

The rule table (:mod:`review.dedup.rules`) is read top to bottom; each test
builds the facts of one pair just above and just below one threshold and
checks the decision and the reason a person reads. A threshold moved, or a
comparison turned from ``>=`` to ``>``, fails here.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from review.dedup import find_duplicates
from review.dedup.evidence import RECURRING_COPIES, RELIABLE_M, FieldRate, learn, venue_dois
from review.dedup.prepare import prepare
from review.dedup.rules import DISTINCT, DUPLICATE, LIMITS, MAYBE, Facts, decide

BELOW = 1e-6


def pair(**changes: object) -> Facts:
    """An informative title, same first author, year, volume; nothing else known."""
    base = Facts(
        ts=100.0,
        has_title=True,
        truncated=False,
        first_au=True,
        au_share=1.0,
        author_ok=True,
        author_bad=False,
        many_authors=True,
        yd=0,
        years=(2020, 2020),
        jc=True,
        vol="same",
        iss="",
        issue_conflict=False,
        issue_positive=False,
        pages="",
        ranged=False,
        range_end="",
        end_conflict=False,
        doi="",
        doi_reliable=True,
        pmid="",
        ab_sim=None,
        long_abstracts=False,
        kind="",
        marks="",
        conference=(False, False),
        cochrane=(False, False),
        one_page=(False, False),
        span_pages=(0, 0),
        weak_title=False,
        short_title=False,
        generic_title=False,
        recurring=False,
        translated=False,
        bits=0.0,
    )
    return dataclasses.replace(base, **changes)


def test_same_title_threshold() -> None:
    at = decide(pair(ts=LIMITS.title_same))
    below = decide(pair(ts=LIMITS.title_same - BELOW))
    assert at.decision == DUPLICATE and "title, authors and citation agree" in at.reason
    assert below.decision == MAYBE and below.reason == "similar title"


def test_exact_title_threshold_names_the_title_in_the_reason() -> None:
    assert decide(pair(ts=LIMITS.title_exact)).reason.startswith("same title")
    assert decide(pair(ts=LIMITS.title_exact - BELOW)).reason.startswith("near-identical title")


def test_near_title_threshold_decides_maybe_or_distinct_under_a_contradiction() -> None:
    conflict = {"pages": "different"}
    at = decide(pair(ts=LIMITS.title_near, **conflict))
    below = decide(pair(ts=LIMITS.title_near - BELOW, **conflict))
    assert (at.decision, at.hard) == (MAYBE, True)
    assert (below.decision, below.hard) == (DISTINCT, True)
    assert at.reason == below.reason == "different page ranges"


def test_similar_title_threshold() -> None:
    # the support stays below the 'related title' rule, so below the threshold nothing holds
    lone = {"jc": None, "vol": "", "many_authors": False}
    assert decide(pair(ts=LIMITS.title_similar, **lone)).decision == MAYBE
    assert decide(pair(ts=LIMITS.title_similar - BELOW, **lone)).decision == DISTINCT


def test_similar_title_links_only_with_enough_support() -> None:
    pinned = {"ts": LIMITS.title_similar, "pages": "same", "many_authors": False}
    # support: journal, volume, pages, year = 4; drop two of them to reach 2
    assert decide(pair(**pinned)).decision == DUPLICATE
    assert decide(pair(jc=None, **pinned)).decision == DUPLICATE  # 3 = support_similar
    assert decide(pair(jc=None, vol="", **pinned)).decision == MAYBE  # 2 < support_similar


def test_related_title_threshold() -> None:
    assert decide(pair(ts=LIMITS.title_related)).reason == "related title"
    assert decide(pair(ts=LIMITS.title_related - BELOW)).decision == DISTINCT


def test_shared_identifier_title_threshold() -> None:
    no_citation = {"doi": "same", "first_au": None, "au_share": None, "author_ok": False}
    at = decide(pair(ts=LIMITS.title_with_id, **no_citation))
    below = decide(pair(ts=LIMITS.title_with_id - BELOW, **no_citation))
    assert (at.decision, at.reason) == (DUPLICATE, "same DOI")
    assert (below.decision, below.reason) == (MAYBE, "same DOI but titles differ")


def test_different_identifiers_threshold() -> None:
    at = decide(pair(ts=LIMITS.title_exact_despite_id, doi="different"))
    below = decide(pair(ts=LIMITS.title_exact_despite_id - BELOW, doi="different"))
    assert (at.decision, at.hard) == (MAYBE, True)
    assert (below.decision, below.hard) == (DISTINCT, True)


def test_reworded_title_threshold_with_a_full_citation() -> None:
    citation = {"pages": "same", "ranged": True, "jc": False, "many_authors": False}
    at = decide(pair(ts=LIMITS.title_translated, **citation))
    below = decide(pair(ts=LIMITS.title_translated - BELOW, **citation))
    assert at.decision == DUPLICATE and "translated or reworded" in at.reason
    assert below.decision == MAYBE and "titles differ" in below.reason
    assert decide(pair(ts=10.0, translated=True, **citation)).decision == DUPLICATE


def test_author_share_thresholds() -> None:
    ok = decide(pair(first_au=False, au_share=LIMITS.authors_ok, author_ok=True))
    assert ok.decision == DUPLICATE
    bad = pair(
        first_au=False, au_share=LIMITS.authors_bad - BELOW, author_ok=False, author_bad=True
    )
    assert decide(bad).reason == "same title, different authors"


def test_abstract_thresholds() -> None:
    assert decide(pair(ab_sim=LIMITS.abstract_different)).decision == DUPLICATE
    differ = decide(pair(ab_sim=LIMITS.abstract_different - BELOW))
    assert (differ.decision, differ.reason) == (MAYBE, "different abstracts")


def test_weak_title_needs_a_positive_item_identifier() -> None:
    weak = {"weak_title": True, "recurring": True}
    nothing = decide(pair(**weak))
    assert (nothing.decision, nothing.reason) == (
        MAYBE,
        "recurring title; nothing identifies the item",
    )
    ranged = decide(pair(range_end="same", pages="same", ranged=True, **weak))
    assert (ranged.decision, ranged.reason) == (DUPLICATE, "recurring title; same full page range")
    issue = decide(pair(iss="same", issue_positive=True, **weak))
    assert issue.reason == "recurring title; same volume and issue"


def test_reliable_locator_disagreement_is_maybe_at_best_and_hard() -> None:
    for change in ({"issue_conflict": True}, {"pages": "different"}, {"doi": "different"}):
        v = decide(pair(**change))
        assert v.decision == MAYBE and v.hard, change
    # a generic title agreeing is no evidence: the contradiction settles it, no maybe-list entry
    end = decide(
        pair(end_conflict=True, range_end="different", weak_title=True, generic_title=True)
    )
    assert end.hard and end.decision == DISTINCT
    assert "page ranges end apart" in end.reason
    # the same last-page disagreement under an identifying title: a typo in the end page
    assert decide(pair(end_conflict=True, range_end="different")).decision == DUPLICATE
    # a subject title that recurs in the file: the contradiction leaves a question
    recurring = pair(pages="different", weak_title=True, recurring=True)
    assert decide(recurring).decision == MAYBE
    # the same disagreement where the file shows the field to be noise: no contradiction
    assert decide(pair(iss="different", issue_conflict=False)).decision == DUPLICATE


def test_reliability_threshold_of_a_field() -> None:
    assert FieldRate(m=RELIABLE_M, u=0.01, pairs=10).reliable
    assert not FieldRate(m=RELIABLE_M - BELOW, u=0.01, pairs=10).reliable
    rate = FieldRate(m=0.9, u=0.1, pairs=10)
    assert math.isclose(rate.agree_bits, math.log2(9))
    assert math.isclose(rate.disagree_bits, math.log2(0.1 / 0.9))


def _records(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).fillna("")


def test_issue_counter_column_is_learnt_as_noise() -> None:
    """An issue column that numbers the records: sure duplicates disagree on it, so it is noise."""
    rows = []
    for k in range(12):
        base = {
            "title": f"Sputum biomarkers of exacerbation risk in cohort number {k} of adults",
            "author": f"Author{k}, A. and Other, B.",
            "year": "2019",
            "journal": "Thorax",
            "volume": str(60 + k),
            "pages": f"{100 + 20 * k}-{110 + 20 * k}",
        }
        rows.append(dict(base, ID=f"a{k}", number=str(2 * k)))
        rows.append(dict(base, ID=f"b{k}", number=str(2 * k + 1)))
    df = _records(rows)
    result = find_duplicates(df)
    assert len(result.duplicate_groups) == 12
    # the same records with a real issue field that agrees: issue learnt as reliable
    df["number"] = [str(k % 12 + 1) for k in range(len(df))]
    df.loc[df.index % 2 == 1, "number"] = df.loc[df.index % 2 == 0, "number"].to_numpy()
    p = prepare(df)
    a = np.arange(0, len(df), 2)
    ev = learn(p, a, a + 1, np.full(len(a), 100.0))
    assert ev.reliable("issue") and ev.rates["issue"].pairs == 12


def test_venue_doi_needs_unlike_titles() -> None:
    base = {"year": "2020", "journal": "Chest", "doi": "10.1000/suppl.1"}
    unlike = _records(
        [
            dict(base, ID="1", title="Airway stents in benign tracheal stenosis"),
            dict(base, ID="2", title="Cryobiopsy yield in interstitial lung disease"),
        ]
    )
    alike = _records(
        [
            dict(base, ID="1", title="Airway stents in benign tracheal stenosis"),
            dict(base, ID="2", title="Airway stents in benign tracheal stenosis: a series"),
        ]
    )
    assert venue_dois(prepare(unlike)) == {"10.1000/suppl.1"}
    assert venue_dois(prepare(alike)) == frozenset()


@pytest.mark.parametrize("copies", [RECURRING_COPIES, RECURRING_COPIES + 1])
def test_recurring_copies_threshold(copies: int) -> None:
    rows = [
        {
            "ID": str(k),
            "title": "Stepwise management of pleural infection in adults",
            "year": "2020",
        }
        for k in range(copies)
    ]
    p = prepare(_records(rows))
    a = np.arange(copies - 1)
    ev = learn(p, a, a + 1, np.full(copies - 1, 100.0))
    assert all(ev.recurring) is (copies > RECURRING_COPIES)


def test_shared_identifier_with_a_reliable_locator_disagreeing_is_maybe_and_hard() -> None:
    cases = {
        "different issues": {"issue_conflict": True},
        "different page ranges": {"pages": "different"},
        "page ranges end apart": {"end_conflict": True, "range_end": "different"},
    }
    for words, change in cases.items():
        v = decide(pair(doi="same", **change))
        assert (v.decision, v.hard, v.reason) == (MAYBE, True, f"same DOI but {words}")
    pmid = decide(pair(pmid="same", issue_conflict=True))
    assert pmid.reason == "same PubMed id but different issues"


def test_shared_identifier_links_reworded_titles_only_with_authors_and_a_locator() -> None:
    reworded = {"doi": "same", "ts": LIMITS.title_with_id - 1}
    assert decide(pair(pages="same", vol="", **reworded)).decision == DUPLICATE
    assert decide(pair(pages="", vol="same", **reworded)).decision == DUPLICATE
    assert decide(pair(pages="", vol="", **reworded)).decision == MAYBE
    no_authors = {"author_ok": False, "first_au": None, "au_share": None}
    assert decide(pair(pages="same", **no_authors, **reworded)).decision == MAYBE
    # no title at all: the identifier alone links
    assert decide(pair(has_title=False, ts=float("nan"), doi="same")).decision == DUPLICATE


def test_shared_identifier_with_different_title_marks_is_maybe() -> None:
    v = decide(pair(doi="same", marks="title differs in part: 1 vs 2"))
    assert (v.decision, v.hard) == (MAYBE, True)
    assert v.reason == "same DOI but title differs in part: 1 vs 2"
