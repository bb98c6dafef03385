"""The process the fault tests kill: it imports, deduplicates or decides, and says how far it got.

Run as ``python fault_child.py MODE DB WORKDIR [options]``. It writes what it
has done to files in WORKDIR with plain ``os.write`` calls (they reach the
kernel at once, so a SIGKILL cannot lose a line already written):

* ``progress``: one line per step (a chunk of records stored, ...);
* ``log`` (decide mode): ``attempt`` before each decision is sent and
  ``done`` with the decision's id after its commit returned;
* ``marker``: written once the process is parked at the requested kill point
  (``--hang``), where it then sleeps until the parent kills it.

Kill points (``--hang``):

* ``commit``: inside the write transaction, every row written, just before
  COMMIT is sent (the worst moment for an import or a deduplication run);
* ``link:N``: in the deduplication run, right after the statement that wrote
  its N-th duplicate link (the transaction is open);
* ``decision-commit:N``: in decide mode, inside the N-th decision's transaction
  (decision and audit rows written), just before COMMIT;
* ``after-commit:N``: in decide mode, after the N-th decision was committed but
  before the child recorded it (the "did my click land?" case);
* ``copied:N``: a streamed (SQLite: staged) import, parked after N chunks of records
  were committed to the review, before the next (no transaction open).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_helpers import make_records  # noqa: E402

from review.store import open_store, repo  # noqa: E402

HANG_SECONDS = 120


def note(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def park(workdir: Path, why: str) -> None:
    """Say where we are, then wait to be killed (the transaction, if any, stays open)."""
    note(workdir / "marker", why)
    time.sleep(HANG_SECONDS)
    note(workdir / "marker", "not killed")
    sys.exit(3)


def hang_at_commit(engine, workdir: Path) -> None:
    """Park just before the COMMIT of the first transaction that wrote something."""
    wrote = {"yes": False}

    @event.listens_for(engine, "before_cursor_execute")
    def _saw(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            wrote["yes"] = True

    @event.listens_for(engine, "commit")
    def _before_commit(conn):  # runs before the COMMIT is sent
        if wrote["yes"]:
            park(workdir, "parked before commit")


def do_import(args, store, workdir: Path) -> None:
    records = make_records(args.records, seed=args.seed, tag="imp")
    if args.hang and args.hang.startswith("copied:"):
        import_parked_between_chunks(args, store, workdir, records)
        return
    if args.hang == "commit":
        hang_at_commit(store.engine, workdir)
    source_id = repo.add_source(
        store, name="PsycINFO", kind="database", file_name="psycinfo.ris", file_format="ris",
        sha256=f"{args.seed:064d}", records=records, chunk=args.chunk,
        on_progress=lambda k: note(workdir / "progress", f"stored {k}"))
    note(workdir / "progress", f"committed {source_id}")


def import_parked_between_chunks(args, store, workdir: Path, records: list[dict]) -> None:
    """Stream an import the way ``review import`` does and park after N copied chunks."""
    from review.store.staging import RecordStage

    park_after = int(args.hang.split(":")[1])
    original = RecordStage.copy_chunk
    calls = {"n": 0}

    def copy_chunk(self, conn, source_id, after, size):
        if calls["n"] == park_after:
            park(workdir, f"parked after {park_after} chunks")
        calls["n"] += 1
        return original(self, conn, source_id, after, size)

    RecordStage.copy_chunk = copy_chunk
    repo.add_source_streaming(
        store, name="PsycINFO", kind="database", file_name="psycinfo.ris", file_format="ris",
        sha256=f"{args.seed:064d}", chunks=iter([records]))
    note(workdir / "progress", "committed")


def do_dedup(args, store, workdir: Path) -> None:
    from review.dedup import store_ops

    if args.hang and args.hang.startswith("link:"):
        stop_at = int(args.hang.split(":")[1])
        seen = {"links": 0}

        @event.listens_for(store.engine, "after_cursor_execute")
        def _count(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().upper().startswith("INSERT INTO DUPLICATE_LINK"):
                seen["links"] += len(params) if executemany else 1
                if seen["links"] >= stop_at:
                    park(workdir, f"parked after {seen['links']} links")
    elif args.hang == "commit":
        hang_at_commit(store.engine, workdir)
    note(workdir / "progress", "dedup started")
    summary = store_ops.deduplicate_review(store, actor="fault-child")
    note(workdir / "progress", f"committed {summary.links_added} {summary.candidates_added}")


def do_decide(args, store, workdir: Path) -> None:
    """Screen like the app does: ask the queue for the next record, decide, repeat."""
    import random

    from review.screening import queue

    rng = random.Random(args.seed)
    if args.hang and args.hang.startswith("decision-commit:"):
        park_at = int(args.hang.split(":")[1])
        sent = {"n": 0, "pending": False}

        @event.listens_for(store.engine, "before_cursor_execute")
        def _saw(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().upper().startswith("INSERT INTO DECISION"):
                sent["n"] += 1
                sent["pending"] = True

        @event.listens_for(store.engine, "commit")
        def _before_commit(conn):
            if sent["pending"] and sent["n"] == park_at:
                park(workdir, f"parked before commit of decision {park_at}")
            sent["pending"] = False

    reviewers = [int(r) for r in args.reviewers.split(",")]
    hang_after = (int(args.hang.split(":")[1])
                  if args.hang and args.hang.startswith("after-commit:") else None)
    reasons = repo.DEFAULT_SETTINGS["exclusion_reasons_title_abstract"]
    active = list(reviewers)
    n = 0
    log = workdir / "log"
    while active and n < args.limit:
        for rid in list(active):
            claim = queue.next_record(store, rid, per_record=args.per_record)
            if claim is None:
                active.remove(rid)
                continue
            label = rng.choice(["include", "exclude", "exclude", "maybe"])
            reason = rng.choice(reasons) if label == "exclude" else None
            request_id = f"{os.getpid()}-{rid}-{n}"
            note(log, f"attempt\t{request_id}\t{claim.record_id}\t{rid}\t{label}\t{reason or ''}")
            decision_id = repo.add_decision(store, record_id=claim.record_id, reviewer_id=rid,
                                            stage="title_abstract", label=label, reason=reason,
                                            request_id=request_id, actor=f"reviewer{rid}")
            n += 1
            if hang_after is not None and n == hang_after:
                park(workdir, f"parked after commit of {request_id} {decision_id}")
            note(log, f"done\t{request_id}\t{decision_id}")
    note(workdir / "progress", f"finished {n}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["import", "dedup", "decide"])
    p.add_argument("db")
    p.add_argument("workdir", type=Path)
    p.add_argument("--records", type=int, default=5000)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--hang", default=None)
    p.add_argument("--reviewers", default="")
    p.add_argument("--per-record", type=int, default=2)
    p.add_argument("--limit", type=int, default=10**9)
    args = p.parse_args()
    store = open_store(args.db)
    {"import": do_import, "dedup": do_dedup, "decide": do_decide}[args.mode](
        args, store, args.workdir)
    store.close()


if __name__ == "__main__":
    main()
