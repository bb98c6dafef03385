"""Peak memory and time of ``review backup`` and ``review restore`` on a large review.

Issue 17: 1.3 GB (backup) and 2.1 GB (restore) for 202,000 records, against
0.28 GB to import the same file. Builds a SQLite review of ``--records``
generated records (the RIS shape of ``import_scale.py``, imported with
``review import``), then runs each command in a child process and reads its
peak resident memory (``ru_maxrss`` of the child).

    PYTHONPATH=. python benchmarks/backup_memory.py --records 200000

Run once per code version in one sitting (PYTHONPATH to each checkout); it
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from import_scale import generate  # noqa: E402

#: Each command reports its own peak (ru_maxrss of the child itself, in KiB) on exit.
CLI = [sys.executable, "-c",
       "import resource, sys\nfrom review.cli import main\ntry:\n    main()\nfinally:\n"
       "    sys.stderr.write(f'\\nPEAK_KIB {resource.getrusage(resource.RUSAGE_SELF)"
       ".ru_maxrss}\\n')"]


def run(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MiB) of one child command."""
    t0 = time.perf_counter()
    done = subprocess.run(CLI + args, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{args[0]} failed: {done.stdout[-500:]}{done.stderr[-500:]}")
    peak = int(done.stderr.rsplit("PEAK_KIB", 1)[1].split()[0])
    return wall, peak / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--workdir", type=Path, default=None,
                    help="keep the generated file and review here (reused when present)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        ris = work / f"big-{args.records}.ris"
        if not ris.exists():
            generate(ris, args.records)
        db = work / f"review-{args.records}.db"
        rows = []
        if not db.exists():
            run(["init", "--db", str(db)])
            rows.append(("import", *run(["import", str(ris), "--source", "Big", "--db",
                                         str(db)])))
        archive = work / "backup.zip"
        archive.unlink(missing_ok=True)
        rows.append(("backup", *run(["backup", str(archive), "--db", str(db)])))
        target = work / "restored.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        rows.append(("restore", *run(["restore", str(archive), "--db", str(target)])))
    print(f"\n| step ({args.records:,} records) | wall (s) | peak RSS (MiB) |")
    print("|---|---|---|")
    for name, wall, peak in rows:
        print(f"| {name} | {wall:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
