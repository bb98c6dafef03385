"""Forest and funnel plots (matplotlib, Agg), saved as PNG and SVG.

Ratio measures (OR, RR) are pooled on the log scale but a reader thinks in ratios, so
their axes are logarithmic with ratio tick labels and the numbers printed beside each row
are back-transformed; correlations pooled as Fisher's z are shown as r. The figures are
built on a bare :class:`~matplotlib.figure.Figure` (no pyplot state), so a Streamlit page
or a batch run can make many without leaking memory.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from scipy import stats

from review.synthesis.effects import RATIO_MEASURES
from review.synthesis.meta import (
    MEASURE_LABELS,
    METHOD_NAMES,
    EggerResult,
    MetaResult,
    SubgroupResult,
    back_transform,
)

FORMATS: tuple[str, ...] = ("png", "svg")
_STUDY_COLOUR = "#1f4e79"
_POOLED_COLOUR = "#c0392b"
_PI_COLOUR = "#7f8c8d"


def save_figure(
    fig: Figure,
    out: str | Path,
    formats: Sequence[str] = FORMATS,
    dpi: int = 150,
    tight: bool = True,
) -> list[Path]:
    """Write ``fig`` to ``out`` with each suffix in ``formats``; returns the paths."""
    base = Path(out)
    if base.suffix.lower().lstrip(".") in FORMATS:
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = base.with_suffix(f".{fmt}")
        fig.savefig(
            path, format=fmt, dpi=dpi, bbox_inches="tight" if tight else None, facecolor="white"
        )
        paths.append(path)
    return paths


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _fmt_num(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 100 else f"{x:.1f}"


def _ratio_formatter() -> FuncFormatter:
    def fmt(x: float, _pos: int) -> str:
        if x <= 0:
            return ""
        return f"{x:g}" if x >= 1e-3 else f"{x:.0e}"

    return FuncFormatter(fmt)


def _log_ratio_axis(ax, lo: float, hi: float) -> None:
    """Log axis labelled in ratio units; 1-2-5 ticks over narrow ranges, decades over wide."""
    ax.set_xscale("log")
    decades = math.log10(hi / lo)
    subs = (1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(_ratio_formatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _heterogeneity_text(r: MetaResult) -> str:
    if r.method == "FE":
        return (
            f"Heterogeneity: Q = {r.q:.2f}, df = {r.q_df}, {_fmt_p(r.q_p)}; I\u00b2 = {r.i2:.0f}%"
        )
    return (
        f"Heterogeneity: \u03c4\u00b2 = {r.tau2:.3f}; Q = {r.q:.2f}, df = {r.q_df}, "
        f"{_fmt_p(r.q_p)}; I\u00b2 = {r.i2:.0f}%"
    )


def _model_text(r: MetaResult) -> str:
    text = METHOD_NAMES[r.method]
    text = text[0].upper() + text[1:]
    if r.hksj:
        text += ", Hartung-Knapp-Sidik-Jonkman CI"
    stat = "t" if r.df is not None else "z"
    df = f" (df = {r.df})" if r.df is not None else ""
    return f"{text}. Test for overall effect: {stat}{df} = {r.stat:.2f}, {_fmt_p(r.p)}"


class _Rows:
    """Collects forest-plot rows top to bottom (y decreases)."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, kind: str, **kw) -> None:
        self.items.append({"kind": kind, **kw})


