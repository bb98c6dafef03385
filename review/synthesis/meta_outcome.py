"""One outcome, fully analysed: the pure core behind ``review meta`` and the Synthesis page.

Picks the model from the options — inverse-variance (FE/DL/PM/REML), Mantel–Haenszel or
Peto for 2×2 tables, or the three-level model when results are clustered — and adds what
a review reports beside the pooled estimate: subgroups, Egger's test, leave-one-out with
influence diagnostics, the cumulative analysis, trim and fill, meta-regression on one or
more moderators (with a permutation test for small k) and cluster-robust errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from review.synthesis.effects import BINARY_MEASURES, compute_effects, effects_notes
from review.synthesis.meta import (
    MetaAnalysisError,
    OutcomeAnalysis,
    cumulative_meta,
    egger_test,
    leave_one_out,
    meta_analyse,
    meta_regression,
    permutation_test,
    subgroup_analysis,
)

#: Below this many studies the moderator test also gets a permutation p-value.
PERMUTATION_BELOW_K = 30


def influence_columns(loo: pd.DataFrame, yi: np.ndarray, vi: np.ndarray,
                      weights: np.ndarray, se_full: float, est_full: float) -> pd.DataFrame:
    """Influence diagnostics beside leave-one-out (Viechtbauer & Cheung 2010):
    ``rstudent`` (yᵢ minus the pooled estimate without i, over √(vᵢ + τ²₋ᵢ + SE²₋ᵢ)),
    ``cooks_distance`` ((μ̂ − μ̂₋ᵢ)²/SE²), ``hat`` (the study's weight share) and
    ``cov_ratio`` (SE²₋ᵢ/SE²)."""
    out = loo.copy()
    out["rstudent"] = (yi - loo["estimate"]) / np.sqrt(vi + loo["tau2"] + loo["se"] ** 2)
    out["cooks_distance"] = (est_full - loo["estimate"]) ** 2 / se_full**2
    out["hat"] = weights / 100
    out["cov_ratio"] = loo["se"] ** 2 / se_full**2
    return out


def _design_column(effects: pd.DataFrame, name: str, what: str) -> str:
    col = name.lower()
    if col not in effects.columns:
        raise MetaAnalysisError(f"no column {name!r} for {what}; columns are "
                                f"{', '.join(map(str, effects.columns))}")
    return col


def analyse_outcome(
    outcome_df: pd.DataFrame,
    measure: str,
    method: str = "REML",
    hksj: bool | str = False,
    *,
    subgroup: str | None = None,
    year: str | None = "year",
    level: float = 0.95,
    pi_type: str = "default",
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    cluster: str | None = None,
    robust: bool = False,
    trimfill: bool = False,
    moderators: Sequence[str] = (),
    permutations: int = 1000,
) -> OutcomeAnalysis:
    """Analyse one outcome from its per-study rows.

    ``outcome_df`` has one row per result: ``study`` plus the columns of
    :func:`~review.synthesis.effects.compute_effects` for ``measure``; optionally a
    ``subgroup`` column, a ``year`` column (cumulative analysis), a ``cluster`` column
    (results nested in studies: three-level model) and ``moderators`` columns.

    ``method``: FE, DL, PM, REML, MH or PETO. ``hksj``: ``"z"``, ``"knha"`` or
    ``"adhoc"`` (``True`` = ``"knha"``). ``pi_type``: ``"default"``, or ``"riley"`` for the
    prediction interval on t(k − 2). ``add``/``to``/``drop00``: the continuity correction
    and whether double-zero studies are left out of the study effects (MH/Peto).
    Raises :class:`~review.synthesis.effects.EffectSizeError` (naming the study and row)
    or :class:`MetaAnalysisError`.
    """
    method = str(method).upper()
    measure = str(measure).upper()
    notes: list[str] = []
    if method in ("MH", "PETO"):
        if cluster or robust or trimfill or moderators:
            raise MetaAnalysisError(
                f"{method} is a fixed-effect pooling of 2x2 tables; --cluster, --robust, "
                "--trimfill and moderators need an inverse-variance method (FE, DL, PM, REML)")
        if measure not in BINARY_MEASURES:
            raise MetaAnalysisError(f"{method} pools 2x2 tables: use --measure OR, RR or RD")
        from review.synthesis.meta_binary import binary_leave_one_out, pool_binary

        result, effects = pool_binary(outcome_df, measure, method, level=level, add=add, to=to,
                                      drop00=drop00)
        notes.extend(effects_notes(effects))
        notes.extend(n for n in result.notes if n not in notes)
        loo = binary_leave_one_out(outcome_df, measure, method, level=level, add=add, to=to,
                                   drop00=drop00) if result.k >= 3 else None
        ok = np.isfinite(result.yi)
        egger = None
        if ok.sum() >= 3:
            egger = egger_test(result.yi[ok], result.vi[ok],
                               studies=[s for s, o in zip(result.studies, ok, strict=True) if o])
            if ok.sum() < 10:
                notes.append(f"Egger's test with {int(ok.sum())} studies has little power "
                             "(fewer than 10).")
        sub = None
        if subgroup:
            raise MetaAnalysisError(
                f"subgroups with {method} are not supported; use an inverse-variance method")
        return OutcomeAnalysis(effects=effects, result=result, egger=egger, leave_one_out=loo,
                               notes=tuple(notes))

    effects = compute_effects(outcome_df, measure, add=add, to=to, level=level)
    notes.extend(effects_notes(effects))
    k = len(effects)
    if cluster:
        from review.synthesis.meta_multilevel import three_level

        col = _design_column(effects, cluster, "--cluster")
        result = three_level(effects["yi"], effects["vi"], effects[col].tolist(),
                             studies=effects["study"], measure=measure, level=level,
                             pi_type=pi_type, robust=robust, notes=notes)
        if trimfill:
            raise MetaAnalysisError("trim and fill assumes independent effects; drop --cluster")
        if method != "REML":
            notes.append("The three-level model is fitted by REML whatever --method says.")
        notes.extend(n for n in result.notes if n not in notes)
        return OutcomeAnalysis(effects=effects, result=result, notes=tuple(notes))

    result = meta_analyse(effects["yi"], effects["vi"], method, hksj, measure=measure,
                          studies=effects["study"], level=level, pi_type=pi_type, notes=notes)
    notes = list(result.notes)
    if robust:
        from review.synthesis.meta_multilevel import robust_for_result

        extra = robust_for_result(result)
        notes.append("Robust (CR2) errors with each result its own cluster; give --cluster to "
                     "cluster results of one study.")
        result = replace(result, extra=result.extra | extra)
    sub = None
    if subgroup:
        col = _design_column(effects, subgroup, "subgroups")
        sub = subgroup_analysis(effects["yi"], effects["vi"], effects[col].tolist(), method, hksj,
                                studies=effects["study"], measure=measure, level=level,
                                pi_type=pi_type, variable=subgroup)
        if sub.between_test == "F":
            notes.append("Test for subgroup differences: F-test of the subgroup moderator with a "
                         "common tau^2 (valid under Knapp-Hartung); the chi-squared test on the "
                         "separate subgroup estimates is not.")
    egger = loo = cum = tf = reg = perm = None
    if k >= 3:
        egger = egger_test(effects["yi"], effects["vi"], studies=effects["study"])
        loo = leave_one_out(effects["yi"], effects["vi"], method, hksj, studies=effects["study"],
                            level=level)
        loo = influence_columns(loo, result.yi, result.vi, result.weights, result.se,
                                result.estimate)
        if k < 10:
            notes.append(f"Egger's test with {k} studies has little power (fewer than 10).")
    has_year = bool(year) and year in effects.columns
    if has_year and effects[year].isna().any():
        missing = effects.loc[effects[year].isna(), "study"].astype(str).tolist()
        notes.append(f"Cumulative analysis left out: no {year} for {', '.join(missing[:5])}"
                     + (f" and {len(missing) - 5} more" if len(missing) > 5 else "") + ".")
        has_year = False
    if has_year:
        cum = cumulative_meta(effects["yi"], effects["vi"], effects[year], method, hksj,
                              studies=effects["study"], level=level)
    if trimfill:
        from review.synthesis.meta_bias import trim_and_fill

        tf = trim_and_fill(result)
        result = replace(result, extra=result.extra | {"trimfill": tf.summary()})
        notes.append(tf.result.notes[-1] if tf.k0 else
                     "Trim and fill (L0): no studies estimated missing.")
    if moderators:
        cols = [_design_column(effects, m, "meta-regression") for m in moderators]
        frame = effects[cols]
        reg = meta_regression(effects["yi"], effects["vi"], frame, method, hksj,
                              studies=effects["study"], measure=measure, level=level)
        if k < PERMUTATION_BELOW_K:
            perm = permutation_test(effects["yi"], effects["vi"], frame, method, hksj,
                                    iterations=permutations)
    return OutcomeAnalysis(effects=effects, result=result, subgroups=sub, egger=egger,
                           leave_one_out=loo, cumulative=cum, notes=tuple(notes), trimfill=tf,
                           regression=reg, permutation=perm)
