"""Mantel–Haenszel (OR, RR, RD) and Peto (OR) pooling of 2×2 tables, as metafor's
``rma.mh`` and ``rma.peto`` (version 3.8).

Inverse-variance pooling of log odds ratios needs a continuity correction for every table
with a zero cell and is biased for rare events; Mantel–Haenszel pools the *counts*, so no
correction enters the estimate (Cochrane Handbook 10.4.4.1), and Peto's one-step method is
the Handbook's choice for very rare events with balanced arms. The variances are:

* OR: Robins, Breslow & Greenland (1986);
* RR: Greenland & Robins (1985);
* RD: Sato, Greenland & Robins (1989) — valid for sparse tables as well as large ones;
* Peto: 1/ΣVᵢ with Vᵢ the hypergeometric variance of the treatment-arm events.

The study-level effects (``yi``/``vi``, with the continuity correction ``add``/``to``) are
used only for the heterogeneity test Q (and I², H², on k − 1 df over the tables with an
estimable effect), for display and for the funnel plot — exactly as metafor. Double-zero
tables (no events, or only events, in both arms) carry no information on an OR or RR; with
``drop00=True`` (metafor's default) they are left out of Q and shown as "not estimable".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from review.synthesis.effects import compute_effects
from review.synthesis.meta import (
    MetaAnalysisError,
    MetaResult,
    _crit,
    input_warnings,
)

BINARY_METHODS: tuple[str, ...] = ("MH", "PETO")


def _counts(table: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(pd.to_numeric(table[c]).to_numpy(dtype=float) for c in ("ai", "bi", "ci", "di"))


def mh_pool(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, measure: str
) -> tuple[float, float]:
    """(estimate, variance) of the Mantel–Haenszel estimator on the analysis scale.

    Sums only — so leaving a table out is a subtraction (see :func:`mh_leave_one_out`).
    """
    parts = mh_parts(a, b, c, d, measure)
    return mh_from_sums(parts.sum(axis=0), measure)


def mh_parts(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray,
             measure: str) -> np.ndarray:
    """Per-table terms whose column sums give the MH estimate and its variance."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        p, q = (a + d) / n, (b + c) / n
        r, s = a * d / n, b * c / n
        return np.column_stack([r, s, p * r, p * s + q * r, q * s])
    if measure == "RR":
        r, s = a * n2 / n, c * n1 / n
        return np.column_stack([r, s, n1 / n * n2 / n * (a + c) - a / n * c, a, c])
    if measure == "RD":
        return np.column_stack([
            a * (n2 / n) - c * (n1 / n),
            n1 * (n2 / n),
            c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2,
            (a * (n2 - c) / n + c * (n1 - a) / n) / 2,
        ])
    raise MetaAnalysisError(f"Mantel-Haenszel pools OR, RR or RD, not {measure}")


def mh_from_sums(t: np.ndarray, measure: str) -> tuple[float, float]:
    """Estimate and variance from the column sums of :func:`mh_parts` (rows for many)."""
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            r, s = t[..., 0], t[..., 1]
            est = np.log(r / s)
            var = 0.5 * (t[..., 2] / r**2 + t[..., 3] / (r * s) + t[..., 4] / s**2)
            bad = (r == 0) | (s == 0)
        elif measure == "RR":
            r, s = t[..., 0], t[..., 1]
            est = np.log(r / s)
            var = t[..., 2] / (r * s)
            bad = (t[..., 3] == 0) | (t[..., 4] == 0)
        else:
            est = t[..., 0] / t[..., 1]
            var = (est * t[..., 2] + t[..., 3]) / t[..., 1] ** 2
            bad = t[..., 1] == 0
    est = np.where(bad, np.nan, est)
    var = np.where(bad, np.nan, var)
    return (float(est), float(var)) if est.ndim == 0 else (est, var)


def peto_parts(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Per-table (O − E, V) for Peto's one-step odds ratio."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    e = xt * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n > 1, xt * yt * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    return np.column_stack([a - e, v])


def _double_zero(a, b, c, d) -> np.ndarray:
    return ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))


