"""Agreement with R's metafor.

Two sources of truth, both independent of this code:
* the published dat.bcg numbers in ../shared/BENCHMARKS.md §3 (metafor's own test files),
  checked to 1e-4 on estimates and 1e-3 on τ² (they are printed to 4 decimals);
* ``tests/fixtures/meta/metafor_reference.csv``, written by ``metafor_reference.R`` in the
  same folder with metafor 3.8-1 at tight convergence, checked to 1e-6 or better.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from review.synthesis.effects import compute_effects
from review.synthesis.meta import (
    cumulative_meta,
    egger_test,
    leave_one_out,
    meta_analyse,
    meta_for_outcome,
    meta_regression,
    subgroup_analysis,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "meta"


def _reference() -> dict[tuple[str, str], float]:
    with open(FIX / "metafor_reference.csv", newline="") as fh:
        return {(r["case"], r["key"]): float(r["value"]) for r in csv.DictReader(fh)}


REF = _reference()


def ref(case: str, key: str) -> float:
    return REF[(case, key)]


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    return compute_effects(pd.read_csv(FIX / "dat_bcg.csv"), "RR")


# The 13 BCG trials exactly as BENCHMARKS.md lists them (tpos/tneg/cpos/cneg).
BCG_COUNTS = [(4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
              (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619),
              (505, 87886, 499, 87892), (29, 7470, 45, 7232), (17, 1699, 65, 1600),
              (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825)]


@pytest.fixture(scope="module")
def bcg_benchmark() -> pd.DataFrame:
    df = pd.DataFrame(BCG_COUNTS, columns=["ai", "bi", "ci", "di"])
    df.insert(0, "study", [f"Trial {i + 1}" for i in range(len(df))])
    return compute_effects(df, "RR")


# ------------------------------------------------------------- BENCHMARKS.md §3, verbatim

EST, TAU = 1e-4, 1e-3


def test_benchmark_fixed_effect(bcg_benchmark):
    r = meta_analyse(bcg_benchmark.yi, bcg_benchmark.vi, "FE", measure="RR")
    assert r.estimate == pytest.approx(-0.4303, abs=EST)
    assert r.ci_low == pytest.approx(-0.5097, abs=EST)
    assert r.ci_high == pytest.approx(-0.3509, abs=EST)
    assert r.q == pytest.approx(152.2330, abs=EST)
    assert r.q_df == 12
    assert r.tau2 == 0


def test_benchmark_dersimonian_laird(bcg_benchmark):
    r = meta_analyse(bcg_benchmark.yi, bcg_benchmark.vi, "DL", measure="RR")
    assert r.estimate == pytest.approx(-0.7141, abs=EST)
    assert (r.ci_low, r.ci_high) == pytest.approx((-1.0644, -0.3638), abs=EST)
    assert r.tau2 == pytest.approx(0.3088, abs=TAU)
    assert r.i2 == pytest.approx(92.12, abs=0.005)
    assert r.h2 == pytest.approx(12.6861, abs=EST)


def test_benchmark_reml(bcg_benchmark):
    r = meta_analyse(bcg_benchmark.yi, bcg_benchmark.vi, "REML", measure="RR")
    assert r.estimate == pytest.approx(-0.7145, abs=EST)
    assert r.se == pytest.approx(0.1798, abs=EST)
    assert (r.ci_low, r.ci_high) == pytest.approx((-1.0669, -0.3622), abs=EST)
    assert r.tau2 == pytest.approx(0.3132, abs=TAU)
    assert r.i2 == pytest.approx(92.22, abs=0.005)
    assert r.summary()["z"] == pytest.approx(r.estimate / r.se)


def test_benchmark_reml_knapp_hartung(bcg_benchmark):
    r = meta_analyse(bcg_benchmark.yi, bcg_benchmark.vi, "REML", hksj=True, measure="RR")
    assert r.estimate == pytest.approx(-0.7145, abs=EST)
    assert r.se == pytest.approx(0.1808, abs=EST)
    assert r.p == pytest.approx(0.0019, abs=EST)
    assert (r.ci_low, r.ci_high) == pytest.approx((-1.1084, -0.3206), abs=EST)
    assert r.df == 12 and "t" in r.summary() and "z" not in r.summary()


def test_benchmark_paule_mandel(bcg_benchmark):
    r = meta_analyse(bcg_benchmark.yi, bcg_benchmark.vi, "PM", measure="RR")
    assert r.tau2 == pytest.approx(0.3181, abs=TAU)


# --------------------------------------------------- metafor 3.8-1 at tight convergence

FIT_KEYS = ("estimate", "se", "ci_low", "ci_high", "stat", "p", "tau2", "i2", "h2", "q", "q_p")


def assert_matches(r, case: str, tol: float = 1e-6) -> None:
    for key in FIT_KEYS:
        assert getattr(r, key) == pytest.approx(ref(case, key), abs=tol, rel=tol), (case, key)
    if (case, "pi_low") in REF:
        assert r.pi_low == pytest.approx(ref(case, "pi_low"), abs=tol)
        assert r.pi_high == pytest.approx(ref(case, "pi_high"), abs=tol)


def test_effect_sizes_match_escalc(bcg):
    for i in range(13):
        assert bcg.loc[i, "yi"] == pytest.approx(ref("bcg_rr_effects", f"yi{i + 1}"), rel=1e-12)
        assert bcg.loc[i, "vi"] == pytest.approx(ref("bcg_rr_effects", f"vi{i + 1}"), rel=1e-12)


@pytest.mark.parametrize("method", ["FE", "DL", "PM", "REML"])
@pytest.mark.parametrize("hksj", [False, True])
def test_all_methods_match_rma(bcg, method, hksj):
    r = meta_analyse(bcg.yi, bcg.vi, method, hksj=hksj, measure="RR")
    assert_matches(r, f"bcg_rr_{method}{'_knha' if hksj else ''}")


def test_prediction_interval_types_match_predict(bcg):
    r = meta_analyse(bcg.yi, bcg.vi, "REML", pi_type="riley")
    assert (r.pi_low, r.pi_high) == pytest.approx(
        (ref("bcg_rr_REML_riley", "pi_low"), ref("bcg_rr_REML_riley", "pi_high")), abs=1e-6)
    r = meta_analyse(bcg.yi, bcg.vi, "REML", pi_type="t")
    assert (r.pi_low, r.pi_high) == pytest.approx(
        (ref("bcg_rr_REML_tpi", "pi_low"), ref("bcg_rr_REML_tpi", "pi_high")), abs=1e-6)


def test_weights_match(bcg):
    r = meta_analyse(bcg.yi, bcg.vi, "REML")
    expected = [ref("bcg_rr_REML_weights", f"w{i + 1}") for i in range(13)]
    assert r.weights == pytest.approx(expected, abs=1e-6)
    assert r.weights.sum() == pytest.approx(100)


@pytest.mark.parametrize("measure", ["OR", "RD"])
def test_other_binary_measures(measure):
    e = compute_effects(pd.read_csv(FIX / "dat_bcg.csv"), measure)
    assert_matches(meta_analyse(e.yi, e.vi, "REML", measure=measure),
                   f"bcg_{measure.lower()}_REML")


@pytest.mark.parametrize("measure", ["MD", "SMD"])
def test_continuous_measures(measure):
    e = compute_effects(pd.read_csv(FIX / "dat_normand1999.csv"), measure)
    case = f"normand_{measure.lower()}"
    for i in range(len(e)):
        assert e.loc[i, "yi"] == pytest.approx(ref(f"{case}_effects", f"yi{i + 1}"), rel=1e-10)
        assert e.loc[i, "vi"] == pytest.approx(ref(f"{case}_effects", f"vi{i + 1}"), rel=1e-10)
    assert_matches(meta_analyse(e.yi, e.vi, "REML"), f"{case}_REML")
    assert_matches(meta_analyse(e.yi, e.vi, "DL"), f"{case}_DL")


def test_fishers_z_and_pm_with_knapp_hartung():
    e = compute_effects(pd.read_csv(FIX / "dat_molloy2014.csv"), "ZCOR")
    assert_matches(meta_analyse(e.yi, e.vi, "REML"), "molloy_zcor_REML")
    assert_matches(meta_analyse(e.yi, e.vi, "PM", hksj=True), "molloy_zcor_PM_knha")


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_zero_cells_match_escalc_defaults(measure):
    e = compute_effects(pd.read_csv(FIX / "zero_cells.csv"), measure)
    for i in range(len(e)):
        case = f"zero_{measure.lower()}"
        assert e.loc[i, "yi"] == pytest.approx(ref(case, f"yi{i + 1}"), rel=1e-12, abs=1e-15)
        assert e.loc[i, "vi"] == pytest.approx(ref(case, f"vi{i + 1}"), rel=1e-12)


# ---------------------------------------------------------------- homogeneous data: τ² = 0

@pytest.mark.parametrize("method", ["FE", "DL", "PM", "REML"])
def test_homogeneous_studies_give_zero_tau2_and_no_nan(method):
    df = pd.read_csv(FIX / "homogeneous.csv")
    r = meta_analyse(df.yi, df.vi, method, studies=df.study)
    s = r.summary()
    assert r.tau2 == 0.0 and s["tau"] == 0.0
    numbers = [v for v in s.values() if isinstance(v, float)]
    assert all(math.isfinite(v) for v in numbers), s
    assert s["i2"] == 0.0
    # with τ² = 0 the random-effects model is the fixed-effect model, and PI = CI
    assert (s["pi_low"], s["pi_high"]) == pytest.approx((s["ci_low"], s["ci_high"]))
    assert_matches(r, f"homo_{method}", tol=1e-9)


def test_homogeneous_with_knapp_hartung_is_finite():
    df = pd.read_csv(FIX / "homogeneous.csv")
    r = meta_analyse(df.yi, df.vi, "REML", hksj=True)
    assert all(math.isfinite(v) for v in r.summary().values() if isinstance(v, float))
    assert_matches(r, "homo_REML_knha", tol=1e-9)


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_statsmodels_dl_goes_negative_where_ours_is_floored():
    """The pitfall from BENCHMARKS §3: statsmodels' DL τ² is not floored at zero."""
    df = pd.read_csv(FIX / "homogeneous.csv")
    sm_res = combine_effects(df.yi.to_numpy(), df.vi.to_numpy(), method_re="chi2")
    assert sm_res.tau2 < 0
    assert meta_analyse(df.yi, df.vi, "DL").tau2 == 0.0


