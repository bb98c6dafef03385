"""BENCHMARKS.md §2: the ranker and the stopping rules on the shared sets, ASReview beside.

Parts (run them side by side in one sitting, then ``--report``):

* ``--part ours``: ``review``'s simulation for every set and seed, with and
  without the keywords column: WSS@95, Recall@10%, ATD, the median model
  update time, and for every stopping rule where it stopped, the recall
  there, and the oracle share (records screened when 95% of the relevant
  ones were found). Rules that never draw at random (``counting``, ``knee``)
  are replayed on the default simulation's order; ``sample`` changes the
  order, so it is simulated on its own and its random draws count as effort.
* ``--part asreview``: ASReview LAB's default model, run as BENCHMARKS.md says
  (``asreview simulate DATA --n-prior-included 1 --n-prior-excluded 1
  --prior-seed S --seed S``); its order is read from the project's results
  table and scored by the same metric functions (records never reached last).
  A seed picks the same prior records in both tools
  (:func:`review.screening.simulate.choose_priors`), so the per-set
  differences are paired: they compare the models, not the luck of the draw.
* ``--part latency``: one model update + re-rank on generated reviews. For a model
  with sentence vectors the block is filled with random unit vectors: an update's
  cost depends on the matrix's shape and density, not on the values, and encoding
  100,000 generated records would take most of an hour.
* ``--part embed``: the sentence encoder's throughput on the shared sets' real
  records, nothing cached (``review.screening.embedding``).
* ``--part refit``: the app's background refit (``review.screening.store_ops.rank_store``)
  on a generated review in a SQLite file, with the default model: the first refit of a
  process (features built, every record's vector looked up in the cache) and the later
  ones (one more decision each; the ranking written back). The vector cache is filled
  with random unit vectors beforehand, as for ``latency``. Also timed alone: looking
  every record's vector up, which a later refit skips.

Each part writes a CSV under ``--out``; ``--report`` prints the tables and
asserts nothing.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from review.screening.active import Ranker
from review.screening.components import get_model
from review.screening.embedding import DIMENSIONS
from review.screening.features import FeatureMatrix, build_features
from review.screening.metrics import order_metrics, screened_to_reach
from review.screening.rules import RULES, get_rule, replay_stop, share
from review.screening.simulate import load_dataset, simulate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "screening"
if not DATA.exists():
    DATA = Path("/work/shared/data/screening")


def _ours(path: Path, seed: int, keywords: bool, model: str,
          rules: tuple[str, ...] = tuple(RULES)) -> list[dict]:
    df, _ = load_dataset(path)
    if not keywords:
        df = df.assign(keywords="")
    base = simulate(df, seed, model=model, stopping="counting")
    y = base.labels_in_order
    n, r = len(y), int(y.sum())
    common = {"tool": "review", "model": model, "set": path.stem, "seed": seed,
              "keywords": keywords, "n": n, "relevant": r, "wss95": base.metrics.wss95,
              "recall10": base.metrics.recall_at_10, "atd": base.metrics.atd,
              "oracle_share": screened_to_reach(y, 0.95) / n,
              "update_ms_median": base.summary()["update_ms_median"]}
    rows = []
    for name in rules:
        if name == "sample":
            sim = simulate(df, seed, model=model, stopping="sample")
            stop, labels, draws = sim.stop_position, sim.labels_in_order, int(sim.random_draw.sum())
        else:
            stop = base.stop_position if name == "counting" else replay_stop(get_rule(name), y)
            labels, draws = y, 0
        found = labels[:stop].sum() if stop is not None else r
        rows.append({**common, "rule": name, "stop_share": share(stop, n),
                     "recall_at_stop": found / r, "random_draws": draws})
    return rows


def _asreview(exe: str, path: Path, seed: int) -> dict:
    df, _ = load_dataset(path)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "sim.asreview"
        subprocess.run([exe, "simulate", str(path), "--n-prior-included", "1",
                        "--n-prior-excluded", "1", "--prior-seed", str(seed), "--seed",
                        str(seed), "-o", str(project)], check=True, capture_output=True)
        with zipfile.ZipFile(project) as z:
            z.extract("results.db", tmp)
        with sqlite3.connect(Path(tmp) / "results.db") as con:
            labels = [int(v) for (v,) in con.execute(
                "SELECT label FROM results ORDER BY time, rowid")]
    y = np.zeros(len(df), dtype=int)  # records never reached: screened last, all irrelevant
    y[:len(labels)] = labels
    missing = int(df["label_included"].sum()) - int(sum(labels))
    if missing > 0:  # relevant records it never reached come last
        y[-missing:] = 1
    m = order_metrics(y)
    return {"tool": "asreview", "set": path.stem, "seed": seed, "wss95": m.wss95,
            "recall10": m.recall_at_10, "atd": m.atd}


def latency(sizes: list[int], model: str, repeats: int = 3) -> pd.DataFrame:
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
        config = get_model(model).feature_config()
        if config.embedding_weight > 0:
            words = build_features(df, replace(config, embedding_weight=0.0)).X
            vectors = normalize(rng.normal(size=(n, DIMENSIONS)).astype(np.float32))
            X = normalize(sp.hstack([words, sp.csr_matrix(vectors) * config.embedding_weight],
                                    format="csr", dtype=np.float32))
            X.sum_duplicates()
            ranker = Ranker(FeatureMatrix(df["record_id"].to_numpy(), X, config), model)
        else:
            ranker = Ranker.from_records(df, model=model)
        build = time.perf_counter() - t
        labels = {int(i): int(i % 20 == 0) for i in rng.choice(n, 500, replace=False)}
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            ranker.rank(labels)
            times.append(time.perf_counter() - t)
        rows.append({"model": model, "records": n, "features built once (s)": round(build, 2),
                     "update + re-rank median (s)": round(float(np.median(times)), 3),
                     "max (s)": round(max(times), 3)})
    return pd.DataFrame(rows)


def refit(sizes: list[int], repeats: int = 5) -> pd.DataFrame:
    """The app's refit on generated reviews (see the module docstring)."""
    import os

    from review.screening import embedding, store_ops
    from review.screening.features import sentence_texts
    from review.store import open_store, repo

    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["REVIEW_EMBEDDING_CACHE"] = str(Path(tmp) / "vectors.sqlite3")
            words = rng.zipf(1.3, size=(n, 120)) % len(vocab)
            store = open_store(str(Path(tmp) / "review.db"))
            repo.add_source(store, name="generated", kind="database", file_name="gen.ris",
                            file_format="ris", sha256=f"gen{n}",
                            records=[{"title": " ".join(vocab[w[:12]]),
                                      "abstract": " ".join(vocab[w[12:]])} for w in words])
            records = repo.records_frame(store, canonical_only=True,
                                         columns=["title", "abstract"])
            texts = sentence_texts(records)
            cache = embedding._Cache(embedding.cache_path())
            vectors = normalize(rng.normal(size=(n, DIMENSIONS)).astype(np.float32))
            cache.put({embedding._key(t): v for t, v in zip(texts, vectors, strict=True)})
            cache.close()
            t = time.perf_counter()
            left = len(embedding.uncached(texts))
            lookup = time.perf_counter() - t
            lead = repo.add_reviewer(store, "lead", "Lead", role="lead")
            ids = records["record_id"].astype(int).to_numpy()
            for i, rid in enumerate(rng.choice(ids, 50 + repeats, replace=False)):
                repo.add_decision(store, record_id=int(rid), reviewer_id=lead,
                                  stage="title_abstract",
                                  label="include" if i % 10 == 0 else "exclude")
                if i == 49:
                    t = time.perf_counter()
                    first = store_ops.rank_store(store)
                    first_s = time.perf_counter() - t
                    later: list[float] = []
                elif i > 49:
                    t = time.perf_counter()
                    run = store_ops.rank_store(store)
                    later.append(time.perf_counter() - t)
            store.close()
            store_ops._cache.clear()
            rows.append({"records": n, "model": run["model"].split(" (")[0],
                         "first refit (s)": round(first_s, 2),
                         "later refit median (s)": round(float(np.median(later)), 2),
                         "max (s)": round(max(later), 2),
                         "vector lookup alone (s)": round(lookup, 2),
                         "vectors missing": left,
                         "first refit had the vectors": first["model"] == run["model"]})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def embed_speed() -> pd.DataFrame:
    """Records per second the sentence encoder embeds, per shared set (nothing cached)."""
    from review.screening.embedding import MAX_TOKENS, embed_texts, record_texts

    rows = []
    for path in sorted(DATA.glob("*.csv")):
        df = pd.read_csv(path, keep_default_na=False)
        texts = record_texts(df["title"].astype(str), df["abstract"].astype(str))
        t = time.perf_counter()
        embed_texts(texts, use_cache=False)
        dt = time.perf_counter() - t
        rows.append({"set": path.stem, "records": len(df), "max tokens": MAX_TOKENS,
                     "seconds": round(dt, 1), "records/s": round(len(df) / dt, 1)})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(f"all: {table['records'].sum() / table['seconds'].sum():.1f} records/s")
    return table


