"""Deduplication benchmark: the protocol of ../shared/BENCHMARKS.md §1, plus a scale run.

For every labelled set in ``../shared/data/dedup/<set>/`` it runs this project's
engine and (when a Python with bib-dedupe 0.11.0 is given) the peer, each in a
fresh process, one after the other in the same sitting, and prints pairwise
precision, recall and F1, the wall time of the whole run (reading the file
included, interpreter start-up excluded), CPU time and the pairs compared
after blocking. The scale run deduplicates generated sets (10,000 and 100,000
records by default, :mod:`review.dedup.synthetic`, seed 1) read from CSV, and
reports time and peak memory of that process.

It prints tables and writes them as CSV; it never asserts. Timings on a shared
machine are noisy: the time ratio of two tools run back to back is the figure
to quote, and ``--repeat`` takes the median of several runs.

    .venv/bin/python benchmarks/dedup.py --peer-python /tmp/venv-bibdedupe/bin/python
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from review.dedup.evaluate import pairwise_scores  # noqa: E402
from review.dedup.synthetic import generate  # noqa: E402

#: The shared labelled sets: beside the checkout, or one level up for a worktree.
DATA = next(
    (
        d
        for d in (
            ROOT.parent / "shared" / "data" / "dedup",
            ROOT.parents[1] / "shared" / "data" / "dedup",
        )
        if d.exists()
    ),
    ROOT.parent / "shared" / "data" / "dedup",
)
DEFAULT_PEER = Path("/tmp/venv-bibdedupe/bin/python")

#: Runs this project's engine on one CSV in a fresh interpreter; prints one JSON line.
OURS = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
import pandas as pd
from review.dedup import find_duplicates
def cpu():  # this process and any worker processes it waited for
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime
t0, c0 = time.perf_counter(), cpu()
df = pd.read_csv(sys.argv[1], dtype=str)
result = find_duplicates(df)
groups = result.duplicate_groups
print(json.dumps({
    "wall": time.perf_counter() - t0, "cpu": cpu() - c0,
    "pairs": result.pairs_compared, "groups": groups,
    "maybe": int((result.pairs["decision"] == "maybe").sum()),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "stages": result.timings,
}))
"""