def test_agrees_with_statsmodels_where_statsmodels_is_right(bcg):
    """Where τ² > 0, statsmodels' DL and iterated (Paule–Mandel) estimators agree with ours."""
    y, v = bcg.yi.to_numpy(), bcg.vi.to_numpy()
    dl = combine_effects(y, v, method_re="chi2")
    pm = combine_effects(y, v, method_re="iterated")
    assert meta_analyse(y, v, "DL").tau2 == pytest.approx(dl.tau2, rel=1e-10)
    assert meta_analyse(y, v, "DL").estimate == pytest.approx(dl.mean_effect_re, rel=1e-10)
    assert meta_analyse(y, v, "PM").tau2 == pytest.approx(pm.tau2, rel=1e-5)


# ------------------------------------------------ meta-regression, subgroups, bias, sensitivity

@pytest.mark.parametrize("test", ["z", "knha"])
def test_meta_regression_on_latitude(bcg, test):
    m = meta_regression(bcg.yi, bcg.vi, bcg.ablat, "REML", hksj=(test == "knha"), name="ablat")
    case = f"bcg_metareg_ablat_{test}"
    c = m.coefficients
    assert c.loc[0, "estimate"] == pytest.approx(ref(case, "b0"), abs=1e-7)
    assert c.loc[1, "estimate"] == pytest.approx(ref(case, "b1"), abs=1e-8)
    assert c.loc[0, "se"] == pytest.approx(ref(case, "se0"), abs=1e-7)
    assert c.loc[1, "se"] == pytest.approx(ref(case, "se1"), abs=1e-8)
    assert c.loc[1, "p"] == pytest.approx(ref(case, "p1"), rel=1e-6)
    assert (c.loc[1, "ci_low"], c.loc[1, "ci_high"]) == pytest.approx(
        (ref(case, "ci_low1"), ref(case, "ci_high1")), abs=1e-8)
    for key in ("tau2", "i2", "h2", "r2", "qe", "qe_p", "qm", "qm_p"):
        assert getattr(m, key) == pytest.approx(ref(case, key), rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize("method", ["DL", "FE"])
def test_meta_regression_other_tau2(bcg, method):
    m = meta_regression(bcg.yi, bcg.vi, bcg.ablat, method, name="ablat")
    case = f"bcg_metareg_ablat_{method}"
    assert m.coefficients.loc[1, "estimate"] == pytest.approx(ref(case, "b1"), abs=1e-9)
    assert m.coefficients.loc[1, "se"] == pytest.approx(ref(case, "se1"), abs=1e-9)
    for key in ("tau2", "qm", "qe", "i2"):
        assert getattr(m, key) == pytest.approx(ref(case, key), rel=1e-7, abs=1e-10), key


def test_meta_regression_on_a_categorical_covariate(bcg):
    m = meta_regression(bcg.yi, bcg.vi, bcg.alloc, "REML", name="alloc")
    c = m.coefficients.set_index("term")["estimate"]
    # reference level: first in sorted order ("alternate"), as R's factor()
    assert c["intercept"] == pytest.approx(ref("bcg_metareg_alloc", "b0"), abs=1e-7)
    assert c["alloc[random]"] == pytest.approx(ref("bcg_metareg_alloc", "b_random"), abs=1e-7)
    assert c["alloc[systematic]"] == pytest.approx(ref("bcg_metareg_alloc", "b_systematic"),
                                                   abs=1e-7)
    assert m.qm == pytest.approx(ref("bcg_metareg_alloc", "qm"), rel=1e-6)
    assert m.qm_df == 2
    assert m.tau2 == pytest.approx(ref("bcg_metareg_alloc", "tau2"), rel=1e-6)


def test_subgroups_with_separate_tau2_and_test_for_differences(bcg):
    s = subgroup_analysis(bcg.yi, bcg.vi, bcg.alloc, "REML", studies=bcg.study,
                          variable="alloc")
    assert list(s.groups) == ["random", "alternate", "systematic"]
    for g, r in s.groups.items():
        assert r.estimate == pytest.approx(ref(f"bcg_sub_{g}", "estimate"), abs=1e-7)
        assert r.se == pytest.approx(ref(f"bcg_sub_{g}", "se"), abs=1e-7)
        assert r.tau2 == pytest.approx(ref(f"bcg_sub_{g}", "tau2"), abs=1e-7)
        assert r.q == pytest.approx(ref(f"bcg_sub_{g}", "q"), rel=1e-9)
    assert s.q_between == pytest.approx(ref("bcg_sub_test", "q_between"), rel=1e-6)
    assert s.p_between == pytest.approx(ref("bcg_sub_test", "p_between"), rel=1e-6)
    assert s.df_between == 2
    assert s.overall.k == 13 and sum(r.k for r in s.groups.values()) == 13


def test_eggers_test_both_flavours(bcg):
    e = egger_test(bcg.yi, bcg.vi, model="lm")
    assert e.stat == pytest.approx(ref("bcg_egger_lm", "stat"), rel=1e-8)
    assert e.p == pytest.approx(ref("bcg_egger_lm", "p"), rel=1e-8)
    assert e.df == 11
    assert e.limit_estimate == pytest.approx(ref("bcg_egger_lm", "limit"), rel=1e-8)
    assert (e.limit_ci_low, e.limit_ci_high) == pytest.approx(
        (ref("bcg_egger_lm", "limit_low"), ref("bcg_egger_lm", "limit_high")), rel=1e-8)
    e = egger_test(bcg.yi, bcg.vi, model="rma", method="REML")
    assert e.stat == pytest.approx(ref("bcg_egger_rma", "stat"), rel=1e-6)
    assert e.p == pytest.approx(ref("bcg_egger_rma", "p"), rel=1e-6)
    assert e.limit_estimate == pytest.approx(ref("bcg_egger_rma", "limit"), rel=1e-6)


def test_eggers_classic_form_equals_a_regression_of_standard_normal_deviates(bcg):
    """Egger (1997): regress yi/sei on 1/sei; the intercept is the bias coefficient."""
    y, se = bcg.yi.to_numpy(), np.sqrt(bcg.vi.to_numpy())
    X = np.column_stack([np.ones_like(se), 1 / se])
    coef, rss, *_ = np.linalg.lstsq(X, y / se, rcond=None)
    cov = rss[0] / (len(y) - 2) * np.linalg.inv(X.T @ X)
    e = egger_test(bcg.yi, bcg.vi)
    assert e.bias == pytest.approx(coef[0], rel=1e-10)
    assert e.stat == pytest.approx(coef[0] / math.sqrt(cov[0, 0]), rel=1e-10)
    assert e.limit_estimate == pytest.approx(coef[1], rel=1e-10)


def test_leave_one_out(bcg):
    loo = leave_one_out(bcg.yi, bcg.vi, "REML", studies=bcg.study)
    assert loo["omitted"].tolist() == bcg.study.tolist()
    for i in range(13):
        assert loo.loc[i, "estimate"] == pytest.approx(ref("bcg_loo", f"estimate{i + 1}"),
                                                       abs=1e-7)
        assert loo.loc[i, "se"] == pytest.approx(ref("bcg_loo", f"se{i + 1}"), abs=1e-7)
        assert loo.loc[i, "tau2"] == pytest.approx(ref("bcg_loo", f"tau2{i + 1}"), abs=1e-7)
    assert (loo["k"] == 12).all()


def test_cumulative_by_year(bcg):
    cum = cumulative_meta(bcg.yi, bcg.vi, bcg.year, "REML", studies=bcg.study)
    assert cum["year"].tolist() == sorted(bcg.year.tolist())
    assert cum["k"].tolist() == list(range(1, 14))
    for i in range(13):
        assert cum.loc[i, "estimate"] == pytest.approx(ref("bcg_cumul", f"estimate{i + 1}"),
                                                       abs=1e-7)
        assert cum.loc[i, "tau2"] == pytest.approx(ref("bcg_cumul", f"tau2{i + 1}"), abs=1e-7)


def test_meta_for_outcome_runs_the_whole_analysis():
    a = meta_for_outcome(pd.read_csv(FIX / "dat_bcg.csv"), "RR", "REML", subgroup="alloc")
    assert_matches(a.result, "bcg_rr_REML")
    assert a.subgroups is not None and a.egger is not None
    assert len(a.leave_one_out) == 13 and len(a.cumulative) == 13
    d = a.result.details()
    assert d["back_transformed"]["estimate"] == pytest.approx(math.exp(a.result.estimate))


def test_reml_converges_where_plain_fisher_scoring_oscillates():
    """On this set Fisher scoring overshoots back and forth around τ² ≈ 0.215; the
    safeguarded iteration must still land on metafor's (tightly converged) REML answer."""
    df = pd.read_csv(FIX / "reml_oscillation.csv")
    r = meta_analyse(df.yi, df.vi, "REML")
    assert_matches(r, "osc_REML")
    assert r.iterations < 100
