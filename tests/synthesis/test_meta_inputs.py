"""Data that cannot be pooled gets a message naming the study, never a table of NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from review.synthesis.meta import (
    MetaAnalysisError,
    cumulative_meta,
    egger_test,
    leave_one_out,
    meta_analyse,
    meta_regression,
    subgroup_analysis,
)

Y = [0.2, 0.5, -0.1, 0.3]
V = [0.04, 0.09, 0.05, 0.02]
S = ["Mentoring A", "Peer B", "Family C", "School D"]


def test_one_study_is_not_a_meta_analysis():
    with pytest.raises(MetaAnalysisError, match=r"at least 2 studies; got 1 \(Only\)"):
        meta_analyse([0.3], [0.1], studies=["Only"])


def test_no_studies():
    with pytest.raises(MetaAnalysisError, match="at least 2 studies; got 0"):
        meta_analyse([], [])


@pytest.mark.parametrize("bad", [0.0, -0.02])
def test_zero_or_negative_variance_names_the_study(bad):
    with pytest.raises(MetaAnalysisError, match=r"Family C.*row 3.*must be positive"):
        meta_analyse(Y, [0.04, 0.09, bad, 0.02], studies=S)


def test_missing_effect_or_variance_names_the_study():
    with pytest.raises(MetaAnalysisError, match=r"Peer B.*row 2.*yi"):
        meta_analyse([0.2, float("nan"), 0.1, 0.3], V, studies=S)
    with pytest.raises(MetaAnalysisError, match=r"School D.*row 4.*vi"):
        meta_analyse(Y, [0.04, 0.09, 0.05, None], studies=S)


def test_lengths_must_match():
    with pytest.raises(MetaAnalysisError, match="4 effect sizes but 3 variances"):
        meta_analyse(Y, V[:3])
    with pytest.raises(MetaAnalysisError, match="3 study labels for 4"):
        meta_analyse(Y, V, studies=S[:3])


def test_unknown_method_and_pi_type():
    with pytest.raises(MetaAnalysisError, match="unknown method 'ML'"):
        meta_analyse(Y, V, "ML")
    with pytest.raises(MetaAnalysisError, match="pi_type"):
        meta_analyse(Y, V, pi_type="wide")


def test_two_studies_work_with_every_method():
    for method in ("FE", "DL", "PM", "REML"):
        for hksj in (False, True):
            s = meta_analyse(Y[:2], V[:2], method, hksj).summary()
            assert all(math.isfinite(v) for v in s.values() if isinstance(v, float)), s


def test_identical_effects_do_not_produce_nan():
    s = meta_analyse([0.3, 0.3, 0.3], [0.1, 0.2, 0.1], "REML").summary()
    assert s["tau2"] == 0 and s["i2"] == 0 and s["h2"] == 1
    assert all(math.isfinite(v) for v in s.values() if isinstance(v, float)), s


def test_tau2_is_never_negative_on_random_homogeneous_data():
    rng = np.random.default_rng(3)
    for _ in range(30):
        v = rng.uniform(0.01, 0.2, 6)
        y = rng.normal(0.2, np.sqrt(v) * 0.3)  # less spread than sampling error: Q < df
        for method in ("DL", "PM", "REML"):
            r = meta_analyse(y, v, method)
            assert r.tau2 >= 0 and math.isfinite(r.se)


def test_subgroup_input_checks():
    with pytest.raises(MetaAnalysisError, match="at least 2 values of subgroup"):
        subgroup_analysis(Y, V, ["a", "a", "a", "a"])
    with pytest.raises(MetaAnalysisError, match=r"Family C.*no subgroup"):
        subgroup_analysis(Y, V, ["a", "b", None, "a"], studies=S)


def test_single_study_subgroup_is_shown_as_that_study():
    s = subgroup_analysis(Y, V, ["a", "a", "a", "b"], studies=S)
    b = s.groups["b"]
    assert b.k == 1 and b.estimate == pytest.approx(0.3) and b.tau2 == 0
    assert b.se == pytest.approx(math.sqrt(0.02))


def test_meta_regression_input_checks():
    with pytest.raises(MetaAnalysisError, match=r"School D.*dose is missing"):
        meta_regression(Y, V, [1, 2, 3, None], name="dose", studies=S)
    with pytest.raises(MetaAnalysisError, match="one value only"):
        meta_regression(Y, V, ["x"] * 4, name="arm")
    with pytest.raises(MetaAnalysisError, match="more than 2 studies"):
        meta_regression(Y[:2], V[:2], [1, 2])


def test_small_sample_tools_need_three_studies():
    with pytest.raises(MetaAnalysisError, match="at least 3"):
        egger_test(Y[:2], V[:2])
    with pytest.raises(MetaAnalysisError, match="at least 3"):
        leave_one_out(Y[:2], V[:2])


def test_cumulative_needs_every_year():
    with pytest.raises(MetaAnalysisError, match=r"Peer B.*year"):
        cumulative_meta(Y, V, [2001, None, 2003, 2004], studies=S)
