"""find_duplicates: the groups a reviewer expects, the traps it must not fall into, bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from review.dedup import DedupResult, find_duplicates, pairwise_scores

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dedup"


def _groups(result: DedupResult) -> set[frozenset[str]]:
    return {frozenset(g) for g in result.duplicate_groups}


def _same_cluster(result: DedupResult, a: str, b: str) -> bool:
    c = dict(zip(result.clusters["ID"], result.clusters["cluster_id"], strict=True))
    return c[a] == c[b]


def _pair(result: DedupResult, a: str, b: str) -> pd.Series | None:
    p = result.pairs
    hit = p[((p["id_a"] == a) & (p["id_b"] == b)) | ((p["id_a"] == b) & (p["id_b"] == a))]
    return None if hit.empty else hit.iloc[0]


@pytest.fixture(scope="module")
def fixture_result() -> DedupResult:
    return find_duplicates(pd.read_csv(FIXTURES / "records.csv"))


def test_fixture_groups_are_found_exactly(fixture_result: DedupResult) -> None:
    gold = [g.split(";") for g in pd.read_csv(FIXTURES / "groups.csv")["merged_ids"]]
    scores = pairwise_scores(fixture_result.clusters, gold)
    assert (scores.fp, scores.fn) == (0, 0)
    assert _groups(fixture_result) == {frozenset(g) for g in gold}


def test_one_row_per_record_with_cluster_ids(fixture_result: DedupResult) -> None:
    records = pd.read_csv(FIXTURES / "records.csv")
    assert list(fixture_result.clusters.columns) == ["ID", "cluster_id"]
    assert list(fixture_result.clusters["ID"]) == list(records["ID"])
    assert fixture_result.pairs_compared > 0
    assert set(fixture_result.pairs["decision"]) <= {"duplicate", "maybe"}
    assert {"id_a", "id_b", "score", "decision", "method", "reason"} <= set(
        fixture_result.pairs.columns
    )


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("e01", "e02", "erratum"),
        ("p01", "p02", "part"),
        ("s01", "s02", "sex"),
        ("v01", "v02", "vivo"),
        ("c01", "c02", "conference"),
        ("r01", "r02", "Cochrane"),
        ("t01", "t02", "protocol"),
        ("g01", "g02", "page"),
    ],
)
def test_related_records_are_kept_apart_and_shown_to_a_person(fixture_result, a, b, reason) -> None:
    assert not _same_cluster(fixture_result, a, b)
    pair = _pair(fixture_result, a, b)
    assert pair is not None and pair["decision"] == "maybe" and reason in pair["reason"]


def _record(id_: str, title: str, **fields) -> dict:
    base = {
        "ID": id_,
        "title": title,
        "author": "Haddad, L. and Varga, Z.",
        "year": 2018,
        "journal": "BMC Public Health",
    }
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ("Loneliness in young people: part I", "Loneliness in young people: part II", "part"),
        ("Loneliness in young men", "Loneliness in young women", "sex"),
        ("Oxytocin and social isolation in vivo", "Oxytocin and social isolation in vitro", "vivo"),
        (
            "HPV-positive adolescents and school absence",
            "HPV-negative adolescents and school absence",
            "sign",
        ),
        ("Peer support for loneliness", "Correction: Peer support for loneliness", "erratum"),
        (
            "Peer support for loneliness",
            "Retraction notice: Peer support for loneliness",
            "retraction",
        ),
        (
            "Peer support for loneliness in adolescents",
            "Reply to: Peer support for loneliness in adolescents",
            "comment",
        ),
        (
            "Peer support for loneliness in schools: a cluster randomised trial protocol",
            "Peer support for loneliness in schools: a cluster randomised trial",
            "protocol",
        ),
    ],
)
def test_traps_hold_even_without_page_numbers(first: str, second: str, why: str) -> None:
    """Titles nearly alike and nothing else to tell them apart: the trap word alone decides."""
    result = find_duplicates(pd.DataFrame([_record("a", first), _record("b", second)]))
    assert not _same_cluster(result, "a", "b")
    pair = _pair(result, "a", "b")
    assert pair is not None and pair["decision"] == "maybe" and why in pair["reason"]


def test_clusters_do_not_chain_through_a_bridge_record() -> None:
    """An article, its erratum, and a record that looks like both: the erratum never joins."""
    rows = [
        _record(
            "art",
            "Community capacity building for youth mental health",
            volume="18",
            pages="1044-1052",
        ),
        _record("bridge", "Community capacity building for youth mental health", volume="18"),
        _record(
            "err",
            "Community capacity building for youth mental health (vol 18, pg 1044, 2018)",
            volume="18",
            pages="1213",
        ),
    ]
    result = find_duplicates(pd.DataFrame(rows))
    assert _same_cluster(result, "art", "bridge")
    assert not _same_cluster(result, "err", "art")
    assert not _same_cluster(result, "err", "bridge")


def test_records_py_shape_is_accepted() -> None:
    """The importers' field names: authors as a list, issue, type, pmid, keywords."""
    rows = [
        {
            "title": "Belonging at school and adolescent wellbeing",
            "authors": ["Silva, R.", "Khan, A."],
            "year": 2021,
            "journal": "J Sch Psychol",
            "volume": "85",
            "issue": "2",
            "pages": "10-19",
            "pmid": "33612345",
            "keywords": ["belonging"],
            "type": "JOUR",
        },
        {
            "title": "Belonging at school and adolescent wellbeing.",
            "authors": ["R Silva", "A Khan"],
            "year": "2021",
            "journal": "Journal of School Psychology",
            "volume": "85",
            "issue": None,
            "pages": "10-9",
            "pmid": None,
            "keywords": [],
            "type": None,
        },
    ]
    result = find_duplicates(pd.DataFrame(rows))
    assert list(result.clusters["ID"]) == ["0", "1"]
    assert _same_cluster(result, "0", "1")


