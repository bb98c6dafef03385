"""``review dedup`` inside a review: links to the most complete record, merged fields, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from review.cli import app
from review.dedup import store_ops
from review.store import Store, open_store, repo
from review.store.models import AuditLog, DedupCandidate, DuplicateLink, Record

ARTICLE = "Peer mentoring to reduce loneliness among adolescents in secondary schools"


def _records() -> list[dict]:
    return [
        # sparse copy (PubMed-like): no abstract, no DOI
        {
            "title": ARTICLE,
            "authors": ["Okafor AN", "Lindqvist E"],
            "year": 2019,
            "journal": "J Adolesc Health",
            "volume": "64",
            "pages": "312-20",
            "keywords": ["mentoring"],
            "pmid": "30600001",
        },
        # rich copy (Embase-like): the canonical record
        {
            "title": ARTICLE + ".",
            "authors": ["Okafor, Adaeze N.", "Lindqvist, Erik"],
            "year": 2019,
            "journal": "Journal of Adolescent Health",
            "volume": "64",
            "issue": "3",
            "pages": "312-320",
            "doi": "10.1016/j.jadohealth.2018.09.011",
            "abstract": "Loneliness is common in adolescence. We tested peer mentoring.",
            "keywords": ["loneliness", "peer support"],
        },
        # a third copy with the DOI as a resolver URL in capitals (one DOI, another spelling)
        {
            "title": ARTICLE.upper(),
            "authors": ["A. N. Okafor", "E. Lindqvist"],
            "year": 2019,
            "journal": "J ADOLESC HEALTH",
            "volume": "64",
            "pages": "312-320",
            "doi": "https://doi.org/10.1016/J.JADOHEALTH.2018.09.011",
        },
        # the erratum: never linked, offered to a person
        {
            "title": "Erratum: " + ARTICLE,
            "authors": ["Okafor, A. N.", "Lindqvist, E."],
            "year": 2019,
            "journal": "Journal of Adolescent Health",
            "volume": "64",
        },
        {
            "title": "School belonging and depressive symptoms in early adolescence",
            "authors": ["Silva, R."],
            "year": 2020,
            "journal": "Child Development",
        },
    ]


def _load(store: Store) -> list[int]:
    repo.add_source(
        store,
        name="Test",
        kind="database",
        file_name="t.ris",
        file_format="ris",
        sha256="0" * 64,
        records=_records(),
        actor="test",
    )
    with store.session() as s:
        return list(s.scalars(select(Record.id).order_by(Record.id)))


def test_run_links_to_most_complete_record_and_merges_fields(store: Store) -> None:
    ids = _load(store)
    summary = store_ops.deduplicate_review(store, actor="test")
    assert summary.records == 5 and summary.links_added == 2
    with store.session() as s:
        links = s.scalars(select(DuplicateLink)).all()
        assert {(lk.record_id, lk.canonical_id) for lk in links} == {
            (ids[0], ids[1]),
            (ids[2], ids[1]),
        }
        assert all(lk.method == "auto" and lk.score and lk.reason for lk in links)
        canonical = s.get(Record, ids[1])
        merged = canonical.merged
        # its own values stay; what it lacked comes from the duplicates, with the source record
        assert canonical.doi == "10.1016/j.jadohealth.2018.09.011"
        assert merged["fields"]["pmid"] == {"value": "30600001", "from": ids[0]}
        assert merged["keywords"] == ["loneliness", "peer support", "mentoring"]
        assert {
            "value": "https://doi.org/10.1016/J.JADOHEALTH.2018.09.011",
            "from": ids[2],
        } in merged["alternatives"]["doi"]
        cands = s.scalars(select(DedupCandidate)).all()
        assert {(c.record_a, c.record_b) for c in cands} >= {(ids[1], ids[3])}
        assert all(c.status == "pending" and "erratum" in c.reason for c in cands)
        assert s.scalars(select(AuditLog).where(AuditLog.action == "link_duplicate")).all()
    frame = repo.records_frame(store, canonical_only=True)
    assert sorted(frame["record_id"]) == [ids[1], ids[3], ids[4]]


def test_rerun_changes_nothing(store: Store) -> None:
    _load(store)
    store_ops.deduplicate_review(store)
    again = store_ops.deduplicate_review(store)
    assert again.links_added == 0 and again.candidates_added == 0 and again.links_kept == 2


def test_undo_link_restores_record_and_is_not_redone(store: Store) -> None:
    ids = _load(store)
    store_ops.deduplicate_review(store)
    with store.session() as s:
        link = s.scalars(select(DuplicateLink).where(DuplicateLink.record_id == ids[0])).one()
    store_ops.undo_link(store, link.id, actor="lead")
    with store.session() as s:
        assert "pmid" not in s.get(Record, ids[1]).merged["fields"]
        assert s.get(DuplicateLink, link.id).undone_by == "lead"
    assert ids[0] in set(repo.records_frame(store, canonical_only=True)["record_id"])
    store_ops.deduplicate_review(store)  # a person undid it: the next run respects that
    assert ids[0] in set(repo.records_frame(store, canonical_only=True)["record_id"])
    with pytest.raises(store_ops.DedupStoreError):
        store_ops.undo_link(store, link.id)


def test_undo_a_whole_run(store: Store) -> None:
    ids = _load(store)
    summary = store_ops.deduplicate_review(store)
    assert store_ops.undo_run(store, summary.run_id, actor="lead") == 2
    assert len(repo.records_frame(store, canonical_only=True)) == len(ids)
    with pytest.raises(store_ops.DedupStoreError, match=summary.run_id):
        store_ops.undo_run(store, summary.run_id)


def test_confirm_and_reject_candidates(store: Store) -> None:
    ids = _load(store)
    store_ops.deduplicate_review(store)
    pending = store_ops.pending_candidates(store)
    assert not pending.empty and {"title_a", "title_b", "reason"} <= set(pending.columns)
    first = int(pending["candidate_id"].iloc[0])
    store_ops.reject_candidate(store, first, actor="lead")
    with pytest.raises(store_ops.DedupStoreError, match="already rejected"):
        store_ops.confirm_candidate(store, first)
    assert first not in set(store_ops.pending_candidates(store)["candidate_id"])
    # add two distinct records as a candidate by hand and confirm it
    with store.session() as s:
        cand = DedupCandidate(record_a=ids[3], record_b=ids[4], score=0.5, reason="test")
        s.add(cand)
        s.flush()
        cid = cand.id
    link_id = store_ops.confirm_candidate(store, cid, actor="lead")
    with store.session() as s:
        link = s.get(DuplicateLink, link_id)
        assert link.method == "manual" and {link.record_id, link.canonical_id} == {ids[3], ids[4]}


def test_cli_runs_in_a_review_and_undoes(tmp_path: Path) -> None:
    db = tmp_path / "review.db"
    store = open_store(db)
    _load(store)
    store.close()
    runner = CliRunner()
    res = runner.invoke(app, ["dedup", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "2 new duplicate links" in res.output
    store = open_store(db)
    with store.session() as s:
        link_id = s.scalars(select(DuplicateLink.id)).first()
    store.close()
    res = runner.invoke(app, ["dedup", "--db", str(db), "--undo", str(link_id)])
    assert res.exit_code == 0 and "undone" in res.output
    res = runner.invoke(app, ["dedup", "--db", str(db), "--undo", "999"])
    assert res.exit_code != 0 and "#999" in res.output
