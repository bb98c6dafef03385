"""Streaming import: does `review import` keep its memory flat as files grow to 1 GB?

Generates deterministic RIS exports shaped like real EndNote/Scopus ones (the
generator of ``import_scale.py``: 5 authors, ~1,500-character abstracts
wrapped over several lines, keyword lists on continuation lines) of about
1 MB, 100 MB and 1 GB in a temporary folder under /tmp, then runs the real
command, ``review import FILE --source ... --db REVIEW.db``, on each into a
fresh SQLite review, every run in its own process. Peak memory is that
process's ``ru_maxrss`` (from ``os.wait4``); wall time is the whole command
(interpreter start, the hashing pass, parsing and the one-transaction insert,
commit included).

For comparison, the 100 MB file is also imported the whole-file way
(``read_records`` then ``add_source``, what ``review import`` did before) in
a child process of its own.

    .venv/bin/python benchmarks/import_stream.py                  # 1, 100, 1000 MB
    .venv/bin/python benchmarks/import_stream.py --sizes 1,100    # quicker

Everything generated is deleted at the end. Prints tables; asserts nothing.
Timings on a shared 2-core machine are noisy (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_scale import generate  # noqa: E402  (the shared, deterministic generator)

#: Bytes per generated record, measured on the generator's output (199 MiB / 100,000).
BYTES_PER_RECORD = 2087
REVIEW = Path(sys.executable).with_name("review")

WHOLE_FILE = """
import sys
from review.io import read_records
from review.store import open_store, repo
path, db = sys.argv[1], sys.argv[2]
store = open_store(db)
imported = read_records(path)
repo.add_source(store, name="Bench", kind="database", file_name=imported.path.name,
                file_format=imported.fmt, sha256=imported.sha256, records=imported.records,
                missing=imported.missing)
"""


def run_measured(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run ``cmd``; wall seconds, its peak RSS in MiB, exit status and its error output."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        message = err.read().decode(errors="replace")[-400:]
    return wall, usage.ru_maxrss / 1024, proc.returncode, message


def stored_records(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM record").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,1000", help="file sizes in MB")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-file comparison")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="review-import-stream-", dir="/tmp"))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"python {sys.version.split()[0]}; files in {workdir} (deleted at the end)")
    rows: list[str] = []
    try:
        for size in sizes:
            n = max(1, round(size * 1e6 / BYTES_PER_RECORD))
            path = workdir / f"export_{n}.ris"
            started = time.perf_counter()
            generate(path, n, args.seed)
            made = time.perf_counter() - started
            mib = path.stat().st_size / 2**20
            print(f"generated {path.name}: {n:,} records, {mib:,.1f} MiB in {made:.0f} s",
                  flush=True)
            runs = [("review import (streamed)", None)]
            if not args.no_whole and size <= 200:
                runs.append(("read_records + add_source (whole file)", WHOLE_FILE))
            for label, script in runs:
                db = workdir / f"review_{n}_{'whole' if script else 'stream'}.db"
                subprocess.run([str(REVIEW), "init", "--db", str(db)], check=True,
                               capture_output=True)
                if script is None:
                    cmd = [str(REVIEW), "import", str(path), "--source", "Bench", "--db", str(db)]
                else:
                    cmd = [sys.executable, "-c", script, str(path), str(db)]
                wall, peak, rc, err = run_measured(cmd)
                stored = stored_records(db)
                status = "ok" if rc == 0 and stored == n else f"FAILED rc={rc}: {err.strip()}"
                db_mib = db.stat().st_size / 2**20
                rows.append(f"| {label} | {mib:,.0f} | {n:,} | {stored:,} | {wall:,.1f} | "
                            f"{stored / wall:,.0f} | {peak:,.0f} | {db_mib:,.0f} | {status} |")
                print(rows[-1], flush=True)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print()
    print("| path | file MiB | records | stored | wall s | records/s | peak RSS MiB "
          "| review.db MiB | status |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
