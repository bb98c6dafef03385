"""How close to the oracle can a stopping rule get, and how safe is it? (issue 15)

Why this script: issue 15 asks for a mean share screened at stop within 0.15 of
the oracle (the share at which 95% of the relevant records are found) while
95% recall is reached in at least 95% of runs. The shipped counting rule stops
about 0.24 after the oracle with the default model (0.22 with ``svm``). This
script asks whether any rule could do much better on these rankings, and what
other rate models cost or buy in safety.
Three parts:

``orders``
    Simulates the default model with the reference protocol (BENCHMARKS.md §2,
    ASReview's priors for the seed) on every shared set, seeds 1–3, in each
    setting asked for (``1`` with keywords, ``0`` without, ``t`` titles only:
    an export without abstracts, where the ranking has little to go on), and
    caches the screening orders in ``ORDERS.npz``.

``real``
    On the cached orders: the candidate rules below and, unless
    ``--no-tuned``, heuristic families **tuned with hindsight on these very
    runs**: the counting rule at a lower confidence, "stop after ``m``
    irrelevant records in a row" and "stop after ``max(m, c × position of the
    last find)``", each at the parameter that gives the smallest mean share
    while still reaching 95% recall in every run. The tuned heuristics are not
    rules anyone could ship (they have seen the answers); they bound what
    label-only stopping can reach with these rankings.

``synthetic``
    Share of runs that stop below the target recall on rankings drawn from
    three families: ``exp`` (the log-linear rate the counting rule assumes),
    ``hump`` (a rate that rises while the classifier learns, then falls) and
    ``tail`` (an ``exp`` ranking with 10% of its relevant records moved to
    random later positions: hard-to-find records the ranking does not
    surface). At confidence 0.95 a calibrated rule stops below target in
    about 5% of runs.

Candidate rules: ``counting`` (shipped); ``rise-and-fall``, the counting model
with rate ``θ·t^a·e^{bt}``, ``a`` flat on ``[0, 2]`` (9 values), computed by
direct sums (slow, so only here), which nests the shipped model (``a = 0``);
``floor``, the registered rule of that name (the shipped rate plus a constant
floor for records the ranking cannot place; ``review/screening/stopping.py:
floor_posterior``); ``spike0.5`` and ``spike0.8``, the floor model with that prior
probability on "no floor at all" (a spike-and-slab prior: the two models averaged by their
evidence; not registered, since it stopped between the two everywhere and still below target
in 18.5% of the scattered-tail rankings).

    python benchmarks/stopping_candidates.py --part orders --orders /tmp/orders.npz
    python benchmarks/stopping_candidates.py --part orders --settings t --orders /tmp/titles.npz
    python benchmarks/stopping_candidates.py --part real --orders /tmp/orders.npz
    python benchmarks/stopping_candidates.py --part synthetic --runs 200
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import nbinom

from review.screening.metrics import screened_to_reach
from review.screening.rules import get_rule, replay_stop
from review.screening.simulate import load_dataset, simulate
from review.screening.stopping import floor_posterior, k_target, max_decay

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "screening"
if not DATA.exists():
    DATA = Path("/work/shared/data/screening")
TARGET, ALPHA = 0.95, 0.05


#: The text a setting ranks on: with keywords ("1"), without ("0"), titles only ("t").
SETTINGS = {"1": (), "0": ("keywords",), "t": ("abstract", "keywords")}


def make_orders(path: Path, settings: str) -> None:
    """Simulate every set × setting × seed with the default model; cache the orders."""
    out = {}
    for csv in sorted(DATA.glob("*.csv")):
        df0, _ = load_dataset(csv)
        for setting in settings.split(","):
            df = df0.assign(**{col: "" for col in SETTINGS[setting]})
            for seed in (1, 2, 3):
                sim = simulate(df, seed, stopping="counting")
                out[f"{csv.stem}|{setting}|{seed}"] = np.asarray(sim.labels_in_order, dtype=np.int8)
                print(f"{csv.stem} setting={setting} seed={seed}: {len(df)} records", flush=True)
    np.savez(path, **out)


def rise_and_fall_stop(y: np.ndarray) -> int | None:
    """Where the rise-and-fall candidate stops (checked after every 1% growth, as shipped)."""
    n = len(y)
    t = np.arange(1, n + 1) / n
    bound = max_decay(n)
    a, b = (g.ravel() for g in np.meshgrid(np.linspace(0, 2, 9), np.linspace(-bound, bound, 161),
                                           indexing="ij"))
    log_g = a[:, None] * np.log(t)[None, :] + b[:, None] * t[None, :]
    nxt = 1
    for s in range(1, n):
        found = int(y[:s].sum())
        if s < nxt or found == 0:
            continue
        nxt = s + max(1, s // 100)
        log_s, log_r = logsumexp(log_g[:, :s], axis=1), logsumexp(log_g[:, s:], axis=1)
        lp = log_g[:, np.flatnonzero(y[:s])].sum(axis=1) - found * log_s
        w = np.exp(lp - lp.max())
        share = np.clip(np.exp(log_s - np.logaddexp(log_s, log_r)), 1e-300, 1.0)
        k = k_target(found, found, TARGET)
        if (w @ nbinom.sf(k - 1, found, share)) / w.sum() < ALPHA:
            return s
    return None


def spike_stop(y: np.ndarray, no_floor: float) -> int | None:
    """Where the floor model stops when ``no_floor`` of the prior sits on "no floor at all"
    (a spike-and-slab prior on the floor's share; checked after every 1% growth, as shipped)."""
    n, nxt = len(y), 1
    for s in range(1, n):
        found = int(y[:s].sum())
        if s < nxt or found == 0:
            continue
        nxt = s + max(1, s // 100)
        post = floor_posterior(y[:s], n, no_floor)
        if post is not None and post.tail(k_target(found, found, TARGET)) < ALPHA:
            return s
    return None


#: The rules the ``real`` and ``synthetic`` parts can replay, by name.
CANDIDATE_RULES: dict[str, Callable[[np.ndarray], int | None]] = {
    "counting": lambda y: replay_stop(get_rule("counting"), y),
    "rise-and-fall": lambda y: rise_and_fall_stop(y),
    "floor": lambda y: replay_stop(get_rule("floor"), y),  # registered, not default
    "spike0.5": lambda y: spike_stop(y, 0.5),
    "spike0.8": lambda y: spike_stop(y, 0.8),
}


def _run_of_misses(y: np.ndarray, m: int, c: float = 0.0) -> int:
    last = 0
    for i, v in enumerate(y):
        if v:
            last = i + 1
        elif last and i + 1 - last >= max(m, c * last):
            return i + 1
    return len(y)


def _best_tuned(runs: list[np.ndarray], grid: list[tuple[int, float]]) -> tuple[float, str]:
    best = (math.inf, "none safe")
    for m, c in grid:
        stops = [_run_of_misses(y, m, c) for y in runs]
        if all(y[:s].sum() >= TARGET * y.sum() for y, s in zip(runs, stops, strict=True)):
            share = float(np.mean([s / len(y) for y, s in zip(runs, stops, strict=True)]))
            if share < best[0]:
                best = (share, f"m={m}, c={c:.2f}")
    return best


def real(path: Path, rules: list[str], tuned: bool) -> None:
    """The tables of the ``real`` part (see the module docstring)."""
    z = np.load(path)
    rows = []
    for key in z.files:
        name, setting, seed = key.split("|")
        y = z[key].astype(int)
        n, total = len(y), int(y.sum())
        for rule in rules:
            stop = CANDIDATE_RULES[rule](y)
            found = y[:stop].sum() if stop is not None else total
            rows.append({"set": name.removeprefix("Cohen_2006_"), "setting": setting,
                         "seed": int(seed), "rule": rule,
                         "stop_share": (stop or n) / n, "recall": found / total,
                         "oracle": screened_to_reach(y, TARGET) / n})
    df = pd.DataFrame(rows)
    per_set = df.groupby(["setting", "rule", "set"])[["stop_share", "oracle", "recall"]].mean()
    print(per_set.round(3).to_string())
    print()
    out = []
    for setting in sorted(df["setting"].unique()):
        runs = [z[k].astype(int) for k in z.files if k.split("|")[1] == setting]
        oracle = float(np.mean([screened_to_reach(y, TARGET) / len(y) for y in runs]))
        for rule in rules:
            part = df[(df.setting == setting) & (df.rule == rule)]
            out.append({"setting": setting, "rule": rule, "mean share": part.stop_share.mean(),
                        "oracle": oracle, "gap": part.stop_share.mean() - oracle,
                        "runs reaching 95%": f"{(part.recall >= TARGET).sum()}/{len(part)}"})
        if tuned:
            out += [{"setting": setting, "oracle": oracle, **row} for row in _tuned(runs, oracle)]
    print(pd.DataFrame(out).round(3).to_string(index=False))


def _tuned(runs: list[np.ndarray], oracle: float) -> list[dict]:
    """The hindsight-tuned rules: the best of each family that reaches 95% in every run."""
    out = []
    share, conf = math.nan, "none of 0.5-0.9 reaches 95% in every run"
    for c in (0.5, 0.6, 0.7, 0.8, 0.9):  # loosest first: the first safe one stops earliest
        stops = [replay_stop(get_rule("counting", confidence=c), y) or len(y) for y in runs]
        if all(y[:s].sum() >= TARGET * y.sum() for y, s in zip(runs, stops, strict=True)):
            share = float(np.mean([s / len(y) for y, s in zip(runs, stops, strict=True)]))
            conf = f"confidence {c:.1f}"
            break
    out.append({"rule": f"tuned: counting at a lower confidence ({conf})", "mean share": share,
                "gap": share - oracle,
                "runs reaching 95%": "" if math.isnan(share) else f"{len(runs)}/{len(runs)}"})
    for label, grid in (
            ("tuned: m misses in a row", [(m, 0.0) for m in range(5, 400)]),
            ("tuned: max(m, c x last find)",
             [(m, c) for m in range(5, 200, 5) for c in np.arange(0, 2.01, 0.05)])):
        share, params = _best_tuned(runs, grid)
        out.append({"rule": f"{label} ({params})", "mean share": share, "gap": share - oracle,
                    "runs reaching 95%": f"{len(runs)}/{len(runs)}"})
    return out


def _exp_ranking(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(200, 500))
    t = np.arange(1, n + 1) / n
    y = rng.binomial(1, np.minimum(1, rng.uniform(0.2, 0.8) * np.exp(-rng.uniform(3, 15) * t)))
    y[0] = 1
    return y


def _hump_ranking(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(200, 500))
    t = np.arange(1, n + 1) / n
    g = t ** rng.uniform(0.3, 2) * np.exp(-rng.uniform(5, 20) * t)
    y = rng.binomial(1, g / g.max() * rng.uniform(0.2, 0.8))
    y[0] = 1
    return y


def _tail_ranking(rng: np.random.Generator) -> np.ndarray:
    y = _exp_ranking(rng)
    found = np.flatnonzero(y)[1:]
    moved = rng.choice(found, size=min(len(found), max(1, round(0.1 * y.sum()))), replace=False)
    y[moved] = 0
    y[rng.choice(np.flatnonzero(y == 0), size=len(moved), replace=False)] = 1
    return y


def synthetic(runs: int, rules: list[str], seed: int = 5) -> None:
    """The table of the ``synthetic`` part: stops below target, per family and rule."""
    families: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
        "exp": _exp_ranking, "hump": _hump_ranking, "tail": _tail_ranking}
    rows = []
    for family, draw in families.items():
        rng = np.random.default_rng(seed)
        rankings = [draw(rng) for _ in range(runs)]
        for rule in rules:
            stops = [CANDIDATE_RULES[rule](y) for y in rankings]
            below = sum(s is not None and y[:s].sum() < TARGET * y.sum()
                        for y, s in zip(rankings, stops, strict=True))
            shares = [(s or len(y)) / len(y) for y, s in zip(rankings, stops, strict=True)]
            rows.append({"ranking": family, "rule": rule, "runs": runs,
                         "stopped below 95%": below, "share of runs": below / runs,
                         "mean share at stop": np.mean(shares)})
    print(pd.DataFrame(rows).round(3).to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("orders", "real", "synthetic"), required=True)
    ap.add_argument("--orders", type=Path, default=Path("stopping-orders.npz"))
    ap.add_argument("--settings", default="1,0",
                    help="orders: 1 = with keywords, 0 = without, t = titles only")
    ap.add_argument("--rules", default=",".join(CANDIDATE_RULES))
    ap.add_argument("--no-tuned", action="store_true", help="real: skip the hindsight rules")
    ap.add_argument("--runs", type=int, default=60)
    args = ap.parse_args()
    rules = args.rules.split(",")
    unknown = sorted(set(rules) - set(CANDIDATE_RULES))
    if unknown:
        ap.error(f"unknown rule(s) {', '.join(unknown)}; choose from {', '.join(CANDIDATE_RULES)}")
    if args.part == "orders":
        make_orders(args.orders, args.settings)
    elif args.part == "real":
        real(args.orders, rules, tuned=not args.no_tuned)
    else:
        synthetic(args.runs, rules)


if __name__ == "__main__":
    main()
