"""Forest and funnel plots: files a reviewer can open, with the numbers a reader checks."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from review.synthesis.effects import compute_effects
from review.synthesis.meta import meta_analyse, subgroup_analysis
from review.synthesis.meta_plots import forest_plot, funnel_plot

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def bcg():
    e = compute_effects(pd.read_csv(FIX / "dat_bcg.csv"), "RR")
    return e, meta_analyse(e.yi, e.vi, "REML", measure="RR", studies=e.study)


def _svg_text(path: Path) -> str:
    # matplotlib writes text as paths by default; our labels go in as <!-- comments -->
    return path.read_text(encoding="utf-8")


def test_forest_plot_png_and_svg(tmp_path, bcg):
    _, r = bcg
    fig = forest_plot(r, out=tmp_path / "forest", title="BCG")
    assert (tmp_path / "forest.png").read_bytes()[:8] == PNG
    svg = _svg_text(tmp_path / "forest.svg")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    ax = fig.axes[0]
    # a ratio measure is drawn on a log axis in ratio units, the null line at 1
    assert ax.get_xscale() == "log"
    lo, hi = ax.get_xlim()
    assert lo < math.exp(r.ci_low) < math.exp(r.ci_high) < hi
    texts = [t.get_text() for t in ax.texts]
    # every study is labelled with its weight and back-transformed CI
    for study, w in zip(r.studies, r.weights, strict=True):
        assert study in texts
        assert f"{w:.1f}%" in texts
    assert f"{math.exp(r.estimate):.2f} [{math.exp(r.ci_low):.2f}, {math.exp(r.ci_high):.2f}]" \
        in texts
    assert any("prediction interval" in t for t in texts)
    assert any(re.search(r"I\u00b2 = 92%", t) for t in texts)


def test_forest_plot_diamond_spans_the_ci(bcg):
    _, r = bcg
    fig = forest_plot(r)
    diamonds = [p for p in fig.axes[0].patches if len(p.get_xy()) >= 4]
    xs = diamonds[-1].get_xy()[:, 0]
    assert min(xs) == pytest.approx(math.exp(r.ci_low))
    assert max(xs) == pytest.approx(math.exp(r.ci_high))


def test_forest_plot_with_subgroups(tmp_path, bcg):
    e, _ = bcg
    s = subgroup_analysis(e.yi, e.vi, e.alloc, "REML", studies=e.study, measure="RR",
                          variable="allocation")
    fig = forest_plot(s, out=tmp_path / "sub")
    texts = [t.get_text() for t in fig.axes[0].texts]
    for g in ("random", "alternate", "systematic"):
        assert f"allocation: {g}" in texts
    assert sum(t.startswith("Subtotal") for t in texts) == 3
    assert any(t.startswith("Test for subgroup differences") for t in texts)
    assert (tmp_path / "sub.png").exists() and (tmp_path / "sub.svg").exists()


def test_forest_plot_linear_axis_for_differences(tmp_path):
    e = compute_effects(pd.read_csv(FIX / "dat_normand1999.csv"), "SMD")
    r = meta_analyse(e.yi, e.vi, "DL", measure="SMD", studies=e.study)
    fig = forest_plot(r, out=tmp_path / "smd", favours=("Favours intervention", "Favours control"))
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    assert "Hedges" in ax.get_xlabel()
    assert any("Favours control" in t.get_text() for t in ax.texts)


def test_funnel_plot(tmp_path, bcg):
    _, r = bcg
    fig = funnel_plot(r, out=tmp_path / "funnel")
    assert (tmp_path / "funnel.png").read_bytes()[:8] == PNG
    assert (tmp_path / "funnel.svg").exists()
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert lo > hi == 0  # standard error axis inverted: precise studies at the top
    points = ax.collections[-1].get_offsets()
    assert len(points) == 13
    assert sorted(points[:, 0]) == pytest.approx(sorted(math.exp(y) for y in r.yi))
