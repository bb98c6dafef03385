"""The next-record queue: which record a reviewer screens next, handed out safely to a team.

What it guarantees, with any number of app processes on one database:

* **Ranked.** Records come in the order of the latest ranking run (the
  active-learning model's most-likely-relevant first), falling back to record
  id order before any ranking exists; records imported after the latest run
  follow the ranked ones.
* **Never the same record twice to one reviewer.** Handing out a record is an
  ``Assignment`` row, and ``unique(record, reviewer, stage)`` is enforced by
  the database, so two processes racing for the same reviewer cannot both win.
* **Never more reviewers than the review asks for** (1 or 2 per record). A
  unique constraint cannot count, so the claim is a single
  ``INSERT ... SELECT ... WHERE (holders) < n`` statement: on SQLite a write
  statement takes the database's write lock before it reads (so it sees every
  committed claim); on PostgreSQL the claim first locks the record's row with
  ``FOR NO KEY UPDATE SKIP LOCKED`` (a concurrent claimer skips to the next
  record instead of waiting), so the count and the insert cannot interleave.
* **Pairs complete first.** With two reviewers per record, a record someone
  else already holds is offered before a fresh one (the longest-waiting first,
  which is the ranking order its first reviewer was served in), so double
  screening produces finished pairs (and conflicts to resolve) early rather
  than a long tail of half-screened records.
* **Open work first.** A record handed to the reviewer that they have not
  decided (or whose decision they undid) comes back before anything new, so
  reloading the page or signing in from another machine resumes where they were.

The ranking itself is refreshed in the background (:func:`maybe_refresh`):
a reviewer never waits for a model fit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, literal, select, text, union
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased

from review.stages import Stage
from review.store import Store
from review.store.models import (
    Assignment,
    Decision,
    DuplicateLink,
    Ranking,
    RankingRun,
    Record,
    utcnow,
)
from review.store.workers import HelperStopped

log = logging.getLogger(__name__)

STAGE = Stage.TITLE_ABSTRACT
#: Candidates fetched per round; a claim that loses a race moves on to the next one.
BATCH = 12
#: After this many new decisions since the latest ranking run, the model is refitted.
REFRESH_EVERY = 10


@dataclass(frozen=True)
class Claim:
    """A record handed to a reviewer. ``fresh``: this call created the assignment."""

    record_id: int
    fresh: bool


# --- reading the queue ------------------------------------------------------------------------

def latest_run_id(s: Session, stage: str = STAGE) -> int | None:
    return s.scalar(select(func.max(RankingRun.id)).where(RankingRun.stage == stage))


def _live_link_exists(record_col: Any):
    return exists().where(DuplicateLink.record_id == record_col,
                          DuplicateLink.undone_at.is_(None))


def open_assignments(store: Store, reviewer_id: int, stage: str = STAGE) -> list[int]:
    """Records handed to the reviewer without a standing decision, oldest hand-out first."""
    latest = (select(Decision.record_id, func.max(Decision.id).label("last_id"))
              .where(Decision.reviewer_id == reviewer_id, Decision.stage == stage)
              .group_by(Decision.record_id).subquery())
    d = aliased(Decision)
    q = (select(Assignment.record_id)
         .outerjoin(latest, latest.c.record_id == Assignment.record_id)
         .outerjoin(d, d.id == latest.c.last_id)
         .where(Assignment.reviewer_id == reviewer_id, Assignment.stage == stage,
                (d.id.is_(None)) | (d.label == "retracted"),
                ~_live_link_exists(Assignment.record_id))
         .order_by(Assignment.id))
    with store.session() as s:
        return [int(r) for r in s.scalars(q)]


# Frontiers: positions before which everything is known to be taken. Holders are only
# added, except when a claim expires or is released (:func:`release_expired`,
# :func:`release_claims`, which forget this process's frontiers), so "every record ranked
# above N has a holder" and "every assignment older than A belongs to a full record" stay
# true once true; remembering them lets the queue start its search there instead of walking
# 25,000 screened records on every click. They are per process and forgotten every half
# hour (a duplicate link can be undone, which makes a record available again:
# ``reset_frontiers`` forgets them at once).
_FRONTIER_TTL = 1800.0
_frontiers: dict[tuple, tuple[float, int]] = {}
_frontier_lock = threading.Lock()


def _frontier(key: tuple) -> int:
    with _frontier_lock:
        got = _frontiers.get(key)
    if got is None or time.monotonic() - got[0] > _FRONTIER_TTL:
        return 0
    return got[1]


def _advance(key: tuple, value: int | None) -> None:
    if value is None:
        return
    with _frontier_lock:
        old = _frontiers.get(key)
        if old is None or time.monotonic() - old[0] > _FRONTIER_TTL or value >= old[1]:
            _frontiers[key] = (old[0] if old and value == old[1] else time.monotonic(), value)


def reset_frontiers() -> None:
    """Forget what the queue learnt about taken records (tests; after unmerging duplicates)."""
    with _frontier_lock:
        _frontiers.clear()


#: Rows read by the first step of a scan; each further step reads twice as many (up to
#: ``MAX_CHUNK``), so a scan past thousands of taken records takes a few round trips.
CHUNK = 64
MAX_CHUNK = 8192


def _scan(s: Session, store: Store, key: tuple, position: Any, base: Any, flags: list[Any],
          want: int) -> list[int]:
    """Walk ``base`` (rows of position, record id) forward from the remembered frontier.

    ``flags`` are per-row boolean columns: the first says "taken for good" (it
    moves the frontier), the rest say "not for this reviewer". The walk reads
    rows in position order in growing chunks, so both SQLite and PostgreSQL
    use the index and stop early, instead of planning an anti-join over the
    whole review.
    """
    out: list[int] = []
    start = _frontier(key)
    frontier = None
    chunk = CHUNK
    while len(out) < want:
        rows = s.execute(base.add_columns(*flags).where(position >= start)
                         .order_by(position).limit(chunk)).all()
        if not rows:
            if frontier is None:
                frontier = start
            break
        for pos, record_id, taken, *others in rows:
            if not taken and frontier is None:
                frontier = pos
            if not taken and not any(others):
                out.append(int(record_id))
        start = rows[-1][0] + 1
        if len(rows) < chunk:
            if frontier is None:
                frontier = start
            break
        chunk = min(chunk * 2, MAX_CHUNK)
    _advance(key, frontier if frontier is not None else start)
    return out[:want]


def _singles(s: Session, store: Store, reviewer_id: int, stage: str, per_record: int,
             want: int) -> list[int]:
    """Records held by fewer than ``per_record`` reviewers (none of them this one), oldest first.

    Oldest hand-out first: pairs complete in the order they were opened, which
    is the ranking order the first reviewer was served in.
    """
    b = Assignment.__table__.alias("b")
    n_holders = (select(func.count()).select_from(b)
                 .where(b.c.record_id == Assignment.record_id, b.c.stage == stage)
                 .scalar_subquery())
    mine = exists().where(b.c.record_id == Assignment.record_id, b.c.stage == stage,
                          b.c.reviewer_id == reviewer_id)
    decided = exists().where(Decision.record_id == Assignment.record_id,
                             Decision.reviewer_id == reviewer_id, Decision.stage == stage)
    base = select(Assignment.id, Assignment.record_id).where(Assignment.stage == stage)
    flags = [(n_holders >= per_record).label("full"), mine.label("mine"),
             decided.label("decided"), _live_link_exists(Assignment.record_id).label("dup")]
    return _scan(s, store, (store.url, stage, "singles", per_record), Assignment.id, base,
                 flags, want)


def _fresh(s: Session, store: Store, reviewer_id: int, stage: str, run: int | None,
           want: int) -> list[int]:
    """Records nobody holds yet: ranked ones in rank order, then unranked ones by id."""
    anyone = exists().where(Assignment.record_id == Record.id, Assignment.stage == stage)
    flags = [anyone.label("held"),
             exists().where(Decision.record_id == Record.id, Decision.reviewer_id == reviewer_id,
                            Decision.stage == stage).label("decided"),
             _live_link_exists(Record.id).label("dup")]
    out: list[int] = []
    if run is not None:
        rk = aliased(Ranking)
        base = (select(rk.rank, Record.id).join(rk, rk.record_id == Record.id)
                .where(rk.run_id == run))
        out = _scan(s, store, (store.url, stage, "ranked", run), rk.rank, base, flags, want)
        if len(out) >= want:
            return out
        ranked = exists().where(Ranking.run_id == run, Ranking.record_id == Record.id)
        base = select(Record.id, Record.id).where(~ranked)
    else:
        base = select(Record.id, Record.id)
    out += _scan(s, store, (store.url, stage, "unranked", run), Record.id, base, flags,
                 want - len(out))
    return out


def candidates(store: Store, reviewer_id: int, stage: str = STAGE, per_record: int = 1,
               limit: int = BATCH, skip: frozenset[int] = frozenset()) -> list[int]:
    """Records this reviewer could be handed next, best first (nothing is claimed here).

    With two reviewers per record, records another reviewer already holds come
    first (so pairs complete), then records nobody holds, in ranking order.
    """
    want = limit + len(skip)
    out: list[int] = []
    with store.session() as s:
        run = latest_run_id(s, stage)
        if per_record > 1:
            out.extend(_singles(s, store, reviewer_id, stage, per_record, want))
        if len(out) < want:
            out.extend(_fresh(s, store, reviewer_id, stage, run, want))
    seen: set[int] = set()
    return [r for r in out if r not in skip and not (r in seen or seen.add(r))][:limit]


# --- claiming ---------------------------------------------------------------------------------

def try_claim(store: Store, record_id: int, reviewer_id: int, stage: str = STAGE,
              per_record: int = 1) -> bool | None:
    """Hand ``record_id`` to the reviewer if the rules allow it, atomically.

    Returns True if this call created the assignment, False if the record is
    taken (or locked by another claimer right now), None if the reviewer
    already holds it (another of their sessions claimed it first).
    """
    holders = union(
        select(Assignment.reviewer_id).where(Assignment.record_id == record_id,
                                             Assignment.stage == stage),
        select(Decision.reviewer_id).where(Decision.record_id == record_id,
                                           Decision.stage == stage),
    ).subquery()
    n_holders = select(func.count()).select_from(holders).scalar_subquery()
    mine = exists().where(Decision.record_id == record_id, Decision.reviewer_id == reviewer_id,
                          Decision.stage == stage)
    source = select(literal(record_id), literal(reviewer_id), literal(stage),
                    literal(utcnow(), type_=Assignment.assigned_at.type)
                    ).where(n_holders < per_record, ~mine)
    stmt = Assignment.__table__.insert().from_select(
        ["record_id", "reviewer_id", "stage", "assigned_at"], source
    ).returning(Assignment.__table__.c.id)  # rowcount is not reliable for INSERT ... SELECT
    try:
        with store.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                got = conn.execute(text("SELECT id FROM record WHERE id = :r "
                                        "FOR NO KEY UPDATE SKIP LOCKED"), {"r": record_id}).first()
                if got is None:
                    return False
            if conn.execute(stmt).first() is not None:
                return True
            already = conn.execute(select(Assignment.id).where(
                Assignment.record_id == record_id, Assignment.reviewer_id == reviewer_id,
                Assignment.stage == stage)).first()
            return None if already is not None else False
    except IntegrityError:
        return None


# --- claims expire and are released ------------------------------------------------------------

#: How long an undecided claim holds a record for its reviewer (the team setting
#: ``claim_minutes`` overrides it): a reviewer who opens a record and walks away, or
#: whose account is switched off, must not keep the record from the rest of the team.
DEFAULT_CLAIM_MINUTES = 30
_last_sweep: dict[str, float] = {}
SWEEP_EVERY = 60.0


def claim_minutes(settings: dict[str, Any] | None) -> float:
    """The review's claim lifetime in minutes (``claim_minutes``, default 30, at least 1)."""
    try:
        return max(1.0, float((settings or {}).get("claim_minutes", DEFAULT_CLAIM_MINUTES)))
    except (TypeError, ValueError):
        return float(DEFAULT_CLAIM_MINUTES)


