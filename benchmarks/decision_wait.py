"""How long a reviewer's decision waits while a large file is imported into the same SQLite review.

Issue 17: a 400,000-record import held SQLite's write lock from its first
chunk to its end, so a decision failed with "database is locked" after 30 s.
This starts ``review import`` of a generated RIS file (the shape of
``import_scale.py``'s) in a child process and, from this process, records one
decision every ``--every`` seconds on an already-imported record, timing each
call, until the import ends. It prints the wait per decision (median, max),
how many failed, and the import's wall time.

    PYTHONPATH=. python benchmarks/decision_wait.py --records 100000

Run it once per code version in one sitting (set PYTHONPATH to each
checkout); it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from import_scale import generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--every", type=float, default=0.25, help="seconds between decisions")
    ap.add_argument("--ris", type=Path, default=None,
                    help="the generated file to import (made here if missing; reused if not)")
    args = ap.parse_args()

    from review.store import open_store, repo

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ris = args.ris or tmpdir / "big.ris"
        if not ris.exists():
            generate(ris, args.records)
        db = tmpdir / "review.db"
        store = open_store(db)
        repo.add_source(store, name="Seed", kind="database", file_name="seed.ris",
                        file_format="ris", sha256="0" * 64,
                        records=[{"title": f"Seed record {i}"} for i in range(5000)])
        ana = repo.add_reviewer(store, "ana")
        ids = [int(x) for x in repo.records_frame(store, columns=["title"])["record_id"]]
        cmd = [sys.executable, "-c", "from review.cli import main; main()", "import",
               str(ris), "--source", "Big", "--db", str(db)]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=os.environ.copy())
        waits: list[float] = []
        failures: list[str] = []
        i = 0
        while proc.poll() is None:
            t0 = time.perf_counter()
            try:
                repo.add_decision(store, record_id=ids[i % len(ids)], reviewer_id=ana,
                                  stage="title_abstract", label="exclude")
                waits.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - counted and shown
                failures.append(f"{type(exc).__name__}: {str(exc)[:80]}")
                waits.append(time.perf_counter() - t0)
            i += 1
            time.sleep(args.every)
        wall = time.perf_counter() - started
        err = proc.stderr.read().decode() if proc.stderr else ""
        imported = repo.count_records(store) - 5000
        store.close()
    for f in sorted(set(failures))[:3]:
        print("  failure:", f.splitlines()[0])
    print("\n| records | import wall (s) | imported | decisions | median wait (s) | "
          "p95 wait (s) | max wait (s) | failed |")
    print("|---|---|---|---|---|---|---|---|")
    p95 = statistics.quantiles(waits, n=20)[-1] if len(waits) > 1 else waits[0]
    print(f"| {args.records:,} | {wall:.1f} | {imported:,} | {len(waits)} | "
          f"{statistics.median(waits):.3f} | {p95:.3f} | {max(waits):.3f} | {len(failures)} |")
    if proc.returncode:
        print("  import exit", proc.returncode, err[-300:])


if __name__ == "__main__":
    main()