def test_bad_input_is_handled_not_crashed_on() -> None:
    huge = "Loneliness " * 200_000  # a 2 MB abstract
    rows = [
        {"ID": "no-title", "title": None, "author": "Okafor, A.", "year": 2019},
        {"ID": "no-title-2", "title": "", "author": "Okafor, A.", "year": 2019},
        {"ID": "doi-only-1", "doi": "10.1000/xyz.1"},
        {"ID": "doi-only-2", "doi": "https://doi.org/10.1000/XYZ.1"},
        {
            "ID": "huge-1",
            "title": "Loneliness and social media use in adolescents",
            "abstract": huge,
            "author": "Lee, K.",
            "year": 2020,
            "journal": "J Adolesc",
        },
        {
            "ID": "huge-2",
            "title": "Loneliness and social media use in adolescents",
            "abstract": huge,
            "author": "Lee, K.",
            "year": 2020,
            "journal": "Journal of Adolescence",
        },
        {
            "ID": "zh",
            "title": "青少年孤独感与同伴支持的关系研究",
            "author": "王, 小明",
            "year": 2020,
        },
        {
            "ID": "zh-2",
            "title": "青少年孤独感与同伴支持的关系研究",
            "author": "王, 小明",
            "year": 2020,
        },
        {
            "ID": "ru",
            "title": "Одиночество и социальная поддержка у подростков",
            "author": "Иванов, И.",
            "year": 2018,
        },
        {"ID": "ar", "title": "الوحدة لدى المراهقين", "author": None, "year": None},
        {
            "ID": "junk",
            "title": "???",
            "author": ";;;",
            "year": "unknown",
            "pages": "Suppl-",
            "volume": "x",
        },
        {"ID": "long-title-1", "title": "Loneliness in school " * 20_000, "author": "Lee, K."},
        {"ID": "long-title-2", "title": "Loneliness in school " * 20_000, "author": "Lee, K."},
    ]
    result = find_duplicates(pd.DataFrame(rows))
    assert len(result.clusters) == len(rows)
    assert _same_cluster(result, "doi-only-1", "doi-only-2")
    assert _same_cluster(result, "huge-1", "huge-2")
    assert _same_cluster(result, "zh", "zh-2")
    assert not _same_cluster(result, "zh", "ru")
    # without a title there is nothing to be sure of: a person decides
    assert not _same_cluster(result, "no-title", "no-title-2")


