"""CPU time of ``review meta`` at 800 and 5,000 studies (issue 18).

Writes a synthetic effect table (study, yi, vi, year; seed fixed), runs the ``review meta``
command in a child process and reports the child's CPU time (user + system, from
``getrusage(RUSAGE_CHILDREN)``) and wall time. ``--baseline DIR`` runs the same command
from another checkout (e.g. /work/main) in the same sitting, so the ratio compares like
with like; a run past ``--timeout`` seconds is reported as such.

    nice python benchmarks/meta.py --sizes 800 5000 --baseline /work/main
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def table(k: int, path: Path, seed: int = 18) -> Path:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.005, 0.25, k)
    yi = rng.normal(0.25, 0.3, k) + rng.normal(0, np.sqrt(vi))
    pd.DataFrame({"study": [f"Study {i + 1}" for i in range(k)], "yi": yi, "vi": vi,
                  "year": rng.integers(1980, 2025, k)}).to_csv(path, index=False)
    return path


def run(checkout: Path, src: Path, out: Path, extra: list[str], timeout: float
        ) -> tuple[float | None, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout), MPLBACKEND="Agg")
    cmd = [sys.executable, "-c", "from review.cli import main; main()", "meta", "--input",
           str(src), "--measure", "GENERIC", "--method", "REML", "--output", str(out), *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t0
    wall = time.perf_counter() - t0
    if done.returncode != 0 or not (out / "forest.png").exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        print(f"{checkout}: review meta failed (exit {done.returncode}): {tail[0]}",
              file=sys.stderr)
        return None, wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[800, 5000])
    ap.add_argument("--baseline", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--extra", nargs="*", default=[], help="more review meta options")
    ap.add_argument("--analysis-only", action="store_true",
                    help="time the pure analysis (no figures) instead of the command")
    args = ap.parse_args()
    if args.analysis_only:
        here = Path(__file__).resolve().parents[1]
        print("| studies | this branch CPU s | baseline CPU s | ratio |")
        print("|---:|---:|---:|---:|")
        for k in args.sizes:
            a = analysis_only(here, k, args.timeout)
            b = analysis_only(args.baseline, k, args.timeout) if args.baseline else None
            ratio = (f"{b / a:.0f}x" if a and b else
                     f">{args.timeout / a:.0f}x" if a and args.baseline else "")
            print(f"| {k:,} | {a if a is None else round(a, 2)} | "
                  f"{'timeout' if args.baseline and b is None else b if b is None else round(b, 2)}"
                  f" | {ratio} |")
        return
    here = Path(__file__).resolve().parents[1]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.sizes:
            src = table(k, Path(tmp) / f"k{k}.csv")
            cpu, wall = run(here, src, Path(tmp) / f"out{k}", args.extra, args.timeout)
            base = (None, None)
            if args.baseline is not None:
                base = run(args.baseline, src, Path(tmp) / f"base{k}", args.extra, args.timeout)
            rows.append((k, cpu, wall, *base))

    def fmt(x: float | None) -> str:
        return "timeout" if x is None else f"{x:.1f}"

    print("| studies | this branch CPU s | wall s | baseline CPU s | wall s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for k, cpu, wall, bcpu, bwall in rows:
        ratio = (f"{bcpu / cpu:.1f}x" if bcpu is not None and cpu else
                 f">{args.timeout / cpu:.0f}x" if bcpu is None and args.baseline and cpu else "")
        print(f"| {k:,} | {fmt(cpu)} | {fmt(wall)} | "
              f"{fmt(bcpu) if args.baseline else ''} | {fmt(bwall) if bwall else ''} | {ratio} |")



def analysis_only(checkout: Path, k: int, timeout: float) -> float | None:
    """CPU seconds of the pure analysis (``meta_for_outcome``: pooling, Q-profile, Egger,
    leave-one-out, cumulative), no figures, in a child process of ``checkout``."""
    code = (
        "import resource,time,numpy as np,pandas as pd\n"
        "from review.synthesis.meta import meta_for_outcome\n"
        f"rng=np.random.default_rng(18); k={k}\n"
        "vi=rng.uniform(0.005,0.25,k); yi=rng.normal(0.25,0.3,k)+rng.normal(0,np.sqrt(vi))\n"
        "df=pd.DataFrame({'study':[f'Study {i+1}' for i in range(k)],'yi':yi,'vi':vi,"
        "'year':rng.integers(1980,2025,k)})\n"
        "t=time.process_time(); meta_for_outcome(df,'GENERIC','REML'); "
        "print(time.process_time()-t)\n")
    env = dict(os.environ, PYTHONPATH=str(checkout))
    try:
        res = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None
    return float(res.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