def leave_one_set_out(rank: pd.DataFrame) -> None:
    """For each set, the model best on the other sets (mean WSS@95), scored on the held-out set."""
    if rank["model"].nunique() < 2:
        return
    g = rank.groupby(["keywords", "model", "set"])[["wss95", "recall10", "atd"]].mean()
    for kw, part in g.groupby(level="keywords"):
        part = part.droplevel("keywords")
        rows = []
        for held in part.index.get_level_values("set").unique():
            others = part.drop(index=held, level="set").groupby(level="model")["wss95"].mean()
            best = others.idxmax()
            rows.append({"held-out set": held, "chosen on the other sets": best,
                         **part.loc[(best, held)].round(3).to_dict()})
        table = pd.DataFrame(rows)
        print(f"\n## Leave one set out, keywords {'used' if kw else 'dropped'}")
        print(table.to_string(index=False))
        print("held-out mean:", table[["wss95", "recall10", "atd"]].mean().round(3).to_dict())


def _report_ours(out: Path, ours: pd.DataFrame) -> None:
    peer = pd.read_csv(out / "asreview.csv") if (out / "asreview.csv").exists() else None
    rank = ours[ours["rule"] == "counting"]
    for model, mdf in rank.groupby("model"):
        for kw, part in mdf.groupby("keywords"):
            g = part.groupby("set")[["wss95", "recall10", "atd"]].mean()
            table = g.round(3)
            if peer is not None:
                p = peer.groupby("set")[["wss95", "recall10", "atd"]].mean()
                table = table.join(p.round(3).add_suffix(" ASReview"))
                table["WSS@95 difference"] = (g["wss95"] - p["wss95"]).round(3)
            table.loc["mean"] = table.mean().round(3)
            print(f"\n## Ranking: model {model}, keywords {'used' if kw else 'dropped'}"
                  " (mean of seeds)")
            print(table.to_string())
    leave_one_set_out(rank)
    for model, mdf in ours[ours["keywords"]].groupby("model", sort=False):
        print(f"\n## Stopping rules: model {model}, keywords used (every run, seeds pooled)")
        rows = []
        for (rule, st), part in mdf.groupby(["rule", "set"]):
            rows.append({"rule": rule, "set": st, "runs": len(part),
                         "target reached": (part["recall_at_stop"] >= 0.95 - 1e-12).mean(),
                         "mean share at stop": part["stop_share"].mean(),
                         "oracle share": part["oracle_share"].mean(),
                         "random draws": part["random_draws"].mean()})
        per_set = pd.DataFrame(rows)
        print(per_set.round(3).to_string(index=False))
        overall = per_set.groupby("rule")[["target reached", "mean share at stop",
                                           "oracle share"]]
        print(overall.mean().round(3).to_string())
    for model, mdf in rank.groupby("model", sort=False):
        print(f"\nmedian update (ms) per set, {model}:",
              mdf.groupby("set")["update_ms_median"].median().round(1).to_dict())


