"""What ``synchronous=FULL`` (the default) costs a reviewer against ``NORMAL``, on SQLite with WAL.

NORMAL can lose the last commits on a power cut; FULL syncs the WAL on every
commit, so a decision the reviewer saw saved stays saved. This times one
decision (``repo.add_decision``: a transaction with its audit row, as a click
on the screening page writes) under each setting, alternating in one sitting.

    PYTHONPATH=. python benchmarks/durability.py --decisions 300

Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def timings(level: str, folder: Path, n: int) -> list[float]:
    from review.store import db as store_db
    from review.store import open_store, repo

    store_db.SQLITE_SYNCHRONOUS = level
    store = open_store(folder / f"{level}.db")
    repo.add_source(store, name="Seed", kind="database", file_name="s.ris", file_format="ris",
                    sha256="0" * 64, records=[{"title": f"Record {i}"} for i in range(n)])
    ana = repo.add_reviewer(store, "ana")
    ids = [int(x) for x in repo.records_frame(store, columns=["title"])["record_id"]]
    out = []
    for rid in ids:
        t0 = time.perf_counter()
        repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                          label="exclude")
        out.append(time.perf_counter() - t0)
    store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--decisions", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for level in ("NORMAL", "FULL") if r % 2 == 0 else ("FULL", "NORMAL"):
                folder = Path(tmp) / f"{level}-{r}"
                folder.mkdir()
                results[level] += timings(level, folder, args.decisions)
    print("\n| synchronous | decisions | median (ms) | p95 (ms) | max (ms) |")
    print("|---|---|---|---|---|")
    for level, xs in results.items():
        xs.sort()
        print(f"| {level} | {len(xs)} | {statistics.median(xs) * 1000:.1f} | "
              f"{xs[int(0.95 * len(xs))] * 1000:.1f} | {xs[-1] * 1000:.1f} |")
    ratio = statistics.median(results["FULL"]) / statistics.median(results["NORMAL"])
    print(f"\nFULL / NORMAL median: {ratio:.2f}")


if __name__ == "__main__":
    main()
