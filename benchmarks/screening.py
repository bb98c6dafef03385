"""BENCHMARKS.md §2: the ranker on every shared screening set, seeds 1-3, beside ASReview.

Prints WSS@95, Recall@10%, ATD per set (mean of the seeds), where the stopping
rule stopped and the recall it reached, and the mean time per model update
(the model is refitted after every label: the reference protocol). ASReview's
figures are its default model's (elas_u4) as published in BENCHMARKS.md §2.
Then a latency run: one model update + re-rank on generated reviews of 10,000
and 100,000 records. It prints tables and asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from review.screening.active import Ranker
from review.screening.simulate import load_dataset, simulate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "screening"
ASREVIEW = {  # BENCHMARKS.md §2, mean of seeds 1-3: WSS@95, Recall@10%, ATD
    "Cohen_2006_ADHD": (0.704, 0.717, 0.077),
    "Cohen_2006_Antihistamines": (-0.015, 0.438, 0.237),
    "Cohen_2006_NSAIDS": (0.725, 0.577, 0.094),
    "Cohen_2006_Triptans": (0.649, 0.444, 0.141),
    "Cohen_2006_UrinaryIncontinence": (0.456, 0.383, 0.189),
}


def run_sets(seeds: list[int]) -> pd.DataFrame:
    rows = []
    for path in sorted(DATA.glob("*.csv")):
        df, _ = load_dataset(path)
        for seed in seeds:
            sim = simulate(df, seed)
            rows.append({"set": path.stem, "seed": seed, "wss95": sim.metrics.wss95,
                         "recall10": sim.metrics.recall_at_10, "atd": sim.metrics.atd,
                         "stop_at": sim.stop.screened / sim.metrics.n,
                         "stop_recall": sim.stop.recall,
                         "update_ms": 1000 * float(np.mean(sim.update_seconds)),
                         "n": sim.metrics.n, "relevant": sim.metrics.relevant})
            print(f"  {path.stem} seed {seed}: WSS@95 {sim.metrics.wss95:.3f}", flush=True)
    return pd.DataFrame(rows)


def latency(sizes: list[int], repeats: int = 5) -> pd.DataFrame:
    """Model update + re-rank time on generated reviews (features built once, as in a review)."""
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    rows = []
    for n in sizes:
        words = rng.zipf(1.3, size=(n, 120)) % len(vocab)
        df = pd.DataFrame({"record_id": np.arange(n),
                           "title": [" ".join(vocab[w[:12]]) for w in words],
                           "abstract": [" ".join(vocab[w[12:]]) for w in words],
                           "keywords": ""})
        t = time.perf_counter()
        ranker = Ranker.from_records(df)
        build = time.perf_counter() - t
        labels = {int(i): int(i % 20 == 0) for i in rng.choice(n, 500, replace=False)}
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            ranker.rank(labels)
            times.append(time.perf_counter() - t)
        rows.append({"records": n, "features built once (s)": round(build, 2),
                     "update + re-rank median (s)": round(float(np.median(times)), 3),
                     "max (s)": round(max(times), 3)})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--sizes", default="10000,100000", help="latency runs ('' to skip)")
    ap.add_argument("--skip-sets", action="store_true")
    args = ap.parse_args()
    if not args.skip_sets:
        res = run_sets([int(s) for s in args.seeds.split(",")])
        g = res.groupby("set").mean(numeric_only=True)
        peer = [ASREVIEW[s] for s in g.index]
        table = pd.DataFrame({
            "n": g["n"].astype(int), "relevant": g["relevant"].astype(int),
            "WSS@95": g["wss95"].round(3), "ASReview WSS@95": [p[0] for p in peer],
            "Recall@10%": g["recall10"].round(3), "ASReview R@10%": [p[1] for p in peer],
            "ATD": g["atd"].round(3), "ASReview ATD": [p[2] for p in peer],
            "stopped at (share)": g["stop_at"].round(3),
            "recall at stop": g["stop_recall"].round(3),
            "update (ms)": g["update_ms"].round(1),
        })
        print(table.to_string())
        print(f"\nmean WSS@95 {g['wss95'].mean():.3f} (ASReview "
              f"{np.mean([p[0] for p in ASREVIEW.values()]):.3f}); mean Recall@10% "
              f"{g['recall10'].mean():.3f} (ASReview "
              f"{np.mean([p[1] for p in ASREVIEW.values()]):.3f})")
        met = (res["stop_recall"] >= 0.95).mean()
        print(f"stopping rule met the 95% recall target in {met:.0%} of {len(res)} runs")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if sizes:
        print(latency(sizes).to_string(index=False))


if __name__ == "__main__":
    main()
