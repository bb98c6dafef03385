"""The duplicates page as a lead uses it: compare a pair, confirm or reject, unmerge a link."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import shown_html
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from review.app.widgets import unescape_markdown
from review.store import open_store, repo
from review.store.models import AuditLog, DedupCandidate, DuplicateLink


def page_script(db: str, username: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import duplicates
    from review.store import open_store, repo

    store = open_store(db)
    try:
        who = repo.reviewers_frame(store).set_index("username").loc[username]
        user = SignedIn(int(who["reviewer_id"]), username, str(who["display_name"]),
                        str(who["role"]))
        duplicates.render(AppContext(store=store, user=user, settings=repo.get_settings(store)))
    finally:
        store.close()


FULL = {"title": "Peer mentoring and loneliness in adolescents: a randomised trial",
        "authors": ["Okafor, A.", "Reyes, M."], "year": 2019, "journal": "J Adolesc",
        "volume": "71", "pages": "10-19", "doi": "10.1016/j.adolescence.2019.01.002",
        "abstract": "Background: loneliness is common."}
SPARSE = {"title": "PEER MENTORING AND LONELINESS IN ADOLESCENTS: A RANDOMISED TRIAL",
          "authors": ["Okafor A", "Reyes M"], "year": 2020, "journal": "J Adolesc"}
NASTY = {"title": "<script>alert(1)</script> Peer mentoring [x](javascript:y)",
         "authors": ["Lee, K."], "year": 2019}
OTHER = {"title": "Family support for young carers", "authors": ["Müller, J."], "year": 2022}


def make_review(db: str, files: Path | None = None) -> dict:
    """Two sources, two pending pairs (FULL/SPARSE and FULL/NASTY); a lead and a reviewer."""
    store = open_store(db)
    repo.add_source(store, name="PubMed", kind="database", file_name="p.ris", file_format="ris",
                    sha256="1" * 64, records=[FULL, OTHER])
    repo.add_source(store, name="PsycINFO", kind="database", file_name="q.ris",
                    file_format="ris", sha256="2" * 64, records=[SPARSE, NASTY])
    repo.add_reviewer(store, "lena", "Lena Lead", "lead")
    repo.add_reviewer(store, "rui", "Rui", "reviewer")
    recs = repo.records_frame(store)
    ids = {t: int(i) for t, i in zip(recs["title"], recs["record_id"], strict=True)}
    full, sparse, nasty = ids[FULL["title"]], ids[SPARSE["title"]], ids[NASTY["title"]]
    with store.session() as s:
        s.add(DedupCandidate(record_a=full, record_b=sparse, score=0.91, reason="year differs"))
        s.add(DedupCandidate(record_a=full, record_b=nasty, score=0.55, reason="title similar"))
        s.flush()
        cands = dict(s.execute(select(DedupCandidate.record_b, DedupCandidate.id)).all())
    store.close()
    return {"db": db, "full": full, "sparse": sparse, "nasty": nasty, "other": ids[OTHER["title"]],
            "c_sparse": cands[sparse], "c_nasty": cands[nasty]}


@pytest.fixture
def review(tmp_path: Path) -> dict:
    return make_review(str(tmp_path / "review.db"), tmp_path / "review-files")


def open_page(review: dict, username: str = "lena") -> AppTest:
    at = AppTest.from_function(page_script, kwargs={"db": review["db"], "username": username},
                               default_timeout=30)
    at.run()
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def frame(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def links(db: str) -> list[tuple[int, int, str]]:
    store = open_store(db)
    try:
        with store.session() as s:
            return [tuple(r) for r in s.execute(
                select(DuplicateLink.record_id, DuplicateLink.canonical_id, DuplicateLink.method)
                .where(DuplicateLink.undone_at.is_(None)).order_by(DuplicateLink.record_id))]
    finally:
        store.close()


def test_pair_shown_side_by_side_with_differences_marked(review: dict) -> None:
    at = open_page(review)
    assert not at.exception, at.exception
    assert metric(at, "Pairs to check") == "2"
    assert at.selectbox(key="dup_candidate").value == review["c_sparse"]  # strongest first
    table = frame(at, "differs").set_index("field")
    assert table.loc["year", "differs"] == "≠"  # 2019 vs 2020: a difference in fact
    assert table.loc["title", "differs"] == "≈"  # case only
    assert table.loc["authors", "differs"] == "≈"  # "Okafor, A." vs "Okafor A"
    assert table.loc["journal", "differs"] == ""
    assert table.loc["doi", "differs"] == "A only"
    assert "issue" not in table.index  # neither record has it
    # the page says which record the confirmation keeps: the more complete one
    said = [unescape_markdown(m.value) for m in at.markdown]
    assert any(f"keeps record #{review['full']} as the canonical" in x for x in said)
    # ... and names every record it will move, before it runs
    assert any(f"- #{review['sparse']} · " in x for x in said)


def test_confirm_links_the_less_complete_record_to_the_more_complete(review: dict) -> None:
    at = open_page(review)
    at.button(key="dup_confirm").click().run()
    assert not at.exception, at.exception
    said = f"record(s) #{review['sparse']} linked to #{review['full']}"
    assert any(said in unescape_markdown(s.value) for s in at.success)
    assert links(review["db"]) == [(review["sparse"], review["full"], "manual")]
    assert metric(at, "Pairs to check") == "1"
    assert metric(at, "Linked duplicates") == "1"
    store = open_store(review["db"])
    with store.session() as s:
        assert s.get(DedupCandidate, review["c_sparse"]).status == "confirmed"
    canon = repo.records_frame(store).set_index("record_id")["canonical_id"]
    assert canon[review["sparse"]] == review["full"]
    store.close()


def test_warns_when_the_record_to_be_linked_carries_decisions(review: dict) -> None:
    store = open_store(review["db"])
    lead = int(repo.reviewers_frame(store).set_index("username").loc["lena", "reviewer_id"])
    repo.add_decision(store, record_id=review["sparse"], reviewer_id=lead,
                      stage="title_abstract", label="include")
    store.close()
    at = open_page(review)
    said = [unescape_markdown(m.value) for m in at.markdown]
    assert any(f"#{review['sparse']} · " in x and "1 screening decision(s) stop counting" in x
               for x in said)
    at.selectbox(key="dup_candidate").set_value(review["c_nasty"]).run()
    said = [unescape_markdown(m.value) for m in at.markdown]
    assert not any("stop counting" in x for x in said)  # the full record stays canonical


def test_reject_keeps_two_records(review: dict) -> None:
    at = open_page(review)
    at.selectbox(key="dup_candidate").set_value(review["c_nasty"]).run()
    at.button(key="dup_reject").click().run()
    assert any("kept as two records" in s.value for s in at.success)
    assert links(review["db"]) == []
    store = open_store(review["db"])
    with store.session() as s:
        assert s.get(DedupCandidate, review["c_nasty"]).status == "rejected"
    store.close()
    assert metric(at, "Pairs to check") == "1"


def test_unmerge_undoes_the_link_and_is_audited(review: dict) -> None:
    at = open_page(review)
    at.button(key="dup_confirm").click().run()
    assert len(links(review["db"])) == 1
    at.button(key="dup_unmerge").click().run()
    assert not at.exception, at.exception
    assert any(f"#{review['sparse']} is no longer a duplicate" in unescape_markdown(s.value)
               for s in at.success)
    assert links(review["db"]) == []
    assert metric(at, "Linked duplicates") == "0"
    store = open_store(review["db"])
    with store.session() as s:
        link = s.scalars(select(DuplicateLink)).one()
        assert link.undone_at is not None and link.undone_by == "lena"
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "unlink_duplicate")).one()
        assert audit.actor == "lena" and audit.row_id == link.id
    canon = repo.records_frame(store).set_index("record_id")["canonical_id"]
    assert canon[review["sparse"]] == review["sparse"]
    store.close()


def test_find_a_link_by_title(review: dict) -> None:
    at = open_page(review)
    at.button(key="dup_confirm").click().run()
    at.text_input(key="dup_find").input("mentoring").run()
    assert len(frame(at, "canonical title")) == 1
    at.text_input(key="dup_find").input("no such title").run()
    assert frame(at, "canonical title").empty


def test_record_text_in_a_pair_is_shown_as_text(review: dict) -> None:
    at = open_page(review)
    at.selectbox(key="dup_candidate").set_value(review["c_nasty"]).run()
    titles = [b.body for b in shown_html(at) if "script" in b.text]
    assert titles == [NASTY["title"]]
    assert all("<script>alert" not in h.proto.body for h in at.get("html"))
    assert all(not m.allow_html for m in at.markdown)


def test_a_reviewer_cannot_open_the_page(review: dict) -> None:
    at = open_page(review, "rui")
    assert at.exception and "lead" in at.exception[0].value
    assert not at.button


@pytest.mark.postgres
def test_confirm_and_unmerge_on_postgresql(pg_url: str) -> None:
    review = make_review(pg_url)
    at = open_page(review)
    at.button(key="dup_confirm").click().run()
    assert links(review["db"]) == [(review["sparse"], review["full"], "manual")]
    at.button(key="dup_unmerge").click().run()
    assert not at.exception, at.exception
    assert links(review["db"]) == []


# --- finding 1 and 2 of issue 16: act on the pair shown, never move a full-text record -----


def _add_cluster(db: str, record_id: int, canonical_id: int) -> None:
    store = open_store(db)
    repo.link_duplicate(store, record_id, canonical_id, method="auto", actor="run")
    store.close()


def _report_in_study(db: str, record_id: int, label: str = "Okafor 2019") -> int:
    from review.store.models import Report, Study

    store = open_store(db)
    with store.session() as s:
        study = Study(label=label)
        s.add(study)
        s.flush()
        s.add(Report(record_id=record_id, study_id=study.id))
        sid = study.id
    store.close()
    return sid


def test_a_record_of_a_study_is_never_linked_and_same_study_is_offered(review: dict) -> None:
    """A protocol vs its results paper: both reached full text as reports of one study."""
    _report_in_study(review["db"], review["full"])
    store = open_store(review["db"])
    lead = int(repo.reviewers_frame(store).set_index("username").loc["lena", "reviewer_id"])
    repo.add_decision(store, record_id=review["sparse"], reviewer_id=lead, stage="full_text",
                      label="include")
    from review.store.models import Report

    with store.session() as s:
        s.add(Report(record_id=review["sparse"]))
    store.close()
    at = open_page(review)
    assert at.button(key="dup_confirm").disabled
    warned = " ".join(unescape_markdown(w.value) for w in at.warning)
    assert "never linked as a duplicate" in warned and "Same study, another report" in warned
    at.button(key="dup_same_study").click().run()
    assert not at.exception, at.exception
    assert links(review["db"]) == []  # nothing moved
    store = open_store(review["db"])
    from review.report.inputs import reports_frame

    rf = reports_frame(store).set_index("record_id")
    assert rf.loc[review["full"], "study_id"] == rf.loc[review["sparse"], "study_id"]
    with store.session() as s:
        assert s.get(DedupCandidate, review["c_sparse"]).status == "same_study"
    store.close()


def test_the_store_refuses_what_the_page_disables(review: dict) -> None:
    from review.dedup import store_ops

    _report_in_study(review["db"], review["sparse"])
    store = open_store(review["db"])
    # SPARSE is the less complete record, so confirming would have linked it; it is the one
    # with a study, so it is kept as canonical instead and FULL moves
    plan = store_ops.plan_confirm(store, review["c_sparse"])
    assert plan.keep == review["sparse"] and plan.moves == (review["full"],)
    _report_in_study(review["db"], review["full"], "Another 2019")
    with pytest.raises(store_ops.DedupStoreError, match="never linked"):
        store_ops.confirm_candidate(store, review["c_sparse"], actor="lena")
    store.close()
    assert links(review["db"]) == []


def test_a_rejected_pair_is_never_joined_through_a_third_record(review: dict) -> None:
    """#258/#444 rejected, #444 already in #66's cluster: confirming #66/#258 must not join."""
    from review.dedup import store_ops

    store = open_store(review["db"])
    store_ops.reject_candidate(store, review["c_nasty"], actor="lena")  # full ≠ nasty
    store.close()
    _add_cluster(review["db"], review["nasty"], review["sparse"])  # nasty already with sparse
    at = open_page(review)
    assert at.button(key="dup_confirm").disabled
    warned = " ".join(unescape_markdown(w.value) for w in at.warning)
    assert f"#{review['full']} and #{review['nasty']} were kept apart" in warned
    store = open_store(review["db"])
    with pytest.raises(store_ops.DedupStoreError, match="kept apart"):
        store_ops.confirm_candidate(store, review["c_sparse"], actor="lena")
    with store.session() as s:
        assert s.get(DedupCandidate, review["c_nasty"]).status == "rejected"
    store.close()


