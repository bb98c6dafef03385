"""Trim and fill (Duval & Tweedie 2000, estimator L0), as metafor's ``trimfill``.

The side on which studies are missing is the side opposite to the slope of a
meta-regression of yᵢ on √vᵢ (metafor's choice); the k₀ most extreme studies on the
other side are trimmed, the estimate recomputed, k₀ re-estimated from the ranks of
|yᵢ − estimate| until it stops changing; their mirror images about the trimmed estimate
are then added and the model refitted with the same τ² method (metafor refits with a
z-test whatever the original test). Trim and fill is a sensitivity analysis, not a
correction: the filled studies are hypothetical, which the output says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from review.synthesis.meta import MetaAnalysisError, MetaResult, _fit, meta_regression

MAXITER = 100


@dataclass(frozen=True, eq=False)
class TrimFillResult:
    """k₀ filled studies on ``side``, and the model refitted with them."""

    k0: int
    se_k0: float
    side: str
    filled_yi: np.ndarray
    filled_vi: np.ndarray
    result: MetaResult

    def summary(self) -> dict[str, Any]:
        """The ``trimfill`` summary key (analysis scale)."""
        return {"k0": self.k0, "side": self.side, "estimate": self.result.estimate,
                "ci_low": self.result.ci_low, "ci_high": self.result.ci_high}


def trim_and_fill(result: MetaResult) -> TrimFillResult:
    """Trim and fill on a fitted inverse-variance model (FE, DL, PM or REML)."""
    if result.method not in ("FE", "DL", "PM", "REML"):
        raise MetaAnalysisError(
            f"trim and fill needs an inverse-variance model, not {result.method}")
    y0 = np.asarray(result.yi, dtype=float)
    v0 = np.asarray(result.vi, dtype=float)
    k = y0.size
    if k < 3:
        raise MetaAnalysisError("trim and fill needs at least 3 studies")
    reg = meta_regression(y0, v0, np.sqrt(v0), result.method)
    slope = float(reg.coefficients.loc[1, "estimate"])
    side = "right" if slope < 0 else "left"
    y = -y0 if side == "right" else y0.copy()
    order = np.argsort(y, kind="stable")
    y, v = y[order], v0[order]
    k0, k0_prev, it = 0, -1, 0
    labels = [str(i) for i in range(k)]
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > MAXITER:
            raise MetaAnalysisError("trim and fill did not converge")
        n = k - k0
        beta = _fit(y[:n], v[:n], labels[:n], result.method, "z", "GENERIC", 0.95,
                    "default", ()).estimate if n >= 2 else float(y[0])
        yc = y - beta
        ranks = stats.rankdata(np.abs(yc), method="ordinal")
        signed = np.sign(yc) * ranks
        sr = float(signed[signed > 0].sum())
        k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
        var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0f**3 + 27 * k0f**2 + 17 * k0f
                  - 18 * k * k0f**2 - 18 * k * k0f + 6 * k**2 * k0f) / 24
        se_k0 = 4 * np.sqrt(max(var_sr, 0.0)) / (2 * k - 1)
        k0 = max(0, int(np.round(k0f)))
        k0 = min(k0, k - 1)
    if k0 == 0:
        return TrimFillResult(0, float(se_k0), side, np.array([]), np.array([]), result)
    filled = 2 * beta - y[k - k0:]
    filled_v = v[k - k0:]
    if side == "right":
        filled = -filled
    yy = np.concatenate([y0, filled])
    vv = np.concatenate([v0, filled_v])
    labs = [*result.studies, *(f"Filled {i + 1}" for i in range(k0))]
    refit = _fit(yy, vv, labs, result.method, "z", result.measure, result.level, "default",
                 (f"Trim and fill (L0): {k0} hypothetical stud{'y' if k0 == 1 else 'ies'} "
                  f"filled on the {side}; a sensitivity analysis, not a corrected estimate.",))
    return TrimFillResult(k0, float(se_k0), side, filled, filled_v, refit)
