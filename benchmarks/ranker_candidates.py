"""Candidate rankers on the shared screening sets, chosen by leave-one-set-out (issue 15).

Why this script: ``benchmarks/screening.py`` measures *registered* models with
every stopping rule, which is too slow for trying many ranker variants. Here a
candidate is a feature block plus a scoring function, simulated with the
reference protocol of BENCHMARKS.md §2 (1 relevant + 1 irrelevant prior from
the seed, refit after every label, always the top-ranked record), and each
run's screening order is cached to a JSON file so the report can be redone
without re-simulating. Candidates are compared with and without the keywords
column, beside ASReview's cached per-run results, and the choice among them is
made leave-one-set-out (priors are ASReview's for the same seed, so a candidate
and ASReview are compared on the same starting records): for each held-out set,
the candidate with the best mean WSS@95 on the other sets is scored on the
held-out set (the honest estimate of
how the selection procedure does on a review it has not seen).

Also measured here and not chosen (December 2026): a latent-semantic block (truncated
SVD of the review's own TF-IDF, 100 or 200 dimensions, appended or alone) and the two
vocabularies side by side (ours and ASReview's word 1-2-grams); none moved the mean WSS@95
by more than 0.01 either way. ``interleave-ours-asr`` and ``thompson-ours-asr`` screen, at
each step, the top record of one of two SVMs (our features; ASReview's word 1-2-grams),
alternating or chosen by Thompson sampling on the records each view proposed itself
(:func:`interleaved`). Not chosen: the Thompson variant's lead on seeds 1-3 (mean WSS@95
0.518 vs 0.516 with keywords, Triptans −0.039 against ASReview instead of −0.068) reversed
on seeds 4-6 (0.509 vs 0.515; ``--seeds 4,5,6``, with ``asreview-like`` standing in for
ASReview, which it reproduces run for run on seeds 1-3).

``--stop 95`` ends a run at the 95%-recall record (and not before 10% of the
records), which gives WSS@95 and Recall@10% exactly at a third of the cost;
``--stop all`` runs until every relevant record is found, which ATD needs.

    python benchmarks/ranker_candidates.py --candidates svm,svm-hinge --stop all \\
        --cache /tmp/orders --asreview bench-screening/asreview.csv --report
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from review.screening.features import FeatureConfig, build_features
from review.screening.metrics import atd, recall_at, wss
from review.screening.simulate import choose_priors, load_dataset

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "screening"
if not DATA.exists():
    DATA = Path("/work/shared/data/screening")

Fit = Callable[[sp.csr_matrix, np.ndarray, np.ndarray | None], Callable]
Scorer = Callable[[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.random.Generator],
                  np.ndarray]


def _asreview_tfidf(df: pd.DataFrame) -> sp.csr_matrix:
    """ASReview 3.0.8 elas_u4's features: title + abstract, word 1-2-grams, sublinear tf."""
    text = (df["title"].astype(str) + " " + df["abstract"].astype(str)).tolist()
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_df=0.95)
    return sp.csr_matrix(vec.fit_transform(text))


def _missing_abstract(X: sp.csr_matrix, df: pd.DataFrame, weight: float = 0.5) -> sp.csr_matrix:
    """One more column, "no abstract", so the model can learn what such records tend to be."""
    na = (df["abstract"].astype(str).str.strip() == "").to_numpy(float)[:, None] * weight
    return normalize(sp.hstack([X, sp.csr_matrix(na)], format="csr"))


def _with_lsa(X: sp.csr_matrix, k: int, weight: float, only: bool = False) -> sp.csr_matrix:
    """Append a latent-semantic block (truncated SVD of the review's own TF-IDF): records that
    share no word with the relevant ones but share their co-occurring vocabulary move closer."""
    k = max(1, min(k, min(X.shape) - 1))
    Z = normalize(TruncatedSVD(k, algorithm="randomized", random_state=0).fit_transform(X))
    if only:
        return sp.csr_matrix(Z)
    return normalize(sp.hstack([X, sp.csr_matrix(Z * weight)], format="csr"))