def test_confirm_names_every_record_it_moves_and_settles_pairs_inside(review: dict) -> None:
    """The other cluster's duplicates move too: the page lists them all; pairs inside settle."""
    _add_cluster(review["db"], review["other"], review["sparse"])  # sparse's cluster has two
    store = open_store(review["db"])
    with store.session() as s:
        inside = DedupCandidate(record_a=review["full"], record_b=review["other"], score=0.5,
                                reason="title similar")
        s.add(inside)
        s.flush()
        inside_id = inside.id
    store.close()
    at = open_page(review)
    said = " ".join(unescape_markdown(m.value) for m in at.markdown)
    assert "links these 2 record(s)" in said
    assert f"#{review['sparse']} · " in said and f"#{review['other']} · " in said
    assert any(f"#{inside_id}" in c.value and "settles" in c.value for c in at.caption)
    at.button(key="dup_confirm").click().run()
    assert not at.exception, at.exception
    got = {r: c for r, c, _ in links(review["db"])}
    assert got == {review["sparse"]: review["full"], review["other"]: review["full"]}
    store = open_store(review["db"])
    with store.session() as s:
        assert s.get(DedupCandidate, inside_id).status == "confirmed"
    store.close()
    assert metric(at, "Pairs to check") == "1"  # only full/nasty is left to check


def test_confirm_refuses_when_the_clusters_changed_since_the_page(review: dict) -> None:
    from review.dedup import store_ops

    store = open_store(review["db"])
    plan = store_ops.plan_confirm(store, review["c_sparse"])
    _add_cluster(review["db"], review["other"], review["sparse"])
    with pytest.raises(store_ops.DedupStoreError, match="changed"):
        store_ops.confirm_candidate(store, review["c_sparse"], actor="lena",
                                    expect_moves=plan.moves)
    store.close()
    assert {r for r, _, _ in links(review["db"])} == {review["other"]}
