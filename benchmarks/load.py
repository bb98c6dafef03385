"""A team screening at full speed: are all decisions kept, once each, and do the counts agree?

Builds a ``--records``-record review (default 50,000) in a fresh PostgreSQL
database (created here, dropped at the end; ``--sqlite`` uses a temporary
SQLite file instead), then starts ``--workers`` processes (like app
processes behind a load balancer) hosting ``--reviewers`` simulated reviewers
in all, one thread each (like Streamlit sessions). Each reviewer does what the
screening page does on a click, as fast as it can, for ``--seconds``:

    next record from the queue → decide (random label and reason, a request id)
    → next record (skipping the one just decided) → ...

A share of clicks (``--retry-share``) is submitted twice with the same request
id, as a double click or a retry after a timeout would. Every decision the
store confirmed is appended to the worker's log. Afterwards the logs are
compared with the decision table, and the PRISMA counts with counts derived
from the logs alone:

* written / found / lost / duplicated decisions (lost and duplicated must be 0);
* records handed twice to one reviewer, records held by more reviewers than
  the review asks for (must be 0);
* PRISMA records screened / excluded versus the logs; :mod:`review.integrity`.

It prints tables and exits with status 1 if a check failed; it never asserts
on timings (this is a shared 2-core machine: numbers are noisy).

    .venv/bin/python benchmarks/load.py --seconds 120
    .venv/bin/python benchmarks/load.py --sqlite --seconds 60
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console() if sys.stdout.isatty() else Console(width=110)

TA = "title_abstract"
LABELS = ("include", "exclude", "exclude", "exclude", "maybe")  # screening excludes most
TOPICS = ("mentoring", "peer support", "family support", "school linkage",
          "community capacity building", "service integration")
WORDS = ("loneliness belonging social support young people adolescents children wellbeing "
         "isolation friendship resilience school family community trial cohort outcomes "
         "programme evaluation connectedness anxiety depression intervention").split()


# --- the review -------------------------------------------------------------------------------

def synthetic_records(n: int, seed: int) -> list[dict]:
    """Distinct records shaped like a real export, fast to make.

    Some have no DOI, issue or abstract, as real exports do: the import's speed
    depends on it (see the report on ``add_source``'s bulk insert).
    """
    rng = random.Random(seed)
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        out.append({
            "title": f"{topic.capitalize()} for lonely young people: study {i + 1}",
            "authors": [f"Author{i}, A.", f"Coauthor{rng.randrange(5000)}, B."],
            "year": 1995 + rng.randrange(30),
            "journal": rng.choice(["J Youth Ment Health", "Child Dev", "BMC Public Health"]),
            "volume": str(rng.randrange(1, 80)),
            "issue": str(rng.randrange(1, 12)) if rng.random() < 0.8 else None,
            "pages": f"{rng.randrange(1, 900)}-{rng.randrange(900, 999)}",
            "doi": f"10.5555/load.{seed}.{i}" if rng.random() < 0.7 else None,
            "abstract": (f"We studied {topic}. " + " ".join(rng.choices(WORDS, k=120)) + "."
                         if rng.random() < 0.85 else None),
            "keywords": ["loneliness", topic], "type": "article",
        })
    return out


def create_database(admin_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"review_load_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def build_review(url: str, n_records: int, n_reviewers: int, per_record: int,
                 seed: int) -> tuple[list[int], float]:
    """The review (records in one bulk import) and its reviewers; returns ids and import secs."""
    from review.store import open_store, repo

    store = open_store(url)
    records = synthetic_records(n_records, seed)
    with Progress(TextColumn("importing records"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("import", total=n_records)
        t0 = time.perf_counter()
        repo.add_source(store, name="PsycINFO", kind="database", file_name="load.ris",
                        file_format="ris", sha256=uuid.uuid4().hex * 2, records=records,
                        actor="load", on_progress=lambda k: bar.advance(task, k))
        import_s = time.perf_counter() - t0
    people = [repo.add_reviewer(store, f"reviewer{i:02d}", f"Reviewer {i}")
              for i in range(n_reviewers)]
    repo.set_setting(store, "reviewers_per_record", per_record, actor="load")
    repo.set_setting(store, "blind", True, actor="load")
    store.close()
    return people, import_s


# --- the workers ------------------------------------------------------------------------------

def _log(path: Path, row: dict) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (json.dumps(row) + "\n").encode())
    finally:
        os.close(fd)


def _reviewer_loop(store, reviewer_id: int, deadline: float, log: Path, seed: int,
                   retry_share: float, per_record: int, page_reads: bool) -> None:
    from review.screening import decisions, queue
    from review.store import repo

    rng = random.Random(seed)
    reasons = repo.DEFAULT_SETTINGS["exclusion_reasons_title_abstract"]
    t0 = time.perf_counter()
    claim = queue.next_record(store, reviewer_id, TA, per_record=per_record)
    next_s = time.perf_counter() - t0
    while claim is not None and time.time() < deadline:
        record_id = claim.record_id
        label = rng.choice(LABELS)
        reason = rng.choice(reasons) if label == "exclude" else None
        request_id = f"{reviewer_id}-{uuid.uuid4().hex}"
        try:
            t1 = time.perf_counter()
            decision_id = repo.add_decision(store, record_id=record_id, reviewer_id=reviewer_id,
                                            stage=TA, label=label, reason=reason,
                                            request_id=request_id, actor=f"r{reviewer_id}")
            decide_s = time.perf_counter() - t1
            again = None
            if rng.random() < retry_share:  # a double click: the same request id once more
                again = repo.add_decision(store, record_id=record_id, reviewer_id=reviewer_id,
                                          stage=TA, label=label, reason=reason,
                                          request_id=request_id, actor=f"r{reviewer_id}")
            _log(log, {"kind": "decision", "request_id": request_id, "decision_id": decision_id,
                       "record_id": record_id, "reviewer_id": reviewer_id, "label": label,
                       "retried": again is not None, "retry_same_id": again == decision_id,
                       "fresh": claim.fresh, "next_s": next_s, "decide_s": decide_s})
            t2 = time.perf_counter()
            claim = queue.next_record(store, reviewer_id, TA, per_record=per_record,
                                      skip=frozenset({record_id}))
            if page_reads:  # what the screening page reads to draw the next record
                decisions.my_progress(store, reviewer_id, TA)
                decisions.data_version(store, TA)
                repo.outcomes(store, TA)
                if claim is not None:
                    decisions.record_detail(store, claim.record_id)
            next_s = time.perf_counter() - t2
            queue.maybe_refresh(store, TA)  # as the page does (a no-op without a ranker)
        except Exception as exc:  # counted and reported; the reviewer carries on
            _log(log, {"kind": "error", "reviewer_id": reviewer_id, "record_id": record_id,
                       "error": f"{type(exc).__name__}: {exc}"[:500]})
            claim = queue.next_record(store, reviewer_id, TA, per_record=per_record)
    _log(log, {"kind": "finished", "reviewer_id": reviewer_id,
               "queue_empty": claim is None})


def worker(url: str, reviewers: list[int], deadline: float, log: str, seed: int,
           retry_share: float, per_record: int, page_reads: bool) -> None:
    """One app process: one store (connection pool), one thread per signed-in reviewer."""
    from review.store import open_store

    store = open_store(url)
    threads = [threading.Thread(target=_reviewer_loop,
                                args=(store, rid, deadline, Path(log), seed * 1000 + rid,
                                      retry_share, per_record, page_reads))
               for rid in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()


# --- checking ---------------------------------------------------------------------------------

def read_logs(paths: list[Path]) -> tuple[list[dict], list[dict]]:
    decisions, errors = [], []
    for p in paths:
        if not p.exists():
            continue
        for line in p.read_text().split("\n")[:-1]:  # a line still being written is skipped
            row = json.loads(line)
            if row["kind"] == "decision":
                decisions.append(row)
            elif row["kind"] == "error":
                errors.append(row)
    return decisions, errors


def verify(url: str, logged: list[dict], n_records: int, per_record: int) -> dict:
    """Compare the workers' logs with the store; every number here is derived from rows."""
    from sqlalchemy import select

    from review.integrity import check_review, holders, read_tables
    from review.report.prisma import counts_from_store
    from review.store import open_store
    from review.store.models import Decision

    store = open_store(url)
    with store.session() as s:
        rows = s.execute(select(Decision.request_id, Decision.id, Decision.record_id,
                                Decision.reviewer_id, Decision.label)
                         .where(Decision.stage == TA)).all()
    by_request: dict[str, list[tuple]] = defaultdict(list)
    for req, did, rec, rev, label in rows:
        by_request[req].append((did, rec, rev, label))
    logged_ids = {d["request_id"] for d in logged}
    found = sum(1 for d in logged if by_request.get(d["request_id"]))
    duplicated = sum(len(by_request[r]) - 1 for r in logged_ids if len(by_request.get(r, [])) > 1)
    mismatched = sum(1 for d in logged if by_request.get(d["request_id"])
                     and by_request[d["request_id"]][0] != (d["decision_id"], d["record_id"],
                                                            d["reviewer_id"], d["label"]))
    extra = sum(1 for r in by_request if r not in logged_ids)
    per_pair = Counter((d["reviewer_id"], d["record_id"]) for d in logged)
    table_pairs = Counter((rev, rec) for _req, _did, rec, rev, _l in rows)
    tables = read_tables(store)
    held = holders(tables)
    labels_by_record: dict[int, list[str]] = defaultdict(list)
    for d in logged:
        labels_by_record[d["record_id"]].append(d["label"])
    expected_excluded = sum(1 for labels in labels_by_record.values()
                            if len(labels) >= per_record and set(labels) == {"exclude"})
    prisma = counts_from_store(store).values
    problems = check_review(store)
    store.close()
    return {
        "written": len(logged), "found": found, "lost": len(logged) - found,
        "duplicated": duplicated, "mismatched": mismatched, "extra": extra,
        "retried": sum(1 for d in logged if d["retried"]),
        "retried_same_id": sum(1 for d in logged if d["retried"] and d["retry_same_id"]),
        "handed_twice": sum(1 for n in per_pair.values() if n > 1)
        + sum(1 for n in table_pairs.values() if n > 1),
        "over_reviewers": int((held["n"] > per_record).sum()),
        "records_touched": len(labels_by_record),
        "records_completed": sum(1 for v in labels_by_record.values() if len(v) >= per_record),
        "prisma_screened": prisma["records_screened"], "expected_screened": n_records,
        "prisma_excluded": prisma["records_excluded"], "expected_excluded": expected_excluded,
        "problems": problems,
    }


# --- report -----------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q) * 1000:.0f}" if values else "-"


def report(args, backend: str, import_s: float, elapsed: float, logged: list[dict],
           errors: list[dict], result: dict) -> bool:
    ok = True
    setup = Table(title="Load run")
    for col in ("backend", "records", "workers", "reviewers", "per record", "seconds",
                "import s", "import rec/s"):
        setup.add_column(col, justify="right")
    setup.add_row(backend, f"{args.records:,}", str(args.workers), str(args.reviewers),
                  str(args.per_record), f"{elapsed:.0f}", f"{import_s:.1f}",
                  f"{args.records / import_s:,.0f}")
    console.print(setup)

    checks = Table(title="Decisions: workers' logs vs the store")
    checks.add_column("check")
    checks.add_column("value", justify="right")
    checks.add_column("expected", justify="right")
    checks.add_column("", justify="center")

    def row(name: str, value, expected, good: bool) -> None:
        nonlocal ok
        ok &= good
        checks.add_row(name, str(value), str(expected), "ok" if good else "[red]FAIL[/]")

    r = result
    row("decisions written (confirmed to a worker)", r["written"], "-", r["written"] > 0)
    row("decisions found in the store", r["found"], r["written"], r["found"] == r["written"])
    row("lost", r["lost"], 0, r["lost"] == 0)
    row("duplicated", r["duplicated"], 0, r["duplicated"] == 0)
    row("stored but differing from the log", r["mismatched"], 0, r["mismatched"] == 0)
    row("in the store but never confirmed", r["extra"], 0, r["extra"] == 0)
    row("double submits (same request id)", r["retried"], "-", True)
    row("  … that returned the first decision", r["retried_same_id"], r["retried"],
        r["retried_same_id"] == r["retried"])
    row("records handed twice to one reviewer", r["handed_twice"], 0, r["handed_twice"] == 0)
    row(f"records with more than {args.per_record} reviewers", r["over_reviewers"], 0,
        r["over_reviewers"] == 0)
    row("records decided (by ≥1 / by all reviewers)",
        f"{r['records_touched']:,} / {r['records_completed']:,}", "-", True)
    row("PRISMA records screened", r["prisma_screened"], r["expected_screened"],
        r["prisma_screened"] == r["expected_screened"])
    row("PRISMA records excluded (vs logs)", r["prisma_excluded"], r["expected_excluded"],
        r["prisma_excluded"] == r["expected_excluded"])
    row("integrity problems (review check)", len(r["problems"]), 0, not r["problems"])
    row("errors raised to a reviewer", len(errors), 0, not errors)
    console.print(checks)
    for p in r["problems"]:
        console.print(f"[red]{p.check}[/]: {p.message}")
    for kind, n in Counter(e["error"].split(":")[0] for e in errors).most_common(5):
        console.print(f"[red]error[/] {kind} × {n}: "
                      f"{next(e['error'] for e in errors if e['error'].startswith(kind))}")

    lat = Table(title=f"Throughput {r['written'] / elapsed:.1f} decisions/s; latency (ms)")
    for col in ("step", "n", "p50", "p95", "p99", "max"):
        lat.add_column(col, justify="right" if col != "step" else "left")
    decide = [d["decide_s"] for d in logged]
    nxt = [d["next_s"] for d in logged]
    by_reviewer: dict[int, list[dict]] = defaultdict(list)
    for d in logged:
        by_reviewer[d["reviewer_id"]].append(d)
    click = []  # decide + the following next-record call, per reviewer in order
    for rows in by_reviewer.values():
        for a, b in zip(rows, rows[1:], strict=False):
            click.append(a["decide_s"] + b["next_s"])
    for name, values in (("decide (add_decision)", decide),
                         ("next record (queue" + (" + page reads)" if args.page_reads else ")"),
                          nxt),
                         ("click → next record", click)):
        lat.add_row(name, str(len(values)), pct(values, 50), pct(values, 95), pct(values, 99),
                    pct(values, 100))
    console.print(lat)
    return ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--reviewers", type=int, default=20)
    p.add_argument("--records", type=int, default=50_000)
    p.add_argument("--per-record", type=int, default=2, choices=(1, 2))
    p.add_argument("--retry-share", type=float, default=0.05)
    p.add_argument("--page-reads", action="store_true",
                   help="also do the screening page's reads on each click (counts, record)")
    p.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    p.add_argument("--pg-admin", default=os.environ.get(
        "REVIEW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL URL allowed to create and drop databases")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from review.store.db import resolve_url

    tmp = Path(tempfile.mkdtemp(prefix="review-load-"))
    if args.sqlite:
        url, backend, admin = resolve_url(tmp / "load.db"), "SQLite (WAL)", None
    else:
        admin = resolve_url(args.pg_admin)
        url, backend = create_database(admin), "PostgreSQL"
    try:
        console.print(f"Review: {url}")
        people, import_s = build_review(url, args.records, args.reviewers, args.per_record,
                                        args.seed)
        ctx = mp.get_context("spawn")
        logs = [tmp / f"worker{i}.jsonl" for i in range(args.workers)]
        deadline = time.time() + args.seconds
        procs = [ctx.Process(target=worker, args=(url, people[i::args.workers], deadline,
                                                  str(logs[i]), args.seed, args.retry_share,
                                                  args.per_record, args.page_reads))
                 for i in range(args.workers)]
        start = time.time()
        for proc in procs:
            proc.start()
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            task = bar.add_task("reviewers screening", total=args.seconds)
            while any(proc.is_alive() for proc in procs):
                done = len(read_logs(logs)[0])
                bar.update(task, completed=min(time.time() - start, args.seconds),
                           description=f"reviewers screening: {done:,} decisions")
                time.sleep(1)
        elapsed = time.time() - start
        crashed = [p.exitcode for p in procs if p.exitcode != 0]
        logged, errors = read_logs(logs)
        result = verify(url, logged, args.records, args.per_record)
        ok = report(args, backend, import_s, elapsed, logged, errors, result)
        if crashed:
            console.print(f"[red]worker processes exited with {crashed}[/]")
            ok = False
        console.print("[bold green]all checks passed[/]" if ok else "[bold red]checks failed[/]")
        return 0 if ok else 1
    finally:
        if admin and not args.keep:
            drop_database(admin, url)


if __name__ == "__main__":
    sys.exit(main())