def forest_plot(
    result: MetaResult | SubgroupResult,
    *,
    out: str | Path | None = None,
    title: str | None = None,
    favours: tuple[str, str] | None = None,
    show_pi: bool = True,
    formats: Sequence[str] = FORMATS,
) -> Figure:
    """A forest plot: one row per study (square ∝ weight, CI whisker), pooled diamond(s),
    prediction-interval bar, and subgroup blocks with subtotals and the test for subgroup
    differences when given a :class:`SubgroupResult`.

    ``favours`` labels the two sides of the null line, e.g. ``("Favours mentoring",
    "Favours control")``. With ``out`` the figure is also saved (PNG and SVG).
    """
    overall = result.overall if isinstance(result, SubgroupResult) else result
    measure = overall.measure
    f = back_transform(measure)
    ratio = measure in RATIO_MEASURES
    level_pct = f"{overall.level * 100:g}%"
    rows = _Rows()
    weights = dict(zip(overall.studies, overall.weights, strict=True))

    def add_studies(r: MetaResult) -> None:
        t = r.study_table()
        for _, s in t.iterrows():
            rows.add(
                "study",
                label=s["study"],
                est=s["yi"],
                lo=s["ci_low"],
                hi=s["ci_high"],
                weight=weights.get(s["study"], float("nan")),
            )

    if isinstance(result, SubgroupResult):
        for name, r in result.groups.items():
            rows.add("header", label=f"{result.variable}: {name}")
            add_studies(r)
            w_sum = sum(weights.get(s, 0.0) for s in r.studies)
            rows.add(
                "pooled",
                label=f"Subtotal (k = {r.k})",
                est=r.estimate,
                lo=r.ci_low,
                hi=r.ci_high,
                weight=w_sum,
                small=True,
            )
            if r.k > 1:
                rows.add("note", label=_heterogeneity_text(r))
            rows.add("gap")
    else:
        add_studies(overall)
    rows.add(
        "pooled",
        label=f"Pooled estimate (k = {overall.k})",
        est=overall.estimate,
        lo=overall.ci_low,
        hi=overall.ci_high,
        weight=100.0,
        small=False,
    )
    if show_pi and overall.method != "FE" and overall.k >= 3:
        rows.add(
            "pi", label=f"{level_pct} prediction interval", lo=overall.pi_low, hi=overall.pi_high
        )
    rows.add("note", label=_heterogeneity_text(overall))
    rows.add("note", label=_model_text(overall))
    if isinstance(result, SubgroupResult):
        rows.add(
            "note",
            label=f"Test for subgroup differences: Q = {result.q_between:.2f}, "
            f"df = {result.df_between}, {_fmt_p(result.p_between)}",
        )
    for note in overall.notes:
        for line in textwrap.wrap(note, 150):
            rows.add("note", label=line)

    n = len(rows.items)
    row_h = 0.28
    fig_h = 1.3 + row_h * (n + 1)
    fig = Figure(figsize=(11, fig_h))
    FigureCanvasAgg(fig)
    top_pad, bottom_pad = 0.6 / fig_h, 0.75 / fig_h
    ax = fig.add_axes((0.31, bottom_pad, 0.37, 1 - top_pad - bottom_pad))
    ax.set_ylim(-n + 0.4, 1.0)
    ys = [-i for i in range(n)]

    # x range: every CI and the PI, padded; on ratio axes work in log space
    lows = [it["lo"] for it in rows.items if "lo" in it]
    highs = [it["hi"] for it in rows.items if "hi" in it]
    lo_all, hi_all = min(lows + [0.0]), max(highs + [0.0])
    pad = 0.05 * (hi_all - lo_all or 1.0)
    lo_all, hi_all = lo_all - pad, hi_all + pad
    if ratio:
        _log_ratio_axis(ax, math.exp(lo_all), math.exp(hi_all))
        ax.set_xlim(math.exp(lo_all), math.exp(hi_all))
    else:
        ax.set_xlim(f(lo_all), f(hi_all))
    null = 1.0 if ratio else 0.0
    # reference lines stop above the notes so that text never sits on a line
    last = max(i for i, it in enumerate(rows.items) if it["kind"] not in ("note", "gap"))
    span = [-last - 0.5, 0.6]
    ax.plot([null, null], span, color="black", lw=0.8)
    ax.plot(
        [f(overall.estimate)] * 2, span, color=_POOLED_COLOUR, lw=0.8, ls=(0, (4, 3)), alpha=0.6
    )

    max_w = max((it.get("weight", 0) or 0) for it in rows.items if it["kind"] == "study")
    label_x, weight_x, ci_x = 0.015, 0.73, 0.975

    def fig_text(x: float, y: float, s: str, **kw) -> None:
        # x in figure fraction, y in data coordinates
        kw.setdefault("fontsize", 9)
        ax.annotate(
            s,
            xy=(x, y),
            xycoords=("figure fraction", "data"),
            va="center",
            annotation_clip=False,
            **kw,
        )

    header_y = 0.9
    fig_text(label_x, header_y, "Study", fontweight="bold")
    fig_text(weight_x, header_y, "Weight", fontweight="bold", ha="right")
    effect_name = "r" if measure == "ZCOR" else measure if measure != "GENERIC" else "Effect"
    fig_text(ci_x, header_y, f"{effect_name} [{level_pct} CI]", fontweight="bold", ha="right")

    for it, y in zip(rows.items, ys, strict=True):
        kind = it["kind"]
        if kind == "header":
            fig_text(label_x, y, it["label"], fontweight="bold", style="italic")
        elif kind == "study":
            est, lo, hi = f(it["est"]), f(it["lo"]), f(it["hi"])
            ax.plot([lo, hi], [y, y], color=_STUDY_COLOUR, lw=1.1, solid_capstyle="butt")
            size = 4 + 10 * math.sqrt(max(it["weight"], 0) / max_w) if max_w > 0 else 6
            ax.plot([est], [y], marker="s", ms=size, color=_STUDY_COLOUR, mec="none")
            fig_text(label_x + 0.01, y, str(it["label"])[:48])
            fig_text(weight_x, y, f"{it['weight']:.1f}%", ha="right")
            fig_text(ci_x, y, f"{_fmt_num(est)} [{_fmt_num(lo)}, {_fmt_num(hi)}]", ha="right")
        elif kind == "pooled":
            est, lo, hi = f(it["est"]), f(it["lo"]), f(it["hi"])
            half = 0.28 if it["small"] else 0.38
            ax.add_patch(
                Polygon(
                    [(lo, y), (est, y + half), (hi, y), (est, y - half)],
                    closed=True,
                    color=_POOLED_COLOUR if not it["small"] else "#e67e22",
                    zorder=3,
                )
            )
            weight_bold = {"fontweight": "bold"}
            fig_text(label_x, y, it["label"], **weight_bold)
            fig_text(weight_x, y, f"{it['weight']:.1f}%", ha="right", **weight_bold)
            fig_text(
                ci_x,
                y,
                f"{_fmt_num(est)} [{_fmt_num(lo)}, {_fmt_num(hi)}]",
                ha="right",
                **weight_bold,
            )
        elif kind == "pi":
            lo, hi = f(it["lo"]), f(it["hi"])
            ax.plot([lo, hi], [y, y], color=_PI_COLOUR, lw=4, solid_capstyle="butt", alpha=0.8)
            fig_text(label_x, y, it["label"], style="italic")
            fig_text(ci_x, y, f"[{_fmt_num(lo)}, {_fmt_num(hi)}]", ha="right", style="italic")
        elif kind == "note":
            fig_text(label_x, y, it["label"], fontsize=8, color="#444444")

    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=8)
    xlabel = MEASURE_LABELS.get(measure, measure)
    if ratio:
        xlabel += " (log scale)"
    ax.set_xlabel(xlabel, fontsize=9, labelpad=16 if favours else 4)
    if favours:
        ax.annotate(
            f"\u2190 {favours[0]}",
            xy=(null, 0),
            xycoords=("data", "axes fraction"),
            xytext=(-4, -24),
            textcoords="offset points",
            ha="right",
            fontsize=8,
        )
        ax.annotate(
            f"{favours[1]} \u2192",
            xy=(null, 0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -24),
            textcoords="offset points",
            ha="left",
            fontsize=8,
        )
    if title:
        fig.suptitle(title, x=0.02, ha="left", fontsize=11, fontweight="bold")
    if out is not None:
        save_figure(fig, out, formats, tight=False)
    return fig