def _undecided_claims(stage: str | None):
    """Assignments whose reviewer has no decision (standing or undone) on the record."""
    decided = exists().where(Decision.record_id == Assignment.record_id,
                             Decision.reviewer_id == Assignment.reviewer_id,
                             Decision.stage == Assignment.stage)
    q = Assignment.__table__.delete().where(~decided)
    return q.where(Assignment.stage == stage) if stage else q


def release_claims(store: Store, reviewer_id: int, stage: str | None = None) -> int:
    """Hand back every record this reviewer holds without having decided it (sign-out,
    switched off); returns how many. Decided records stay theirs."""
    with store.session() as s:
        n = s.execute(_undecided_claims(stage).where(
            Assignment.reviewer_id == reviewer_id)).rowcount or 0
    if n:
        reset_frontiers()
    return int(n)


def release_expired(store: Store, stage: str = STAGE, *, minutes: float = DEFAULT_CLAIM_MINUTES,
                    now: Any = None, force: bool = False) -> int:
    """Hand back claims older than ``minutes`` that were never decided; returns how many.

    Run at most once a minute per process and review (the queue calls it), so the
    hand-out stays one quick statement. This process's frontiers are forgotten
    when anything is released; another process's forget theirs within half an
    hour (``_FRONTIER_TTL``), so a released record may wait that long there.
    """
    import datetime as _dt

    key = f"{store.url}|{stage}"
    if not force and time.monotonic() - _last_sweep.get(key, -1e9) < SWEEP_EVERY:
        return 0
    _last_sweep[key] = time.monotonic()
    cutoff = (now or utcnow()) - _dt.timedelta(minutes=minutes)
    with store.session() as s:
        n = s.execute(_undecided_claims(stage).where(Assignment.assigned_at < cutoff)
                      ).rowcount or 0
    if n:
        reset_frontiers()
    return int(n)


