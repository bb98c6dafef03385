"""The next-record queue: ranking order, open work first, no repeats, at most n reviewers."""

from __future__ import annotations

import threading

import pytest
from app_helpers import build_review

from review.screening import queue
from review.store import Store, repo
from review.store.models import DuplicateLink, Ranking, RankingRun

TA = "title_abstract"


@pytest.fixture
def small(db_url: str):
    """A 12-record review on SQLite and (when configured) PostgreSQL."""
    r = build_review(db_url, hostile=False)
    try:
        yield r
    finally:
        r.store.close()


def add_ranking(store: Store, order: list[int], stage: str = TA) -> int:
    with store.session() as s:
        run = RankingRun(stage=stage, model="test order", n_labelled=0, n_relevant=0)
        s.add(run)
        s.flush()
        s.add_all([Ranking(run_id=run.id, record_id=rid, score=1.0 - i / 100, rank=i + 1)
                   for i, rid in enumerate(order)])
        return run.id


def decide(store: Store, record_id: int, reviewer_id: int, label: str = "include") -> None:
    repo.add_decision(store, record_id=record_id, reviewer_id=reviewer_id, stage=TA, label=label)


def test_without_a_ranking_records_come_in_id_order_and_open_work_comes_back(small) -> None:
    store, ana = small.store, small.ids["ana"]
    first = queue.next_record(store, ana)
    assert first == queue.Claim(small.records[0], fresh=True)
    # Not decided yet: asking again (a reload, a second tab) gives the same record, not a new one.
    assert queue.next_record(store, ana) == queue.Claim(small.records[0], fresh=False)
    decide(store, small.records[0], ana)
    assert queue.next_record(store, ana).record_id == small.records[1]


def test_latest_ranking_decides_the_order_and_unranked_records_follow(small) -> None:
    store, ana = small.store, small.ids["ana"]
    add_ranking(store, small.records[:4])  # an old run
    newest = [small.records[9], small.records[3], small.records[5]]
    add_ranking(store, newest)
    got = []
    for _ in range(5):
        c = queue.next_record(store, ana)
        got.append(c.record_id)
        decide(store, c.record_id, ana, "exclude")
    assert got == newest + [small.records[0], small.records[1]]


def test_single_screening_never_hands_a_record_to_a_second_reviewer(small) -> None:
    store, ana, ben = small.store, small.ids["ana"], small.ids["ben"]
    a = queue.next_record(store, ana).record_id
    b = queue.next_record(store, ben).record_id
    assert a != b
    decide(store, a, ana)
    assert a not in queue.candidates(store, ben, per_record=1)


def test_dual_screening_completes_pairs_first_and_never_adds_a_third(small) -> None:
    store, ana, ben, lead = small.store, small.ids["ana"], small.ids["ben"], small.ids["lead"]
    a1 = queue.next_record(store, ana, per_record=2).record_id
    # Ben is free: he gets the record Ana holds, so the pair completes.
    assert queue.next_record(store, ben, per_record=2).record_id == a1
    # The lead gets a fresh record: a1 already has its two reviewers.
    l1 = queue.next_record(store, lead, per_record=2).record_id
    assert l1 != a1
    assert queue.try_claim(store, a1, lead, per_record=2) is False
    decide(store, a1, ana)
    # Ana's next is the record the lead holds (a pair to complete), not a fresh one.
    assert queue.next_record(store, ana, per_record=2).record_id == l1


def test_a_reviewer_never_gets_a_record_twice_even_after_undo(small) -> None:
    store, ana = small.store, small.ids["ana"]
    seen = []
    for _ in range(len(small.records)):
        c = queue.next_record(store, ana)
        assert c.record_id not in seen
        seen.append(c.record_id)
        decide(store, c.record_id, ana, "exclude")
    assert queue.next_record(store, ana) is None
    # Undo the third decision: that record (and only it) is open again.
    decide(store, seen[2], ana, "retracted")
    assert queue.next_record(store, ana) == queue.Claim(seen[2], fresh=False)


def test_claiming_twice_for_one_reviewer_is_refused_by_the_database(small) -> None:
    store, ana = small.store, small.ids["ana"]
    assert queue.try_claim(store, small.records[5], ana) is True
    assert queue.try_claim(store, small.records[5], ana) is None  # unique(record, reviewer, stage)


def test_records_linked_as_duplicates_are_not_offered(small) -> None:
    store, ana = small.store, small.ids["ana"]
    with store.session() as s:
        s.add(DuplicateLink(record_id=small.records[0], canonical_id=small.records[1]))
    assert queue.next_record(store, ana).record_id == small.records[1]


