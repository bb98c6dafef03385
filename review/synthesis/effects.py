"""Effect sizes from per-study outcome data, computed the way R's metafor ``escalc`` does.

A review's pooled numbers are only comparable with other reviews (and checkable by a
statistician with metafor) if each study's effect size and sampling variance are the
standard ones, so every formula here is metafor's default (``vtype="LS"``):

=======  =======================================  ===============================================
measure  yi                                       vi
=======  =======================================  ===============================================
SMD      Hedges' g = J(m)·(m1−m2)/sp,             1/n1 + 1/n2 + g²/(2(n1+n2))
         J(m) = Γ(m/2) / (√(m/2)·Γ((m−1)/2)),
         m = n1+n2−2 (the exact correction)
MD       m1 − m2                                  sd1²/n1 + sd2²/n2
OR       log(a·d / (b·c))                         1/a + 1/b + 1/c + 1/d
RR       log((a/n1) / (c/n2))                     1/a − 1/n1 + 1/c − 1/n2
RD       a/n1 − c/n2                              p1(1−p1)/n1 + p2(1−p2)/n2
ZCOR     atanh(r) (Fisher's z)                    1/(n−3)
GENERIC  yi as given                              vi, or SE², or ((high−low)/(2·z))² from a CI
=======  =======================================  ===============================================

2×2 tables (a, b = events, non-events in the treatment arm; c, d in the control arm) with a
zero cell get ``add`` (0.5) added to all four cells of *that* study only (metafor's
``to="only0"``), for OR, RR and RD alike; the ``cc`` column and :func:`effects_notes` say
which studies were corrected, because a reader must be told.

Bad input raises :class:`EffectSizeError` naming the study and its row rather than
returning NaN, which would otherwise flow silently into a pooled estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

MEASURES: tuple[str, ...] = ("SMD", "MD", "OR", "RR", "RD", "ZCOR", "GENERIC")
#: Measures analysed on the log scale and reported back-transformed (exp).
RATIO_MEASURES: frozenset[str] = frozenset({"OR", "RR"})
#: Measures computed from 2×2 tables.
BINARY_MEASURES: frozenset[str] = frozenset({"OR", "RR", "RD"})
CONTINUOUS_MEASURES: frozenset[str] = frozenset({"SMD", "MD"})

#: Input columns each measure needs (GENERIC: ``yi`` plus one of the variance forms).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "OR": ("ai", "bi", "ci", "di"),
    "RR": ("ai", "bi", "ci", "di"),
    "RD": ("ai", "bi", "ci", "di"),
    "SMD": ("n1", "m1", "sd1", "n2", "m2", "sd2"),
    "MD": ("n1", "m1", "sd1", "n2", "m2", "sd2"),
    "ZCOR": ("ri", "ni"),
    "GENERIC": ("yi",),
}

COLUMN_MEANING: dict[str, str] = {
    "ai": "events in the treatment arm",
    "bi": "non-events in the treatment arm",
    "ci": "events in the control arm",
    "di": "non-events in the control arm",
    "n1": "treatment arm size",
    "m1": "treatment arm mean",
    "sd1": "treatment arm SD",
    "n2": "control arm size",
    "m2": "control arm mean",
    "sd2": "control arm SD",
    "ri": "correlation",
    "ni": "sample size",
    "yi": "effect size",
    "vi": "sampling variance",
    "sei": "standard error",
    "ci_low": "lower confidence limit",
    "ci_high": "upper confidence limit",
}

CC_MODES = ("only0", "all", "if0all", "none")

#: Columns compute_effects produces, in order; input columns follow them.
OUTPUT_COLUMNS = ("study", "yi", "vi", "sei", "ci_low", "ci_high", "n", "cc", "measure")


class EffectSizeError(ValueError):
    """Input that cannot give a valid effect size; names the study and its (1-based) row.

    ``row`` is the 0-based position in the input frame (``None`` for whole-table problems)
    so shells can translate it into a file line; ``detail`` is the message without location.
    """

    def __init__(self, detail: str, *, row: int | None = None, study: str | None = None):
        self.detail = detail
        self.row = row
        self.study = study
        if study and row is not None:
            prefix = f"study {study!r} (row {row + 1})"
        elif study:
            prefix = f"study {study!r}"
        elif row is not None:
            prefix = f"row {row + 1}"
        else:
            prefix = ""
        super().__init__(f"{prefix}: {detail}" if prefix else detail)


def hedges_j(m: float | np.ndarray) -> np.ndarray:
    """Exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)) (Hedges 1981).

    Computed through log-gamma so large samples do not overflow; the usual approximation
    1 − 3/(4m − 1) is off by up to 0.01 at m = 2, which is why metafor (and we) use this.
    """
    m = np.asarray(m, dtype=float)
    return np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))


def se_from_ci(low: float, high: float, level: float = 0.95) -> float:
    """Back-calculate a standard error from a symmetric (on the analysis scale) CI.

    Ratio measures' CIs are symmetric on the log scale: pass ``log(low), log(high)``.
    """
    z = stats.norm.ppf(0.5 + level / 2)
    return (high - low) / (2 * z)


def _label(df: pd.DataFrame, study_col: str) -> list[str | None]:
    if study_col not in df.columns:
        return [None] * len(df)
    out: list[str | None] = []
    for v in df[study_col].tolist():
        out.append(None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return out


def _numeric(df: pd.DataFrame, col: str, labels: list[str | None]) -> np.ndarray:
    """A column as floats; a value that is present but not a number is an error, not NaN."""
    raw = df[col]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    for i, (r, v) in enumerate(zip(raw.tolist(), values, strict=True)):
        present = not (
            r is None
            or (isinstance(r, float) and math.isnan(r))
            or r is pd.NA
            or (isinstance(r, str) and not r.strip())
        )
        if present and np.isnan(v):
            raise EffectSizeError(
                f"{col} ({COLUMN_MEANING.get(col, col)}) is not a number: {r!r}",
                row=i,
                study=labels[i],
            )
    return values


def _require_values(values: dict[str, np.ndarray], labels: list[str | None]) -> None:
    for col, arr in values.items():
        bad = np.flatnonzero(np.isnan(arr))
        if bad.size:
            i = int(bad[0])
            raise EffectSizeError(
                f"missing {col} ({COLUMN_MEANING.get(col, col)})", row=i, study=labels[i]
            )


def _check(cond: np.ndarray, labels: list[str | None], message: str) -> None:
    bad = np.flatnonzero(~cond)
    if bad.size:
        i = int(bad[0])
        raise EffectSizeError(message, row=i, study=labels[i])


def _binary(
    v: dict[str, np.ndarray], measure: str, labels: list[str | None], add: float, to: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    a, b, c, d = v["ai"], v["bi"], v["ci"], v["di"]
    for name, arr in (("ai", a), ("bi", b), ("ci", c), ("di", d)):
        _check(arr >= 0, labels, f"{name} ({COLUMN_MEANING[name]}) is negative")
    _check(a + b > 0, labels, "the treatment arm has no participants (ai + bi = 0)")
    _check(c + d > 0, labels, "the control arm has no participants (ci + di = 0)")
    n = a + b + c + d
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all":
        cc = np.full(len(a), add)
    elif to == "only0":
        cc = np.where(zero, add, 0.0)
    elif to == "if0all":
        cc = np.full(len(a), add if zero.any() else 0.0)
    else:
        cc = np.zeros(len(a))
    a, b, c, d = a + cc, b + cc, c + cc, d + cc
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if measure in ("OR", "RR"):
        # with to="none" a zero cell leaves the log ratio undefined: say which study
        _check(
            (a > 0) & (c > 0) & ((b > 0) | (measure == "RR")) & ((d > 0) | (measure == "RR")),
            labels,
            f"a zero cell makes the {measure} undefined; use a continuity "
            "correction (add=0.5) or measure RD",
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(p1 / p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        else:
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return yi, vi, n, cc


def _continuous(
    v: dict[str, np.ndarray], measure: str, labels: list[str | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n1, m1, sd1, n2, m2, sd2 = (v[k] for k in ("n1", "m1", "sd1", "n2", "m2", "sd2"))
    _check(n1 >= 1, labels, "n1 (treatment arm size) must be at least 1")
    _check(n2 >= 1, labels, "n2 (control arm size) must be at least 1")
    _check(sd1 > 0, labels, "sd1 (treatment arm SD) must be positive")
    _check(sd2 > 0, labels, "sd2 (control arm SD) must be positive")
    n = n1 + n2
    if measure == "MD":
        return m1 - m2, sd1**2 / n1 + sd2**2 / n2, n
    m = n - 2
    _check(
        m > 1,
        labels,
        "an SMD needs n1 + n2 of at least 4 (the small-sample correction is undefined below that)",
    )
    sp = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / m)
    _check(sp > 0, labels, "the pooled SD is zero")
    g = hedges_j(m) * (m1 - m2) / sp
    vi = 1 / n1 + 1 / n2 + g**2 / (2 * n)
    return g, vi, n


def _generic(
    df: pd.DataFrame, labels: list[str | None], level: float
) -> tuple[np.ndarray, np.ndarray]:
    yi = _numeric(df, "yi", labels)
    _require_values({"yi": yi}, labels)
    k = len(df)
    vi = np.full(k, np.nan)
    have = {
        c: _numeric(df, c, labels) for c in ("vi", "sei", "ci_low", "ci_high") if c in df.columns
    }
    levels = _numeric(df, "ci_level", labels) if "ci_level" in df.columns else np.full(k, np.nan)
    for i in range(k):
        if "vi" in have and not np.isnan(have["vi"][i]):
            if have["vi"][i] <= 0:
                raise EffectSizeError(
                    f"vi (sampling variance) must be positive, got {have['vi'][i]:g}",
                    row=i,
                    study=labels[i],
                )
            vi[i] = have["vi"][i]
        elif "sei" in have and not np.isnan(have["sei"][i]):
            if have["sei"][i] <= 0:
                raise EffectSizeError(
                    f"sei (standard error) must be positive, got {have['sei'][i]:g}",
                    row=i,
                    study=labels[i],
                )
            vi[i] = have["sei"][i] ** 2
        elif (
            "ci_low" in have
            and "ci_high" in have
            and not np.isnan(have["ci_low"][i])
            and not np.isnan(have["ci_high"][i])
        ):
            lo, hi = have["ci_low"][i], have["ci_high"][i]
            if not lo < hi:
                raise EffectSizeError(
                    f"ci_low ({lo:g}) must be below ci_high ({hi:g})", row=i, study=labels[i]
                )
            if not lo <= yi[i] <= hi:
                raise EffectSizeError(
                    f"yi ({yi[i]:g}) lies outside its CI ({lo:g} to {hi:g}); ratio measures "
                    "must be given on the log scale",
                    row=i,
                    study=labels[i],
                )
            lev = levels[i] if not np.isnan(levels[i]) else level
            if lev > 1:  # a percentage such as 95
                lev = lev / 100
            if not 0 < lev < 1:
                raise EffectSizeError(
                    f"ci_level {levels[i]:g} is not a confidence level", row=i, study=labels[i]
                )
            vi[i] = se_from_ci(lo, hi, lev) ** 2
        else:
            raise EffectSizeError(
                "no variance: give vi, sei, or ci_low and ci_high", row=i, study=labels[i]
            )
    return yi, vi


def required_columns(measure: str) -> tuple[str, ...]:
    """The columns (besides ``study``) a measure needs, for messages and templates."""
    return REQUIRED_COLUMNS[_measure(measure)]


def _measure(measure: str) -> str:
    m = str(measure).upper()
    if m not in MEASURES:
        raise EffectSizeError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")
    return m


def compute_effects(
    df: pd.DataFrame,
    measure: str,
    *,
    add: float = 0.5,
    to: str = "only0",
    level: float = 0.95,
    study_col: str = "study",
) -> pd.DataFrame:
    """Effect size ``yi`` and sampling variance ``vi`` for each study row of ``df``.

    ``df`` has one row per study and the columns :data:`REQUIRED_COLUMNS` lists for the
    measure (2×2 counts ``ai, bi, ci, di``; arms ``n1, m1, sd1, n2, m2, sd2``; ``ri, ni``; or
    ``yi`` with ``vi``/``sei``/``ci_low, ci_high`` [``ci_level``]). Other columns (year,
    subgroup, covariates) are carried through unchanged after the computed ones:
    ``study, yi, vi, sei, ci_low, ci_high, n, cc, measure``, where ``ci_*`` is the study's
    own normal-theory CI at ``level`` and ``cc`` the continuity correction added to each cell.
    """
    m = _measure(measure)
    if to not in CC_MODES:
        raise EffectSizeError(f"unknown continuity-correction mode {to!r}; use {CC_MODES}")
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    df = df.reset_index(drop=True)
    need = REQUIRED_COLUMNS[m]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise EffectSizeError(
            f"measure {m} needs column(s) {', '.join(missing)} "
            f"({'; '.join(COLUMN_MEANING[c] for c in missing)}); "
            f"expected columns: study, {', '.join(need)}"
            + (" and one of vi, sei, or ci_low + ci_high" if m == "GENERIC" else "")
        )
    if len(df) == 0:
        raise EffectSizeError("no study rows")
    labels = _label(df, study_col)
    for i, lab in enumerate(labels):
        if study_col in df.columns and lab is None:
            raise EffectSizeError(f"{study_col} is empty: every row needs a study label", row=i)
    k = len(df)
    cc = np.zeros(k)
    n = np.full(k, np.nan)
    if m == "GENERIC":
        yi, vi = _generic(df, labels, level)
        for col in ("n", "ni"):
            if col in df.columns:
                n = _numeric(df, col, labels)
                break
        else:
            if "n1" in df.columns and "n2" in df.columns:
                n = _numeric(df, "n1", labels) + _numeric(df, "n2", labels)
    else:
        values = {c: _numeric(df, c, labels) for c in need}
        _require_values(values, labels)
        if m in BINARY_MEASURES:
            yi, vi, n, cc = _binary(values, m, labels, add, to)
        elif m in CONTINUOUS_MEASURES:
            yi, vi, n = _continuous(values, m, labels)
        else:  # ZCOR
            ri, ni = values["ri"], values["ni"]
            _check(np.abs(ri) < 1, labels, "ri (correlation) must lie strictly between -1 and 1")
            _check(
                ni > 3, labels, "ni (sample size) must be above 3 for Fisher's z variance 1/(n-3)"
            )
            yi, vi, n = np.arctanh(ri), 1 / (ni - 3), ni
    _check(np.isfinite(yi), labels, f"the {m} effect size is not finite")
    _check(
        np.isfinite(vi) & (vi > 0),
        labels,
        f"the sampling variance of the {m} is not positive (check the counts/SDs)",
    )
    sei = np.sqrt(vi)
    z = stats.norm.ppf(0.5 + level / 2)
    out = pd.DataFrame(
        {
            "study": labels if study_col in df.columns else [f"Study {i + 1}" for i in range(k)],
            "yi": yi,
            "vi": vi,
            "sei": sei,
            "ci_low": yi - z * sei,
            "ci_high": yi + z * sei,
            "n": n,
            "cc": cc,
            "measure": m,
        }
    )
    extra = [c for c in df.columns if c not in out.columns and c != study_col]
    out = pd.concat([out, df[extra]], axis=1)
    corrected = out.loc[out["cc"] > 0, "study"].tolist()
    out.attrs["notes"] = effects_notes(out)
    out.attrs["continuity_corrected"] = corrected
    return out


def effects_notes(effects: pd.DataFrame) -> list[str]:
    """Sentences a report must carry about how the effect sizes were computed."""
    notes: list[str] = []
    if "cc" in effects.columns and (effects["cc"] > 0).any():
        hit = effects.loc[effects["cc"] > 0]
        amount = float(hit["cc"].iloc[0])
        names = ", ".join(str(s) for s in hit["study"])
        notes.append(
            f"Continuity correction: {amount:g} added to every cell of the 2x2 table of "
            f"{len(hit)} stud{'y' if len(hit) == 1 else 'ies'} with a zero cell ({names})."
        )
    measure = (
        str(effects["measure"].iloc[0]) if "measure" in effects.columns and len(effects) else ""
    )
    if measure == "SMD":
        notes.append("SMD is Hedges' g with the exact small-sample correction J(m).")
    return notes


def detect_measure_family(columns: Sequence[str]) -> str | None:
    """Which input layout a table has: ``binary``, ``continuous``, ``correlation``, ``generic``.

    Used by shells to tell a user early that, say, a means table cannot give an OR.
    """
    cols = set(columns)
    if {"ai", "bi", "ci", "di"} <= cols:
        return "binary"
    if {"n1", "m1", "sd1", "n2", "m2", "sd2"} <= cols:
        return "continuous"
    if {"ri", "ni"} <= cols:
        return "correlation"
    if "yi" in cols:
        return "generic"
    return None


FAMILY_MEASURES: dict[str, tuple[str, ...]] = {
    "binary": ("OR", "RR", "RD"),
    "continuous": ("SMD", "MD"),
    "correlation": ("ZCOR",),
    "generic": ("GENERIC",),
}