#: Runs bib-dedupe 0.11.0 the way BENCHMARKS.md describes: prep → block → match → components.
PEER = r"""
import json, resource, sys, time
import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, prep
def cpu():  # this process and its worker processes (bib-dedupe uses a pool)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime
t0, c0 = time.perf_counter(), cpu()
df = pd.read_csv(sys.argv[1])
blocked = block(prep(df, verbosity_level=0, cpu=-1), verbosity_level=0, cpu=-1)
matched = match(blocked, verbosity_level=0, cpu=-1)
groups = [sorted(map(str, g)) for g in cluster(matched, verbosity_level=0)]
print(json.dumps({
    "wall": time.perf_counter() - t0, "cpu": cpu() - c0,
    "pairs": len(blocked), "groups": groups, "maybe": None,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run(python: str, script: str, csv: Path, timeout: int) -> dict:
    """One run in a fresh process; the JSON it printed last."""
    proc = subprocess.run(
        [python, "-c", script, str(csv), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} failed on {csv.name}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_run(python: str, script: str, csv: Path, repeat: int, timeout: int) -> dict:
    runs = [run(python, script, csv, timeout) for _ in range(repeat)]
    best = dict(runs[0])
    best["wall"] = statistics.median(r["wall"] for r in runs)
    best["cpu"] = statistics.median(r["cpu"] for r in runs)
    return best


def gold_groups(set_dir: Path) -> list[list[str]]:
    merged = pd.read_csv(set_dir / "merged_record_ids.csv")["merged_ids"]
    return [str(g).split(";") for g in merged]


def shared_sets(args: argparse.Namespace, console: Console) -> pd.DataFrame:
    rows = []
    peer = args.peer_python if args.peer_python and Path(args.peer_python).exists() else None
    if args.peer_python and peer is None:
        console.print(f"[yellow]peer python {args.peer_python} not found: peer skipped[/]")
    sets = sorted(p for p in DATA.iterdir() if (p / "records_pre_merged.csv").exists())
    if args.sets:
        sets = [p for p in sets if p.name in args.sets]
    for set_dir in sets:
        csv = set_dir / "records_pre_merged.csv"
        gold = gold_groups(set_dir)
        n = len(pd.read_csv(csv, usecols=[0]))
        tools = [("review", sys.executable, OURS)]
        if peer:
            tools.append(("bib-dedupe 0.11.0", peer, PEER))
        for tool, python, script in tools:
            console.print(f"  {set_dir.name}: {tool} …")
            out = median_run(python, script, csv, args.repeat, args.timeout)
            s = pairwise_scores(out["groups"], gold)
            rows.append(
                {
                    "set": set_dir.name,
                    "records": n,
                    "tool": tool,
                    "TP": s.tp,
                    "FP": s.fp,
                    "FN": s.fn,
                    "precision": s.precision,
                    "recall": s.recall,
                    "F1": s.f1,
                    "wall_s": out["wall"],
                    "cpu_s": out["cpu"],
                    "pairs_compared": out["pairs"],
                    "maybe_pairs": out["maybe"],
                    "peak_mb": out["peak_mb"],
                }
            )
    frame = pd.DataFrame(rows)
    if peer and not frame.empty:
        ours = frame[frame["tool"] == "review"].set_index("set")
        theirs = frame[frame["tool"] != "review"].set_index("set")
        ratio = (ours["wall_s"] / theirs["wall_s"]).rename("wall_ratio")
        cpu_ratio = (ours["cpu_s"] / theirs["cpu_s"]).rename("cpu_ratio")
        frame = frame.merge(ratio, left_on="set", right_index=True, how="left")
        frame = frame.merge(cpu_ratio, left_on="set", right_index=True, how="left")
        frame.loc[frame["tool"] != "review", ["wall_ratio", "cpu_ratio"]] = float("nan")
    return frame


def scale(args: argparse.Namespace, console: Console) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.scale:
            console.print(f"  generating {n:,} records (seed {args.seed}) …")
            df, gold = generate(n, seed=args.seed)
            csv = Path(tmp) / f"synthetic_{n}.csv"
            df.to_csv(csv, index=False)
            tools = [("review", sys.executable, OURS)]
            if args.peer_scale and args.peer_python and Path(args.peer_python).exists():
                tools.append(("bib-dedupe 0.11.0", args.peer_python, PEER))
            for tool, python, script in tools:
                console.print(f"  synthetic {n:,}: {tool} …")
                out = median_run(python, script, csv, args.repeat, args.timeout)
                s = pairwise_scores(out["groups"], gold)
                rows.append(
                    {
                        "records": n,
                        "tool": tool,
                        "true_pairs": s.tp + s.fn,
                        "precision": s.precision,
                        "recall": s.recall,
                        "F1": s.f1,
                        "wall_s": out["wall"],
                        "cpu_s": out["cpu"],
                        "pairs_compared": out["pairs"],
                        "peak_mb": out["peak_mb"],
                        "maybe_pairs": out["maybe"],
                        "stages": ", ".join(
                            f"{k} {v:.1f}s" for k, v in out.get("stages", {}).items()
                        ),
                    }
                )
    return pd.DataFrame(rows)


def show(frame: pd.DataFrame, title: str, console: Console) -> None:
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(col, justify="left" if frame[col].dtype == object else "right")
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else f"{v:.4f}" if v < 10 else f"{v:,.1f}")
            else:
                cells.append(f"{v:,}" if isinstance(v, int) else str(v))
        table.add_row(*cells)
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--peer-python",
        default=str(DEFAULT_PEER),
        help="Python of a virtualenv with bib-dedupe 0.11.0 (skipped if absent)",
    )
    parser.add_argument("--sets", nargs="*", help="only these shared sets")
    parser.add_argument(
        "--scale",
        nargs="*",
        type=int,
        default=[10_000, 100_000],
        help="sizes of the generated scale runs (none: skip)",
    )
    parser.add_argument(
        "--peer-scale", action="store_true", help="run the peer on the scale sets too"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (median)")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSV tables")
    args = parser.parse_args(argv)

    console = Console(width=220)
    console.print("[bold]Deduplication benchmark[/] (timings on a shared machine are noisy)")
    frames = {}
    if DATA.exists():
        frames["shared_sets"] = shared_sets(args, console)
        show(frames["shared_sets"], "Shared labelled sets (pairwise)", console)
    else:
        console.print(f"[yellow]{DATA} not found: shared sets skipped[/]")
    if args.scale:
        frames["scale"] = scale(args, console)
        show(frames["scale"], "Scale (generated records)", console)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            frame.to_csv(args.out / f"dedup_{name}.csv", index=False)
        console.print(f"Tables written to {args.out}")


if __name__ == "__main__":
    main()
