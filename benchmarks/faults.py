"""Fault injection, repeated: SIGKILL mid-import, mid-dedup, mid-decision, mid-restore; tabulated.

Runs the scenarios of ``tests/reliability/fault_scenarios.py`` (the same code
the fault tests assert on) ``--repeat`` times on SQLite and, where a server
is configured, PostgreSQL, and prints one row per scenario and backend: kills,
what was left after the restart (sources/records, links), the decisions the
children saw committed against those found once in the store, in-flight
submits retried, integrity problems and whether the interrupted work ran
again cleanly. It never asserts; it exits 1 if any kill left the review
inconsistent or lost or duplicated a decision.

    .venv/bin/python benchmarks/faults.py --repeat 3
    REVIEW_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python \\
        benchmarks/faults.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

import fault_scenarios as fs  # noqa: E402

console = Console() if sys.stdout.isatty() else Console(width=130)

SCENARIOS: dict[str, Callable[[str, Path], fs.FaultOutcome]] = {
    "cli-import": fs.cli_import_killed,
    "import-commit": fs.import_killed_before_commit,
    "dedup-links": lambda url, d: fs.dedup_killed(url, d, "link:5"),
    "dedup-commit": lambda url, d: fs.dedup_killed(url, d, "commit"),
    "deciders": fs.deciders_killed,
    "decision-commit": lambda url, d: fs.decision_killed_at(url, d, "decision-commit:7"),
    "after-commit": lambda url, d: fs.decision_killed_at(url, d, "after-commit:7"),
    "restore": fs.restore_killed,
}


@contextmanager
def database(backend: str, admin: str | None, tmp: Path) -> Iterator[str]:
    """A fresh, empty review database for one run."""
    if backend == "sqlite":
        yield str(tmp / "review.db")
        return
    url = make_url(admin)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"review_fault_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _sum(outs: list[fs.FaultOutcome], attr: str) -> str:
    values = [getattr(o, attr) for o in outs if getattr(o, attr) is not None]
    return str(sum(values)) if values else "-"


def _left(outs: list[fs.FaultOutcome]) -> str:
    if outs[0].sources is not None:
        kinds = sorted({f"{o.sources} src/{o.records} rec" for o in outs})
        return "; ".join(kinds)
    if outs[0].links is not None:
        return "; ".join(sorted({f"{o.links} links/{o.candidates} pairs" for o in outs}))
    return "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    p.add_argument("--backend", nargs="*", choices=["sqlite", "postgres"], default=None)
    p.add_argument("--pg-admin", default=os.environ.get("REVIEW_TEST_POSTGRES_URL"))
    args = p.parse_args(argv)
    backends = args.backend or (["sqlite", "postgres"] if args.pg_admin else ["sqlite"])
    table = Table(title=f"Faults injected (SIGKILL), {args.repeat} run(s) per row")
    for col in ("scenario", "backend", "kills", "left after restart", "confirmed", "found",
                "lost", "dup", "in flight (stored)", "retried → once", "PRISMA = rows",
                "problems", "rerun ok"):
        table.add_column(col, overflow="fold", no_wrap=col == "scenario")
    legend: dict[str, tuple[str, set[str]]] = {}
    ok = True
    for name in args.only or SCENARIOS:
        for backend in backends:
            outs = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp, \
                        database(backend, args.pg_admin, Path(tmp)) as url:
                    outs.append(SCENARIOS[name](url, Path(tmp)))
            problems = sum(len(o.problems) for o in outs)
            prisma = [o.prisma_excluded for o in outs if o.prisma_excluded]
            prisma_ok = all(a == b for a, b in prisma)
            rerun = [o.restart_ok for o in outs if o.restart_ok is not None]
            lost = sum(o.lost or 0 for o in outs)
            dup = sum(o.duplicated or 0 for o in outs)
            retried = [(o.retried_once, o.in_flight) for o in outs if o.in_flight is not None]
            ok &= (problems == 0 and lost == 0 and dup == 0 and prisma_ok and all(rerun)
                   and all(a == b for a, b in retried))
            what, evidence = legend.setdefault(name, (outs[0].scenario, set()))
            evidence.add(f"{backend}: {outs[0].evidence}")
            table.add_row(
                name, backend, str(len(outs)), _left(outs),
                _sum(outs, "confirmed"), _sum(outs, "found"), _sum(outs, "lost"),
                _sum(outs, "duplicated"),
                f"{_sum(outs, 'in_flight')} ({_sum(outs, 'in_flight_stored')})",
                _sum(outs, "retried_once"),
                ("yes" if prisma_ok else "NO") if prisma else "-", str(problems),
                f"{sum(rerun)}/{len(rerun)}" if rerun else "-")
            console.print(f"done: {name} on {backend}")
    console.print(table)
    for name, (what, evidence) in legend.items():
        console.print(f"[bold]{name}[/]: {what}. Killed once: {'; '.join(sorted(evidence))}.")
    console.print("[bold green]no kill left the review inconsistent[/]" if ok
                  else "[bold red]some kills left problems (see the table)[/]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
