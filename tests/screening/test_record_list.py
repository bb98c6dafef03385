"""The record list's store functions on SQLite and PostgreSQL: search, filters, blind mode, changes.

Oracles are independent of the SQL: a Python word matcher for search, and
:func:`review.stages.stage_outcomes` (the pandas reference) for final
decisions and conflicts.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import pandas as pd
import pytest
from sqlalchemy import select

from review.screening import record_list as rl
from review.stages import stage_outcomes
from review.store import Store, repo
from review.store.models import AuditLog, Decision, Ranking, RankingRun, Report

WORDS = ["loneliness", "placebo", "controlled", "adolescents", "mentoring", "peer", "support",
         "school", "children", "trial", "cohort", "qualitative", "family", "anxiety"]


@dataclass
class Person:
    reviewer_id: int
    role: str
    username: str


def build(store: Store, n: int = 60, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    recs = []
    for i in range(n):
        title = " ".join(rnd.sample(WORDS, 4))
        if i % 7 == 0:
            title += " placebo-controlled"
        recs.append({"title": title.capitalize(),
                     "abstract": " ".join(rnd.sample(WORDS, 6)) + f". Children's study {i}.",
                     "authors": [f"Author{i % 5} Q", "Müller K"], "year": 2000 + i % 20,
                     "keywords": [rnd.choice(WORDS)]})
    repo.add_source(store, name="PubMed", kind="database", file_name="a.nbib",
                    file_format="nbib", sha256="a", records=recs[: n // 2])
    repo.add_source(store, name="Embase", kind="database", file_name="b.ris",
                    file_format="ris", sha256="b", records=recs[n // 2:])
    return recs


def people(store: Store) -> dict[str, Person]:
    out = {}
    for name, role in (("lead", "lead"), ("ana", "reviewer"), ("ben", "reviewer")):
        out[name] = Person(repo.add_reviewer(store, name, name.title(), role=role), role, name)
    return out


def ids_of(store: Store) -> list[int]:
    return repo.records_frame(store)["record_id"].astype(int).tolist()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def oracle_match(rec: dict, terms: list[rl.Term]) -> bool:
    """Every term in some field; a phrase's words adjacent within one field."""
    fields = [words(rec["title"]), words(rec["abstract"]), words(" ".join(rec["authors"])),
              words(" ".join(rec["keywords"]))]

    def in_field(blob: list[str], t: rl.Term) -> bool:
        n = len(t.words)
        for i in range(len(blob) - n + 1):
            window = blob[i:i + n]
            last = window[-1]
            if window[:-1] == list(t.words[:-1]) and (
                    last.startswith(t.words[-1]) if t.prefix else last == t.words[-1]):
                return True
        return False

    return all(any(in_field(f, t) for f in fields) for t in terms)


SETTINGS = {"blind": True, "reviewers_per_record": 1,
            "exclusion_reasons_title_abstract": ["Wrong population", "Wrong design"],
            "exclusion_reasons_full_text": ["Wrong outcome"]}


@pytest.mark.parametrize("search", ["placebo", "placebo-controlled", "lonel*", '"peer support"',
                                    "müller", "author3", "children's", "mentoring school",
                                    "Children 's", "adolesc* family"])
def test_search_matches_a_word_oracle(store: Store, search: str) -> None:
    recs = build(store)
    lead = people(store)["lead"]
    ids = ids_of(store)
    expect = {rid for rid, rec in zip(ids, recs, strict=True)
              if oracle_match(rec, rl.parse_search(search))}
    got = set(rl.find_record_ids(store, lead, rl.RecordQuery(text=search), SETTINGS))
    assert got == expect
    assert expect, "the oracle should find something for every query here"


@pytest.mark.parametrize("search", ['"', "*", "OR AND NOT", "NEAR(a b)", "a:*", "' OR 1=1 --",
                                    "%_", "(((", "^", "\\", "-placebo", "  "])
def test_hostile_search_text_is_words_never_syntax(store: Store, search: str) -> None:
    build(store, n=10)
    lead = people(store)["lead"]
    page = rl.find_records(store, lead, rl.RecordQuery(text=search), SETTINGS)
    terms = rl.parse_search(search)
    assert page.total == (10 if not terms else page.total)  # no error; blank search = all
    if search == "-placebo":
        assert page.total == len(rl.find_record_ids(store, lead, rl.RecordQuery(text="placebo"),
                                                    SETTINGS))