def in_pool(settings: dict[str, Any] | None, reviewer_id: int, role: str) -> bool:
    """Whether the queue hands this person records: every reviewer, and a lead only when they
    chose to screen (``screening_leads`` lists them), so a lead opening the page to look
    around never takes a record from the team."""
    if role != "lead":
        return True
    return int(reviewer_id) in {int(x) for x in (settings or {}).get("screening_leads") or []}


def next_record(store: Store, reviewer_id: int, stage: str = STAGE, *, per_record: int = 1,
                skip: frozenset[int] = frozenset(), rounds: int = 20,
                claim_for: float | None = None) -> Claim | None:
    """The record this reviewer should screen now (claiming a new one if needed), or None.

    ``skip``: records the caller does not want offered right now (e.g. the one
    just shown), used only when choosing among open assignments and candidates.
    ``claim_for``: the claim lifetime in minutes; older undecided claims (anyone's)
    are released first.
    """
    release_expired(store, stage, minutes=claim_for or DEFAULT_CLAIM_MINUTES)
    for rid in open_assignments(store, reviewer_id, stage):
        if rid not in skip:
            return Claim(rid, fresh=False)
    for _ in range(rounds):
        cands = candidates(store, reviewer_id, stage, per_record, skip=skip)
        if not cands:
            return None
        for rid in cands:
            got: bool | None = False
            for _attempt in range(3):
                try:
                    got = try_claim(store, rid, reviewer_id, stage, per_record)
                    break
                except OperationalError as exc:  # SQLite busy past its timeout: try again
                    log.debug("claim of record %s retried (%s)", rid, exc)
            if got is True:
                return Claim(rid, fresh=True)
            if got is None:
                return Claim(rid, fresh=False)
    return None