def pool_binary(
    table: pd.DataFrame,
    measure: str,
    method: str = "MH",
    *,
    level: float = 0.95,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    notes: Sequence[str] = (),
) -> tuple[MetaResult, pd.DataFrame]:
    """Mantel–Haenszel (``method="MH"``; OR, RR or RD) or Peto (``"PETO"``; OR) pooling of
    the 2×2 tables in ``table`` (columns ``study, ai, bi, ci, di``).

    Returns the pooled result and the per-study effects table (``yi``/``vi`` with the
    continuity correction ``add``/``to``; ``yi`` is NaN for double-zero tables when
    ``drop00``). The result's ``yi``/``vi`` are those study effects, its ``weights`` the
    MH (or Peto) weights in percent, as ``weights(rma.mh(...))``.
    """
    method = method.upper()
    measure = measure.upper()
    if method not in BINARY_METHODS:
        raise MetaAnalysisError(f"unknown 2x2 method {method!r}; use MH or PETO")
    if method == "PETO" and measure != "OR":
        raise MetaAnalysisError("Peto's method pools odds ratios only: use --measure OR")
    if measure not in ("OR", "RR", "RD"):
        raise MetaAnalysisError(
            f"{method} pools 2x2 tables (OR, RR, RD); {measure} needs inverse-variance pooling"
        )
    effects = compute_effects(table, measure if method == "MH" else "OR", add=add, to=to,
                              level=level)
    a, b, c, d = _counts(table.reset_index(drop=True))
    k = a.size
    if k < 2:
        raise MetaAnalysisError(f"a meta-analysis needs at least 2 studies; got {k}")
    labels = [str(s) for s in effects["study"]]
    dz = _double_zero(a, b, c, d)
    if dz.all():
        raise MetaAnalysisError(
            "every study is double-zero (no events, or only events, in both arms): "
            "there is no information on the effect"
        )
    notes = list(notes)
    if method == "MH":
        parts = mh_parts(a, b, c, d, measure)
        est, var = mh_from_sums(parts.sum(axis=0), measure)
        yi = effects["yi"].to_numpy(dtype=float).copy()
        vi = effects["vi"].to_numpy(dtype=float).copy()
        weights = {"OR": b * c / (a + b + c + d), "RR": c * (a + b) / (a + b + c + d),
                   "RD": (a + b) * (c + d) / (a + b + c + d)}[measure]
    else:
        parts = peto_parts(a, b, c, d)
        sum_v = parts[:, 1].sum()
        if sum_v <= 0:
            raise MetaAnalysisError("Peto: no table has both events and non-events")
        est, var = float(parts[:, 0].sum() / sum_v), float(1 / sum_v)
        with np.errstate(divide="ignore", invalid="ignore"):
            yi = np.where(parts[:, 1] > 0, parts[:, 0] / parts[:, 1], np.nan)
            vi = np.where(parts[:, 1] > 0, 1 / parts[:, 1], np.nan)
        weights = parts[:, 1]
        effects = effects.assign(yi=yi, vi=vi, sei=np.sqrt(vi), cc=0.0)
        z = _crit(level, None)
        effects = effects.assign(ci_low=yi - z * np.sqrt(vi), ci_high=yi + z * np.sqrt(vi))
    if not math.isfinite(est):
        raise MetaAnalysisError(
            f"the {method} {measure} is not estimable: no events in one arm across all studies"
        )
    if drop00 and method == "MH":
        yi[dz] = np.nan
        vi[dz] = np.nan
        effects = effects.assign(yi=yi, vi=vi)
    if dz.any() and drop00:
        names = ", ".join(labels[i] for i in np.flatnonzero(dz))
        notes.append(
            f"Double-zero studies ({names}): no information on the {measure}; shown as not "
            "estimable and left out of the heterogeneity test"
            + (" but kept in the MH risk difference." if measure == "RD" else ".")
        )
    ok = np.isfinite(yi)
    k_yi = int(ok.sum())
    se = math.sqrt(var)
    crit = _crit(level, None)
    stat = est / se
    p = float(2 * stats.norm.sf(abs(stat)))
    if k_yi > 1:
        w = 1 / vi[ok]
        q = max(0.0, float(np.sum(w * (yi[ok] - est) ** 2)))
        q_df = k_yi - 1
        q_p = float(stats.chi2.sf(q, q_df))
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        q, q_df, q_p, i2, h2 = 0.0, 0, 1.0, 0.0, 1.0
    notes.extend(n for n in input_warnings(labels, vi[ok]) if n not in notes)
    if method == "MH" and (effects["cc"] > 0).any():
        notes.append(f"The continuity correction ({add:g}) enters only the study effects shown "
                     "and Q; the Mantel-Haenszel estimate uses the uncorrected counts.")
    result = MetaResult(
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        stat=stat,
        p=p,
        df=None,
        tau2=0.0,
        i2=i2,
        h2=h2,
        q=q,
        q_df=q_df,
        q_p=q_p,
        pi_low=est - crit * se,
        pi_high=est + crit * se,
        k=k,
        method=method,
        measure=measure,
        hksj=False,
        level=level,
        studies=tuple(labels),
        yi=yi,
        vi=vi,
        weights=100 * weights / weights.sum(),
        notes=tuple(notes),
    )
    return result, effects