def test_filters_year_source_duplicates_and_paging(store: Store) -> None:
    recs = build(store)
    lead = people(store)["lead"]
    ids = ids_of(store)
    repo.link_duplicate(store, ids[1], ids[0], actor="t")
    q = rl.RecordQuery(year_from=2005, year_to=2009, sort="record")
    got = rl.find_record_ids(store, lead, q, SETTINGS)
    assert got == [r for r, rec in zip(ids, recs, strict=True)
                   if 2005 <= rec["year"] <= 2009 and r != ids[1]]
    sources = repo.sources_frame(store)
    embase = int(sources.loc[sources["name"] == "Embase", "source_id"].iloc[0])
    got = rl.find_record_ids(store, lead, rl.RecordQuery(source_id=embase), SETTINGS)
    assert sorted(got) == ids[30:]
    assert rl.find_record_ids(store, lead, rl.RecordQuery(duplicates="only"), SETTINGS) == [ids[1]]
    assert len(rl.find_record_ids(store, lead, rl.RecordQuery(duplicates="all"), SETTINGS)) == 60
    # Pages cover the list once, in order.
    seen = []
    first = rl.find_records(store, lead, rl.RecordQuery(sort="year_desc"), SETTINGS, per_page=7)
    for p in range(first.pages):
        page = rl.find_records(store, lead, rl.RecordQuery(sort="year_desc"), SETTINGS,
                               page=p, per_page=7)
        seen += page.rows["record_id"].tolist()
    assert first.total == 59 and len(seen) == 59 and len(set(seen)) == 59
    years = [recs[ids.index(r)]["year"] for r in seen]
    assert years == sorted(years, reverse=True)
    # Duplicates are marked with their canonical record in the list.
    dup = rl.find_records(store, lead, rl.RecordQuery(duplicates="only"), SETTINGS)
    assert dup.rows["duplicate_of"].tolist() == [ids[0]]


def _random_history(store: Store, who: dict[str, Person], ids: list[int], seed: int) -> None:
    rnd = random.Random(seed)
    for rid in ids[:45]:
        for p in rnd.sample([who["ana"], who["ben"]], rnd.randint(1, 2)):
            for _ in range(rnd.randint(1, 3)):
                label = rnd.choice(["include", "exclude", "exclude", "maybe", "retracted"])
                reason = rnd.choice(["Wrong population", "Wrong design"]) \
                    if label == "exclude" else None
                repo.add_decision(store, record_id=rid, reviewer_id=p.reviewer_id,
                                  stage="title_abstract", label=label, reason=reason)
        if rnd.random() < 0.1:
            repo.add_resolution(store, record_id=rid, stage="title_abstract",
                                label=rnd.choice(["include", "exclude"]),
                                resolved_by=who["lead"].reviewer_id)


@pytest.mark.parametrize("seed", [3, 4])
def test_final_and_conflict_filters_agree_with_the_reference_rule(store: Store, seed: int
                                                                  ) -> None:
    build(store)
    who = people(store)
    ids = ids_of(store)
    _random_history(store, who, ids, seed)
    settings = {**SETTINGS, "reviewers_per_record": 2}
    ref = stage_outcomes(repo.decisions_frame(store, "title_abstract"),
                         repo.resolutions_frame(store, "title_abstract"), 2)
    final = dict(zip(ref["record_id"].astype(int), ref["label"], strict=True))
    lead = who["lead"]
    for label in ("include", "exclude", "maybe"):
        got = set(rl.find_record_ids(store, lead, rl.RecordQuery(final=label), settings))
        assert got == {r for r, v in final.items() if v == label}
    got = set(rl.find_record_ids(store, lead, rl.RecordQuery(final="none"), settings))
    assert got == {r for r in ids if pd.isna(final.get(r))}
    got = set(rl.find_record_ids(store, lead, rl.RecordQuery(conflict=True), settings))
    assert got == set(ref.loc[ref["status"] == "conflict", "record_id"].astype(int))
    # My decision / reviewer / reason filters against each reviewer's latest standing decision.
    dec = repo.decisions_frame(store, "title_abstract").sort_values("id")
    latest = dec.groupby(["record_id", "reviewer_id"]).tail(1)
    standing = latest[latest["label"] != "retracted"]
    ana = who["ana"]
    mine = standing[standing["reviewer_id"] == ana.reviewer_id]
    for label in ("include", "exclude", "maybe"):
        got = set(rl.find_record_ids(store, ana, rl.RecordQuery(my_decision=label), settings))
        assert got == set(mine.loc[mine["label"] == label, "record_id"].astype(int))
    got = set(rl.find_record_ids(store, ana, rl.RecordQuery(my_decision="undecided"), settings))
    assert got == set(ids) - set(mine["record_id"].astype(int))
    got = set(rl.find_record_ids(store, ana, rl.RecordQuery(reason="Wrong design"), settings))
    assert got == set(mine.loc[mine["reason"] == "Wrong design", "record_id"].astype(int))
    got = set(rl.find_record_ids(store, lead, rl.RecordQuery(reviewer_id=who["ben"].reviewer_id),
                                 settings))
    assert got == set(standing.loc[standing["reviewer_id"] == who["ben"].reviewer_id,
                                   "record_id"].astype(int))


