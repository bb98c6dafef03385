"""Dependent effects: the three-level random-effects model and cluster-robust (CR2) errors.

When a study (or a district, a lab, a cohort) contributes several results, pooling them as
independent overstates the precision. Two remedies, both checked against R:

* :func:`three_level` — effects nested in clusters, REML, as metafor's
  ``rma.mv(yi, vi, random = ~ 1 | cluster/effect)``: the marginal covariance is
  V = diag(vᵢ) + σ²_within·I + σ²_between·ZZ' (Z the cluster indicator), fitted by
  maximising the restricted likelihood with its analytic score (L-BFGS-B on σ² ≥ 0, so a
  variance component can sit at its boundary 0).
* :func:`cr2_robust` — the bias-reduced cluster-robust variance (CR2, Bell & McCaffrey
  2002; Pustejovsky & Tipton 2018) with Satterthwaite degrees of freedom, as
  ``clubSandwich::coef_test(model, vcov = "CR2", test = "Satterthwaite")``, for the
  three-level model and for any inverse-variance model (working weights W, target V).

Matrices are dense k × k, which is instant for the 10–500 results of a review.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from review.synthesis.meta import (
    MetaAnalysisError,
    MetaResult,
    _arrays,
    _crit,
    _orthonormal,
    _p_traces,
    _wls,
    estimate_tau2,
    input_warnings,
)


def _cluster_index(cluster: Sequence[Any], k: int,
                   labels: list[str]) -> tuple[np.ndarray, list[str]]:
    values = list(cluster)
    if len(values) != k:
        raise MetaAnalysisError(f"{len(values)} cluster values for {k} effect sizes")
    names: list[str] = []
    index = np.empty(k, dtype=int)
    seen: dict[str, int] = {}
    for i, val in enumerate(values):
        if val is None or (isinstance(val, float) and math.isnan(val)) or str(val).strip() == "":
            raise MetaAnalysisError(f"study {labels[i]!r} (row {i + 1}): no cluster given")
        key = str(val)
        if key not in seen:
            seen[key] = len(names)
            names.append(key)
        index[i] = seen[key]
    return index, names


def _reml_objective(theta: np.ndarray, y: np.ndarray, v: np.ndarray, X: np.ndarray,
                    ZZ: np.ndarray) -> tuple[float, np.ndarray]:
    """−log restricted likelihood (up to a constant) and its gradient in (σ²_b, σ²_w)."""
    s_b, s_w = theta
    V = np.diag(v + s_w) + s_b * ZZ
    L = np.linalg.cholesky(V)
    Vi = np.linalg.inv(V)
    XtVi = X.T @ Vi
    A = XtVi @ X
    M = np.linalg.inv(A)
    P = Vi - XtVi.T @ M @ XtVi
    Py = P @ y
    logdet_v = 2 * np.sum(np.log(np.diag(L)))
    logdet_a = np.linalg.slogdet(A)[1]
    f = 0.5 * (logdet_v + logdet_a + float(y @ Py))
    grad = np.array([
        0.5 * (np.sum(P * ZZ) - float(Py @ ZZ @ Py)),
        0.5 * (np.trace(P) - float(Py @ Py)),
    ])
    return f, grad


@dataclass(frozen=True)
class RobustResult:
    """CR2 cluster-robust coefficients with Satterthwaite df (clubSandwich ``coef_test``)."""

    terms: tuple[str, ...]
    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    clusters: int

    def summary(self, j: int = 0) -> dict[str, Any]:
        """The ``robust_*`` summary keys for coefficient ``j`` (0: the pooled effect)."""
        return {
            "robust_se": float(self.se[j]),
            "robust_df": float(self.df[j]),
            "robust_ci_low": float(self.ci_low[j]),
            "robust_ci_high": float(self.ci_high[j]),
            "robust_p": float(self.p[j]),
        }

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"term": self.terms, "estimate": self.estimate, "se": self.se,
                             "df": self.df, "p": self.p, "ci_low": self.ci_low,
                             "ci_high": self.ci_high})


def _inv_sqrt(B: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((B + B.T) / 2)
    tol = max(vals.max(), 0.0) * 1e-12
    inv = np.where(vals > tol, 1 / np.sqrt(np.where(vals > tol, vals, 1.0)), 0.0)
    return (vecs * inv) @ vecs.T


def cr2_robust(
    y: np.ndarray,
    X: np.ndarray,
    W: np.ndarray,
    cluster: np.ndarray,
    *,
    terms: Sequence[str] | None = None,
    level: float = 0.95,
) -> RobustResult:
    """CR2 sandwich with working weight matrix ``W`` (= V⁻¹ of the fitted model, which is
    also the target Φ = W⁻¹) and Satterthwaite df per coefficient.

    For cluster j with Φⱼ = DⱼᵀDⱼ: Aⱼ = Dⱼᵀ Bⱼ^{−1/2} Dⱼ, Bⱼ = Dⱼ (I − H)ⱼ Φ (I − H)ⱼᵀ Dⱼᵀ;
    V_CR2 = M [Σⱼ XⱼᵀWⱼAⱼeⱼeⱼᵀAⱼWⱼXⱼ] M with M = (XᵀWX)⁻¹; df = (Σⱼ pⱼᵀΦpⱼ)² / Σᵢⱼ (pᵢᵀΦpⱼ)²
    with pⱼ = (I − H)ⱼᵀ Aⱼ Wⱼ Xⱼ M c.
    """
    k, p = X.shape
    groups = [np.flatnonzero(cluster == g) for g in np.unique(cluster)]
    if len(groups) < 2:
        raise MetaAnalysisError("cluster-robust errors need at least 2 clusters")
    M = np.linalg.inv(X.T @ W @ X)
    beta = M @ X.T @ W @ y
    e = y - X @ beta
    Phi = np.linalg.inv(W)
    IH = np.eye(k) - X @ M @ X.T @ W
    meat = np.zeros((p, p))
    pieces = []  # (idx, A_j W_j X_j M) per cluster, for the df
    for idx in groups:
        Phi_j = Phi[np.ix_(idx, idx)]
        D = np.linalg.cholesky(Phi_j).T  # upper: Phi_j = D'D
        IH_j = IH[idx, :]
        B = D @ IH_j @ Phi @ IH_j.T @ D.T
        A = D.T @ _inv_sqrt(B) @ D
        WX = W[np.ix_(idx, idx)] @ X[idx]
        u = WX.T @ A @ e[idx]
        meat += np.outer(u, u)
        pieces.append((idx, A @ WX @ M))
    vcr = M @ meat @ M
    se = np.sqrt(np.diag(vcr))
    df = np.empty(p)
    for j in range(p):
        cols = []
        for idx, AWXM in pieces:
            cols.append(IH[idx, :].T @ AWXM[:, j])
        P_ = np.column_stack(cols)
        G = P_.T @ Phi @ P_
        df[j] = np.trace(G) ** 2 / np.sum(G * G)
    tstat = beta / se
    pv = 2 * stats.t.sf(np.abs(tstat), df)
    crit = stats.t.ppf(0.5 + level / 2, df)
    return RobustResult(
        terms=tuple(terms or [f"b{j}" for j in range(p)]),
        estimate=beta, se=se, df=df, p=pv,
        ci_low=beta - crit * se, ci_high=beta + crit * se, clusters=len(groups),
    )


@dataclass(frozen=True, eq=False)
class ThreeLevelFit:
    """The fitted three-level model: σ² components, coefficients and the weight matrix."""

    sigma2_between: float
    sigma2_within: float
    beta: np.ndarray
    vb: np.ndarray
    W: np.ndarray
    X: np.ndarray
    cluster: np.ndarray
    cluster_names: tuple[str, ...]
    loglik: float


def fit_three_level(y: np.ndarray, v: np.ndarray, cluster: np.ndarray,
                    X: np.ndarray | None = None) -> ThreeLevelFit:
    """REML fit of V = diag(v) + σ²_w·I + σ²_b·ZZ' with fixed effects X (intercept default)."""
    k = y.size
    if X is None:
        X = np.ones((k, 1))
    n_clusters = int(cluster.max()) + 1
    if n_clusters < 2:
        raise MetaAnalysisError("a three-level model needs at least 2 clusters")
    if n_clusters == k:
        raise MetaAnalysisError(
            "every cluster holds one effect: the three-level model reduces to the usual "
            "random-effects model (drop --cluster)")
    Xo = _orthonormal(X)
    ZZ = (cluster[:, None] == cluster[None, :]).astype(float)
    tau2, _ = estimate_tau2(y, v, X, "REML")
    start = np.array([max(tau2, 1e-4) / 2, max(tau2, 1e-4) / 2])
    best = None
    for x0 in (start, np.array([max(tau2, 1e-4), 1e-6]), np.array([1e-6, max(tau2, 1e-4)])):
        res = optimize.minimize(_reml_objective, x0, args=(y, v, Xo, ZZ), jac=True,
                                method="L-BFGS-B", bounds=[(0, None), (0, None)],
                                options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 5000})
        if best is None or res.fun < best.fun:
            best = res
    s_b, s_w = (float(t) for t in best.x)
    V = np.diag(v + s_w) + s_b * ZZ
    W = np.linalg.inv(V)
    vb = np.linalg.inv(X.T @ W @ X)
    beta = vb @ X.T @ W @ y
    f, _ = _reml_objective(best.x, y, v, Xo, ZZ)
    p = X.shape[1]
    ll = -0.5 * (k - p) * math.log(2 * math.pi) - f  # metafor's REML log-likelihood
    return ThreeLevelFit(s_b, s_w, beta, vb, W, X, cluster, (), ll)