def backfill_assignments(store: Store, stage: str = STAGE) -> int:
    """Give every decision made outside the queue (CLI, demo builder, imports) an assignment.

    The queue counts holders by assignments when it searches (fast); a
    decision without one would keep reappearing as a candidate. Idempotent.
    """
    missing = (select(Decision.record_id, Decision.reviewer_id, Decision.stage,
                      func.min(Decision.created_at))
               .where(Decision.stage == stage,
                      ~exists().where(Assignment.record_id == Decision.record_id,
                                      Assignment.reviewer_id == Decision.reviewer_id,
                                      Assignment.stage == Decision.stage))
               .group_by(Decision.record_id, Decision.reviewer_id, Decision.stage))
    with store.session() as s:
        rows = s.execute(missing).all()
    added = 0
    for record_id, reviewer_id, st, at in rows:
        try:
            with store.session() as s:
                s.add(Assignment(record_id=record_id, reviewer_id=reviewer_id, stage=st,
                                 assigned_at=at or utcnow()))
            added += 1
        except IntegrityError:
            pass
    return added


def ensure_assignment(store: Store, record_id: int, reviewer_id: int, stage: str = STAGE) -> None:
    """Record that the reviewer holds a record they decided outside the queue (idempotent)."""
    try:
        with store.session() as s:
            s.add(Assignment(record_id=record_id, reviewer_id=reviewer_id, stage=stage))
    except IntegrityError:
        pass


