"""Deduplication benchmark: the protocol of ../shared/BENCHMARKS.md §1, plus a scale run.

Sets: every labelled set in ``../shared/data/dedup/<set>/``, the hand-made hard
pairs of ``tests/fixtures/dedup/hard_pairs.csv`` (issue #14), and generated
sets (:mod:`review.dedup.synthetic`, seed 1; 100,000 records by default).

Each tool runs as a user runs it, in a fresh process, one after the other in
the same sitting, and the **whole process** is timed (interpreter start-up,
imports, reading the file and writing the result included):

- this project: ``review dedup --input SET.csv --output clusters.csv --pairs pairs.csv``;
- the peer, bib-dedupe 0.11.0: ``python -c`` a script running prep → block →
  match → cluster on the same CSV, as BENCHMARKS.md describes.

It prints pairwise TP/FP/FN, precision, recall, F1, the maybe pairs per true
duplicate pair (what a person pays), wall and CPU seconds of the process, peak
memory, and the wall-time ratio ours / peer. It never asserts. Timings on a
shared machine are noisy: quote the ratio of two tools run back to back, and
use ``--repeat`` for the median of several runs.

    python benchmarks/dedup.py --peer-python /work/peers/bibdedupe/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
HARD_PAIRS = ROOT / "tests" / "fixtures" / "dedup" / "hard_pairs.csv"
DEFAULT_PEER = Path("/work/peers/bibdedupe/bin/python")

#: Runs bib-dedupe 0.11.0 the way BENCHMARKS.md describes: prep → block → match → components.
PEER = r"""
import json, sys
import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, prep
df = pd.read_csv(sys.argv[1])
blocked = block(prep(df, verbosity_level=0, cpu=-1), verbosity_level=0, cpu=-1)
matched = match(blocked, verbosity_level=0, cpu=-1)
groups = [sorted(map(str, g)) for g in cluster(matched, verbosity_level=0)]
maybe = int((matched["duplicate_label"] == "maybe").sum()) if "duplicate_label" in matched else None
print(json.dumps({"pairs": len(blocked), "groups": groups, "maybe": maybe}))
"""


def _timed(
    cmd: list[str], timeout: int, env: dict | None = None
) -> tuple[float, float, float, str]:
    """Run ``cmd`` to the end: (wall s, CPU s, peak resident MB, stdout) of that one process.

    CPU and memory come from ``wait4`` on the process itself (its worker
    processes' CPU included once they are waited for), not from all children so far.
    The peak is a floor, not the tool's own: Linux keeps a child's peak resident
    size across ``exec``, so it starts at this harness's size when it forked
    (about 120 MB with pandas loaded); use ``/usr/bin/time -f %M`` for small runs.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            raise
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{err.read()[-2000:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read()


def run_ours(csv: Path, timeout: int) -> dict:
    """``review dedup`` as a user runs it; clusters and maybe pairs read back from its files."""
    review = shutil.which("review") or str(Path(sys.executable).with_name("review"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        out, pairs = Path(tmp) / "clusters.csv", Path(tmp) / "pairs.csv"
        wall, cpu, peak, _ = _timed(
            [review, "dedup", "--input", str(csv), "--output", str(out), "--pairs", str(pairs)],
            timeout,
            env,
        )
        clusters = pd.read_csv(out, dtype=str)
        pair_table = pd.read_csv(pairs, dtype=str)
    groups = [list(g) for _, g in clusters.groupby("cluster_id")["ID"] if len(g) > 1]
    maybe = int((pair_table["decision"] == "maybe").sum()) if len(pair_table) else 0
    return {"wall": wall, "cpu": cpu, "peak_mb": peak, "groups": groups, "maybe": maybe}


def run_peer(python: str, csv: Path, timeout: int) -> dict:
    wall, cpu, peak, stdout = _timed([python, "-c", PEER, str(csv)], timeout)
    out = json.loads(stdout.strip().splitlines()[-1])
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak,
        "groups": out["groups"],
        "maybe": out["maybe"],
    }


def median_run(fn, repeat: int) -> dict:  # noqa: ANN001
    runs = [fn() for _ in range(repeat)]
    best = dict(runs[0])
    best["wall"] = statistics.median(r["wall"] for r in runs)
    best["cpu"] = statistics.median(r["cpu"] for r in runs)
    return best


def gold_groups(set_dir: Path) -> list[list[str]]:
    merged = pd.read_csv(set_dir / "merged_record_ids.csv")["merged_ids"]
    return [str(g).split(";") for g in merged]


def hard_pairs_set(folder: Path) -> tuple[Path, list[list[str]]]:
    """The hand-made hard pairs as a benchmark set: records and the groups a reviewer labelled.

    Records a reviewer could not place (grp '*') are left out, so every pair has a label.
    """
    corpus = pd.read_csv(HARD_PAIRS, dtype=str, keep_default_na=False)
    corpus = corpus[corpus["grp"] != "*"]
    gold = [list(g["ID"]) for _, g in corpus.groupby(["case", "grp"]) if len(g) > 1]
    csv = folder / "hard_pairs.csv"
    corpus.drop(columns=["case", "cls", "expect", "grp"]).to_csv(csv, index=False)
    return csv, gold


def _row(name: str, n: int, tool: str, out: dict, gold: list[list[str]]) -> dict:
    s = pairwise_scores(out["groups"], gold)
    true_pairs = s.tp + s.fn
    return {
        "set": name,
        "records": n,
        "tool": tool,
        "TP": s.tp,
        "FP": s.fp,
        "FN": s.fn,
        "precision": s.precision,
        "recall": s.recall,
        "F1": s.f1,
        "maybe_per_dup": (out["maybe"] / true_pairs)
        if out["maybe"] is not None and true_pairs
        else float("nan"),
        "wall_s": out["wall"],
        "cpu_s": out["cpu"],
        "peak_mb": out["peak_mb"],
    }


def run_sets(args: argparse.Namespace, console: Console, tmp: Path) -> pd.DataFrame:
    peer = args.peer_python if args.peer_python and Path(args.peer_python).exists() else None
    if args.peer_python and peer is None:
        console.print(f"[yellow]peer python {args.peer_python} not found: peer skipped[/]")
    sets: list[tuple[str, Path, list[list[str]], bool]] = []
    if DATA.exists():
        for set_dir in sorted(p for p in DATA.iterdir() if (p / "records_pre_merged.csv").exists()):
            if not args.sets or set_dir.name in args.sets:
                sets.append(
                    (set_dir.name, set_dir / "records_pre_merged.csv", gold_groups(set_dir), True)
                )
    else:
        console.print(f"[yellow]{DATA} not found: shared sets skipped[/]")
    if not args.sets or "hard_pairs" in args.sets:
        csv, gold = hard_pairs_set(tmp)
        sets.append(("hard_pairs", csv, gold, True))
    for n in args.scale:
        console.print(f"  generating {n:,} records (seed {args.seed}) …")
        df, gold = generate(n, seed=args.seed)
        csv = tmp / f"synthetic_{n}.csv"
        df.to_csv(csv, index=False)
        sets.append((f"synthetic_{n}", csv, gold, args.peer_scale))
    rows = []
    for name, csv, gold, with_peer in sets:
        n = len(pd.read_csv(csv, usecols=[0]))
        console.print(f"  {name}: review …")
        rows.append(
            _row(
                name,
                n,
                "review",
                median_run(lambda c=csv: run_ours(c, args.timeout), args.repeat),
                gold,
            )
        )
        if peer and with_peer:
            console.print(f"  {name}: bib-dedupe 0.11.0 …")
            out = median_run(lambda c=csv: run_peer(peer, c, args.timeout), args.repeat)
            rows.append(_row(name, n, "bib-dedupe 0.11.0", out, gold))
    frame = pd.DataFrame(rows)
    if not frame.empty and (frame["tool"] != "review").any():
        ours = frame[frame["tool"] == "review"].set_index("set")["wall_s"]
        theirs = frame[frame["tool"] != "review"].set_index("set")["wall_s"]
        frame["wall_ratio"] = frame["set"].map(ours / theirs)
        frame.loc[frame["tool"] != "review", "wall_ratio"] = float("nan")
        ours_cpu = frame[frame["tool"] == "review"].set_index("set")["cpu_s"]
        theirs_cpu = frame[frame["tool"] != "review"].set_index("set")["cpu_s"]
        frame["cpu_ratio"] = frame["set"].map(ours_cpu / theirs_cpu)
        frame.loc[frame["tool"] != "review", "cpu_ratio"] = float("nan")
    return frame


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
    parser.add_argument("--sets", nargs="*", help="only these sets (shared names, hard_pairs)")
    parser.add_argument(
        "--scale", nargs="*", type=int, default=[100_000], help="generated set sizes (none: skip)"
    )
    parser.add_argument("--peer-scale", action="store_true", help="run the peer on generated sets")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (median)")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSV table")
    args = parser.parse_args(argv)

    console = Console(width=220)
    console.print("[bold]Deduplication benchmark[/] (whole-process timings; shared machine: noisy)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    console.print(f"load average before (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        frame = run_sets(args, console, Path(tmp))
    show(frame, "Deduplication (pairwise), whole process", console)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    console.print(f"load average after (1, 5, 15 min): {load}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out / "dedup.csv", index=False)
        console.print(f"Table written to {args.out}")


if __name__ == "__main__":
    main()
