"""How long the Records page takes at 50,000 records: filter, search, open, change a decision.

Builds (or reuses, ``--db``) a review of ``--records`` synthetic records with a
stored ranking and ``--decided`` records screened by a colleague (the same
builder as ``benchmarks/app_latency.py``), tags a tenth of them, then times
the store calls the page makes, each ``--iterations`` times with varied
arguments:

* **filter**: one page (50 rows) of the list under a mix of filters (my
  decision, year range and source, tag, final decision, conflict, reviewer),
  sorted by relevance or year, count included;
* **search**: one page for a full-text search (words, stems, phrases);
* **open**: a record with its history and tags;
* **change**: appending a changed decision (with its audit row);
* **page run**: the whole Records page script (Streamlit AppTest, the lead
  signed in, a search and a record open), which is what a reload costs on
  the server.

Prints median, p95 and max (ms). It never asserts; run it with ``nice`` and
compare like with like.

    python benchmarks/record_list.py --records 50000 --iterations 40
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import build, timing_table  # noqa: E402

from review.screening import record_list as rl  # noqa: E402
from review.screening import tags  # noqa: E402
from review.store import open_store, repo  # noqa: E402
from review.store.models import RecordTag, utcnow  # noqa: E402

console = Console()
SEARCHES = ["loneliness", "peer support", '"social support"', "lonel* trial", "mentor*",
            "qualitative cohort", "author 17", "adolescents wellbeing depression",
            "randomised", "belonging family"]


@dataclass
class Person:
    reviewer_id: int
    role: str
    username: str


_cpu: dict[str, list[float]] = {}


def timed(fn, name: str | None = None) -> float:
    """Wall-clock ms of ``fn()``; its CPU ms (this process) go to ``_cpu[name]``.

    On a shared machine the wall clock includes waiting for a core; the CPU
    time is what the call itself costs, so both are printed.
    """
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if name is not None:
        _cpu.setdefault(name, []).append(1000 * cpu)
    return 1000 * wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--decided", type=int, default=25_000)
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--page-runs", type=int, default=5)
    ap.add_argument("--db", help="a SQLite path or PostgreSQL URL (built if it is new)")
    args = ap.parse_args()
    db = args.db or str(Path(tempfile.mkdtemp()) / "records.db")
    t0 = time.perf_counter()
    fresh = not (args.db and Path(args.db).exists())
    if fresh:
        store, ids = build(db, args.records, args.decided, per_record=2)
    else:  # a review this benchmark built before
        store = open_store(db)
        people = repo.reviewers_frame(store)
        ids = dict(zip(people["username"], people["reviewer_id"].astype(int), strict=True))
    console.print(f"{'built' if fresh else 'opened'} {repo.count_records(store):,} records in "
                  f"{time.perf_counter() - t0:.1f} s ({store.engine.dialect.name}; "
                  f"FTS5: {rl.has_fts5(store)})")
    settings = repo.get_settings(store)
    lead = Person(ids["lead"], "lead", "lead")
    ben = Person(ids["ben"], "reviewer", "ben")
    record_ids = repo.records_frame(store, columns=["year"])["record_id"].astype(int).tolist()
    if fresh:
        tag = tags.create_tag(store, lead, "RCT")
        with store.session() as s:
            s.execute(insert(RecordTag), [{"tag_id": tag, "record_id": r, "applied_by": "lead",
                                           "applied_at": utcnow()} for r in record_ids[::10]])
    else:
        tag = int(tags.tags_frame(store)["tag_id"].iloc[0])
    source = int(repo.sources_frame(store)["source_id"].iloc[0])
    filters = [
        (ben, rl.RecordQuery(my_decision="undecided")),
        (ben, rl.RecordQuery(my_decision="exclude", sort="year_desc")),
        (lead, rl.RecordQuery(year_from=2000, year_to=2005, source_id=source)),
        (lead, rl.RecordQuery(tag_id=tag, sort="year_asc")),
        (lead, rl.RecordQuery(final="exclude")),
        (lead, rl.RecordQuery(conflict=False, final="none")),
        (lead, rl.RecordQuery(reviewer_id=ids["ben"])),
        (ben, rl.RecordQuery()),
    ]
    rng = random.Random(11)
    series: dict[str, list[float]] = {"filter: one page + count": [],
                                      "search: one page + count": [],
                                      "open a record": [], "change a decision": []}
    for i in range(args.iterations):
        who, q = filters[i % len(filters)]
        page = rng.randrange(0, 20)
        series["filter: one page + count"].append(timed(
            lambda: rl.find_records(store, who, q, settings, page=page),  # noqa: B023
            "filter: one page + count"))
        text = SEARCHES[i % len(SEARCHES)]
        series["search: one page + count"].append(timed(
            lambda: rl.find_records(store, lead, rl.RecordQuery(text=text), settings),  # noqa: B023
            "search: one page + count"))
        rid = rng.choice(record_ids)
        series["open a record"].append(timed(
            lambda: rl.open_record(store, ben, rid, "title_abstract", settings),  # noqa: B023
            "open a record"))
        label = rng.choice(["include", "exclude", "maybe"])
        series["change a decision"].append(timed(
            lambda: rl.change_decision(store, ben, rid, "title_abstract", label,  # noqa: B023
                                       settings, reason=None), "change a decision"))
    console.print(timing_table(f"Record list store calls, {args.records:,} records "
                               f"({store.engine.dialect.name}), {args.iterations} each",
                               "step", series, 1))
    console.print(timing_table("The same calls, CPU time of this process (ms)", "step", _cpu, 1))
    if hasattr(os, "getloadavg"):
        console.print(f"load average during the run: {os.getloadavg()[0]:.1f} "
                      f"on {os.cpu_count()} cores")
    if args.page_runs and store.engine.dialect.name == "sqlite":
        console.print(timing_table("Records page, whole script run (AppTest, lead)", "run",
                                   {"page run": page_runs(db, args.page_runs)}, 0))
    store.close()


def page_runs(db: str, n: int) -> list[float]:
    """The whole Records page script: sign in once, then rerun it with a search and a record."""
    from streamlit.testing.v1 import AppTest

    os.environ["REVIEW_DATABASE_URL"] = db
    app = Path(__file__).resolve().parents[1] / "screening_app.py"
    at = AppTest.from_file(str(app), default_timeout=120)
    at.run()
    at.text_input(key="login_username").input("lead")
    at.text_input(key="login_password").input("lead-demo")
    at.button[0].click()
    at.run()
    at.session_state["goto"] = "records"
    at.run()
    out = []
    store = open_store(db)
    ids = repo.records_frame(store, columns=["year"])["record_id"].astype(int).tolist()
    store.close()
    rng = random.Random(2)
    for i in range(n):
        at.text_input(key="rec_text").input(SEARCHES[i % len(SEARCHES)])
        at.number_input(key="rec_open_number").set_value(rng.choice(ids))
        out.append(timed(at.run))
        if at.exception:
            raise RuntimeError(at.exception)
    return out


if __name__ == "__main__":
    main()