# --- background ranking refresh ---------------------------------------------------------------

_refresh_lock = threading.Lock()
_refreshing: dict[str, threading.Thread] = {}
_PG_RANK_LOCK = 74_204_620  # advisory lock: one ranking refresh at a time across processes


def labelled_since_last_run(store: Store, stage: str = STAGE) -> tuple[int, int | None]:
    """(records with a standing decision now, labelled count of the latest run or None)."""
    with store.session() as s:
        n_now = int(s.scalar(select(func.count(func.distinct(Decision.record_id)))
                             .where(Decision.stage == stage, Decision.label != "retracted"))
                    or 0)
        run = s.execute(select(RankingRun.n_labelled).where(RankingRun.stage == stage)
                        .order_by(RankingRun.id.desc()).limit(1)).first()
    return n_now, (None if run is None else int(run[0]))


def _rank_in_worker(url: str) -> None:
    """Runs in the ranking helper process, which keeps the review's features between refits."""
    from review.screening import store_rank
    from review.store.workers import worker_store

    store_rank(worker_store(url))


def _in_helper(store: Store) -> None:
    from review.store.workers import run_in_helper

    run_in_helper("ranking", _rank_in_worker, store.url)


def _run_refresh(store: Store, ranker: Callable[[Store], Any]) -> None:
    try:
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect() as conn:
                if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                    {"k": _PG_RANK_LOCK}).scalar():
                    return
                try:
                    ranker(store)
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_RANK_LOCK})
                    conn.commit()
        else:
            ranker(store)
    except HelperStopped:  # the app is stopping: the old ranking stands, nothing to report
        log.debug("ranking refresh abandoned: the app is stopping")
    except Exception:  # a failed refit must never break screening: the old ranking stands
        log.exception("background ranking refresh failed; keeping the previous ranking")


_last_check: dict[str, float] = {}


def maybe_refresh(store: Store, stage: str = STAGE, *, every: int = REFRESH_EVERY,
                  ranker: Callable[[Store], Any] | None = None,
                  min_interval: float = 2.0) -> threading.Thread | None:
    """Refit the ranking in the background when ``every`` new records were labelled.

    The refit itself runs in a helper process (:mod:`review.store.workers`), which
    a background thread waits on, so it never competes with reviewers' clicks
    for the interpreter; a ``ranker`` passed in (tests) runs in the thread.
    Called after each decision; it looks at the database at most once per
    ``min_interval`` seconds per process (counting labelled records reads the
    whole decision table). Returns the thread it started (tests join it), or
    None when no refresh was due or one is already running in this process.
    """
    ranker = ranker or _in_helper
    with _refresh_lock:
        running = _refreshing.get(store.url)
        if running is not None and running.is_alive():
            return None
        now = time.monotonic()
        if now - _last_check.get(store.url, -1e9) < min_interval:
            return None
        _last_check[store.url] = now
        n_now, n_run = labelled_since_last_run(store, stage)
        due = n_now >= 2 if n_run is None else n_now - n_run >= every
        if not due:
            return None
        t = threading.Thread(target=_run_refresh, args=(store, ranker), daemon=True,
                             name="review-ranking-refresh")
        _refreshing[store.url] = t
        t.start()
        return t