def test_decisions_made_outside_the_queue_count_as_holders(small) -> None:
    store, ana, ben = small.store, small.ids["ana"], small.ids["ben"]
    decide(store, small.records[0], ben)  # e.g. from the command line, no assignment
    assert queue.try_claim(store, small.records[0], ana, per_record=1) is False
    assert queue.backfill_assignments(store) == 1
    assert queue.backfill_assignments(store) == 0
    assert queue.next_record(store, ana).record_id == small.records[1]


def test_the_ranking_is_refreshed_in_the_background_and_then_used(small) -> None:
    store, ana = small.store, small.ids["ana"]
    started = threading.Event()
    release = threading.Event()

    def reverse_ranker(st: Store) -> None:
        """A real (if simple) ranker: newest records first, stored as a ranking run."""
        started.set()
        release.wait(10)
        add_ranking(st, sorted(small.records, reverse=True))
        with st.session() as s:
            s.query(RankingRun).order_by(RankingRun.id.desc()).first().n_labelled = 2

    decide(store, queue.next_record(store, ana).record_id, ana)
    refresh = {"ranker": reverse_ranker, "min_interval": 0}
    assert queue.maybe_refresh(store, **refresh) is None  # 1 label: not due yet
    decide(store, queue.next_record(store, ana).record_id, ana)
    thread = queue.maybe_refresh(store, **refresh)
    assert thread is not None and started.wait(10)
    # While the model fits, the reviewer is not kept waiting: the old order serves.
    assert queue.next_record(store, ana).record_id == small.records[2]
    decide(store, small.records[2], ana)
    assert queue.maybe_refresh(store, **refresh) is None  # one at a time
    release.set()
    thread.join(10)
    assert queue.next_record(store, ana).record_id == small.records[-1]


def test_the_app_refits_the_real_ranker_in_a_helper_process(small) -> None:
    """The default path: the review's own ranker, run in the helper process, stores a run the
    queue then follows (the include's topic first)."""
    from review.store import workers

    store, ana, ben = small.store, small.ids["ana"], small.ids["ben"]
    # Records cycle through six interventions; Ana includes a mentoring record and excludes a
    # family-support one, so mentoring records should now lead the queue.
    decide(store, small.records[0], ana, "include")   # mentoring
    decide(store, small.records[2], ana, "exclude")   # family support
    try:
        thread = queue.maybe_refresh(store, min_interval=0)
        assert thread is not None
        thread.join(120)
        assert not thread.is_alive()
    finally:
        workers.shutdown()
    with store.session() as s:
        run = s.query(RankingRun).order_by(RankingRun.id.desc()).first()
        assert run is not None and run.n_labelled == 2 and "SVM" in run.model
    first = queue.next_record(store, ben).record_id
    titles = repo.records_frame(store).set_index("record_id")["title"]
    assert "mentoring" in titles[first]


# --- finding 5 of issue 16: claims expire, are released, and a lead screens by choice -------


def test_an_undecided_claim_expires_and_goes_to_the_next_reviewer(small) -> None:
    from datetime import timedelta

    from review.store.models import utcnow

    store, ana, ben = small.store, small.ids["ana"], small.ids["ben"]
    held = queue.next_record(store, ana).record_id  # ana opens a record and walks away
    assert queue.next_record(store, ben).record_id != held  # one reviewer per record
    # 29 minutes later it is still hers; 31 minutes later it is released
    assert queue.release_expired(store, minutes=30, now=utcnow() + timedelta(minutes=29),
                                 force=True) == 0
    assert queue.release_expired(store, minutes=30, now=utcnow() + timedelta(minutes=31),
                                 force=True) == 2  # ana's and ben's
    assert queue.open_assignments(store, ana) == []
    assert queue.next_record(store, ben).record_id == held
    # a decided record is never released
    decide(store, held, ben)
    assert queue.release_expired(store, minutes=30, now=utcnow() + timedelta(days=1),
                                 force=True) == 0


def test_the_claim_lifetime_is_a_team_setting() -> None:
    assert queue.claim_minutes({}) == 30
    assert queue.claim_minutes({"claim_minutes": 10}) == 10
    assert queue.claim_minutes({"claim_minutes": "nonsense"}) == 30


def test_sign_out_and_switching_off_release_only_undecided_claims(small) -> None:
    store, ana, ben = small.store, small.ids["ana"], small.ids["ben"]
    first = queue.next_record(store, ana).record_id
    decide(store, first, ana)
    second = queue.next_record(store, ana).record_id
    assert queue.release_claims(store, ana) == 1  # second goes back, first stays hers
    assert queue.next_record(store, ben).record_id in (second, small.records[0])
    assert queue.open_assignments(store, ana) == []


def test_a_lead_is_in_the_pool_only_by_choice() -> None:
    assert queue.in_pool({}, 3, "reviewer")
    assert not queue.in_pool({}, 3, "lead")
    assert queue.in_pool({"screening_leads": [3]}, 3, "lead")
    assert not queue.in_pool({"screening_leads": [4]}, 3, "lead")
