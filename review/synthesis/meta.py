"""Pooling effect sizes: fixed and random-effects models that agree with R's metafor.

Every weighted fit is a statsmodels ``WLS`` (weights 1/(vi + τ²)); what statsmodels lacks
for meta-analysis is supplied here, following metafor's ``rma.uni`` (version 3.8) so a
statistician can check our numbers against it:

* τ² estimators: DerSimonian–Laird (floored at 0, unlike statsmodels' ``combine_effects``),
  Paule–Mandel (root of the generalised Q = k − p), and REML by Fisher scoring started at
  the Hedges estimate, with step halving at the 0 boundary and metafor's check that the
  likelihood at τ² = 0 is not higher.
* Knapp–Hartung / Hartung–Knapp–Sidik–Jonkman (``hksj=True``): the variance of the
  coefficients is multiplied by the weighted residual mean square (statsmodels' ``scale``
  of the same WLS fit) and tests/CIs use t with k − p df. Like metafor's ``test="knha"`` the
  multiplier is *not* truncated at 1.
* Heterogeneity: Q with k − p df from the fixed-effect fit; I² = 100·τ²/(τ² + ṽ) and
  H² = τ²/ṽ + 1 with ṽ = (k − p)/tr(P) the "typical" within-study variance, i.e. I² from
  τ² as metafor reports it (for the fixed-effect model, I² and H² come from Q).
* Prediction interval: metafor's ``predict()`` default, estimate ± crit·√(SE² + τ²), with
  crit the normal quantile for z-tests and t(k − p) when ``hksj=True``. ``pi_type="t"``
  always uses t(k − 1) and ``pi_type="riley"`` t(k − 2) (Higgins et al. 2009; the Cochrane
  Handbook's choice), as metafor's ``pi.type``. For the fixed-effect model the interval
  is the CI (τ² = 0); metafor prints none there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats

from review.synthesis.effects import (
    RATIO_MEASURES,
)

METHODS: tuple[str, ...] = ("FE", "DL", "PM", "REML")
PI_TYPES: tuple[str, ...] = ("default", "t", "riley")
#: Tests for the pooled effect: z, Knapp–Hartung (metafor ``test="knha"``) and its "ad hoc"
#: variant (``test="adhoc"``), whose multiplier is floored at 1 so the CI never narrows.
TESTS: tuple[str, ...] = ("z", "knha", "adhoc")
TEST_NAMES: dict[str, str] = {
    "z": "z-test",
    "knha": "Knapp-Hartung (HKSJ) t-test",
    "adhoc": "Knapp-Hartung (HKSJ) t-test, ad hoc variant (never narrower than the z CI)",
}
#: metafor warns when max(vi)/min(vi) reaches this ("Ratio of largest to smallest sampling
#: variance extremely large. May not be able to obtain stable results.").
VARIANCE_RATIO_WARNING = 1e7
METHOD_NAMES: dict[str, str] = {
    "FE": "fixed (common) effect",
    "DL": "random effects, DerSimonian-Laird",
    "PM": "random effects, Paule-Mandel",
    "REML": "random effects, REML",
    "MH": "fixed (common) effect, Mantel-Haenszel",
    "PETO": "fixed (common) effect, Peto",
    "3LEVEL": "three-level random effects (effects within clusters), REML",
}
MEASURE_LABELS: dict[str, str] = {
    "OR": "Odds ratio",
    "RR": "Risk ratio",
    "RD": "Risk difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "MD": "Mean difference",
    "ZCOR": "Correlation (pooled as Fisher's z)",
    "GENERIC": "Effect size",
}
SUMMARY_KEYS: tuple[str, ...] = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "z",
    "p",
    "tau2",
    "tau",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_p",
    "pi_low",
    "pi_high",
    "k",
    "method",
    "measure",
)
#: Convergence threshold on τ² for REML (metafor's default is 1e-5; we go further).
REML_TOL = 1e-10
REML_MAXITER = 1000


class MetaAnalysisError(ValueError):
    """Data that cannot be pooled; the message names the study where one is to blame."""


def back_transform(measure: str):
    """The function taking the analysis scale to the reporting scale (exp for ratios)."""
    if measure in RATIO_MEASURES:
        return np.exp
    if measure == "ZCOR":
        return np.tanh
    return lambda x: x


# --------------------------------------------------------------------------- input checks


def _labels(k: int, studies: Sequence[Any] | None) -> list[str]:
    if studies is None:
        return [f"Study {i + 1}" for i in range(k)]
    labels = [str(s) for s in list(studies)]
    if len(labels) != k:
        raise MetaAnalysisError(f"{len(labels)} study labels for {k} effect sizes")
    return labels


def _arrays(
    yi: Any, vi: Any, studies: Sequence[Any] | None, min_k: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    y = np.asarray(pd.to_numeric(pd.Series(list(yi)), errors="coerce"), dtype=float)
    v = np.asarray(pd.to_numeric(pd.Series(list(vi)), errors="coerce"), dtype=float)
    if y.shape != v.shape:
        raise MetaAnalysisError(f"{y.size} effect sizes but {v.size} variances")
    labels = _labels(y.size, studies)
    for i in range(y.size):
        if not np.isfinite(y[i]):
            raise MetaAnalysisError(
                f"study {labels[i]!r} (row {i + 1}): effect size yi is "
                "missing or not a finite number"
            )
        if not np.isfinite(v[i]):
            raise MetaAnalysisError(
                f"study {labels[i]!r} (row {i + 1}): sampling variance vi "
                "is missing or not a finite number"
            )
        if v[i] <= 0:
            raise MetaAnalysisError(
                f"study {labels[i]!r} (row {i + 1}): sampling variance vi "
                f"must be positive, got {v[i]:g}"
            )
    if y.size < min_k:
        raise MetaAnalysisError(
            f"a meta-analysis needs at least {min_k} studies; got {y.size}"
            + (f" ({', '.join(labels)})" if labels else "")
        )
    return y, v, labels


def test_name(hksj: bool | str) -> str:
    """``"z"``, ``"knha"`` or ``"adhoc"`` from a test name or the old ``hksj`` flag."""
    if isinstance(hksj, str):
        t = hksj.lower()
        if t == "hksj":
            t = "knha"
        if t not in TESTS:
            raise MetaAnalysisError(f"unknown test {hksj!r}; use one of {', '.join(TESTS)}")
        return t
    return "knha" if hksj else "z"


def kh_multiplier(ssr: float, df: int, test: str) -> float:
    """Knapp–Hartung's variance multiplier, the weighted residual mean square ``ssr/df``;
    the ad hoc variant floors it at 1 (metafor ``test="adhoc"``)."""
    s2w = ssr / df
    if s2w <= np.finfo(float).eps:
        s2w = 0.0
    return max(1.0, s2w) if test == "adhoc" else s2w


def duplicate_labels(labels: Sequence[str]) -> dict[str, int]:
    """Study labels used on more than one row, with their counts (input order)."""
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    return {lab: n for lab, n in counts.items() if n > 1}


def input_warnings(labels: Sequence[str], v: np.ndarray) -> list[str]:
    """What metafor warns about and what a reader must know before trusting the pooling:
    repeated study labels (several results of one study pooled as if independent) and an
    extreme ratio of sampling variances."""
    notes = []
    dups = duplicate_labels(labels)
    if dups:
        listed = ", ".join(f"{lab!r} ({n} rows)" for lab, n in list(dups.items())[:10])
        more = f" and {len(dups) - 10} more" if len(dups) > 10 else ""
        notes.append(
            f"Study labels repeated: {listed}{more}. Rows are pooled as independent results; "
            "if they are several results of one study, use a three-level model "
            "(--cluster STUDY_COLUMN) or cluster-robust errors (--robust)."
        )
    if v.size and float(v.max() / v.min()) >= VARIANCE_RATIO_WARNING:
        notes.append(
            f"Ratio of largest to smallest sampling variance is {v.max() / v.min():.3g}: "
            "results may not be stable (metafor gives the same warning)."
        )
    return notes


def _check_method(method: str) -> str:
    m = str(method).upper()
    if m not in METHODS:
        raise MetaAnalysisError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    return m


# ------------------------------------------------------------------------- weighted fits


def _wls(y: np.ndarray, v: np.ndarray, tau2: float, X: np.ndarray):
    """statsmodels WLS with inverse-variance weights 1/(vi + τ²)."""
    return sm.WLS(y, X, weights=1.0 / (v + tau2)).fit()


def _p_traces(w: np.ndarray, X: np.ndarray) -> tuple[float, float]:
    """(tr P, tr PP) without forming the k × k matrix P (O(k p²), so 5,000 studies are cheap).

    With M = (X'WX)⁻¹: tr P = Σw − tr(M X'W²X) and
    tr PP = Σw² − 2 tr(M X'W³X) + tr(M X'W²X M X'W²X).
    """
    M = np.linalg.inv((X * w[:, None]).T @ X)
    A2 = (X * (w**2)[:, None]).T @ X
    A3 = (X * (w**3)[:, None]).T @ X
    MA2 = M @ A2
    tr_p = float(w.sum() - np.trace(MA2))
    tr_pp = float(np.sum(w**2) - 2 * np.trace(M @ A3) + np.trace(MA2 @ MA2))
    return tr_p, tr_pp


def _orthonormal(X: np.ndarray) -> np.ndarray:
    """An orthonormal basis of X's columns: τ² depends on X only through its column space,
    and an uncentred covariate such as publication year (cond(X'X) ≈ 1e12) would otherwise
    make the likelihood too noisy for the iterations to find the root of the score."""
    if X.shape[1] == 1:
        return X
    q, _ = np.linalg.qr(X)
    return q


def tau2_dl(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """DerSimonian–Laird (method of moments on the fixed-effect Q), floored at 0."""
    k, p = X.shape
    fit = _wls(y, v, 0.0, X)
    tr_p, _ = _p_traces(1.0 / v, X)
    return max(0.0, (float(fit.ssr) - (k - p)) / tr_p)


def tau2_pm(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """Paule–Mandel: the τ² at which the generalised Q statistic equals its df (k − p)."""
    k, p = X.shape

    def excess(t2: float) -> float:
        return float(_wls(y, v, t2, X).ssr) - (k - p)

    if excess(0.0) <= 0:
        return 0.0
    hi = max(1.0, 10 * float(np.var(y)))
    while excess(hi) > 0:
        hi *= 10
        if hi > 1e12:
            raise MetaAnalysisError("Paule-Mandel: no tau^2 below 1e12 solves Q = k - p")
    return float(
        optimize.brentq(excess, 0.0, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    )


def _reml_loglik(y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float) -> float:
    k, p = X.shape
    fit = _wls(y, v, tau2, X)
    w = 1.0 / (v + tau2)
    _, logdet = np.linalg.slogdet((X * w[:, None]).T @ X)
    return float(
        -0.5 * (k - p) * math.log(2 * math.pi)
        - 0.5 * np.sum(np.log(v + tau2))
        - 0.5 * logdet
        - 0.5 * fit.ssr
    )


def _reml_step(y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float) -> tuple[float, float]:
    """(score numerator y'PPy − tr P, expected information tr PP) at τ², via a WLS fit."""
    w = 1.0 / (v + tau2)
    fit = _wls(y, v, tau2, X)
    tr_p, tr_pp = _p_traces(w, X)
    py = w * fit.resid  # P y = W (y − X b)
    return float(py @ py) - tr_p, tr_pp


def tau2_reml(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> tuple[float, int]:
    """REML τ² by Fisher scoring over statsmodels WLS fits; returns (τ², iterations).

    Each step: fit WLS with weights 1/(vi + τ²), form P from its (X'WX)⁻¹, and move τ² by
    (y'PPy − tr P)/tr(PP) (score over expected information), halving the step whenever it
    would cross 0 — metafor's scheme, started like metafor at the Hedges estimate.

    Two safeguards keep the same fixed point but make convergence certain: a step is
    halved until the restricted likelihood does not fall, and once two iterates have
    scores of opposite sign (Fisher scoring overshooting back and forth, which on some
    data takes metafor thousands of steps) the root of the score between them is found by
    Brent's method. The iterations run on an orthonormal basis of X (same τ², see
    :func:`_orthonormal`).
    """
    X = _orthonormal(X)
    k, p = X.shape
    ols = sm.OLS(y, X).fit()
    leverage = np.sum((X @ ols.normalized_cov_params) * X, axis=1)  # diag of the hat matrix
    tau2 = max(0.0, (float(ols.ssr) - float(np.sum((1 - leverage) * v))) / (k - p))
    ll = _reml_loglik(y, v, X, tau2)
    score, info = _reml_step(y, v, X, tau2)
    iterations = 0
    for iterations in range(1, REML_MAXITER + 1):  # noqa: B007 (reported after the loop)
        adj = score / info
        while tau2 + adj < 0 and abs(adj) > 1e-300:
            adj /= 2
        new = max(0.0, tau2 + adj)
        ll_new = _reml_loglik(y, v, X, new)
        halvings = 0
        while ll_new < ll - 1e-13 * max(1.0, abs(ll)) and halvings < 60:
            adj /= 2
            new = max(0.0, tau2 + adj)
            ll_new = _reml_loglik(y, v, X, new)
            halvings += 1
        if abs(new - tau2) < REML_TOL:
            tau2 = new
            break
        new_score, new_info = _reml_step(y, v, X, new)
        if new_score * score < 0:  # the score changes sign between the iterates: bracket
            lo, hi = sorted((tau2, new))
            tau2 = float(optimize.brentq(lambda t: _reml_step(y, v, X, t)[0], lo, hi,
                                         xtol=REML_TOL, rtol=4 * np.finfo(float).eps))
            break
        tau2, ll, score, info = new, ll_new, new_score, new_info
    else:
        raise MetaAnalysisError(
            f"REML did not converge in {REML_MAXITER} Fisher-scoring steps; try method PM or DL"
        )
    if 0 < tau2 < 1e-8 and _reml_step(y, v, X, 0.0)[0] <= 0:
        tau2 = 0.0  # the steps crept towards the boundary; the maximum is at 0 itself
    if tau2 > 0 and _reml_loglik(y, v, X, 0.0) - _reml_loglik(y, v, X, tau2) > 1e-10:
        tau2 = 0.0  # stuck at a local maximum: metafor falls back to 0 likewise
    return tau2, iterations


def estimate_tau2(
    y: np.ndarray, v: np.ndarray, X: np.ndarray, method: str
) -> tuple[float, int | None]:
    """τ² by ``method`` for design matrix ``X``; (τ², iterations or None)."""
    if method == "FE":
        return 0.0, None
    if method == "DL":
        return tau2_dl(y, v, X), None
    if method == "PM":
        return tau2_pm(y, v, _orthonormal(X)), None
    return tau2_reml(y, v, X)


@dataclass(frozen=True)
class _Heterogeneity:
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float


def _heterogeneity(
    y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, fixed: bool
) -> _Heterogeneity:
    k, p = X.shape
    if k <= p:
        return _Heterogeneity(0.0, 0, 1.0, 0.0, 1.0)
    w = 1.0 / v
    fit = _wls(y, v, 0.0, X)
    q = max(0.0, float(fit.ssr))
    q_df = k - p
    q_p = float(stats.chi2.sf(q, q_df))
    if fixed:
        i2 = max(0.0, 100.0 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        vt = q_df / _p_traces(w, X)[0]
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1.0
    return _Heterogeneity(q, q_df, q_p, i2, h2)


@dataclass(frozen=True)
class HeterogeneityCI:
    """Q-profile confidence intervals for τ² and, through it, I² and H² (metafor
    ``confint()``, Viechtbauer 2007)."""

    tau2_low: float
    tau2_high: float
    i2_low: float
    i2_high: float
    h2_low: float
    h2_high: float


def qprofile_ci(
    y: np.ndarray, v: np.ndarray, X: np.ndarray | None = None, level: float = 0.95
) -> HeterogeneityCI | None:
    """Q-profile CI for τ²: the τ² values at which the generalised Q statistic
    Σ wᵢ(τ²)(yᵢ − ŷᵢ)² equals the χ²(k − p) quantiles; a bound is 0 when Q at τ² = 0 is
    already below its quantile. I² and H² bounds follow from τ²'s through the typical
    within-study variance, as metafor reports them. ``None`` when k − p < 1."""
    if X is None:
        X = np.ones((y.size, 1))
    k, p = X.shape
    df = k - p
    if df < 1:
        return None
    Xo = _orthonormal(X)

    def q_gen(t2: float) -> float:
        return float(_wls(y, v, t2, Xo).ssr)

    q0 = q_gen(0.0)

    def solve(crit: float) -> float:
        if q0 <= crit:
            return 0.0
        hi = max(1.0, 10 * float(np.var(y)))
        while q_gen(hi) > crit:
            hi *= 10
            if hi > 1e12:
                return math.inf
        return float(optimize.brentq(lambda t: q_gen(t) - crit, 0.0, hi, xtol=1e-14,
                                     rtol=4 * np.finfo(float).eps, maxiter=500))

    low = solve(float(stats.chi2.ppf(0.5 + level / 2, df)))
    high = solve(float(stats.chi2.ppf(0.5 - level / 2, df)))
    vt = df / _p_traces(1.0 / v, Xo)[0]
    return HeterogeneityCI(
        tau2_low=low,
        tau2_high=high,
        i2_low=100 * low / (vt + low),
        i2_high=100 * high / (vt + high) if math.isfinite(high) else 100.0,
        h2_low=low / vt + 1,
        h2_high=high / vt + 1,
    )


def _crit(level: float, df: float | None) -> float:
    q = 0.5 + level / 2
    return float(stats.t.ppf(q, df)) if df is not None else float(stats.norm.ppf(q))


# -------------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class MetaResult:
    """One pooled analysis. ``summary()`` is the stable, documented part; the rest is detail.

    ``weights`` are percentages (1/(vi + τ²) normalised), as printed on forest plots.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    p: float
    df: int | None
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    k: int
    method: str
    measure: str
    hksj: bool
    level: float
    studies: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    weights: np.ndarray
    notes: tuple[str, ...] = ()
    iterations: int | None = None
    pi_type: str = "default"
    #: "z", "knha" or "adhoc" (see :data:`TESTS`).
    test_type: str = "z"
    heterogeneity_ci: HeterogeneityCI | None = None
    #: Extra summary keys of other models (three-level σ², robust errors, trim and fill).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    @property
    def test(self) -> str:
        """``"t"`` under Knapp–Hartung (HKSJ), else ``"z"``."""
        return "t" if self.df is not None else "z"

    def summary(self) -> dict[str, Any]:
        """The agreed summary keys (``summary.json``): numbers on the analysis scale."""
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            self.test: self.stat,
            "p": self.p,
            "tau2": self.tau2,
            "tau": self.tau,
            "i2": self.i2,
            "h2": self.h2,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "pi_low": self.pi_low,
            "pi_high": self.pi_high,
            "k": self.k,
            # the three-level model's variance components are REML estimates
            "method": "REML" if self.method == "3LEVEL" else self.method,
            "measure": self.measure,
        } | self._ci_keys() | self.extra

    def _ci_keys(self) -> dict[str, Any]:
        c = self.heterogeneity_ci
        if c is None:
            return {}
        return {
            "tau2_ci_low": c.tau2_low,
            "tau2_ci_high": c.tau2_high,
            "i2_ci_low": c.i2_low,
            "i2_ci_high": c.i2_high,
        }

    def details(self) -> dict[str, Any]:
        """What a reader needs besides the summary: scale, test, df, notes, back-transform."""
        f = back_transform(self.measure)
        out: dict[str, Any] = {
            "model": METHOD_NAMES[self.method],
            "measure_label": MEASURE_LABELS.get(self.measure, self.measure),
            "hksj": self.hksj,
            "test": self.test,
            "test_name": TEST_NAMES.get(self.test_type, self.test_type),
            "df": self.df,
            "level": self.level,
            "pi_type": self.pi_type,
            "tau2_iterations": self.iterations,
            "notes": list(self.notes),
        }
        if self.heterogeneity_ci is not None:
            out["h2_ci"] = [self.heterogeneity_ci.h2_low, self.heterogeneity_ci.h2_high]
        if self.measure in RATIO_MEASURES or self.measure == "ZCOR":
            name = "r" if self.measure == "ZCOR" else self.measure
            out["back_transformed"] = {
                "scale": name,
                "estimate": float(f(self.estimate)),
                "ci_low": float(f(self.ci_low)),
                "ci_high": float(f(self.ci_high)),
                "pi_low": float(f(self.pi_low)),
                "pi_high": float(f(self.pi_high)),
            }
        return out

    def study_table(self) -> pd.DataFrame:
        """Per-study effect, normal-theory CI and weight (%), in input order."""
        se = np.sqrt(self.vi)
        z = _crit(self.level, None)
        return pd.DataFrame(
            {
                "study": list(self.studies),
                "yi": self.yi,
                "vi": self.vi,
                "se": se,
                "ci_low": self.yi - z * se,
                "ci_high": self.yi + z * se,
                "weight": self.weights,
            }
        )


def _fit(
    y: np.ndarray,
    v: np.ndarray,
    labels: list[str],
    method: str,
    hksj: bool | str,
    measure: str,
    level: float,
    pi_type: str,
    notes: Sequence[str],
    *,
    het_ci: bool = False,
) -> MetaResult:
    k = y.size
    X = np.ones((k, 1))
    notes = list(notes)
    test = test_name(hksj)
    if k == 1:
        tau2, iters = 0.0, None
        if method != "FE":
            notes.append(
                f"{labels[0]} is the only study: its own estimate is shown, tau^2 set to 0."
            )
    else:
        tau2, iters = estimate_tau2(y, v, X, method)
    fit = _wls(y, v, tau2, X)
    est = float(fit.params[0])
    var = float(fit.normalized_cov_params[0, 0])
    df: int | None = None
    if test != "z" and k > 1:
        var *= kh_multiplier(float(fit.ssr), k - 1, test)  # metafor's knha/adhoc multiplier
        df = k - 1
        if method == "FE":
            notes.append(
                "Knapp-Hartung adjustment applied to a fixed-effect model "
                "(it is meant for random-effects models)."
            )
    elif test != "z":
        notes.append("Knapp-Hartung needs two or more studies: z-based CI shown.")
    se = math.sqrt(var)
    crit = _crit(level, df)
    stat = est / se if se > 0 else math.copysign(math.inf, est) if est else 0.0
    if df is None:
        p = float(2 * stats.norm.sf(abs(stat)))
    else:
        p = float(2 * stats.t.sf(abs(stat), df))
    het = _heterogeneity(y, v, X, tau2, fixed=(method == "FE"))
    if pi_type == "default" or k < 3:
        pi_crit = crit
    elif pi_type == "t":
        pi_crit = _crit(level, k - 1)
    else:  # riley: t(k − 2), Higgins, Thompson & Spiegelhalter (2009)
        pi_crit = _crit(level, k - 2)
    pi_half = pi_crit * math.sqrt(var + tau2)
    w = 1.0 / (v + tau2)
    hci = qprofile_ci(y, v, X, level) if het_ci and method != "FE" and k >= 2 else None
    return MetaResult(
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        stat=float(stat),
        p=p,
        df=df,
        tau2=float(tau2),
        i2=het.i2,
        h2=het.h2,
        q=het.q,
        q_df=het.q_df,
        q_p=het.q_p,
        pi_low=est - pi_half,
        pi_high=est + pi_half,
        k=k,
        method=method,
        measure=measure,
        hksj=test != "z",
        level=level,
        studies=tuple(labels),
        yi=y.copy(),
        vi=v.copy(),
        weights=100 * w / w.sum(),
        notes=tuple(notes),
        iterations=iters,
        pi_type=pi_type,
        test_type=test,
        heterogeneity_ci=hci,
    )


def meta_analyse(
    yi: Sequence[float] | np.ndarray | pd.Series,
    vi: Sequence[float] | np.ndarray | pd.Series,
    method: str = "REML",
    hksj: bool | str = False,
    *,
    measure: str = "GENERIC",
    studies: Sequence[Any] | None = None,
    level: float = 0.95,
    pi_type: str = "default",
    notes: Sequence[str] = (),
    heterogeneity_ci: bool = True,
) -> MetaResult:
    """Pool effect sizes ``yi`` with sampling variances ``vi`` (two or more studies).

    ``method``: ``FE`` (fixed/common effect), ``DL``, ``PM`` or ``REML`` (random effects).
    ``hksj``: ``True``/``"knha"`` for Knapp–Hartung (HKSJ) SE and t(k − 1) tests/CI,
    ``"adhoc"`` for its variant that never narrows the CI, ``False``/``"z"`` for z.
    ``pi_type``: see module doc. ``heterogeneity_ci`` adds Q-profile CIs for τ², I², H²
    (random-effects methods). ``measure`` only labels the result.
    Repeated study labels and extreme variance ratios are reported in ``notes``.
    """
    method = _check_method(method)
    if pi_type not in PI_TYPES:
        raise MetaAnalysisError(f"unknown pi_type {pi_type!r}; use one of {PI_TYPES}")
    if not 0 < level < 1:
        raise MetaAnalysisError(f"level must be between 0 and 1, got {level}")
    y, v, labels = _arrays(yi, vi, studies, min_k=2)
    notes = [*notes, *(n for n in input_warnings(labels, v) if n not in notes)]
    return _fit(y, v, labels, method, hksj, str(measure).upper(), level, pi_type, notes,
                het_ci=heterogeneity_ci)


# -------------------------------------------------------------------------------- subgroups


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Separate random-effects models per subgroup plus the test for subgroup differences.

    With z-tests the test is Cochrane's (RevMan): Q_between = Σ (μ_g − μ̄)²/SE_g² over the
    subgroup estimates, χ² on G − 1 df, each subgroup with its own τ².

    Under Knapp–Hartung that χ² test is not valid: the t-based SE of a small homogeneous
    subgroup shrinks (collins1985a: k = 2, SE 0.589 → 0.170) and Q_between ignores the t
    degrees of freedom, finding differences that are not there. The test is then the
    F-test of the subgroup moderator in a mixed-effects meta-regression with one common τ²
    and the same Knapp–Hartung adjustment (metafor ``rma(mods = ~ factor(g), test =
    "knha")``): ``between_test == "F"``, ``q_between`` the F statistic on
    (``df_between``, ``df2_between``) df. ``chi2_between``/``chi2_p`` keep the χ² numbers.
    """

    groups: dict[str, MetaResult]
    overall: MetaResult
    q_between: float
    df_between: int
    p_between: float
    group_of: tuple[str, ...]
    variable: str = "subgroup"
    between_test: str = "Q"
    df2_between: int | None = None
    chi2_between: float | None = None
    chi2_p: float | None = None

    @property
    def between_text(self) -> str:
        """The test for subgroup differences as a reader sees it."""
        if self.between_test == "F":
            return (f"F({self.df_between}, {self.df2_between}) = {self.q_between:.2f}, "
                    f"p = {self.p_between:.3g} (moderator test, common tau^2, Knapp-Hartung)")
        return (f"Q = {self.q_between:.2f}, df = {self.df_between}, p = {self.p_between:.3g} "
                "(chi-squared, separate tau^2 per subgroup)")

    def table(self) -> pd.DataFrame:
        rows = []
        for name, r in self.groups.items():
            rows.append(
                {
                    "subgroup": name,
                    "k": r.k,
                    "estimate": r.estimate,
                    "se": r.se,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "p": r.p,
                    "tau2": r.tau2,
                    "i2": r.i2,
                    "q": r.q,
                    "q_df": r.q_df,
                    "q_p": r.q_p,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "between_test": self.between_test,
            "between_test_description": self.between_text,
            "q_between": self.q_between,
            "df_between": self.df_between,
            "df2_between": self.df2_between,
            "p_between": self.p_between,
            "chi2_between": self.chi2_between,
            "chi2_p": self.chi2_p,
            "subgroups": self.table().to_dict(orient="records"),
            "overall": self.overall.summary(),
        }


def subgroup_analysis(
    yi: Any,
    vi: Any,
    groups: Sequence[Any],
    method: str = "REML",
    hksj: bool = False,
    *,
    studies: Sequence[Any] | None = None,
    measure: str = "GENERIC",
    level: float = 0.95,
    pi_type: str = "default",
    variable: str = "subgroup",
) -> SubgroupResult:
    """Pool within each subgroup (intervention type, mechanism, population, risk of bias…).

    Subgroups appear in order of first appearance; a subgroup of one study is reported
    with that study's own estimate (τ² = 0).
    """
    method = _check_method(method)
    y, v, labels = _arrays(yi, vi, studies, min_k=2)
    g = list(groups)
    if len(g) != y.size:
        raise MetaAnalysisError(f"{len(g)} subgroup labels for {y.size} studies")
    names: list[str] = []
    for i, val in enumerate(g):
        if val is None or (isinstance(val, float) and math.isnan(val)) or str(val).strip() == "":
            raise MetaAnalysisError(f"study {labels[i]!r} (row {i + 1}): no {variable} given")
        if str(val) not in names:
            names.append(str(val))
    if len(names) < 2:
        raise MetaAnalysisError(
            f"subgroup analysis needs at least 2 values of {variable}; all studies are {names[0]!r}"
        )
    gs = np.array([str(x) for x in g])
    results: dict[str, MetaResult] = {}
    for name in names:
        idx = np.flatnonzero(gs == name)
        results[name] = _fit(
            y[idx],
            v[idx],
            [labels[i] for i in idx],
            method,
            hksj,
            str(measure).upper(),
            level,
            pi_type,
            (),
        )
    overall = _fit(y, v, labels, method, hksj, str(measure).upper(), level, pi_type, ())
    est = np.array([r.estimate for r in results.values()])
    var_g = np.array([r.se**2 for r in results.values()])
    if np.any(var_g <= 0):
        raise MetaAnalysisError("a subgroup estimate has zero standard error")
    between = _wls(est, var_g, 0.0, np.ones((len(est), 1)))
    q_b = float(between.ssr)
    df_b = len(est) - 1
    p_b = float(stats.chi2.sf(q_b, df_b))
    if test_name(hksj) == "z" or y.size <= len(names):
        return SubgroupResult(groups=results, overall=overall, q_between=q_b, df_between=df_b,
                              p_between=p_b, group_of=tuple(gs), variable=variable,
                              chi2_between=q_b, chi2_p=p_b)
    reg = meta_regression(y, v, list(gs), method, hksj, name=variable, studies=labels)
    return SubgroupResult(
        groups=results,
        overall=overall,
        q_between=reg.qm,
        df_between=reg.qm_df,
        p_between=reg.qm_p,
        group_of=tuple(gs),
        variable=variable,
        between_test="F",
        df2_between=reg.k - reg.qm_df - 1,
        chi2_between=q_b,
        chi2_p=p_b,
    )


# --------------------------------------------------------------------------- meta-regression


@dataclass(frozen=True, eq=False)
class MetaRegressionResult:
    """Mixed-effects meta-regression on one study-level covariate (metafor ``rma(mods=)``).

    ``qe`` tests residual heterogeneity; ``qm`` the covariate (χ² on ``qm_df`` df, or under
    HKSJ an F on (``qm_df``, k − p) df). ``r2`` is the share of τ² explained (percent),
    metafor's pseudo-R² against the same method without the covariate; ``None`` for FE.
    """

    coefficients: pd.DataFrame
    tau2: float
    i2: float
    h2: float
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df: int
    qm_p: float
    r2: float | None
    k: int
    method: str
    measure: str
    hksj: bool
    covariate: str
    studies: tuple[str, ...]
    x: tuple[Any, ...]
    yi: np.ndarray
    vi: np.ndarray

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def summary(self) -> dict[str, Any]:
        return {
            "covariate": self.covariate,
            "k": self.k,
            "method": self.method,
            "measure": self.measure,
            "hksj": self.hksj,
            "tau2": self.tau2,
            "tau": self.tau,
            "i2": self.i2,
            "h2": self.h2,
            "r2": self.r2,
            "qe": self.qe,
            "qe_df": self.qe_df,
            "qe_p": self.qe_p,
            "qm": self.qm,
            "qm_df": self.qm_df,
            "qm_p": self.qm_p,
            "coefficients": self.coefficients.to_dict(orient="records"),
        }


def _covariate_design(
    x: Sequence[Any], labels: list[str], name: str
) -> tuple[np.ndarray, list[str]]:
    s = pd.Series(list(x), dtype=object)
    for i, val in enumerate(s):
        if (
            val is None
            or (isinstance(val, float) and math.isnan(val))
            or (isinstance(val, str) and not val.strip())
        ):
            raise MetaAnalysisError(f"study {labels[i]!r} (row {i + 1}): {name} is missing")
    numeric = pd.to_numeric(s, errors="coerce")
    is_bool = all(isinstance(val, bool | np.bool_) for val in s)
    if not is_bool and numeric.notna().all():
        xs = numeric.to_numpy(dtype=float)
        return np.column_stack([np.ones(len(xs)), xs]), ["intercept", name]
    levels = sorted({str(val) for val in s})
    if len(levels) < 2:
        raise MetaAnalysisError(f"{name} takes one value only ({levels[0]!r})")
    cols = [np.ones(len(s))]
    terms = ["intercept"]
    for lev in levels[1:]:
        cols.append(np.array([1.0 if str(val) == lev else 0.0 for val in s]))
        terms.append(f"{name}[{lev}]")
    return np.column_stack(cols), terms


def meta_regression(
    yi: Any,
    vi: Any,
    covariate: Sequence[Any] | pd.DataFrame,
    method: str = "REML",
    hksj: bool | str = False,
    *,
    name: str = "covariate",
    studies: Sequence[Any] | None = None,
    measure: str = "GENERIC",
    level: float = 0.95,
) -> MetaRegressionResult:
    """Regress effect sizes on one study-level covariate by WLS with τ² (REML, DL, PM or FE).

    A numeric covariate enters as a slope; text/categorical ones are dummy-coded against
    their first level in sorted order (as R's ``factor``), which also gives the
    common-τ² test for subgroup differences (``qm``).
    """
    method = _check_method(method)
    y, v, labels = _arrays(yi, vi, studies, min_k=2)
    if isinstance(covariate, pd.DataFrame):
        if len(covariate) != y.size:
            raise MetaAnalysisError(f"{len(covariate)} rows of moderators for {y.size} studies")
        cols, terms = [np.ones((y.size, 1))], ["intercept"]
        for col in covariate.columns:
            Xc, tc = _covariate_design(covariate[col].tolist(), labels, str(col))
            cols.append(Xc[:, 1:])
            terms += tc[1:]
        X = np.column_stack(cols)
        name = ", ".join(map(str, covariate.columns))
        covariate = [tuple(r) for r in covariate.itertuples(index=False)]
    else:
        if len(list(covariate)) != y.size:
            raise MetaAnalysisError(
                f"{len(list(covariate))} values of {name} for {y.size} studies")
        X, terms = _covariate_design(covariate, labels, name)
    k, p = X.shape
    if k <= p:
        raise MetaAnalysisError(f"meta-regression on {name} needs more than {p} studies; got {k}")
    if np.linalg.matrix_rank(X) < p:
        raise MetaAnalysisError(f"{name} does not vary enough across studies to be estimated")
    tau2, _ = estimate_tau2(y, v, X, method)
    fit = _wls(y, v, tau2, X)
    beta = np.asarray(fit.params, dtype=float)
    vb = np.asarray(fit.normalized_cov_params, dtype=float)
    df: int | None = None
    test = test_name(hksj)
    if test != "z":
        vb = vb * kh_multiplier(float(fit.ssr), k - p, test)
        df = k - p
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    crit = _crit(level, df)
    if df is None:
        pv = 2 * stats.norm.sf(np.abs(stat))
    else:
        pv = 2 * stats.t.sf(np.abs(stat), df)
    b = beta[1:]
    qm = float(b @ np.linalg.solve(vb[1:, 1:], b))
    m = p - 1
    if df is None:
        qm_p = float(stats.chi2.sf(qm, m))
    else:
        qm = qm / m
        qm_p = float(stats.f.sf(qm, m, df))
    het = _heterogeneity(y, v, X, tau2, fixed=(method == "FE"))
    r2: float | None = None
    if method != "FE":
        tau2_0, _ = estimate_tau2(y, v, np.ones((k, 1)), method)
        r2 = 0.0 if tau2_0 <= 0 else max(0.0, 100 * (tau2_0 - tau2) / tau2_0)
    coefs = pd.DataFrame(
        {
            "term": terms,
            "estimate": beta,
            "se": se,
            ("t" if df is not None else "z"): stat,
            "p": pv,
            "ci_low": beta - crit * se,
            "ci_high": beta + crit * se,
        }
    )
    return MetaRegressionResult(
        coefficients=coefs,
        tau2=float(tau2),
        i2=het.i2,
        h2=het.h2,
        qe=het.q,
        qe_df=het.q_df,
        qe_p=het.q_p,
        qm=qm,
        qm_df=m,
        qm_p=qm_p,
        r2=r2,
        k=k,
        method=method,
        measure=str(measure).upper(),
        hksj=test != "z",
        covariate=name,
        studies=tuple(labels),
        x=tuple(covariate),
        yi=y,
        vi=v,
    )


def permutation_test(
    yi: Any,
    vi: Any,
    moderators: Sequence[Any] | pd.DataFrame,
    method: str = "REML",
    hksj: bool | str = False,
    *,
    iterations: int = 1000,
    seed: int = 0,
    name: str = "covariate",
) -> dict[str, Any]:
    """Permutation test of the moderators (metafor ``permutest``), for small k where the
    χ²/F reference distribution of QM is doubtful (Higgins & Thompson 2004).

    The moderator rows are shuffled against (yᵢ, vᵢ) and the model refitted; the p-value
    is (1 + #{QM* ≥ QM})/(1 + iterations) — with every distinct permutation enumerated
    instead when there are no more than ``iterations`` of them (exact test).
    """
    import itertools

    y, v, labels = _arrays(yi, vi, None, min_k=3)
    frame = (moderators if isinstance(moderators, pd.DataFrame)
             else pd.DataFrame({name: list(moderators)}))
    observed = meta_regression(y, v, frame, method, hksj).qm
    k = y.size
    if math.factorial(k) <= iterations:
        orders = [np.array(p) for p in itertools.permutations(range(k))]
        exact = True
    else:
        rng = np.random.default_rng(seed)
        orders = [rng.permutation(k) for _ in range(iterations)]
        exact = False
    stats_perm = []
    for order in orders:
        shuffled = frame.iloc[order].reset_index(drop=True)
        try:
            stats_perm.append(meta_regression(y, v, shuffled, method, hksj).qm)
        except MetaAnalysisError:  # a permutation can make a factor constant: skip it
            continue
    qs = np.array(stats_perm)
    tol = 1e-8 * max(1.0, abs(observed))
    hits = int(np.sum(qs >= observed - tol))
    p = hits / qs.size if exact else (1 + hits) / (1 + qs.size)
    return {"qm": observed, "p": float(p), "permutations": int(qs.size), "exact": exact}


# ---------------------------------------------------------------------- small-study effects


@dataclass(frozen=True)
class EggerResult:
    """Egger's regression test for funnel-plot asymmetry.

    ``bias`` is the coefficient on the standard error (Egger's intercept in the
    yi/SE ~ 1/SE form); ``limit_estimate`` the effect as SE → 0 (metafor's "b").
    """

    bias: float
    bias_se: float
    stat: float
    test: str
    df: int | None
    p: float
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float
    k: int
    model: str

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def egger_test(
    yi: Any,
    vi: Any,
    *,
    model: str = "lm",
    method: str = "REML",
    level: float = 0.95,
    studies: Sequence[Any] | None = None,
) -> EggerResult:
    """Egger's test: regress yi on its standard error and test the slope.

    ``model="lm"`` is Egger et al. (1997): weighted least squares (weights 1/vi) with a
    multiplicative dispersion, t on k − 2 df — metafor's ``regtest(model="lm")``.
    ``model="rma"`` is metafor's default ``regtest``: a meta-regression on the SE with τ²
    by ``method`` and a z-test. Needs three studies; with fewer than ten the test has
    little power (Cochrane Handbook 13.3.5), which callers should say.
    """
    y, v, labels = _arrays(yi, vi, studies, min_k=3)
    sei = np.sqrt(v)
    k = y.size
    if model == "lm":
        X = np.column_stack([np.ones(k), sei])
        fit = sm.WLS(y, X, weights=1.0 / v).fit()
        df = k - 2
        b, se_b = float(fit.params[1]), float(fit.bse[1])
        stat = b / se_b
        p = float(2 * stats.t.sf(abs(stat), df))
        crit = _crit(level, df)
        icpt, se_i = float(fit.params[0]), float(fit.bse[0])
        return EggerResult(
            b, se_b, stat, "t", df, p, icpt, icpt - crit * se_i, icpt + crit * se_i, k, "lm"
        )
    if model == "rma":
        reg = meta_regression(y, v, sei, method, name="sei", studies=labels)
        c = reg.coefficients
        return EggerResult(
            float(c.loc[1, "estimate"]),
            float(c.loc[1, "se"]),
            float(c.loc[1, "z"]),
            "z",
            None,
            float(c.loc[1, "p"]),
            float(c.loc[0, "estimate"]),
            float(c.loc[0, "ci_low"]),
            float(c.loc[0, "ci_high"]),
            k,
            f"rma ({_check_method(method)})",
        )
    raise MetaAnalysisError(f"unknown Egger model {model!r}; use 'lm' or 'rma'")


# ---------------------------------------------------------------------- sensitivity analyses

_ROW_KEYS = (
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_p",
    "pi_low",
    "pi_high",
)


def _row(r: MetaResult) -> dict[str, Any]:
    return {key: getattr(r, key) for key in _ROW_KEYS}


def leave_one_out(
    yi: Any,
    vi: Any,
    method: str = "REML",
    hksj: bool | str = False,
    *,
    studies: Sequence[Any] | None = None,
    measure: str = "GENERIC",
    level: float = 0.95,
) -> pd.DataFrame:
    """Re-pool with each study left out in turn (metafor ``leave1out``): one row per study.

    All k subsets are pooled at once (:mod:`review.synthesis.meta_subsets`), so 5,000
    studies take seconds; :func:`leave_one_out_refit` is the one-fit-per-study original.
    """
    from review.synthesis.meta_subsets import fast_leave_one_out

    return fast_leave_one_out(yi, vi, method, hksj, studies=studies, level=level)


def leave_one_out_refit(
    yi: Any,
    vi: Any,
    method: str = "REML",
    hksj: bool = False,
    *,
    studies: Sequence[Any] | None = None,
    measure: str = "GENERIC",
    level: float = 0.95,
) -> pd.DataFrame:
    """Re-pool with each study left out in turn (metafor ``leave1out``): one row per study."""
    method = _check_method(method)
    y, v, labels = _arrays(yi, vi, studies, min_k=3)
    rows = []
    for i in range(y.size):
        keep = np.arange(y.size) != i
        r = _fit(
            y[keep],
            v[keep],
            [lab for j, lab in enumerate(labels) if j != i],
            method,
            hksj,
            str(measure).upper(),
            level,
            "default",
            (),
        )
        rows.append({"omitted": labels[i], **_row(r)})
    return pd.DataFrame(rows)


def cumulative_meta(
    yi: Any,
    vi: Any,
    years: Sequence[Any],
    method: str = "REML",
    hksj: bool | str = False,
    *,
    studies: Sequence[Any] | None = None,
    measure: str = "GENERIC",
    level: float = 0.95,
) -> pd.DataFrame:
    """Pool studies cumulatively in order of publication year (ties keep input order).

    Row j pools the first j studies; the first row is the earliest study alone. All
    prefixes are pooled at once; :func:`cumulative_meta_refit` is the one-fit-per-row path.
    """
    from review.synthesis.meta_subsets import fast_cumulative

    return fast_cumulative(yi, vi, years, method, hksj, studies=studies, level=level)


def cumulative_meta_refit(
    yi: Any,
    vi: Any,
    years: Sequence[Any],
    method: str = "REML",
    hksj: bool = False,
    *,
    studies: Sequence[Any] | None = None,
    measure: str = "GENERIC",
    level: float = 0.95,
) -> pd.DataFrame:
    """Pool studies cumulatively in order of publication year (ties keep input order).

    Row j pools the first j studies; the first row is the earliest study alone.
    """
    method = _check_method(method)
    y, v, labels = _arrays(yi, vi, studies, min_k=2)
    yrs = pd.to_numeric(pd.Series(list(years)), errors="coerce").to_numpy(dtype=float)
    if yrs.size != y.size:
        raise MetaAnalysisError(f"{yrs.size} years for {y.size} studies")
    for i in range(y.size):
        if not np.isfinite(yrs[i]):
            raise MetaAnalysisError(
                f"study {labels[i]!r} (row {i + 1}): year is missing or not a number"
            )
    order = np.argsort(yrs, kind="stable")
    rows = []
    for j in range(1, y.size + 1):
        idx = order[:j]
        r = _fit(
            y[idx],
            v[idx],
            [labels[i] for i in idx],
            method,
            hksj,
            str(measure).upper(),
            level,
            "default",
            (),
        )
        last = int(order[j - 1])
        rows.append(
            {
                "added": labels[last],
                "year": int(yrs[last]) if yrs[last].is_integer() else yrs[last],
                **_row(r),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- one outcome


@dataclass(frozen=True, eq=False)
class OutcomeAnalysis:
    """Everything a synthesis page or report shows for one outcome."""

    effects: pd.DataFrame
    result: MetaResult
    subgroups: SubgroupResult | None = None
    egger: EggerResult | None = None
    leave_one_out: pd.DataFrame | None = None
    cumulative: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: :class:`~review.synthesis.meta_bias.TrimFillResult` with ``trimfill=True``.
    trimfill: Any = None
    regression: MetaRegressionResult | None = None
    permutation: dict[str, Any] | None = None


def meta_for_outcome(
    outcome_df: pd.DataFrame,
    measure: str,
    method: str = "REML",
    hksj: bool | str = False,
    **options: Any,
) -> OutcomeAnalysis:
    """Full analysis of one outcome from its per-study rows (the pure core of ``review meta``);
    see :func:`review.synthesis.meta_outcome.analyse_outcome` for the options."""
    from review.synthesis.meta_outcome import analyse_outcome

    return analyse_outcome(outcome_df, measure, method, hksj, **options)
