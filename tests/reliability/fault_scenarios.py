"""The fault scenarios: start real work in a child process, SIGKILL it mid-way, reopen, measure.

Each scenario returns a :class:`FaultOutcome` describing what was found after
the restart; ``test_faults.py`` asserts on it and ``benchmarks/faults.py``
repeats the scenarios and prints the outcomes as a table. A scenario only
kills once it has evidence the child is in the middle of its work: the
child's transaction is open on the PostgreSQL server, SQLite's write lock is
held, or the child parked itself at a named point inside its transaction.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from reliability_helpers import (
    duplicate_records,
    expected_excluded,
    make_records,
    pg_child_in_transaction,
    read_log,
    review_command,
    sigkill,
    sqlite_write_locked,
    start_child,
    wait_for_server_to_drop_child,
    wait_until,
    with_app_name,
)
from sqlalchemy import func, select
from typer.testing import CliRunner

from review.cli import app as cli
from review.integrity import Problem, check_review
from review.io.export import write_ris
from review.report.prisma import counts_from_store
from review.screening import queue
from review.store import Store, open_store, repo
from review.store.models import AuditLog, Decision, DedupCandidate, DuplicateLink, Record, Source

TA = "title_abstract"


@dataclass
class FaultOutcome:
    """What a restarted process finds after the kill (``None``: not measured here)."""

    scenario: str
    evidence: str  # why we know the child was mid-work when killed
    sources: int | None = None  # sources present after the kill
    records: int | None = None  # records present after the kill
    expected_records: int | None = None  # records of one whole source
    visible_before_kill: int | None = None  # rows another session saw while the child was parked
    audit_rows: int | None = None  # audit rows of the killed work
    links: int | None = None  # live duplicate links after the kill
    candidates: int | None = None
    confirmed: int | None = None  # decisions the children saw committed
    found: int | None = None  # ... of which are stored exactly once, as sent
    lost: int | None = None
    duplicated: int | None = None
    in_flight: int | None = None  # sent, never heard back
    in_flight_stored: int | None = None  # ... of which were committed anyway
    retried_once: int | None = None  # in-flight ones stored exactly once after a retry
    resumed_same_record: bool | None = None  # the reviewer got the interrupted record back
    prisma_excluded: tuple[int, int] | None = None  # (PRISMA, derived from the rows)
    restart_ok: bool | None = None  # the interrupted work, run again, completed
    problems: list[Problem] = field(default_factory=list)


def is_pg(url: str) -> bool:
    return url.startswith("postgresql")


def n_rows(store: Store, model, *where) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def mid_transaction(url: str, statement: str | None = None):
    if is_pg(url):
        return lambda: pg_child_in_transaction(url, statement)
    return lambda: sqlite_write_locked(url)


def whole_sources(store: Store) -> tuple[int, int]:
    """(sources, records) present; raises if a source is not whole."""
    with store.session() as s:
        rows = s.execute(select(Source.id, Source.record_count)).all()
        for sid, count in rows:
            stored = s.scalar(select(func.count()).select_from(Record)
                              .where(Record.source_id == sid))
            if stored != count:
                raise AssertionError(f"half import: source {sid} has {stored} of {count}")
    return len(rows), n_rows(store, Record)


# --- import -----------------------------------------------------------------------------------

def cli_import_killed(url: str, workdir: Path, n: int = 5000) -> FaultOutcome:
    store = open_store(url)
    export = workdir / "psycinfo.ris"
    write_ris(make_records(n, seed=7, tag="cli"), export)
    args = ["import", str(export), "--source", "PsycINFO", "--db"]
    proc = subprocess.Popen([review_command(), *args, with_app_name(url)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(mid_transaction(url, "INSERT INTO record"),
               "`review import` to be inside its write transaction", proc, timeout=60)
    sigkill(proc)
    wait_for_server_to_drop_child(url)
    store.close()
    store = open_store(url)  # the restart
    out = FaultOutcome("`review import` killed while writing",
                       "server shows its INSERT INTO record in an open transaction"
                       if is_pg(url) else "SQLite write lock held by the child",
                       expected_records=n)
    out.sources, out.records = whole_sources(store)
    out.problems = check_review(store)
    if out.sources == 0:  # run the same import again: nothing blocks it
        done = CliRunner().invoke(cli, [*args, url])
        out.restart_ok = done.exit_code == 0 and whole_sources(store) == (1, n)
    store.close()
    return out


def import_killed_before_commit(url: str, workdir: Path, n: int = 3000) -> FaultOutcome:
    store = open_store(url)
    proc = start_child("import", with_app_name(url), str(workdir), "--records", str(n),
                       "--hang", "commit")
    wait_until(lambda: (workdir / "marker").exists(), "the import to reach its COMMIT", proc)
    out = FaultOutcome("import killed just before COMMIT (all rows written)",
                       "child parked in its transaction before COMMIT", expected_records=n)
    out.visible_before_kill = n_rows(store, Record) + n_rows(store, Source)
    sigkill(proc)
    wait_for_server_to_drop_child(url)
    store.close()
    store = open_store(url)
    out.sources, out.records = whole_sources(store)
    out.audit_rows = n_rows(store, AuditLog, AuditLog.action == "import")
    out.problems = check_review(store)
    again_dir = workdir / "again"
    again_dir.mkdir(exist_ok=True)
    again = start_child("import", url, str(again_dir), "--records", str(n))
    out.restart_ok = again.wait(timeout=180) == 0 and whole_sources(store) == (1, n)
    again.communicate()
    store.close()
    return out


# --- deduplication ----------------------------------------------------------------------------

def dedup_killed(url: str, workdir: Path, kill_point: str) -> FaultOutcome:
    from review.dedup import store_ops

    store = open_store(url)
    repo.add_source(store, name="Scopus", kind="database", file_name="scopus.ris",
                    file_format="ris", sha256="d" * 64, records=duplicate_records(400, seed=3))
    proc = start_child("dedup", with_app_name(url), str(workdir), "--hang", kill_point)
    wait_until(lambda: (workdir / "marker").exists(), f"the dedup run to reach {kill_point}",
               proc, timeout=90)
    where = "after writing its first links" if kill_point.startswith("link") else \
        "before COMMIT, every link and candidate written"
    out = FaultOutcome(f"dedup run killed {where}", "child parked in its transaction")
    out.visible_before_kill = n_rows(store, DuplicateLink)
    sigkill(proc)
    wait_for_server_to_drop_child(url)
    store.close()
    store = open_store(url)
    out.links = n_rows(store, DuplicateLink)
    out.candidates = n_rows(store, DedupCandidate)
    out.audit_rows = n_rows(store, AuditLog, AuditLog.action.in_(["link_duplicate", "dedup_run"]))
    with store.session() as s:
        out.records = sum(1 for m in s.scalars(select(Record.merged)) if m)  # half-merged
    out.problems = check_review(store)
    summary = store_ops.deduplicate_review(store, actor="lead")
    out.restart_ok = (summary.links_added > 0 and n_rows(store, DuplicateLink)
                      == summary.links_added and not check_review(store))
    store.close()
    return out


# --- decisions --------------------------------------------------------------------------------

def team_review(url: str, n_records: int) -> tuple[Store, list[int]]:
    store = open_store(url)
    repo.add_source(store, name="PubMed", kind="database", file_name="pubmed.nbib",
                    file_format="nbib", sha256="e" * 64, records=make_records(n_records, seed=5))
    people = [repo.add_reviewer(store, f"reviewer{i}") for i in range(4)]
    repo.set_setting(store, "reviewers_per_record", 2)
    return store, people


def stored_by_request(store: Store) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    with store.session() as s:
        for row in s.execute(select(Decision.request_id, Decision.id, Decision.record_id,
                                    Decision.reviewer_id, Decision.label)):
            out.setdefault(row[0], []).append(tuple(row[1:]))
    return out


def compare_logs(store: Store, workdirs: list[Path], out: FaultOutcome) -> None:
    """Fill the decision counts: confirmed vs stored, then retry what was never confirmed."""
    out.confirmed = out.found = out.duplicated = 0
    out.in_flight = out.in_flight_stored = out.retried_once = 0
    stored = stored_by_request(store)
    for d in workdirs:
        attempts, done = read_log(d / "log")
        for req, decision_id in done.items():
            rec, rev, label, _ = attempts[req]
            rows = stored.get(req, [])
            out.confirmed += 1
            out.found += rows == [(decision_id, rec, rev, label)]
            out.duplicated += max(len(rows) - 1, 0)
        for req in (r for r in attempts if r not in done):
            rec, rev, label, reason = attempts[req]
            out.in_flight += 1
            out.in_flight_stored += len(stored.get(req, [])) == 1
            for _ in range(2):  # the restarted client retries, twice for good measure
                repo.add_decision(store, record_id=rec, reviewer_id=rev, stage=TA,
                                  label=label, reason=reason, request_id=req)
            out.retried_once += len(stored_by_request(store).get(req, [])) == 1
    out.lost = out.confirmed - out.found


def prisma_check(store: Store) -> tuple[int, int]:
    with store.session() as s:
        rows = [tuple(r) for r in s.execute(select(Decision.id, Decision.record_id,
                                                   Decision.reviewer_id, Decision.label)
                                            .where(Decision.stage == TA))]
    return counts_from_store(store).values["records_excluded"], expected_excluded(rows, 2)


def deciders_killed(url: str, workdir: Path, first: int = 40, more: int = 30) -> FaultOutcome:
    """Two app-like processes decide at once; one is killed, the other goes on, then dies too."""
    store, people = team_review(url, 300)
    dirs = [workdir / "a", workdir / "b"]
    for d in dirs:
        d.mkdir(exist_ok=True)
    a = start_child("decide", with_app_name(url), str(dirs[0]),
                    "--reviewers", f"{people[0]},{people[1]}", "--seed", "1")
    b = start_child("decide", with_app_name(url), str(dirs[1]),
                    "--reviewers", f"{people[2]},{people[3]}", "--seed", "2")
    wait_until(lambda: len(read_log(dirs[0] / "log")[1]) >= first, f"{first} decisions from A",
               a, timeout=90)
    sigkill(a)
    b_before = len(read_log(dirs[1] / "log")[1])
    wait_until(lambda: len(read_log(dirs[1] / "log")[1]) >= b_before + more,
               f"{more} more decisions from B", b, timeout=90)
    sigkill(b)
    wait_for_server_to_drop_child(url)
    store.close()
    store = open_store(url)
    out = FaultOutcome("2 deciding processes, killed one after the other at random points",
                       "both were in their decide loop (decisions still being confirmed)")
    compare_logs(store, dirs, out)
    out.problems = check_review(store)
    out.prisma_excluded = prisma_check(store)
    store.close()
    return out


def decision_killed_at(url: str, workdir: Path, kill_point: str) -> FaultOutcome:
    """Kill inside the 7th decision's transaction, or just after its commit returned."""
    store, people = team_review(url, 60)
    proc = start_child("decide", with_app_name(url), str(workdir),
                       "--reviewers", f"{people[0]},{people[1]}", "--hang", kill_point)
    wait_until(lambda: (workdir / "marker").exists(), f"the child to park at {kill_point}", proc)
    sigkill(proc)
    wait_for_server_to_drop_child(url)
    store.close()
    store = open_store(url)
    committed = kill_point.startswith("after-commit")
    out = FaultOutcome("decision killed " + ("after COMMIT, before the client heard"
                                             if committed else "inside its transaction"),
                       "child parked " + ("after the commit returned" if committed
                                          else "before COMMIT"))
    attempts, done = read_log(workdir / "log")
    (req,) = [r for r in attempts if r not in done]
    rec, rev = attempts[req][:2]
    if not committed:  # the reviewer's browser reloads: the interrupted record comes back
        out.resumed_same_record = (queue.next_record(store, rev, per_record=2)
                                   == queue.Claim(rec, fresh=False))
    compare_logs(store, [workdir], out)
    out.problems = check_review(store)
    out.prisma_excluded = prisma_check(store)
    store.close()
    return out