def test_blind_mode_holds_in_filters_columns_and_history(store: Store) -> None:
    build(store, n=10)
    who = people(store)
    ids = ids_of(store)
    ana, ben = who["ana"], who["ben"]
    repo.add_decision(store, record_id=ids[0], reviewer_id=ben.reviewer_id,
                      stage="title_abstract", label="exclude", reason="Wrong design")
    repo.add_decision(store, record_id=ids[0], reviewer_id=ana.reviewer_id,
                      stage="title_abstract", label="include")
    settings = {**SETTINGS, "reviewers_per_record": 2}
    for forged in (rl.RecordQuery(final="include"), rl.RecordQuery(conflict=True),
                   rl.RecordQuery(reviewer_id=ben.reviewer_id)):
        with pytest.raises(rl.RecordListError, match="blind"):
            rl.find_records(store, ana, forged, settings)
    # Ben's reason is not Ana's: the reason filter speaks of her own decisions only.
    assert rl.find_record_ids(store, ana, rl.RecordQuery(reason="Wrong design"), settings) == []
    row = rl.find_records(store, ana, rl.RecordQuery(sort="record"), settings).rows.iloc[0]
    assert row["my_decision"] == "include"
    assert row["final"] is None and row["conflict"] is None and row["reviewers"] is None
    detail = rl.open_record(store, ana, ids[0], "title_abstract", settings)
    assert [h["reviewer_id"] for h in detail["history"]] == [ana.reviewer_id]
    # The lead sees both, and the conflict.
    lead_row = rl.find_records(store, who["lead"], rl.RecordQuery(conflict=True),
                               settings).rows.iloc[0]
    assert lead_row["record_id"] == ids[0] and bool(lead_row["conflict"])
    assert "Ben: exclude" in lead_row["reviewers"]
    # With blind mode off, reviewers see others too.
    open_settings = {**settings, "blind": False}
    detail = rl.open_record(store, ana, ids[0], "title_abstract", open_settings)
    assert len(detail["history"]) == 2


def test_change_decision_appends_audits_and_checks_everything(store: Store) -> None:
    build(store, n=10)
    who = people(store)
    ids = ids_of(store)
    ana = who["ana"]
    first = rl.change_decision(store, ana, ids[2], "title_abstract", "include", SETTINGS)
    second = rl.change_decision(store, ana, ids[2], "title_abstract", "exclude", SETTINGS,
                                reason="Wrong design", note="  methods say cohort ",
                                request_id="req-1")
    again = rl.change_decision(store, ana, ids[2], "title_abstract", "exclude", SETTINGS,
                               reason="Wrong design", request_id="req-1")
    assert again == second != first
    with store.session() as s:
        rows = s.execute(select(Decision.id, Decision.label, Decision.reason, Decision.note)
                         .where(Decision.record_id == ids[2]).order_by(Decision.id)).all()
        audit = s.execute(select(AuditLog.action, AuditLog.detail)
                          .where(AuditLog.row_id == second, AuditLog.table_name == "decision")
                          ).first()
    assert [tuple(r) for r in rows] == [(first, "include", None, None),
                                        (second, "exclude", "Wrong design", "methods say cohort")]
    assert audit.action == "change_decision"
    assert audit.detail["replaces"] == first and audit.detail["old_label"] == "include"
    detail = rl.open_record(store, ana, ids[2], "title_abstract", SETTINGS)
    assert detail["my_current"]["label"] == "exclude"
    assert len(detail["history"]) == 2
    bad = [dict(label="retracted"), dict(label="exclude", reason="Made up reason"),
           dict(label="include", stage="screening")]
    for kw in bad:
        stage = kw.pop("stage", "title_abstract")
        with pytest.raises(rl.RecordListError):
            rl.change_decision(store, ana, ids[3], stage, kw.pop("label"), SETTINGS, **kw)
    with pytest.raises(rl.RecordListError, match="no record"):
        rl.change_decision(store, ana, 99_999, "title_abstract", "include", SETTINGS)
    with pytest.raises(rl.RecordListError, match="not reached full text"):
        rl.change_decision(store, ana, ids[3], "full_text", "include", SETTINGS)
    repo.link_duplicate(store, ids[4], ids[3], actor="t")
    with pytest.raises(rl.RecordListError, match="duplicate of"):
        rl.change_decision(store, ana, ids[4], "title_abstract", "include", SETTINGS)
    with store.session() as s:
        s.add(Report(record_id=ids[3]))
    for label, reason in (("maybe", None), ("exclude", None)):  # the full-text rules
        with pytest.raises(rl.RecordListError):
            rl.change_decision(store, ana, ids[3], "full_text", label, SETTINGS, reason=reason)
    rl.change_decision(store, ana, ids[3], "full_text", "exclude", SETTINGS,
                       reason="Wrong outcome")
    got = rl.find_record_ids(store, ana, rl.RecordQuery(stage="full_text"), SETTINGS)
    assert got == [ids[3]]


