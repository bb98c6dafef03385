"""Effect-size formulas against values worked out by hand from the textbook formulas.

Each expected value is written out from the formula (Borenstein et al. 2009, ch. 4-6;
Hedges 1981 for J), not taken from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from review.synthesis.effects import (
    EffectSizeError,
    compute_effects,
    effects_notes,
    hedges_j,
    se_from_ci,
)


def one(df: pd.DataFrame, measure: str, **kw) -> pd.Series:
    return compute_effects(df, measure, **kw).iloc[0]


# ------------------------------------------------------------------------------ SMD and MD

def test_hedges_j_is_exact_gamma_form_not_the_approximation():
    # m = 2: J = Γ(1) / (√1 · Γ(1/2)) = 1/√π exactly
    assert hedges_j(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-12)
    # m = 20, straight from the gamma function
    m = 20
    exact = math.gamma(m / 2) / (math.sqrt(m / 2) * math.gamma((m - 1) / 2))
    assert hedges_j(m) == pytest.approx(exact, rel=1e-12)
    # and it is not the common approximation 1 − 3/(4m − 1), which is off at small m
    assert abs(hedges_j(2) - (1 - 3 / 7)) > 0.005


def test_smd_tiny_samples_two_per_arm():
    df = pd.DataFrame({"study": ["Tiny"], "n1": [2], "m1": [3.0], "sd1": [1.0],
                       "n2": [2], "m2": [1.0], "sd2": [1.0]})
    row = one(df, "SMD")
    # pooled SD = 1, d = 2, J(2) = 1/√π
    g = 2 / math.sqrt(math.pi)
    assert row["yi"] == pytest.approx(g, rel=1e-12)
    # vi = 1/n1 + 1/n2 + g²/(2(n1+n2)) = 1 + (4/π)/8
    assert row["vi"] == pytest.approx(1 + 1 / (2 * math.pi), rel=1e-12)
    assert row["n"] == 4


def test_smd_unequal_arms_and_sds():
    n1, m1, sd1, n2, m2, sd2 = 10, 5.2, 1.3, 12, 4.1, 1.7
    df = pd.DataFrame({"study": ["A"], "n1": [n1], "m1": [m1], "sd1": [sd1],
                       "n2": [n2], "m2": [m2], "sd2": [sd2]})
    row = one(df, "SMD")
    sp = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    m = n1 + n2 - 2
    j = math.exp(math.lgamma(m / 2) - math.lgamma((m - 1) / 2)) / math.sqrt(m / 2)
    g = j * (m1 - m2) / sp
    assert row["yi"] == pytest.approx(g, rel=1e-12)
    assert row["vi"] == pytest.approx(1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)), rel=1e-12)
    assert row["sei"] == pytest.approx(math.sqrt(row["vi"]))


def test_mean_difference_uses_each_arms_own_sd():
    df = pd.DataFrame({"study": ["A"], "n1": [20], "m1": [10.0], "sd1": [4.0],
                       "n2": [25], "m2": [12.5], "sd2": [5.0]})
    row = one(df, "MD")
    assert row["yi"] == pytest.approx(-2.5)
    assert row["vi"] == pytest.approx(16 / 20 + 25 / 25)


# -------------------------------------------------------------------------------- 2×2 tables

COUNTS = pd.DataFrame({"study": ["A"], "ai": [15], "bi": [85], "ci": [30], "di": [70]})


def test_log_odds_ratio_without_zero_cells():
    row = one(COUNTS, "OR")
    assert row["yi"] == pytest.approx(math.log((15 * 70) / (85 * 30)), rel=1e-12)
    assert row["vi"] == pytest.approx(1 / 15 + 1 / 85 + 1 / 30 + 1 / 70, rel=1e-12)
    assert row["cc"] == 0
    assert row["n"] == 200


def test_log_risk_ratio_without_zero_cells():
    row = one(COUNTS, "RR")
    assert row["yi"] == pytest.approx(math.log(0.15 / 0.30), rel=1e-12)
    assert row["vi"] == pytest.approx(1 / 15 - 1 / 100 + 1 / 30 - 1 / 100, rel=1e-12)


def test_risk_difference_without_zero_cells():
    row = one(COUNTS, "RD")
    assert row["yi"] == pytest.approx(0.15 - 0.30)
    assert row["vi"] == pytest.approx(0.15 * 0.85 / 100 + 0.30 * 0.70 / 100, rel=1e-12)


ZERO = pd.DataFrame({"study": ["Zero", "Full"], "ai": [0, 15], "bi": [20, 85],
                     "ci": [3, 30], "di": [17, 70]})


def test_zero_cell_gets_half_added_to_all_four_cells_of_that_study_only():
    out = compute_effects(ZERO, "OR")
    a, b, c, d = 0.5, 20.5, 3.5, 17.5
    assert out.loc[0, "yi"] == pytest.approx(math.log(a * d / (b * c)), rel=1e-12)
    assert out.loc[0, "vi"] == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d, rel=1e-12)
    assert out.loc[0, "cc"] == 0.5
    # the study without a zero cell is untouched
    assert out.loc[1, "yi"] == pytest.approx(math.log((15 * 70) / (85 * 30)), rel=1e-12)
    assert out.loc[1, "cc"] == 0


def test_zero_cell_risk_ratio_and_difference():
    rr = compute_effects(ZERO, "RR").iloc[0]
    # corrected arms: 0.5/21 vs 3.5/21
    assert rr["yi"] == pytest.approx(math.log(1 / 7), rel=1e-12)
    assert rr["vi"] == pytest.approx(1 / 0.5 - 1 / 21 + 1 / 3.5 - 1 / 21, rel=1e-12)
    rd = compute_effects(ZERO, "RD").iloc[0]
    p1, p2 = 0.5 / 21, 3.5 / 21
    assert rd["yi"] == pytest.approx(p1 - p2, rel=1e-12)
    assert rd["vi"] == pytest.approx(p1 * (1 - p1) / 21 + p2 * (1 - p2) / 21, rel=1e-12)


def test_no_events_in_either_arm_still_gives_a_finite_effect():
    df = pd.DataFrame({"study": ["Nobody"], "ai": [0], "bi": [15], "ci": [0], "di": [15]})
    rr = one(df, "RR")
    assert rr["yi"] == pytest.approx(0.0, abs=1e-15)
    assert rr["vi"] == pytest.approx(2 * (1 / 0.5 - 1 / 16))


def test_tiny_table_one_in_each_cell():
    df = pd.DataFrame({"study": ["Tiny"], "ai": [1], "bi": [1], "ci": [1], "di": [1]})
    row = one(df, "OR")
    assert row["yi"] == pytest.approx(0.0, abs=1e-15)
    assert row["vi"] == pytest.approx(4.0)


def test_continuity_correction_is_stated():
    out = compute_effects(ZERO, "RR")
    notes = effects_notes(out)
    assert any("0.5" in n and "Zero" in n and "Full" not in n for n in notes)
    assert out.attrs["continuity_corrected"] == ["Zero"]


def test_correction_can_be_switched_off_but_then_a_zero_cell_is_an_error():
    with pytest.raises(EffectSizeError, match="Zero"):
        compute_effects(ZERO, "OR", to="none")
    # a risk difference needs no correction
    rd = compute_effects(ZERO, "RD", to="none").iloc[0]
    assert rd["yi"] == pytest.approx(0 / 20 - 3 / 20)


# ---------------------------------------------------------------------- correlations, generic

def test_fishers_z():
    df = pd.DataFrame({"study": ["A"], "ri": [0.5], "ni": [28]})
    row = one(df, "ZCOR")
    assert row["yi"] == pytest.approx(0.5 * math.log(1.5 / 0.5), rel=1e-12)
    assert row["vi"] == pytest.approx(1 / 25)


def test_generic_with_variance_standard_error_or_confidence_interval():
    df = pd.DataFrame({"study": ["V", "S", "C", "C90"], "yi": [0.3, 0.3, 0.2, 0.2],
                       "vi": [0.04, None, None, None], "sei": [None, 0.25, None, None],
                       "ci_low": [None, None, 0.0, 0.0], "ci_high": [None, None, 0.4, 0.4],
                       "ci_level": [None, None, None, 90]})
    out = compute_effects(df, "GENERIC")
    assert out["vi"].tolist()[:2] == pytest.approx([0.04, 0.0625])
    z95, z90 = 1.959963984540054, 1.6448536269514722
    assert out.loc[2, "vi"] == pytest.approx((0.4 / (2 * z95)) ** 2, rel=1e-9)
    assert out.loc[3, "vi"] == pytest.approx((0.4 / (2 * z90)) ** 2, rel=1e-9)
    assert se_from_ci(math.log(0.5), math.log(2.0)) == pytest.approx(
        math.log(4) / (2 * z95), rel=1e-9)


def test_extra_columns_travel_with_the_effects():
    df = ZERO.assign(year=[2001, 2010], subgroup=["mentoring", "peer support"])
    out = compute_effects(df, "OR")
    assert out["year"].tolist() == [2001, 2010]
    assert out["subgroup"].tolist() == ["mentoring", "peer support"]
    assert list(out.columns[:9]) == ["study", "yi", "vi", "sei", "ci_low", "ci_high", "n",
                                     "cc", "measure"]


# -------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(
    ("measure", "frame", "expected"),
    [
        ("OR", {"study": ["A", "Bad arm"], "ai": [1, 2], "bi": [9, 8], "ci": [2, None],
                "di": [8, 8]}, r"Bad arm.*row 2.*missing ci"),
        ("RR", {"study": ["Neg"], "ai": [-1], "bi": [9], "ci": [2], "di": [8]},
         r"Neg.*ai.*negative"),
        ("RR", {"study": ["Empty arm"], "ai": [0], "bi": [0], "ci": [2], "di": [8]},
         r"Empty arm.*treatment arm has no participants"),
        ("SMD", {"study": ["SD0"], "n1": [10], "m1": [1], "sd1": [0], "n2": [10], "m2": [0],
                 "sd2": [1]}, r"SD0.*sd1.*positive"),
        ("SMD", {"study": ["Too small"], "n1": [1], "m1": [1], "sd1": [1], "n2": [2],
                 "m2": [0], "sd2": [1]}, r"Too small.*at least 4"),
        ("SMD", {"study": ["Text"], "n1": ["ten"], "m1": [1], "sd1": [1], "n2": [2],
                 "m2": [0], "sd2": [1]}, r"Text.*n1.*not a number: 'ten'"),
        ("ZCOR", {"study": ["r1"], "ri": [1.0], "ni": [30]}, r"r1.*between -1 and 1"),
        ("ZCOR", {"study": ["n3"], "ri": [0.2], "ni": [3]}, r"n3.*above 3"),
        ("GENERIC", {"study": ["V0"], "yi": [0.2], "vi": [0.0]}, r"V0.*vi.*positive"),
        ("GENERIC", {"study": ["Vneg"], "yi": [0.2], "vi": [-0.1]}, r"Vneg.*vi.*positive"),
        ("GENERIC", {"study": ["NoVar"], "yi": [0.2], "sei": [None]}, r"NoVar.*no variance"),
        ("GENERIC", {"study": ["BadCI"], "yi": [0.2], "ci_low": [0.5], "ci_high": [0.1]},
         r"BadCI.*ci_low"),
        ("MD", {"study": ["A"], "n1": [10], "m1": [1], "sd1": [1]}, r"needs column\(s\) n2"),
        ("OR", {"study": [None], "ai": [1], "bi": [1], "ci": [1], "di": [1]},
         r"row 1.*study is empty"),
    ],
)
def test_bad_input_names_the_study_and_row(measure, frame, expected):
    with pytest.raises(EffectSizeError, match=expected):
        compute_effects(pd.DataFrame(frame), measure)


def test_bad_input_error_carries_row_and_study_for_shells():
    df = pd.DataFrame({"study": ["ok", "bad"], "yi": [0.1, 0.2], "vi": [0.1, -1]})
    with pytest.raises(EffectSizeError) as info:
        compute_effects(df, "GENERIC")
    assert info.value.row == 1 and info.value.study == "bad"


def test_unknown_measure():
    with pytest.raises(EffectSizeError, match="unknown measure"):
        compute_effects(COUNTS, "HR")


def test_effect_sizes_are_never_nan():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"study": [f"S{i}" for i in range(50)],
                       "ai": rng.integers(0, 5, 50), "bi": rng.integers(0, 5, 50),
                       "ci": rng.integers(0, 5, 50), "di": rng.integers(0, 5, 50)})
    df = df[(df.ai + df.bi > 0) & (df.ci + df.di > 0)]
    for measure in ("OR", "RR", "RD"):
        out = compute_effects(df, measure)
        assert np.isfinite(out[["yi", "vi"]].to_numpy()).all()
        assert (out["vi"] > 0).all()