# --- backup and restore -----------------------------------------------------------------------

def restore_killed(url: str, workdir: Path, n: int = 6000) -> FaultOutcome:
    origin = open_store(workdir / "origin.db")
    repo.add_source(origin, name="PubMed", kind="database", file_name="p.nbib",
                    file_format="nbib", sha256="f" * 64, records=make_records(n, seed=9))
    origin.close()
    archive = workdir / "backup.zip"
    done = CliRunner().invoke(cli, ["backup", str(archive), "--db", str(workdir / "origin.db")])
    if done.exit_code != 0:
        raise AssertionError(done.output)
    target = open_store(url)
    proc = subprocess.Popen([review_command(), "restore", str(archive), "--db",
                             with_app_name(url)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_until(mid_transaction(url, "INSERT INTO"), "`review restore` to be writing", proc,
               timeout=60)
    sigkill(proc)
    wait_for_server_to_drop_child(url)
    target.close()
    target = open_store(url)
    out = FaultOutcome("`review restore` killed while writing",
                       "server shows its INSERT in an open transaction" if is_pg(url)
                       else "SQLite write lock held by the child", expected_records=n)
    out.sources, out.records = whole_sources(target)
    out.problems = check_review(target)
    if out.records == 0:
        again = CliRunner().invoke(cli, ["restore", str(archive), "--db", url])
        out.restart_ok = again.exit_code == 0 and whole_sources(target) == (1, n)
    target.close()
    return out