def binary_leave_one_out(
    table: pd.DataFrame, measure: str, method: str = "MH", *, level: float = 0.95,
    add: float = 0.5, to: str = "only0", drop00: bool = True,
) -> pd.DataFrame:
    """Leave-one-out for MH/Peto in closed form: every pooled sum minus one table's term."""
    full, effects = pool_binary(table, measure, method, level=level, add=add, to=to,
                                drop00=drop00)
    a, b, c, d = _counts(table.reset_index(drop=True))
    if method.upper() == "MH":
        parts = mh_parts(a, b, c, d, measure.upper())
        est, var = mh_from_sums(parts.sum(axis=0)[None, :] - parts, measure.upper())
    else:
        parts = peto_parts(a, b, c, d)
        s = parts.sum(axis=0)[None, :] - parts
        with np.errstate(divide="ignore", invalid="ignore"):
            est, var = s[:, 0] / s[:, 1], 1 / s[:, 1]
    yi, vi = full.yi, full.vi
    ok = np.isfinite(yi)
    w = np.where(ok, 1 / np.where(ok, vi, 1.0), 0.0)
    y0 = np.where(ok, yi, 0.0)
    sw, swy, swy2 = w.sum() - w, (w * y0).sum() - w * y0, (w * y0**2).sum() - w * y0**2
    q = np.maximum(0.0, swy2 - 2 * est * swy + est**2 * sw)
    q_df = ok.sum() - ok.astype(int) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        i2 = np.where((q > 0) & (q_df > 0), np.maximum(0.0, 100 * (q - q_df) / q), 0.0)
        h2 = np.where(q_df > 0, q / q_df, 1.0)
    se = np.sqrt(var)
    z = _crit(level, None)
    return pd.DataFrame({
        "omitted": list(full.studies), "k": full.k - 1, "estimate": est, "se": se,
        "ci_low": est - z * se, "ci_high": est + z * se,
        "p": 2 * stats.norm.sf(np.abs(est / se)), "tau2": 0.0, "i2": i2, "h2": h2, "q": q,
        "q_p": stats.chi2.sf(q, np.maximum(q_df, 1)), "pi_low": est - z * se,
        "pi_high": est + z * se,
    })


def binary_summary_extra(result: MetaResult, add: float, to: str, drop00: bool) -> dict[str, Any]:
    """What details.json says about how the tables were pooled."""
    return {"continuity_correction": {"add": add, "to": to, "drop00": drop00},
            "k_estimable": int(np.isfinite(result.yi).sum())}
