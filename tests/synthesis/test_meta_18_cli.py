"""``review meta`` with the options of issue 18, and the figure/export fixes of issue 17
(items 9 and 10): what a reviewer sees in the files."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from review.cli import app
from review.synthesis.effects import compute_effects
from review.synthesis.meta import meta_analyse
from review.synthesis.meta_plots import forest_plot

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
runner = CliRunner()


def ref(case: str, key: str) -> float:
    with open(FIX / "metafor_reference_18.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            if (r["case"], r["key"]) == (case, key):
                return float(r["value"])
    raise KeyError((case, key))


def run(*args: str):
    return runner.invoke(app, ["meta", *args], catch_exceptions=False)


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


# ------------------------------------------------------------------------- interface

def test_cluster_and_robust_give_the_three_level_keys(tmp_path):
    res = run("--input", str(FIX / "dat_konstantopoulos2011.csv"), "--measure", "GENERIC",
              "--method", "reml", "--cluster", "district", "--robust", "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    s = summary(tmp_path)
    assert s["estimate"] == pytest.approx(ref("k11_3level", "estimate"), abs=1e-6)
    assert s["se"] == pytest.approx(ref("k11_3level", "se"), abs=1e-6)
    assert s["sigma2"] == pytest.approx([ref("k11_3level", "sigma2_between"),
                                         ref("k11_3level", "sigma2_within")], abs=1e-6)
    for key in ("se", "df", "ci_low", "ci_high", "p"):
        assert s[f"robust_{key}"] == pytest.approx(ref("k11_3level_cr2", key), abs=1e-6)
    assert "sigma^2 (between / within clusters)" in res.output


def test_robust_without_cluster_on_the_usual_model(tmp_path):
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--robust",
              "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    s = summary(tmp_path)
    assert {"robust_se", "robust_df", "robust_ci_low", "robust_ci_high", "robust_p"} <= set(s)
    assert s["robust_df"] < 12  # Satterthwaite df below the k - 1 of a naive t


@pytest.mark.parametrize("method,measure,case", [("mh", "OR", "li_mh_OR"),
                                                 ("MH", "RD", "li_mh_RD"),
                                                 ("peto", "OR", "li_peto")])
def test_mantel_haenszel_and_peto_from_the_cli(tmp_path, method, measure, case):
    res = run("--input", str(FIX / "dat_li2007.csv"), "--measure", measure, "--method", method,
              "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    s = summary(tmp_path)
    assert s["method"] == method.upper()
    assert s["estimate"] == pytest.approx(ref(case, "estimate"), abs=1e-6)
    assert s["se"] == pytest.approx(ref(case, "se"), abs=1e-6)
    assert s["q"] == pytest.approx(ref(case, "q"), abs=1e-6)
    assert "tau2_ci_low" not in s  # no tau^2 in a fixed-effect pooling
    loo = pd.read_csv(tmp_path / "leave_one_out.csv")
    assert len(loo) == 22


def test_peto_refuses_risk_ratios(tmp_path):
    res = run("--input", str(FIX / "dat_li2007.csv"), "--measure", "RR", "--method", "peto",
              "--output", str(tmp_path))
    assert res.exit_code != 0 and "odds ratios only" in res.output


def test_trimfill_pi_t_and_adhoc_keys(tmp_path):
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--method", "REML",
              "--test", "adhoc", "--pi", "t", "--trimfill", "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    s = summary(tmp_path)
    assert s["t"] == pytest.approx(ref("bcg_rr_REML_adhoc", "stat"), abs=1e-6)
    assert s["se"] == pytest.approx(ref("bcg_rr_REML_adhoc", "se"), abs=1e-6)
    assert (s["pi_low"], s["pi_high"]) != (None, None)
    tf = s["trimfill"]
    assert tf["k0"] == ref("bcg_rr_trimfill_REML", "k0") and tf["side"] == "right"
    assert tf["estimate"] == pytest.approx(ref("bcg_rr_trimfill_REML", "estimate"), abs=1e-6)
    assert set(tf) == {"k0", "side", "estimate", "ci_low", "ci_high"}
    assert s["tau2_ci_low"] == pytest.approx(ref("bcg_rr_REML_qp", "tau2_ci_low"), abs=1e-6)
    assert s["i2_ci_high"] == pytest.approx(ref("bcg_rr_REML_qp", "i2_ci_high"), abs=1e-5)


def test_pi_t_is_t_on_k_minus_2(tmp_path):
    res = run("--input", str(FIX / "dat_hine1989.csv"), "--measure", "RD", "--pi", "t",
              "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    s = summary(tmp_path)
    assert (s["pi_low"], s["pi_high"]) == pytest.approx(
        (ref("hine_rd_REML_riley", "pi_low"), ref("hine_rd_REML_riley", "pi_high")), abs=1e-6)


def test_hksj_is_test_knha_and_cannot_contradict_it(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--hksj",
               "--output", str(a)).exit_code == 0
    assert run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--test", "knha",
               "--output", str(b)).exit_code == 0
    assert summary(a) == summary(b)
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--hksj", "--test",
              "adhoc", "--output", str(tmp_path / "c"))
    assert res.exit_code != 0 and "--hksj" in res.output


def test_subgroups_under_knapp_hartung_report_the_f_test(tmp_path):
    res = run("--input", str(FIX / "dat_collins1985a.csv"), "--measure", "OR", "--hksj",
              "--subgroup", "control", "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "details.json").read_text())["subgroups"]
    assert d["between_test"] == "F"
    assert d["p_between"] == pytest.approx(ref("collins_modtest_knha", "p"), abs=1e-6)
    assert "F(2, 22)" in res.output


def test_moderators_give_a_regression_and_a_permutation_test(tmp_path):
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--moderator", "ablat",
              "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    reg = json.loads((tmp_path / "details.json").read_text())["meta_regression"]
    assert reg["covariate"] == "ablat" and 0 < reg["permutation"]["p"] < 0.05
    assert (tmp_path / "bubble.png").exists() and (tmp_path / "meta_regression.csv").exists()


def test_favours_labels_from_the_cli_reach_the_svg(tmp_path):
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--favours",
              "Favours vaccine", "Favours control", "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    svg = (tmp_path / "forest.svg").read_text()
    assert "Favours vaccine" in svg and "Favours control" in svg


# ----------------------------------------------------------------- figures and exports

def test_png_at_300_dpi_and_svg_text_is_editable(tmp_path):
    assert run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR",
               "--output", str(tmp_path)).exit_code == 0
    with Image.open(tmp_path / "forest.png") as im:
        assert round(im.info["dpi"][0]) == 300
    svg = (tmp_path / "forest.svg").read_text()
    assert "<text" in svg and "Aronson 1948" in svg  # text, not glyph outlines


def test_forest_weights_are_per_row_and_repeated_labels_marked():
    e = compute_effects(pd.read_csv(FIX / "dat_collins1985a.csv"), "OR")
    r = meta_analyse(e.yi, e.vi, "REML", studies=e.study)
    texts = _texts(forest_plot(r))
    shown = [float(t[:-1]) for t in texts if re.fullmatch(r"\d+\.\d%", t)][: r.k]
    expected = [round(ref("collins_reml_weights", f"w{i + 1}"), 1) for i in range(r.k)]
    assert shown == pytest.approx(expected, abs=0.051)
    assert sum(float(t[:-1]) for t in texts if re.fullmatch(r"\d+\.\d%", t)) == pytest.approx(
        200.0, abs=0.3)  # the studies sum to 100% and the pooled row says 100%
    assert sum("Foco \u2020" == t for t in texts) == 2
    assert any("label used on more than one row: Foco" in t for t in texts)


def test_extreme_variance_is_clipped_with_arrows_and_warned():
    y = [0.2, 0.3, 0.1, 0.25, 0.5]
    v = [0.02, 0.03, 0.025, 0.04, 1e6]
    r = meta_analyse(y, v, "REML", studies=list("ABCDE"))
    assert any("Ratio of largest to smallest sampling variance" in n for n in r.notes)
    fig = forest_plot(r)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert hi - lo < 5  # not ±2000
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 2  # both ends of study E run off the axis


def test_per_arm_columns_show_events_and_totals():
    t = pd.read_csv(FIX / "dat_li2007.csv")
    e = compute_effects(t, "OR")
    r = meta_analyse(e.yi, e.vi, "REML", studies=e.study)
    texts = _texts(forest_plot(r, arms=e))
    first = t.iloc[0]
    assert f"{first.ai}/{first.ai + first.bi}" in texts
    assert f"{first.ci}/{first.ci + first.di}" in texts
    assert any("events/total" in x for x in texts)


def test_formula_labels_are_neutralised_in_every_csv(tmp_path):
    df = pd.read_csv(FIX / "dat_bcg.csv")
    df.loc[0, "study"] = '=HYPERLINK("http://evil.example","click")'
    df.loc[1, "study"] = "+1+cmd|' /C calc'!A0"
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "out"
    res = run("--input", str(src), "--measure", "RR", "--output", str(out))
    assert res.exit_code == 0, res.output
    for name in ("studies.csv", "leave_one_out.csv", "cumulative.csv"):
        with open(out / name, encoding="utf-8-sig", newline="") as fh:
            cells = [c for row in csv.reader(fh) for c in row]
        assert not [c for c in cells if c.startswith(("=", "+", "@"))], name
        assert any(c.startswith("'=HYPERLINK") for c in cells), name


def test_a_long_study_label_is_shortened_with_its_full_text_in_a_note(tmp_path):
    long = ("A randomised controlled trial of structured peer mentoring for first-year "
            "students at risk of loneliness in three universities, 2019")
    assert len(long) > 120
    df = pd.read_csv(FIX / "dat_bcg.csv")
    df.loc[0, "study"] = long
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False)
    res = run("--input", str(src), "--measure", "RR", "--output", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    e = compute_effects(df, "RR")
    texts = _texts(forest_plot(meta_analyse(e.yi, e.vi, studies=e.study)))
    assert any(t.endswith("[1]") and len(t) <= 40 for t in texts)
    assert "[1] " + long[:60] in " ".join(texts)


def test_mh_not_estimable_row_is_said_so(tmp_path):
    res = run("--input", str(FIX / "zero_cells.csv"), "--measure", "OR", "--method", "mh",
              "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "No events at all" in res.output and "not estimable" in res.output
    assert "Not estimable" in (tmp_path / "forest.svg").read_text()
    assert math.isfinite(summary(tmp_path)["estimate"])


def test_a_forest_plot_of_hundreds_of_studies_is_compact():
    import numpy as np

    rng = np.random.default_rng(3)
    k = 450
    v = rng.uniform(0.01, 0.2, k)
    r = meta_analyse(rng.normal(0.2, 0.3, k), v, "DL", studies=[f"S{i}" for i in range(k)])
    fig = forest_plot(r)
    texts = _texts(fig)
    assert "S17" not in texts  # no per-study text: it is in studies.csv
    assert any("450 studies: each is drawn" in t for t in texts)
    assert fig.get_size_inches()[1] < 25  # one page, not 130 inches
    assert len(fig.axes[0].collections[0].get_segments()) == k