FEATURES: dict[str, Callable[[pd.DataFrame], sp.csr_matrix]] = {
    "ours": lambda df: build_features(df, FeatureConfig()).X,
    "words": lambda df: build_features(df, FeatureConfig(char_ngrams=None)).X,
    "ours-title1": lambda df: build_features(df, FeatureConfig(title_repeats=1)).X,
    "ours-noabs": lambda df: _missing_abstract(build_features(df, FeatureConfig()).X, df),
    "asreview": _asreview_tfidf,
    "ours+lsa100w0.5": lambda df: _with_lsa(build_features(df, FeatureConfig()).X, 100, 0.5),
    "ours+lsa100w1": lambda df: _with_lsa(build_features(df, FeatureConfig()).X, 100, 1.0),
    "ours+lsa200w0.5": lambda df: _with_lsa(build_features(df, FeatureConfig()).X, 200, 0.5),
    "ours|asreview": lambda df: normalize(sp.hstack([build_features(df, FeatureConfig()).X,
                                                     _asreview_tfidf(df)], format="csr")),
    "ours||asreview": lambda df: sp.hstack([build_features(df, FeatureConfig()).X,
                                            _asreview_tfidf(df)], format="csr"),
    "lsa100": lambda df: _with_lsa(build_features(df, FeatureConfig()).X, 100, 1.0, only=True),
}


def class_weights(y: np.ndarray, ratio: float) -> np.ndarray:
    """Balanced weights times ``ratio`` for the relevant class (ASReview's "balanced")."""
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    w = np.where(y == 1, ratio * n0 / max(n1, 1), 1.0)
    return w * len(y) / w.sum()


def svm(C: float = 0.1, loss: str = "hinge", ratio: float = 10.0) -> Fit:
    def fit(X, y, w=None):
        m = LinearSVC(C=C, loss=loss, dual=True, max_iter=5000, random_state=0)
        m.fit(X, y, sample_weight=class_weights(y, ratio) if w is None else w)
        return m.decision_function
    return fit


def logistic(C: float = 1.0, ratio: float = 1.0) -> Fit:
    def fit(X, y, w=None):
        m = LogisticRegression(C=C, solver="liblinear", max_iter=1000)
        m.fit(X, y, sample_weight=class_weights(y, ratio) if w is None else w)
        return m.decision_function
    return fit


def nb(alpha: float = 0.1) -> Fit:
    def fit(X, y, w=None):
        m = ComplementNB(alpha=alpha)
        m.fit(X, y, sample_weight=class_weights(y, 1.0) if w is None else w)
        return lambda Z: np.diff(m.predict_log_proba(Z), axis=1).ravel()
    return fit


def plain(fit: Fit) -> Scorer:
    return lambda X, lab, yl, pool, rng: fit(X[lab], yl, None)(X)


def rank_average(*fits: Fit) -> Scorer:
    """Mean rank of several models: no calibration needed between their scores."""
    return lambda X, lab, yl, pool, rng: sum(rankdata(f(X[lab], yl, None)(X)) for f in fits)


def presumed_irrelevant(fit: Fit, k: int = 100, ratio: float = 10.0) -> Scorer:
    """Cormack & Grossman's BMI: k random unscreened records join the fit as irrelevant."""
    def score(X, lab, yl, pool, rng):
        extra = rng.choice(pool, min(k, len(pool)), replace=False)
        idx = np.concatenate([lab, extra])
        y = np.concatenate([yl, np.zeros(len(extra), dtype=int)])
        return fit(X[idx], y, class_weights(y, ratio))(X)
    return score


def interleaved(fit: Fit, split: int, adaptive: bool) -> Scorer:
    """Two views of the records (columns ``[:split]`` and ``[split:]``), one model on each,
    screening the top record of one of them at each step (team-draft interleaving, Chapelle
    et al. 2012). Where their tops differ, the pick is credited to the view that proposed it;
    ``adaptive`` chooses the view by Thompson sampling on those credits (Beta(1 + relevant,
    1 + irrelevant) per view), so a review leans toward the view that finds its records,
    judged only on records each view chose itself. Otherwise the views alternate."""
    state: dict = {}

    def score(X, lab, yl, pool, rng):
        if len(lab) <= 2 or "credit" not in state:  # a new run
            state.update(credit=np.ones((2, 2)), last=None, turn=0)
        if state["last"] is not None and state["last"][0] == lab[-1]:
            who = state["last"][1]
            if who is not None:  # the views disagreed: the one that proposed it is credited
                state["credit"][who, 0 if yl[-1] else 1] += 1
        A, B = X[:, :split], X[:, split:]
        sa, sb = fit(A[lab], yl, None)(A), fit(B[lab], yl, None)(B)
        ta, tb = int(pool[np.argmax(sa[pool])]), int(pool[np.argmax(sb[pool])])
        if ta == tb:
            pick, who = ta, None
        else:
            if adaptive:
                a, b = state["credit"]
                view = int(rng.beta(b[0], b[1]) > rng.beta(a[0], a[1]))
            else:
                view = state["turn"] % 2
                state["turn"] += 1
            pick, who = (ta, 0) if view == 0 else (tb, 1)
        state["last"] = (pick, who)
        out = np.zeros(X.shape[0])
        out[pick] = 1.0
        return out
    return score