def three_level(
    yi: Any,
    vi: Any,
    cluster: Sequence[Any],
    *,
    studies: Sequence[Any] | None = None,
    measure: str = "GENERIC",
    level: float = 0.95,
    pi_type: str = "default",
    robust: bool = False,
    notes: Sequence[str] = (),
) -> MetaResult:
    """Pool dependent effects with the three-level model (``rma.mv(yi, vi, random = ~ 1 |
    cluster/effect)``), z-test as metafor. ``robust`` adds CR2 errors clustered by
    ``cluster`` (the ``robust_*`` summary keys).

    The summary's ``tau2`` is the total heterogeneity σ²_between + σ²_within and ``sigma2``
    the pair; ``i2`` the share of total variance that is heterogeneity (metafor FAQ's
    multilevel I²), ``q`` the usual Q-test of homogeneity.
    """
    y, v, labels = _arrays(yi, vi, studies, min_k=3)
    idx, names = _cluster_index(cluster, y.size, labels)
    fit = fit_three_level(y, v, idx)
    k = y.size
    est = float(fit.beta[0])
    se = math.sqrt(float(fit.vb[0, 0]))
    crit = _crit(level, None)
    stat = est / se
    p = float(2 * stats.norm.sf(abs(stat)))
    X = np.ones((k, 1))
    fe = _wls(y, v, 0.0, X)
    q = float(fe.ssr)
    q_df = k - 1
    vt = q_df / _p_traces(1.0 / v, X)[0]
    total = fit.sigma2_between + fit.sigma2_within
    if pi_type == "riley":
        pi_crit = _crit(level, k - 2)
    elif pi_type == "t":
        pi_crit = _crit(level, k - 1)
    else:
        pi_crit = crit
    pi_half = pi_crit * math.sqrt(se**2 + total)
    w = np.diag(fit.W)
    extra: dict[str, Any] = {
        "model": "three-level",
        "sigma2": [fit.sigma2_between, fit.sigma2_within],
        "clusters": len(names),
        "i2_between": 100 * fit.sigma2_between / (total + vt),
        "i2_within": 100 * fit.sigma2_within / (total + vt),
    }
    notes = list(notes)
    keyed = [f"{c}\x00{s}" for c, s in zip(idx, labels, strict=True)]
    notes.extend(n for n in input_warnings(keyed, v) if not n.startswith("Study labels repeated"))
    notes.append(f"Three-level model: {k} effects in {len(names)} clusters; sigma^2 between "
                 f"clusters {fit.sigma2_between:.4g}, within clusters {fit.sigma2_within:.4g}.")
    if robust:
        rob = cr2_robust(y, X, fit.W, idx, terms=["intercept"], level=level)
        extra |= rob.summary(0)
        notes.append(f"Cluster-robust (CR2) SE {rob.se[0]:.4f}, Satterthwaite df "
                     f"{rob.df[0]:.2f}, over {rob.clusters} clusters.")
    return MetaResult(
        estimate=est, se=se, ci_low=est - crit * se, ci_high=est + crit * se,
        stat=stat, p=p, df=None, tau2=total, i2=100 * total / (total + vt),
        h2=total / vt + 1, q=q, q_df=q_df, q_p=float(stats.chi2.sf(q, q_df)),
        pi_low=est - pi_half, pi_high=est + pi_half, k=k, method="3LEVEL",
        measure=str(measure).upper(), hksj=False, level=level, studies=tuple(labels),
        yi=y, vi=v, weights=100 * w / w.sum(), notes=tuple(notes), pi_type=pi_type,
        extra=extra,
    )


def robust_for_result(result: MetaResult, cluster: Sequence[Any] | None = None) -> dict[str, Any]:
    """CR2 errors for an inverse-variance model already fitted (FE, DL, PM, REML): working
    weights 1/(vᵢ + τ²), clusters ``cluster`` (each row its own cluster when None)."""
    y, v = result.yi, result.vi
    k = y.size
    labels = list(result.studies)
    if cluster is None:
        idx = np.arange(k)
    else:
        idx, _ = _cluster_index(cluster, k, labels)
    W = np.diag(1.0 / (v + result.tau2))
    rob = cr2_robust(y, np.ones((k, 1)), W, idx, terms=["intercept"], level=result.level)
    return rob.summary(0) | {"robust_clusters": rob.clusters}