def report(out: Path) -> None:
    files = sorted(out.glob("ours*.csv"))
    if files:  # the ranking and stopping tables need the ``ours`` part
        _report_ours(out, pd.concat([pd.read_csv(f) for f in files]))
    if (out / "latency.csv").exists():
        print("\n## Model update + re-rank\n")
        print(pd.read_csv(out / "latency.csv").to_string(index=False))
    if (out / "refit.csv").exists():
        print("\n## The app's refit (rank_store), default model, generated review\n")
        print(pd.read_csv(out / "refit.csv").to_string(index=False))
    if (out / "embed.csv").exists():
        print("\n## Sentence encoder, records per second (nothing cached)\n")
        print(pd.read_csv(out / "embed.csv").to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--part", choices=("ours", "asreview", "latency", "embed", "refit"))
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("bench-screening"))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--models", default="svm-minilm,svm")
    ap.add_argument("--keywords", default="1,0", help="1 = with keywords, 0 = without")
    ap.add_argument("--rules", default=",".join(RULES), help="stopping rules to measure")
    ap.add_argument("--csv", default="ours.csv", help="file name of this part's table")
    ap.add_argument("--asreview", default="/work/peers/asreview/bin/asreview")
    ap.add_argument("--sizes", default="10000,100000")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    sets = sorted(DATA.glob("*.csv"))
    if args.part == "ours":
        rows = []
        for model in args.models.split(","):
            for kw in (bool(int(k)) for k in args.keywords.split(",")):
                for path in sets:
                    for seed in seeds:
                        rows += _ours(path, seed, kw, model, tuple(args.rules.split(",")))
                        print(f"ours {model} kw={kw} {path.stem} {seed}", flush=True)
                        pd.DataFrame(rows).to_csv(args.out / args.csv, index=False)
    elif args.part == "asreview":
        rows = []
        for path in sets:
            for seed in seeds:
                rows.append(_asreview(args.asreview, path, seed))
                print(f"asreview {path.stem} {seed}", flush=True)
                pd.DataFrame(rows).to_csv(args.out / "asreview.csv", index=False)
    elif args.part == "latency":
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        frames = [latency(sizes, m) for m in args.models.split(",")]
        pd.concat(frames).to_csv(args.out / "latency.csv", index=False)
    elif args.part == "embed":
        embed_speed().to_csv(args.out / "embed.csv", index=False)
    elif args.part == "refit":
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        refit(sizes).to_csv(args.out / "refit.csv", index=False)
    if args.report:
        report(args.out)


if __name__ == "__main__":
    main()
