"""Several app processes on one PostgreSQL review: nothing lost, nothing doubled, nothing leaked.

Four processes each drive six reviewers (so every reviewer is served by
several processes at once, as behind a load balancer) through the real queue
and repository for a few seconds: claim the next record, decide it, sometimes
resubmit the same click (a network retry), sometimes undo, and after every
write read the page's decisions back as that (blind) reviewer. Afterwards the
store must hold every submitted decision exactly once, no reviewer may have
been handed a record twice, no record may have a third reviewer, and no read
may have returned another reviewer's label.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
import uuid
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from review.app.context import SignedIn
from review.screening import decisions, queue
from review.store import open_store, repo
from review.store.models import Assignment, Decision

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TA = "title_abstract"
PROCESSES = 4
REVIEWERS = 6
RECORDS = 400
SECONDS = 6.0


def worker(url: str, reviewers: list[int], seed: int, seconds: float, out, ready, go) -> None:
    store = open_store(url)
    settings = repo.get_settings(store)
    ready.release()
    go.wait(120)  # all processes start deciding at the same moment
    rng = random.Random(seed)
    submitted: list[tuple[str, int, int, str]] = []  # request id, record, reviewer, label
    fresh: list[tuple[int, int]] = []
    leaks = 0
    reads = 0
    errors: list[str] = []
    deadline = time.time() + seconds
    try:
        while time.time() < deadline:
            me = rng.choice(reviewers)
            claim = queue.next_record(store, me, TA, per_record=2)
            if claim is None:
                continue
            if claim.fresh:
                fresh.append((me, claim.record_id))
            label = rng.choice(["include", "exclude", "exclude", "maybe"])
            request = uuid.uuid4().hex
            repo.add_decision(store, record_id=claim.record_id, reviewer_id=me, stage=TA,
                              label=label, request_id=request)
            submitted.append((request, claim.record_id, me, label))
            if rng.random() < 0.15:  # the same click arriving twice
                repo.add_decision(store, record_id=claim.record_id, reviewer_id=me, stage=TA,
                                  label=label, request_id=request)
            if rng.random() < 0.05:  # undo
                last = decisions.last_undoable(store, me, TA)
                if last is not None:
                    undo = uuid.uuid4().hex
                    repo.add_decision(store, record_id=last["record_id"], reviewer_id=me,
                                      stage=TA, label="retracted", request_id=undo)
                    submitted.append((undo, last["record_id"], me, "retracted"))
            viewer = SignedIn(me, f"r{me}", f"r{me}", "reviewer")
            seen = decisions.visible_decisions(store, viewer, TA, settings)
            reads += 1
            if set(seen["reviewer_id"].astype(int)) - {me}:
                leaks += 1
    except Exception as exc:  # reported to the test, which fails on it
        errors.append(repr(exc))
    finally:
        store.close()
        out.put({"submitted": submitted, "fresh": fresh, "leaks": leaks, "reads": reads,
                 "errors": errors})


def test_team_server_keeps_every_decision_once_and_assigns_fairly(pg_url: str) -> None:
    store = open_store(pg_url)
    recs = [{"title": f"Mentoring and loneliness {i}", "abstract": "Young people."}
            for i in range(RECORDS)]
    repo.add_source(store, name="PubMed", kind="database", file_name="p.nbib",
                    file_format="nbib", sha256="sha", records=recs)
    reviewers = [repo.add_reviewer(store, f"rev{i}") for i in range(REVIEWERS)]
    repo.set_setting(store, "reviewers_per_record", 2)
    repo.set_setting(store, "blind", True)

    ctx = mp.get_context("spawn")
    out, ready, go = ctx.Queue(), ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=worker, args=(pg_url, reviewers, seed, SECONDS, out, ready, go))
             for seed in range(PROCESSES)]
    for p in procs:
        p.start()
    for _ in procs:
        assert ready.acquire(timeout=120), "a worker did not start"
    go.set()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(30)
    assert [r["errors"] for r in results] == [[]] * PROCESSES

    submitted = [s for r in results for s in r["submitted"]]
    fresh = [f for r in results for f in r["fresh"]]
    assert len(submitted) > 50, "the workers barely ran"

    with store.session() as s:
        rows = s.execute(select(Decision.request_id, Decision.record_id, Decision.reviewer_id,
                                Decision.label)).all()
        assignments = s.execute(select(Assignment.record_id, Assignment.reviewer_id)).all()
    store.close()

    # Every submitted decision is stored exactly once, as submitted; nothing else is there.
    counts = Counter(r.request_id for r in rows)
    assert max(counts.values()) == 1
    assert sorted(tuple(r) for r in rows) == sorted(submitted)

    # No reviewer was handed a record twice (across all processes) ...
    assert len(fresh) == len(set(fresh))
    assert sorted(fresh) == sorted((int(b), int(a)) for a, b in assignments)
    # ... no record has a third reviewer, and every decision was made on a handed-out record.
    holders: dict[int, set[int]] = defaultdict(set)
    for record_id, reviewer_id in assignments:
        holders[record_id].add(reviewer_id)
    assert max(len(h) for h in holders.values()) <= 2
    for _req, record_id, reviewer_id, _label in submitted:
        assert reviewer_id in holders[record_id]
    # Pairs were completed first: few records are left with a single reviewer.
    singles = sum(len(h) == 1 for h in holders.values())
    assert singles <= REVIEWERS * PROCESSES

    print(f"\n{PROCESSES} processes x {REVIEWERS} reviewers, {SECONDS:.0f} s: "
          f"{len(submitted)} decisions submitted, {len(rows)} stored, {len(fresh)} records "
          f"handed out, {sum(r['reads'] for r in results)} blind reads, "
          f"{len(holders)} records touched, {singles} with one reviewer")
    # Blind mode never returned another reviewer's label to a reviewer's page query.
    assert sum(r["reads"] for r in results) >= len(submitted) // 2
    assert sum(r["leaks"] for r in results) == 0