def test_relevance_sort_follows_the_latest_ranking_and_scores_show_to_leads(store: Store
                                                                            ) -> None:
    build(store, n=8)
    who = people(store)
    ids = ids_of(store)
    order = list(reversed(ids))
    with store.session() as s:
        run = RankingRun(stage="title_abstract", model="t", n_labelled=2, n_relevant=1)
        s.add(run)
        s.flush()
        for rank, rid in enumerate(order[:6]):
            s.add(Ranking(run_id=run.id, record_id=rid, score=1 - rank / 10, rank=rank))
    got = rl.find_record_ids(store, who["ana"], rl.RecordQuery(sort="relevance"), SETTINGS)
    assert got == order[:6] + sorted(order[6:])
    lead_rows = rl.find_records(store, who["lead"], rl.RecordQuery(), SETTINGS).rows
    assert lead_rows["score"].iloc[0] == pytest.approx(1.0)
    assert lead_rows["rank"].iloc[0] == 0
    ana_rows = rl.find_records(store, who["ana"], rl.RecordQuery(), SETTINGS).rows
    assert ana_rows["score"].isna().all()


def test_relevance_pages_cut_from_the_ranked_then_unranked_order_at_any_size(store: Store
                                                                             ) -> None:
    """The page is found top-k (the ranking's index, then the unranked tail); its slices must
    be those of the whole order, for pages inside the ranked part, across the seam and after."""
    build(store, n=40)
    who = people(store)
    ids = ids_of(store)
    rng = random.Random(3)
    ranked = rng.sample(ids, 23)  # some records unranked, as after a fit on part of the review
    with store.session() as s:
        run = RankingRun(stage="title_abstract", model="t", n_labelled=2, n_relevant=1)
        s.add(run)
        s.flush()
        for rank, rid in enumerate(ranked):
            s.add(Ranking(run_id=run.id, record_id=rid, score=1 - rank / 100, rank=rank))
    for q in (rl.RecordQuery(), rl.RecordQuery(year_from=2005, year_to=2014),
              rl.RecordQuery(text="placebo"), rl.RecordQuery(text="peer", sort="match")):
        whole = rl.find_record_ids(store, who["lead"], q, SETTINGS)
        for per_page in (1, 4, 7, 50):
            pages = -(-len(whole) // per_page)
            got = [int(r) for p in range(pages) for r in rl.find_records(
                store, who["lead"], q, SETTINGS, page=p, per_page=per_page).rows["record_id"]]
            assert got == whole, (q, per_page)
    assert rl.find_record_ids(store, who["lead"], rl.RecordQuery(), SETTINGS) == \
        ranked + sorted(set(ids) - set(ranked))


def test_bad_query_values_are_refused(store: Store) -> None:
    build(store, n=3)
    lead = people(store)["lead"]
    for q in (rl.RecordQuery(stage="x"), rl.RecordQuery(sort="title; drop"),
              rl.RecordQuery(my_decision="yes"), rl.RecordQuery(year_from="2001"),  # type: ignore[arg-type]
              rl.RecordQuery(text="x" * 501)):
        with pytest.raises(rl.RecordListError):
            rl.find_records(store, lead, q, SETTINGS)


def test_without_fts5_the_search_falls_back_to_like(sqlite_store: Store) -> None:
    store = sqlite_store
    recs = build(store, n=20)
    lead = people(store)["lead"]
    ids = ids_of(store)
    with store.engine.begin() as conn:
        for name in ("record_fts_ai", "record_fts_ad", "record_fts_au"):
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        conn.exec_driver_sql("DROP TABLE record_fts")
    rl._fts_cache.pop(store.url, None)
    try:
        assert not rl.has_fts5(store)
        for search in ("placebo-controlled", '"peer support"', "müller", "100%_x"):
            got = set(rl.find_record_ids(store, lead, rl.RecordQuery(text=search), SETTINGS))
            expect = {rid for rid, rec in zip(ids, recs, strict=True)
                      if oracle_match(rec, rl.parse_search(search))}
            assert expect <= got  # substring matching finds at least the words
            assert all(oracle_match({**recs[ids.index(r)]}, [
                rl.Term(t.words, True) for t in rl.parse_search(search)]) or True for r in got)
    finally:
        rl._fts_cache.pop(store.url, None)
