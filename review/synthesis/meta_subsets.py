"""Pool many subsets of the same studies at once: leave-one-out and cumulative analyses.

Refitting the model once per omitted study costs k full fits (O(k²) with a WLS and an
iterative τ² each): 20 s of CPU at 800 studies, never finishing at 5,000. Every subset of
an intercept-only model is described by a handful of weighted sums, so here all subsets
are pooled together as rows of a (subsets × studies) weight matrix, in chunks that keep
memory flat:

* FE and DL are closed-form in the sums Σw, Σw², Σwy, Σwy²;
* PM solves Q(τ²) = n − 1 by safeguarded Newton steps (dQ/dτ² = −Σw²(y − μ)²) inside a
  bracket, all subsets at once;
* REML runs Fisher scoring on all subsets at once, warm-started at the full-data τ²,
  halving steps that would cross 0, with the same bracket safeguard.

The numbers equal a full refit to 1e-8 or better (tests check them against metafor's
``leave1out`` and against this package's own one-fit-per-subset path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from review.synthesis.meta import (
    MetaAnalysisError,
    _arrays,
    _check_method,
    estimate_tau2,
    kh_multiplier,
    test_name,
)

#: Cells of the (subsets × studies) matrix handled at once.
CHUNK_CELLS = 2_000_000
TOL = 1e-12
MAXITER = 500


def _sums(w: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sw = w.sum(axis=1)
    mu = (w @ y) / sw
    return sw, mu


def _moments(w: np.ndarray, Y: np.ndarray, powers: int) -> list[np.ndarray]:
    """[Σ wᵖ·(1, y, y²) for p = 1..powers], one BLAS product per power."""
    out = [w @ Y]
    wp = w
    for _ in range(powers - 1):
        wp = wp * w
        out.append(wp @ Y)
    return out


def _equation(mask: np.ndarray, y: np.ndarray, Y: np.ndarray, v: np.ndarray, t: np.ndarray,
              n: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The τ² equation f(τ²) = 0 per subset and its exact derivative (Newton steps).

    PM: f = Q(τ²) − (n − 1), f' = −Σw²r². REML: f = y'PPy − tr P (the score) and
    f' = tr PP − 2·y'PPPy, written in moments of w: with r = y − μ,
    y'PPy = Σw²r², tr P = Σw − Σw²/Σw, tr PP = Σw² − 2Σw³/Σw + (Σw²/Σw)²,
    y'PPPy = Σw³r² − (Σw²r)²/Σw.
    """
    w = mask / (v[None, :] + t[:, None])
    m = _moments(w, Y, 2 if method == "PM" else 3)
    s1, s1y, s1yy = m[0].T
    mu = s1y / s1
    s2, s2y, s2yy = m[1].T
    w2r2 = s2yy - 2 * mu * s2y + mu * mu * s2
    if method == "PM":
        q = s1yy - 2 * mu * s1y + mu * mu * s1
        return q - (n - 1), -w2r2
    s3, s3y, s3yy = m[2].T
    w3r2 = s3yy - 2 * mu * s3y + mu * mu * s3
    w2r = s2y - mu * s2
    tr_p = s1 - s2 / s1
    tr_pp = s2 - 2 * s3 / s1 + (s2 / s1) ** 2
    return w2r2 - tr_p, tr_pp - 2 * (w3r2 - w2r * w2r / s1)


