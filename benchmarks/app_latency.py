"""How long a reviewer waits between clicking a decision and seeing the next record.

Builds a review of ``--records`` synthetic records (default 50,000) with a
stored ranking of all of them, optionally with ``--decided`` records already
screened by a colleague, then times the path a click takes:

1. **server path** (no browser): write the decision (``repo.add_decision``),
   claim the next record (``queue.next_record``), and do every read the
   screening page makes to draw it (the record, the reviewer's and the team's
   counts). Each step is timed separately.
2. **browser path** (``--browser``, needs Debian's Chromium): the real
   ``streamlit run screening_app.py`` on localhost, driven by Playwright: the
   time from the click on *Exclude* to the next record's number on screen.

Prints median and 95th percentile per step. It never asserts: timings on a
shared 2-core machine are noisy; run it twice and compare like with like.

    .venv/bin/python benchmarks/app_latency.py --records 50000 --iterations 200 --browser
    .venv/bin/python benchmarks/app_latency.py --db postgresql://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import insert

from review.screening import decisions, queue
from review.store import Store, open_store, repo
from review.store.models import Assignment, Decision, Ranking, RankingRun, utcnow

ROOT = Path(__file__).resolve().parents[1]
TA = "title_abstract"
console = Console()

WORDS = ("loneliness belonging social support mentoring peer family school linkage community "
         "capacity building service integration adolescents children young people wellbeing "
         "depression anxiety trial cohort qualitative intervention outcome randomised").split()


def synthetic_records(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        title = " ".join(rng.choices(WORDS, k=rng.randint(6, 14))).capitalize()
        abstract = " ".join(rng.choices(WORDS, k=rng.randint(120, 260))) + "."
        out.append({"title": f"{title} ({i + 1})", "abstract": abstract,
                    "authors": [f"Author {i % 997}", "Second B"], "year": 1990 + i % 35,
                    "journal": "Journal of Youth Mental Health",
                    "keywords": rng.choices(WORDS, k=4)})
    return out


def build(db: str, n: int, decided: int, per_record: int) -> tuple[Store, dict[str, int]]:
    store = open_store(db)
    with Progress(console=console) as bar:
        task = bar.add_task(f"importing {n:,} records", total=n)
        repo.add_source(store, name="Synthetic", kind="database", file_name="synthetic.ris",
                        file_format="ris", sha256=uuid.uuid4().hex, records=synthetic_records(n),
                        on_progress=lambda k: bar.advance(task, k))
    ids = {u: repo.add_reviewer(store, u, role="lead" if u == "lead" else "reviewer",
                                password=f"{u}-demo") for u in ("lead", "ana", "ben")}
    repo.set_setting(store, "reviewers_per_record", per_record)
    repo.set_setting(store, "highlight_include", ["lonel*", "peer support", "belonging"])
    record_ids = repo.records_frame(store, columns=["year"])["record_id"].astype(int).tolist()
    order = np.random.default_rng(3).permutation(record_ids)
    with store.session() as s:
        run = RankingRun(stage=TA, model="benchmark ranking", n_labelled=0, n_relevant=0)
        s.add(run)
        s.flush()
        s.execute(insert(Ranking), [{"run_id": run.id, "record_id": int(r),
                                     "score": 1.0 - i / len(order), "rank": i + 1}
                                    for i, r in enumerate(order)])
    if decided:
        rng = random.Random(5)
        now = utcnow()
        chosen = [int(r) for r in order[:decided]]  # the colleague screened the top of the ranking
        with store.session() as s:
            s.execute(insert(Assignment), [{"record_id": r, "reviewer_id": ids["ben"],
                                            "stage": TA, "assigned_at": now} for r in chosen])
            s.execute(insert(Decision), [{"record_id": r, "reviewer_id": ids["ben"], "stage": TA,
                                          "label": rng.choice(["exclude"] * 9 + ["include"]),
                                          "created_at": now} for r in chosen])
    if store.engine.dialect.name == "postgresql":
        # What autovacuum does within a minute of a bulk load: give the planner statistics.
        from sqlalchemy import text

        with store.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    return store, ids


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def server_path(store: Store, reviewer_id: int, iterations: int, per_record: int
                ) -> dict[str, list[float]]:
    """Time each step of one click, as the screening page does it (same functions)."""
    from review.app.pages import screening

    steps: dict[str, list[float]] = {k: [] for k in (
        "write decision", "claim next record", "load record", "page counts", "total")}
    claim = queue.next_record(store, reviewer_id, TA, per_record=per_record)
    for i in range(iterations):
        t0 = time.perf_counter()
        repo.add_decision(store, record_id=claim.record_id, reviewer_id=reviewer_id, stage=TA,
                          label="exclude" if i % 7 else "include", reason="Wrong population",
                          request_id=uuid.uuid4().hex, actor="ana")
        t1 = time.perf_counter()
        claim = queue.next_record(store, reviewer_id, TA, per_record=per_record,
                                  skip=frozenset({claim.record_id}))
        t2 = time.perf_counter()
        decisions.record_detail(store, claim.record_id)
        decisions.my_current_decision(store, reviewer_id, claim.record_id, TA)
        t3 = time.perf_counter()
        decisions.my_progress(store, reviewer_id, TA)
        version = decisions.data_version(store, TA)
        team = screening._team(store, version, per_record)
        screening._recall(store, version, 0.95, team.to_screen)
        t4 = time.perf_counter()
        for key, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
            steps[key].append(value * 1000)
    return steps


def summary_costs(store: Store, per_record: int, repeats: int = 5) -> dict[str, list[float]]:
    """What the background refreshes cost (they run beside the reviewer, not in the click)."""
    from review.app import progress

    costs: dict[str, list[float]] = {"team counts (SQL)": [], "recall estimate": []}
    n = decisions.count_to_screen(store)
    for _ in range(repeats):
        t0 = time.perf_counter()
        progress.team_summary_from_counts(decisions.outcome_counts(store, TA, per_record), n)
        t1 = time.perf_counter()
        labels = progress.labels_in_screening_order(repo.decisions_frame(store, TA))
        progress.recall_estimate(labels, n, 0.95)
        t2 = time.perf_counter()
        costs["team counts (SQL)"].append((t1 - t0) * 1000)
        costs["recall estimate"].append((t2 - t1) * 1000)
    return costs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_path(db: str, iterations: int) -> dict[str, list[float]]:
    """Click Exclude in a real Chromium and time until the next record's number is on screen.

    Two clocks: Playwright's (includes its own click machinery, ~20-40 ms) and the
    page's own, from the button's pointerdown to the frame showing the new record.
    """
    from playwright.sync_api import sync_playwright

    port = free_port()
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "screening_app.py"),
         "--server.headless", "true", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--", "--db", db], cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    times: list[float] = []
    inpage: list[float] = []
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            # The browser's own clock: from the button press to the next record on screen.
            page.add_init_script("""document.addEventListener('pointerdown',
                () => { window.__reviewClickAt = performance.now(); }, true);""")
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_label("User name").fill("ana")
            page.get_by_role("textbox", name="Password").fill("ana-demo")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("text=Screened by you", timeout=120_000)
            number = page.get_by_text(re.compile(r"^Record #\d+")).first
            with Progress(console=console) as bar:
                task = bar.add_task("clicking in Chromium", total=iterations)
                for _ in range(iterations):
                    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached")
                    before = number.inner_text()
                    rid = int(re.search(r"#(\d+)", before).group(1))
                    button = page.locator(f".st-key-exclude_{rid} button")
                    t0 = time.perf_counter()
                    button.click()
                    seen = page.wait_for_function(
                        """(before) => { const e = Array.from(document.querySelectorAll(
                              '[data-testid=stCaptionContainer]')).find(
                              x => x.innerText.startsWith('Record #'));
                           return e && e.innerText !== before && performance.now(); }""",
                        arg=before, timeout=60_000, polling="raf").json_value()
                    times.append((time.perf_counter() - t0) * 1000)
                    inpage.append(seen - page.evaluate("window.__reviewClickAt"))
                    bar.advance(task)
            b.close()
    finally:
        proc.terminate()
        proc.wait(20)
    return {"click() → record shown (Playwright clock)": times,
            "pointerdown → record shown (browser clock)": inpage}


def timing_table(title: str, label: str, series: dict[str, list[float]], digits: int) -> Table:
    """Median, 95th percentile and maximum of each named series of timings (ms)."""
    table = Table(title=title)
    for col in (label, "median", "p95", "max"):
        table.add_column(col, justify="left" if col == label else "right")
    for name, values in series.items():
        table.add_row(name, *(f"{v:.{digits}f}" for v in
                              (statistics.median(values), pct(values, 95), max(values))))
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--decided", type=int, default=25_000,
                    help="records a colleague already screened (0 for a fresh review)")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--per-record", type=int, default=1, choices=(1, 2))
    ap.add_argument("--db", help="an empty PostgreSQL database URL (default: a temp SQLite file)")
    ap.add_argument("--browser", action="store_true", help="also time clicks in Chromium")
    ap.add_argument("--browser-iterations", type=int, default=60)
    args = ap.parse_args()
    db = args.db or str(Path(tempfile.mkdtemp()) / "bench.db")
    t = time.perf_counter()
    store, ids = build(db, args.records, args.decided, args.per_record)
    console.print(f"built {args.records:,} records ({args.decided:,} decided) on "
                  f"{store.engine.dialect.name} in {time.perf_counter() - t:.1f} s")
    steps = server_path(store, ids["ana"], args.iterations, args.per_record)
    background = {f"(background) {k}": v
                  for k, v in summary_costs(store, args.per_record).items()}
    console.print(timing_table(
        f"Decision → next record ready, server path, {args.records:,} records, "
        f"{store.engine.dialect.name}, {args.iterations} clicks (ms)",
        "step", {**steps, **background}, digits=1))
    if args.browser:
        if not Path("/usr/bin/chromium").exists():
            console.print("[yellow]no /usr/bin/chromium: browser path skipped[/]")
        else:
            series = browser_path(store.url if args.db else db, args.browser_iterations)
            n = len(next(iter(series.values())))
            console.print(timing_table(
                f"Click → next record on screen, Chromium + Streamlit, {args.records:,} "
                f"records, {n} clicks (ms)", "clock", series, digits=0))
    store.close()


if __name__ == "__main__":
    main()