def test_empty_and_single_inputs() -> None:
    empty = find_duplicates(pd.DataFrame(columns=["ID", "title"]))
    assert empty.clusters.empty and empty.pairs.empty and empty.pairs_compared == 0
    one = find_duplicates(pd.DataFrame([{"ID": "x", "title": "Only one record"}]))
    assert list(one.clusters["cluster_id"]) == [1]


def test_repeated_ids_are_refused_with_the_id_named() -> None:
    with pytest.raises(ValueError, match="r1"):
        find_duplicates(pd.DataFrame([{"ID": "r1", "title": "a"}, {"ID": "r1", "title": "b"}]))


def test_exact_copies_form_one_cluster_whatever_their_number() -> None:
    rows = [
        _record(
            f"c{k}",
            "Mentoring programmes and loneliness: a cluster randomised trial",
            volume="18",
            pages="1-9",
        )
        for k in range(60)
    ]
    result = find_duplicates(pd.DataFrame(rows))
    assert result.clusters["cluster_id"].nunique() == 1


def test_same_long_abstract_and_authors_outweigh_a_reworded_title() -> None:
    abstract = (
        "Background: Loneliness in adolescence predicts later depression. Methods: We randomised "
        "42 secondary schools to a peer mentoring programme or usual care and followed 3,120 "
        "pupils for two years. Results: Mentoring reduced loneliness scores by 0.3 standard "
        "deviations at 12 months, with no effect on depressive symptoms. Conclusions: Peer "
        "mentoring is a feasible way to reduce loneliness in schools."
    )
    rows = [
        _record("en", "Peer mentoring and loneliness in secondary schools", abstract=abstract),
        _record(
            "tr",
            "Mentorat par les pairs et solitude dans les écoles secondaires",
            abstract=abstract + " Copyright 2018.",
        ),
        _record(
            "other",
            "Mentorat par les pairs et solitude dans les écoles secondaires",
            abstract="A different study of school climate and bullying in 12 primary schools "
            "with a survey of teachers and parents about the programme, its costs and "
            "the time it took staff to deliver it during the school year.",
        ),
    ]
    result = find_duplicates(pd.DataFrame(rows))
    assert _same_cluster(result, "en", "tr")
    assert not _same_cluster(result, "tr", "other")


MEETING_TITLE = ("Peer mentoring reduces loneliness in adolescents with long-term conditions: "
                 "a multicentre randomised trial")
MEETING_AUTHORS = "Okafor, C. and Lindqvist, M. and Haddad, L. and Varga, Z."


def test_one_abstract_printed_in_two_meetings_supplements_is_one_record() -> None:
    """Presented at two meetings: word-for-word title, same authors and year, two supplements."""
    first = _record("a", MEETING_TITLE, author=MEETING_AUTHORS, journal="Archives of Disease "
                    "in Childhood", volume="104", number="Suppl 2", pages="A112")
    second = _record("b", MEETING_TITLE, author=MEETING_AUTHORS, journal="Journal of "
                     "Adolescent Health", volume="66", number="2 Suppl", pages="S45-S46")
    result = find_duplicates(pd.DataFrame([first, second]))
    assert _same_cluster(result, "a", "b")
    assert "two supplements" in _pair(result, "a", "b")["reason"]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"year": 2019}, "another year: a later, updated abstract"),
        ({"author": "Brennan, S. and Costa, R."}, "other authors"),
        ({"number": "3", "pages": "301-309"}, "a full article, not a second abstract"),
        ({"title": MEETING_TITLE.replace("multicentre", "pilot")}, "a different title"),
    ],
)
def test_meeting_abstracts_that_differ_in_anything_else_stay_apart(change: dict, why: str
                                                                   ) -> None:
    first = _record("a", MEETING_TITLE, author=MEETING_AUTHORS, journal="Archives of Disease "
                    "in Childhood", volume="104", number="Suppl 2", pages="A112")
    second = _record("b", MEETING_TITLE, author=MEETING_AUTHORS, journal="Journal of "
                     "Adolescent Health", volume="66", number="2 Suppl", pages="S45-S46")
    second.update(change)
    result = find_duplicates(pd.DataFrame([first, second]))
    assert not _same_cluster(result, "a", "b"), why