def two_view_rank_average(fit: Fit, split: int) -> Scorer:
    """One model on each view (columns ``[:split]`` and ``[split:]``), ranks averaged."""
    def score(X, lab, yl, pool, rng):
        A, B = X[:, :split], X[:, split:]
        return rankdata(fit(A[lab], yl, None)(A)) + rankdata(fit(B[lab], yl, None)(B))
    return score


EMBEDDING_DIMS = 384  # benchmarks/embedding_probe.py's all-MiniLM-L6-v2 vectors
ASR_SVM = svm(0.11, "squared_hinge", 9.8)
CANDIDATES: dict[str, tuple[str, Scorer | None]] = {
    "svm": ("ours", plain(ASR_SVM)),  # the registered default (components.py)
    "svm-hinge": ("ours", plain(svm())),  # the default until December 2026
    "svm-words": ("words", plain(svm())),
    "asreview-like": ("asreview", plain(ASR_SVM)),
    "svm-sq-words": ("words", plain(ASR_SVM)),
    "svm-sq-title1": ("ours-title1", plain(ASR_SVM)),
    "svm-sq-noabs": ("ours-noabs", plain(ASR_SVM)),
    "svm-balanced": ("ours", plain(svm(0.1, "hinge", 1.0))),
    "svm-C1": ("ours", plain(svm(1.0))),
    "svm-title1": ("ours-title1", plain(svm())),
    "logistic-C1-w10": ("ours", plain(logistic(1.0, 10.0))),
    "logistic-C10": ("ours", plain(logistic(10.0, 1.0))),
    "svm+nb": ("ours", rank_average(svm(), nb())),
    "svm-sq+nb": ("ours", rank_average(ASR_SVM, nb())),
    "svm+logistic": ("ours", rank_average(svm(), logistic(10.0, 1.0))),
    "svm-presumed100": ("ours", presumed_irrelevant(svm(), 100)),
    "svm-presumed20": ("ours", presumed_irrelevant(svm(), 20)),
    "svm-sq-presumed100": ("ours", presumed_irrelevant(ASR_SVM, 100, 9.8)),
    "svm+lsa100w0.5": ("ours+lsa100w0.5", plain(ASR_SVM)),
    "svm+lsa100w1": ("ours+lsa100w1", plain(ASR_SVM)),
    "svm+lsa200w0.5": ("ours+lsa200w0.5", plain(ASR_SVM)),
    "svm-lsa-only": ("lsa100", plain(ASR_SVM)),
    "svm-two-views": ("ours|asreview", plain(ASR_SVM)),
    "interleave-ours-asr": ("ours||asreview", None),  # built per review: the split varies
    "thompson-ours-asr": ("ours||asreview", None),
}


def simulate_order(X: sp.csr_matrix, y: np.ndarray, seed: int, score: Scorer,
                   until_all: bool) -> tuple[list[int], list[float]]:
    """Labels in screening order (priors first) and the update times, per the protocol."""
    rng = np.random.default_rng(seed)
    order = choose_priors(y, seed)
    screened = np.zeros(len(y), dtype=bool)
    screened[order] = True
    r = int(y.sum())
    need, k10 = math.ceil(0.95 * r - 1e-9), math.ceil(0.1 * len(y) - 1e-9)
    times: list[float] = []
    while True:
        found = int(y[order].sum())
        if found == r or (not until_all and found >= need and len(order) >= k10):
            return y[order].tolist(), times
        lab = np.array(order)
        pool = np.flatnonzero(~screened)
        t = time.perf_counter()
        s = score(X, lab, y[lab], pool, rng)
        nxt = int(pool[np.argmax(s[pool])])
        times.append(time.perf_counter() - t)
        order.append(nxt)
        screened[nxt] = True


def run(cands: list[str], keywords: list[bool], seeds: list[int], cache: Path,
        until_all: bool) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for cand in cands:
        feature, score = CANDIDATES[cand]
        for kw in keywords:
            for path in sorted(DATA.glob("*.csv")):
                df, _ = load_dataset(path)
                y = df["label_included"].to_numpy(int)
                X = None
                for seed in seeds:
                    stem = f"{cand}__{int(kw)}__{path.stem}__{seed}"
                    full = cache / f"{stem}__all.json"
                    f = full if until_all else cache / f"{stem}__95.json"
                    if f.exists() or full.exists():
                        continue
                    frame = df.assign(record_id=np.arange(len(df)),
                                      keywords=df["keywords"] if kw else "")
                    if X is None:
                        X = FEATURES[feature](frame)
                        X = X.astype(np.float64)  # liblinear fits in float64 anyway
                    scorer = score
                    if score is None:  # two views side by side: split where ours ends
                        split = (X.shape[1] - EMBEDDING_DIMS if feature.endswith("||emb")
                                 else build_features(frame, FeatureConfig()).X.shape[1])
                        scorer = (two_view_rank_average(ASR_SVM, split)
                                  if cand.startswith("rankavg")
                                  else interleaved(ASR_SVM, split, cand.startswith("thompson")))
                    labels, times = simulate_order(X, y, seed, scorer, until_all)
                    f.write_text(json.dumps({"n": len(y), "labels": labels, "all": until_all,
                                             "update_ms_median": float(np.median(times) * 1e3)}))
                    print(cand, int(kw), path.stem, seed, len(labels), flush=True)