def _solve(mask: np.ndarray, y: np.ndarray, v: np.ndarray, start: float, method: str) -> np.ndarray:
    """τ² for every subset row of ``mask``: Newton steps kept inside a bracket that each
    evaluation narrows (bisection when a step leaves it), from the full-data τ²."""
    n = mask.sum(axis=1)
    m = mask.shape[0]
    Y = np.column_stack([np.ones_like(y), y, y * y])
    lo = np.zeros(m)
    hi = np.full(m, np.inf)
    t = np.full(m, start, dtype=float)
    f0, _ = _equation(mask, y, Y, v, np.zeros(m), n, method)
    active = f0 > 0  # f(0) ≤ 0: the maximum (or root) is at the boundary τ² = 0
    t[~active] = 0.0
    for _ in range(MAXITER):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        sub = mask if idx.size == m else mask[idx]
        f, slope = _equation(sub, y, Y, v, t[idx], n[idx], method)
        pos = f > 0  # the root lies above t
        lo[idx] = np.where(pos, np.maximum(lo[idx], t[idx]), lo[idx])
        hi[idx] = np.where(~pos, np.minimum(hi[idx], t[idx]), hi[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            new = t[idx] - f / slope
        bad = ~np.isfinite(new) | (new <= lo[idx]) | (new >= hi[idx])
        grow = np.maximum(2 * t[idx], 1.0) + lo[idx]
        new = np.where(bad, np.where(np.isfinite(hi[idx]), (lo[idx] + hi[idx]) / 2, grow), new)
        done = (np.abs(new - t[idx]) < TOL * np.maximum(1.0, t[idx])) | (
            hi[idx] - lo[idx] < TOL * np.maximum(1.0, lo[idx]))
        t[idx] = new
        active[idx[done]] = False
    else:
        raise MetaAnalysisError(f"{method} tau^2 for the subsets did not converge")
    return np.maximum(t, 0.0)


def pool_subsets(
    y: np.ndarray, v: np.ndarray, mask: np.ndarray, method: str, test: str, level: float,
    start: float,
) -> pd.DataFrame:
    """Intercept-only pooling of every row of the boolean ``mask`` (subsets × studies)."""
    rows = []
    step = max(1, CHUNK_CELLS // max(1, y.size))
    for a in range(0, mask.shape[0], step):
        rows.append(_pool_chunk(y, v, mask[a:a + step].astype(float), method, test, level,
                                start))
    return pd.concat(rows, ignore_index=True)


def _pool_chunk(y, v, mask, method, test, level, start) -> pd.DataFrame:
    n = mask.sum(axis=1)
    Y = np.column_stack([np.ones_like(y), y, y * y])
    m0 = _moments(mask / v[None, :], Y, 2)
    sw0, swy0, swyy0 = m0[0].T
    q = np.maximum(swyy0 - swy0 * swy0 / sw0, 0.0)
    q_df = n - 1
    tr_p = sw0 - m0[1][:, 0] / sw0
    if method == "FE":
        tau2 = np.zeros(n.size)
    elif method == "DL":
        tau2 = np.maximum(0.0, (q - q_df) / tr_p)
    else:
        tau2 = _solve(mask, y, v, start, method)
    sw, swy, swyy = ((mask / (v[None, :] + tau2[:, None])) @ Y).T
    est = swy / sw
    var = 1 / sw
    df = None
    if test != "z":
        ssr = swyy - 2 * est * swy + est * est * sw
        var = var * np.array([kh_multiplier(s, int(d), test)
                              for s, d in zip(ssr, q_df, strict=True)])
        df = q_df
    se = np.sqrt(var)
    crit = stats.norm.ppf(0.5 + level / 2) if df is None else stats.t.ppf(0.5 + level / 2, df)
    stat = est / se
    p = 2 * (stats.norm.sf(np.abs(stat)) if df is None else stats.t.sf(np.abs(stat), df))
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "FE":
            i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - q_df) / q), 0.0)
            h2 = q / q_df
        else:
            vt = q_df / tr_p
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    pi_half = crit * np.sqrt(var + tau2)
    return pd.DataFrame({
        "k": n.astype(int), "estimate": est, "se": se, "ci_low": est - crit * se,
        "ci_high": est + crit * se, "p": p, "tau2": tau2, "i2": i2, "h2": h2, "q": q,
        "q_p": stats.chi2.sf(q, q_df), "pi_low": est - pi_half, "pi_high": est + pi_half,
    })


def fast_leave_one_out(
    yi: Any, vi: Any, method: str = "REML", hksj: bool | str = False, *,
    studies: Sequence[Any] | None = None, level: float = 0.95,
) -> pd.DataFrame:
    """metafor's ``leave1out``: one row per omitted study, all pooled at once."""
    method = _check_method(method)
    y, v, labels = _arrays(yi, vi, studies, min_k=3)
    start = estimate_tau2(y, v, np.ones((y.size, 1)), method)[0]
    mask = ~np.eye(y.size, dtype=bool)
    out = pool_subsets(y, v, mask, method, test_name(hksj), level, start)
    out.insert(0, "omitted", labels)
    return out


def fast_cumulative(
    yi: Any, vi: Any, years: Sequence[Any], method: str = "REML", hksj: bool | str = False, *,
    studies: Sequence[Any] | None = None, level: float = 0.95,
) -> pd.DataFrame:
    """Cumulative meta-analysis by year (ties keep input order), all prefixes at once.

    The first row is the earliest study alone (its own estimate, τ² = 0)."""
    method = _check_method(method)
    y, v, labels = _arrays(yi, vi, studies, min_k=2)
    yrs = pd.to_numeric(pd.Series(list(years)), errors="coerce").to_numpy(dtype=float)
    if yrs.size != y.size:
        raise MetaAnalysisError(f"{yrs.size} years for {y.size} studies")
    bad = np.flatnonzero(~np.isfinite(yrs))
    if bad.size:
        i = int(bad[0])
        raise MetaAnalysisError(
            f"study {labels[i]!r} (row {i + 1}): year is missing or not a number")
    order = np.argsort(yrs, kind="stable")
    k = y.size
    mask = np.zeros((k, k), dtype=bool)
    for j in range(k):
        mask[j, order[: j + 1]] = True
    start = estimate_tau2(y, v, np.ones((k, 1)), method)[0]
    rest = pool_subsets(y, v, mask[1:], method, test_name(hksj), level, start)
    z = stats.norm.ppf(0.5 + level / 2)
    first = order[0]
    se0 = float(np.sqrt(v[first]))
    row0 = {"k": 1, "estimate": y[first], "se": se0, "ci_low": y[first] - z * se0,
            "ci_high": y[first] + z * se0, "p": 2 * stats.norm.sf(abs(y[first] / se0)),
            "tau2": 0.0, "i2": 0.0, "h2": 1.0, "q": 0.0, "q_p": 1.0,
            "pi_low": y[first] - z * se0, "pi_high": y[first] + z * se0}
    out = pd.concat([pd.DataFrame([row0]), rest], ignore_index=True)
    out.insert(0, "added", [labels[i] for i in order])
    out.insert(1, "year", [int(yrs[i]) if float(yrs[i]).is_integer() else yrs[i] for i in order])
    return out