def funnel_plot(
    result: MetaResult,
    *,
    out: str | Path | None = None,
    title: str | None = None,
    egger: EggerResult | None = None,
    formats: Sequence[str] = FORMATS,
) -> Figure:
    """Funnel plot: each study's effect against its standard error (inverted axis), the
    pooled estimate and its pseudo-confidence region (estimate ± z·SE).

    Asymmetry hints at small-study effects (publication bias among them); ``egger`` adds
    Egger's test to the caption.
    """
    measure = result.measure
    ratio = measure in RATIO_MEASURES
    f = np.exp if ratio else back_transform(measure)
    se = np.sqrt(result.vi)
    y = result.yi
    fig = Figure(figsize=(6.5, 5.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    se_max = float(se.max()) * 1.08
    grid = np.linspace(0, se_max, 100)
    z = float(stats.norm.ppf(0.5 + result.level / 2))
    est = result.estimate
    xs_lo, xs_hi = f(est - z * grid), f(est + z * grid)
    ax.fill_betweenx(grid, xs_lo, xs_hi, color="#ecf0f1", zorder=0)
    ax.plot(xs_lo, grid, color="#95a5a6", lw=0.9, ls="--")
    ax.plot(xs_hi, grid, color="#95a5a6", lw=0.9, ls="--")
    ax.axvline(f(est), color=_POOLED_COLOUR, lw=1.1)
    null = 1.0 if ratio else 0.0
    ax.axvline(null, color="black", lw=0.6, ls=":")
    ax.scatter(f(y), se, s=28, color=_STUDY_COLOUR, edgecolor="white", lw=0.5, zorder=3)
    ax.set_ylim(se_max, 0)
    if ratio:
        xs = np.concatenate([f(y), xs_lo, xs_hi])
        _log_ratio_axis(ax, float(xs.min()), float(xs.max()))
    xlabel = MEASURE_LABELS.get(measure, measure)
    if ratio:
        xlabel += " (log scale)"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Standard error")
    caption = (
        f"k = {result.k}; red line: pooled estimate ({result.method}); shaded: pseudo "
        f"{result.level * 100:g}% confidence region"
    )
    if egger is not None:
        caption += (
            f"\nEgger's test: bias = {egger.bias:.2f} (SE {egger.bias_se:.2f}), {_fmt_p(egger.p)}"
        )
    ax.set_title(caption, fontsize=8, loc="left", color="#444444")
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold")
    fig.tight_layout()
    if out is not None:
        save_figure(fig, out, formats)
    return fig
