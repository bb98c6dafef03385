"""Duplicate links stay straight (every duplicate points at a canonical record), also under races.

A chain a→b→c is not a cosmetic problem: the queue hides b (it is linked)
while a's canonical is b, so a's cluster has no screenable record and PRISMA
counts a cluster that nobody can screen. These tests drive the paths the app
and `review dedup` take and then ask :mod:`review.integrity` for chains.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from review.dedup import store_ops
from review.integrity import check_review
from review.store import Store, repo
from review.store.models import DedupCandidate, DuplicateLink

TRIAL = {"title": "Peer mentoring and loneliness in adolescents: a randomised controlled trial",
         "authors": ["Smith, J.", "Jones, K."], "year": 2019, "journal": "Journal of Adolescence",
         "volume": "12", "issue": "3", "pages": "100-110"}
UNRELATED = {"title": "School connectedness programmes for rural youth"}


def live_links(store: Store) -> dict[int, int]:
    with store.session() as s:
        return dict(s.execute(select(DuplicateLink.record_id, DuplicateLink.canonical_id)
                              .where(DuplicateLink.undone_at.is_(None))).all())


def add(store: Store, name: str, records: list[dict]) -> list[int]:
    before = set(repo.records_frame(store)["record_id"].astype(int))
    repo.add_source(store, name=name, kind="database", file_name=f"{name}.ris",
                    file_format="ris", sha256=name.ljust(64, "0"), records=records)
    return sorted(set(repo.records_frame(store)["record_id"].astype(int)) - before)


def queue_candidate(store: Store, a: int, b: int) -> int:
    """An uncertain pair as a dedup run leaves it for a person."""
    with store.session() as s:
        c = DedupCandidate(record_a=min(a, b), record_b=max(a, b), score=0.8,
                           reason="similar title", status="pending")
        s.add(c)
        s.flush()
        return c.id


def test_a_later_dedup_run_does_not_chain_a_confirmed_link(store: Store) -> None:
    a, x = add(store, "PubMed", [TRIAL, UNRELATED])
    # The lead confirms an uncertain pair: x is linked to a (a is the more complete record).
    store_ops.confirm_candidate(store, queue_candidate(store, a, x), actor="lead")
    assert live_links(store) == {x: a}
    # A new search brings a more complete copy of a; the next run clusters a with it.
    (b,) = add(store, "Scopus", [{**TRIAL, "abstract": "We randomised 300 adolescents.",
                                  "doi": "10.1000/jad.2019.1", "keywords": ["loneliness"]}])
    store_ops.deduplicate_review(store, actor="lead")
    links = live_links(store)
    assert not set(links.values()) & set(links), f"chained links: {links}"
    assert [p.check for p in check_review(store)] == []


def test_confirming_two_overlapping_pairs_one_after_the_other_keeps_links_straight(
        store: Store) -> None:
    a, b, c = add(store, "PubMed", [
        {**TRIAL, "abstract": "Full abstract.", "doi": "10.1/x"},  # most complete
        {**TRIAL, "doi": "10.1/x"},
        {"title": TRIAL["title"]},  # least complete
    ])
    store_ops.confirm_candidate(store, queue_candidate(store, a, b), actor="lead")
    store_ops.confirm_candidate(store, queue_candidate(store, b, c), actor="lead")
    assert live_links(store) == {b: a, c: a}
    assert check_review(store) == []


def test_confirming_two_overlapping_pairs_at_once_keeps_links_straight(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two leads (or two app processes) confirm pairs a~b and b~c at the same moment."""
    a, b, c = add(store, "PubMed", [
        {**TRIAL, "abstract": "Full abstract.", "doi": "10.1/x"},
        {**TRIAL, "doi": "10.1/x"},
        {"title": TRIAL["title"]},
    ])
    pairs = [queue_candidate(store, a, b), queue_candidate(store, b, c)]
    both_read = threading.Barrier(2, timeout=3)
    real_live = store_ops._live_canonical

    def live_then_wait(s):  # each confirmation reads the links, then waits for the other's read
        got = real_live(s)
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass  # SQLite: the other writer is blocked on the lock, so there is no race
        return got

    errors: list[BaseException] = []

    def confirm(cid: int) -> None:
        try:
            store_ops.confirm_candidate(store, cid, actor="lead")
        except Exception as exc:  # a refused confirmation is fine; a chain is not
            errors.append(exc)

    monkeypatch.setattr(store_ops, "_live_canonical", live_then_wait)
    threads = [threading.Thread(target=confirm, args=(cid,)) for cid in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    links = live_links(store)
    assert not set(links.values()) & set(links), f"chained links: {links} ({errors})"
    assert check_review(store) == []


def _two_confirmed_clusters(store: Store) -> tuple[int, int, int, int]:
    """x→a and y→c confirmed by the lead, where a and c are copies of one trial."""
    a, x, c, y = add(store, "PubMed", [
        {**TRIAL, "abstract": "We randomised 300 adolescents.", "doi": "10.1000/jad.2019.1"},
        UNRELATED,
        {**TRIAL, "doi": "10.1000/jad.2019.1"},
        {"title": "Family support and belonging among care leavers"},
    ])
    store_ops.confirm_candidate(store, queue_candidate(store, a, x), actor="lead")
    store_ops.confirm_candidate(store, queue_candidate(store, c, y), actor="lead")
    assert live_links(store) == {x: a, y: c}
    return a, x, c, y


def test_a_run_joining_two_confirmed_clusters_moves_one_and_its_undo_puts_it_back(
        store: Store) -> None:
    a, x, c, y = _two_confirmed_clusters(store)
    run = store_ops.deduplicate_review(store, actor="lead")
    # c joins a (the more complete canonical) and takes its duplicate y along
    assert live_links(store) == {x: a, c: a, y: a}
    assert check_review(store) == []
    # undoing the run restores the lead's own link y→c rather than leaving y alone
    store_ops.undo_run(store, run.run_id, actor="lead")
    assert live_links(store) == {x: a, y: c}
    assert check_review(store) == []


def test_a_run_does_not_move_a_duplicate_onto_a_record_a_person_kept_it_apart_from(
        store: Store) -> None:
    a, x, c, y = _two_confirmed_clusters(store)
    store_ops.reject_candidate(store, queue_candidate(store, a, y), actor="lead")
    summary = store_ops.deduplicate_review(store, actor="lead")
    assert live_links(store) == {x: a, y: c}
    assert summary.left_apart == 1