def load(cache: Path) -> pd.DataFrame:
    """Every cached run scored. A run stopped at 95% recall has its unfound relevant records
    put last, so WSS@95 and Recall@10% use the set's true number of relevant records."""
    relevant = {p.stem: int(load_dataset(p)[0]["label_included"].sum())
                for p in DATA.glob("*.csv")}
    rows = []
    for f in sorted(cache.glob("*.json")):
        cand, kw, st, seed, stop = f.stem.split("__")
        d = json.loads(f.read_text())
        y = np.zeros(d["n"], dtype=int)
        y[:len(d["labels"])] = d["labels"]
        missing = relevant[st] - int(y.sum())
        if missing > 0:
            y[-missing:] = 1
        rows.append({"model": cand, "keywords": int(kw), "set": st, "seed": int(seed),
                     "all": stop == "all", "wss95": wss(y), "recall10": recall_at(y),
                     "atd": atd(y) if d["all"] else np.nan, "ms": d["update_ms_median"]})
    df = pd.DataFrame(rows).sort_values("all", ascending=False)
    return df.drop_duplicates(["model", "keywords", "set", "seed"])


def report(cache: Path, asreview: Path | None, seeds: int) -> None:
    df = load(cache)
    peer = None
    if asreview is not None and asreview.exists():
        peer = pd.read_csv(asreview).groupby("set")[["wss95", "recall10", "atd"]].mean()
        print("ASReview mean:", peer.mean().round(3).to_dict())
    for kw, part in df.groupby("keywords"):
        complete = part.groupby("model")["seed"].transform("size") == 5 * seeds
        g = part[complete].groupby(["model", "set"])[["wss95", "recall10", "atd", "ms"]].mean()
        piv = g["wss95"].unstack("set")
        table = piv.copy()
        table.columns = [c.removeprefix("Cohen_2006_") for c in table.columns]
        by = g.groupby(level="model")
        table["WSS@95"], table["R@10%"] = by["wss95"].mean(), by["recall10"].mean()
        # ATD only where every run went on until all relevant records were found
        table["ATD"] = by["atd"].agg(lambda s: s.mean() if s.notna().all() else np.nan)
        table["update ms"] = by["ms"].mean()
        if peer is not None:
            table["worst set − ASReview"] = (piv - peer["wss95"]).min(axis=1)
        print(f"\n## Keywords {'used' if kw else 'dropped'}: WSS@95 per set (mean of seeds)")
        print(table.sort_values("WSS@95", ascending=False).round(3).to_string())
        rows = []
        for held in piv.columns:
            others = piv.drop(columns=held).mean(axis=1)
            best = others.idxmax()
            rows.append({"held-out": held, "chosen": best, "others": others.max(),
                         **g.loc[(best, held), ["wss95", "recall10", "atd"]].to_dict(),
                         **({"ASReview": peer.loc[held, "wss95"]} if peer is not None else {})})
        loso = pd.DataFrame(rows)
        print(f"\n## Leave one set out, keywords {'used' if kw else 'dropped'}")
        print(loso.round(3).to_string(index=False))
        held = loso[["wss95", "recall10", "atd"]].mean(skipna=False)
        print("held-out mean:", held.round(3).to_dict())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--keywords", default="1,0", help="1 = with keywords, 0 = without")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--stop", choices=("95", "all"), default="95")
    ap.add_argument("--cache", type=Path, default=Path("bench-ranker"))
    ap.add_argument("--asreview", type=Path, default=None,
                    help="benchmarks/screening.py --part asreview's asreview.csv")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--no-run", action="store_true", help="only report what is cached")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if not args.no_run:
        run(args.candidates.split(","), [bool(int(k)) for k in args.keywords.split(",")],
            seeds, args.cache, args.stop == "all")
    if args.report:
        report(args.cache, args.asreview, len(seeds))


if __name__ == "__main__":
    main()
