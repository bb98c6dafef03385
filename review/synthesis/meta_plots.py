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

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import blended_transform_factory
from scipy import stats

from review.synthesis.effects import RATIO_MEASURES
from review.synthesis.meta import (
    MEASURE_LABELS,
    METHOD_NAMES,
    EggerResult,
    MetaRegressionResult,
    MetaResult,
    SubgroupResult,
    back_transform,
)
from review.synthesis.plot_labels import fit_labels

FORMATS: tuple[str, ...] = ("png", "svg")
#: Print resolution of the PNGs (journals ask for 300 dpi).
PNG_DPI = 300
#: Agg cannot draw an image taller or wider than 2^16 pixels, and a 300 dpi PNG of an
#: 800-study forest plot would hold 200 million pixels (17 s of CPU): very tall figures
#: get the highest resolution within these limits; their SVG keeps full quality.
_MAX_PIXELS = 65_000
_MAX_AREA = 20e6
#: Above this many studies the forest plot is compact: no per-study text (it is in
#: studies.csv), each study a thin row, so the figure stays readable and cheap to draw.
FOREST_TEXT_ROWS = 200
_STUDY_COLOUR = "#1f4e79"
_POOLED_COLOUR = "#c0392b"
_PI_COLOUR = "#7f8c8d"
#: SVG text stays text (editable in Inkscape/Illustrator), not glyph outlines.
_RC = {"svg.fonttype": "none", "font.family": "DejaVu Sans"}


def save_figure(
    fig: Figure,
    out: str | Path,
    formats: Sequence[str] = FORMATS,
    dpi: int = PNG_DPI,
    tight: bool = True,
) -> list[Path]:
    """Write ``fig`` to ``out`` with each suffix in ``formats``; returns the paths.

    PNGs at ``dpi`` (300) unless the figure is too big for that; SVGs keep their text as
    ``<text>`` elements so a journal's editor can change a label.
    """
    base = Path(out)
    if base.suffix.lower().lstrip(".") in FORMATS:
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    w, h = fig.get_size_inches()
    dpi = int(min(dpi, _MAX_PIXELS / max(w, h, 1e-9), math.sqrt(_MAX_AREA / max(w * h, 1e-9))))
    paths = []
    with matplotlib.rc_context(_RC):
        for fmt in formats:
            path = base.with_suffix(f".{fmt}")
            extra = {}
            if fmt == "png" and w * h * dpi * dpi > 4e6:
                extra["pil_kwargs"] = {"compress_level": 1}  # zlib dominates big PNGs
            fig.savefig(
                path, format=fmt, dpi=dpi, bbox_inches="tight" if tight else None,
                facecolor="white", **extra,
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


def _arm_columns(arms: pd.DataFrame | None, n_rows: int) -> tuple[list[str], list[list[str]]]:
    """Per-arm columns as Cochrane prints them (metafor's ``ilab``): events/total for 2×2
    tables, mean (SD) and n for continuous outcomes, from the study-effects table."""
    if arms is None or len(arms) != n_rows:
        return [], []
    cols = set(arms.columns)

    def num(x: object) -> str:
        try:
            v = float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return ""
        return f"{v:g}" if math.isfinite(v) else ""

    if {"ai", "bi", "ci", "di"} <= cols:
        heads = ["Intervention\nevents/total", "Control\nevents/total"]
        rows = [[f"{num(r.ai)}/{num(float(r.ai) + float(r.bi))}",
                 f"{num(r.ci)}/{num(float(r.ci) + float(r.di))}"]
                for r in arms.itertuples(index=False)]
        return heads, rows
    if {"n1", "m1", "sd1", "n2", "m2", "sd2"} <= cols:
        heads = ["Intervention\nmean (SD), n", "Control\nmean (SD), n"]
        rows = [[f"{float(r.m1):.3g} ({float(r.sd1):.3g}), {num(r.n1)}",
                 f"{float(r.m2):.3g} ({float(r.sd2):.3g}), {num(r.n2)}"]
                for r in arms.itertuples(index=False)]
        return heads, rows
    return [], []


def _axis_range(items: list[dict]) -> tuple[float, float]:
    """x range on the analysis scale: every point estimate, pooled CI and PI; a study CI
    widens it only while it stays within three times that core span (the rest is clipped
    and drawn with an arrow), so one study with a huge variance cannot hide the diamond."""
    core = [0.0]
    for it in items:
        if it["kind"] in ("pooled", "pi"):
            core += [it["lo"], it["hi"]]
        elif it["kind"] == "study" and math.isfinite(it["est"]):
            core.append(it["est"])
    lo, hi = min(core), max(core)
    span = (hi - lo) or 1.0
    for it in items:
        if it["kind"] == "study" and math.isfinite(it["est"]):
            lo = min(lo, max(it["lo"], min(core) - 1.5 * span))
            hi = max(hi, min(it["hi"], max(core) + 1.5 * span))
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def forest_plot(
    result: MetaResult | SubgroupResult,
    *,
    out: str | Path | None = None,
    title: str | None = None,
    favours: tuple[str, str] | None = None,
    show_pi: bool = True,
    formats: Sequence[str] = FORMATS,
    arms: pd.DataFrame | None = None,
) -> Figure:
    """A forest plot: one row per study (square ∝ weight, CI whisker), pooled diamond(s),
    prediction-interval bar, and subgroup blocks with subtotals and the test for subgroup
    differences when given a :class:`SubgroupResult`.

    Weights are taken per row, never looked up by label, and repeated labels are marked
    (†) with a note. Whiskers beyond the axis are clipped and end in an arrow. ``arms``
    (the study-effects table, rows in the result's order) adds per-arm columns
    (events/total or mean (SD), n). ``favours`` labels the two sides of the null line,
    e.g. ``("Favours mentoring", "Favours control")``. Labels over 40 characters are
    shortened with the full text in a note. With ``out`` the figure is also saved.
    """
    overall = result.overall if isinstance(result, SubgroupResult) else result
    measure = overall.measure
    f = back_transform(measure)
    ratio = measure in RATIO_MEASURES
    level_pct = f"{overall.level * 100:g}%"
    rows = _Rows()
    shown, label_notes = fit_labels(overall.studies)
    counts: dict[str, int] = {}
    for lab in overall.studies:
        counts[lab] = counts.get(lab, 0) + 1
    dups = [lab for lab, n in counts.items() if n > 1]
    shown = [s + (" \u2020" if lab in dups else "") for s, lab in zip(shown, overall.studies,
                                                                     strict=True)]
    arm_heads, arm_rows = _arm_columns(arms, overall.k)
    z = _crit_z(overall.level)

    def add_study(i: int) -> None:
        y, se = float(overall.yi[i]), math.sqrt(float(overall.vi[i])) if math.isfinite(
            float(overall.vi[i])) else float("nan")
        rows.add("study", label=shown[i], est=y, lo=y - z * se, hi=y + z * se,
                 weight=float(overall.weights[i]), arms=arm_rows[i] if arm_rows else [])

    if isinstance(result, SubgroupResult):
        positions: dict[str, list[int]] = {}
        for i, g in enumerate(result.group_of):
            positions.setdefault(g, []).append(i)
        for name, r in result.groups.items():
            rows.add("header", label=f"{result.variable}: {name}")
            for i in positions.get(name, []):
                add_study(i)
            rows.add(
                "pooled",
                label=f"Subtotal (k = {r.k})",
                est=r.estimate,
                lo=r.ci_low,
                hi=r.ci_high,
                weight=float(sum(overall.weights[i] for i in positions.get(name, []))),
                small=True,
            )
            if r.k > 1:
                rows.add("note", label=_heterogeneity_text(r))
            rows.add("gap")
    else:
        for i in range(overall.k):
            add_study(i)
    rows.add(
        "pooled",
        label=f"Pooled estimate (k = {overall.k})",
        est=overall.estimate,
        lo=overall.ci_low,
        hi=overall.ci_high,
        weight=float(np.nansum(overall.weights)),
        small=False,
    )
    if show_pi and overall.method not in ("FE", "MH", "PETO") and overall.k >= 3:
        pi_label = f"{level_pct} prediction interval" + (
            " (t, k-2 df)" if overall.pi_type == "riley" else "")
        rows.add("pi", label=pi_label, lo=overall.pi_low, hi=overall.pi_high)
    rows.add("note", label=_heterogeneity_text(overall))
    rows.add("note", label=_model_text(overall))
    if isinstance(result, SubgroupResult):
        rows.add("note", label=f"Test for subgroup differences: {result.between_text}")
    if dups:
        rows.add("note", label="\u2020 label used on more than one row: "
                 + ", ".join(fit_labels(dups)[0]))
    compact = overall.k > FOREST_TEXT_ROWS and not isinstance(result, SubgroupResult)
    if compact:
        rows.add("note", label=f"{overall.k} studies: each is drawn as its estimate and CI; "
                 "their labels, weights and CIs are in studies.csv.")
    for note in [*overall.notes, *label_notes]:
        for line in textwrap.wrap(note, 150):
            rows.add("note", label=line)

    # row heights in row units: in a compact plot a study takes a sliver, so thousands of
    # studies fit a page and cost no text to draw
    unit = min(1.0, FOREST_TEXT_ROWS / 4 / overall.k) if compact else 1.0
    heights = [unit if it["kind"] == "study" else 1.0 for it in rows.items]
    ys, start = [], 0.0
    for h in heights:
        ys.append(-(start + h / 2 - 0.5))
        start += h
    n = start
    row_h = 0.28
    fig_h = 1.3 + row_h * (n + 1)
    label_w = max([0.055 * len(it["label"]) for it in rows.items if it["kind"] == "study"]
                  + [1.4]) + 0.3
    label_w = min(label_w, 3.0)
    arm_w = 1.35 * len(arm_heads)
    plot_w, weight_w, ci_w = 4.1, 0.75, 1.75
    fig_w = label_w + arm_w + plot_w + weight_w + ci_w + 0.3
    fig = Figure(figsize=(fig_w, fig_h))
    FigureCanvasAgg(fig)
    top_pad, bottom_pad = 0.75 / fig_h, 0.8 / fig_h
    ax_left = label_w + arm_w + 0.15
    ax = fig.add_axes((ax_left / fig_w, bottom_pad, (plot_w - 0.3) / fig_w,
                       1 - top_pad - bottom_pad))
    ax.set_ylim(-n + 0.4, 1.0)

    lo_all, hi_all = _axis_range(rows.items)
    if ratio:
        _log_ratio_axis(ax, math.exp(lo_all), math.exp(hi_all))
        ax.set_xlim(math.exp(lo_all), math.exp(hi_all))
    else:
        ax.set_xlim(f(lo_all), f(hi_all))
    x_lo, x_hi = ax.get_xlim()
    null = 1.0 if ratio else 0.0
    last = max(i for i, it in enumerate(rows.items) if it["kind"] not in ("note", "gap"))
    span = [ys[last] - 0.5, 0.6]
    if x_lo <= null <= x_hi:
        ax.plot([null, null], span, color="black", lw=0.8)
    ax.plot(
        [f(overall.estimate)] * 2, span, color=_POOLED_COLOUR, lw=0.8, ls=(0, (4, 3)), alpha=0.6
    )

    max_w = max([(it.get("weight", 0) or 0) for it in rows.items if it["kind"] == "study"
                 and math.isfinite(it.get("weight", 0) or 0)] + [0])
    label_x = 0.1 / fig_w
    arm_x = [(label_w + 1.3 * (j + 1)) / fig_w for j in range(len(arm_heads))]
    weight_x = (ax_left + plot_w - 0.1 + weight_w) / fig_w
    ci_x = (fig_w - 0.15) / fig_w

    text_at = blended_transform_factory(fig.transFigure, ax.transData)

    def fig_text(x: float, y: float, s: str, **kw) -> None:
        # x in figure fraction, y in data coordinates (plain text: far cheaper to draw
        # than annotations when a forest plot has thousands of rows)
        kw.setdefault("fontsize", 9)
        ax.text(x, y, s, transform=text_at, va="center", clip_on=False, **kw)

    header_y = 0.9
    fig_text(label_x, header_y, "Study", fontweight="bold")
    for x, head in zip(arm_x, arm_heads, strict=True):
        fig_text(x, header_y, head, fontweight="bold", ha="right", fontsize=8)
    fig_text(weight_x, header_y, "Weight", fontweight="bold", ha="right")
    effect_name = "r" if measure == "ZCOR" else measure if measure != "GENERIC" else "Effect"
    fig_text(ci_x, header_y, f"{effect_name} [{level_pct} CI]", fontweight="bold", ha="right")

    def inside(edge: float, sign: int) -> float:
        """A point just inside the axis from its ``edge`` (right: sign 1, left: −1)."""
        if ratio:
            return edge / 1.08 if sign > 0 else edge * 1.08
        return edge - sign * 0.03 * (x_hi - x_lo)

    def whisker(lo: float, hi: float, y: float, **kw) -> None:
        """A CI line clipped to the axis, with an arrow head where it runs off."""
        a, b = max(lo, x_lo), min(hi, x_hi)
        if a < b:
            ax.plot([a, b], [y, y], solid_capstyle="butt", **kw)
        for end, edge, sign in ((lo, x_lo, -1), (hi, x_hi, 1)):
            if (sign < 0 and end < edge) or (sign > 0 and end > edge):
                ax.annotate("", xy=(edge, y), xytext=(inside(edge, sign), y),
                            arrowprops={"arrowstyle": "-|>", "color": kw.get("color"),
                                        "lw": 1.0, "shrinkA": 0, "shrinkB": 0},
                            annotation_clip=False)

    segments: list[list[tuple[float, float]]] = []
    points: list[tuple[float, float, float]] = []
    for it, y in zip(rows.items, ys, strict=True):
        kind = it["kind"]
        if kind == "header":
            fig_text(label_x, y, it["label"], fontweight="bold", style="italic")
        elif kind == "study":
            if compact:  # drawn below as one line collection and one scatter
                if math.isfinite(it["est"]):
                    lo, hi = max(f(it["lo"]), x_lo), min(f(it["hi"]), x_hi)
                    segments.append([(lo, y), (hi, y)])
                    points.append((f(it["est"]), y,
                                   (1 + 3 * math.sqrt(max(it["weight"], 0) / max_w)) ** 2
                                   if max_w else 2.0))
                continue
            fig_text(label_x + 0.01, y, str(it["label"]))
            for x, cell in zip(arm_x, it["arms"], strict=False):
                fig_text(x, y, cell, ha="right", fontsize=8)
            if not math.isfinite(it["est"]):
                fig_text(ci_x, y, "Not estimable", ha="right", style="italic")
                fig_text(weight_x, y, f"{it['weight']:.1f}%", ha="right")
                continue
            est, lo, hi = f(it["est"]), f(it["lo"]), f(it["hi"])
            whisker(lo, hi, y, color=_STUDY_COLOUR, lw=1.1)
            size = 4 + 10 * math.sqrt(max(it["weight"], 0) / max_w) if max_w > 0 else 6
            if x_lo <= est <= x_hi:
                ax.plot([est], [y], marker="s", ms=size, color=_STUDY_COLOUR, mec="none")
            fig_text(weight_x, y, f"{it['weight']:.1f}%", ha="right")
            fig_text(ci_x, y, f"{_fmt_num(est)} [{_fmt_num(lo)}, {_fmt_num(hi)}]", ha="right")
        elif kind == "pooled":
            est, lo, hi = f(it["est"]), f(it["lo"]), f(it["hi"])
            half = 0.28 if it["small"] else 0.38
            ax.add_patch(
                Polygon(
                    [(max(lo, x_lo), y), (est, y + half), (min(hi, x_hi), y), (est, y - half)],
                    closed=True,
                    color=_POOLED_COLOUR if not it["small"] else "#e67e22",
                    zorder=3,
                )
            )
            bold = {"fontweight": "bold"}
            fig_text(label_x, y, it["label"], **bold)
            fig_text(weight_x, y, f"{it['weight']:.1f}%", ha="right", **bold)
            fig_text(ci_x, y, f"{_fmt_num(est)} [{_fmt_num(lo)}, {_fmt_num(hi)}]", ha="right",
                     **bold)
        elif kind == "pi":
            lo, hi = f(it["lo"]), f(it["hi"])
            whisker(lo, hi, y, color=_PI_COLOUR, lw=4, alpha=0.8)
            fig_text(label_x, y, it["label"], style="italic")
            fig_text(ci_x, y, f"[{_fmt_num(lo)}, {_fmt_num(hi)}]", ha="right", style="italic")
        elif kind == "note":
            fig_text(label_x, y, it["label"], fontsize=8, color="#444444")

    if segments:
        ax.add_collection(LineCollection(segments, colors=_STUDY_COLOUR, linewidths=0.4))
        px, py, ps = zip(*points, strict=True)
        ax.scatter(px, py, s=ps, marker="s", color=_STUDY_COLOUR, linewidths=0, zorder=3)
        ax.set_xlim(x_lo, x_hi)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=8)
    xlabel = MEASURE_LABELS.get(measure, measure)
    if ratio:
        xlabel += " (log scale)"
    ax.set_xlabel(xlabel, fontsize=9, labelpad=16 if favours else 4)
    if favours:
        anchor = min(max(null, x_lo), x_hi)
        ax.annotate(f"\u2190 {favours[0]}", xy=(anchor, 0), xycoords=("data", "axes fraction"),
                    xytext=(-4, -24), textcoords="offset points", ha="right", fontsize=8)
        ax.annotate(f"{favours[1]} \u2192", xy=(anchor, 0), xycoords=("data", "axes fraction"),
                    xytext=(4, -24), textcoords="offset points", ha="left", fontsize=8)
    if title:
        fig.suptitle(title, x=0.02, ha="left", fontsize=11, fontweight="bold")
    if out is not None:
        save_figure(fig, out, formats, tight=False)
    return fig


def _crit_z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def funnel_plot(
    result: MetaResult,
    *,
    out: str | Path | None = None,
    title: str | None = None,
    egger: EggerResult | None = None,
    formats: Sequence[str] = FORMATS,
    trimfill: object | None = None,
    contours: bool = True,
) -> Figure:
    """Contour-enhanced funnel plot (Peters et al. 2008): each study's effect against its
    standard error (inverted axis), shaded where a study alone would be significant at
    p < 0.10, 0.05 and 0.01 around the null, with the pooled estimate and its pseudo-
    confidence region. Asymmetry hints at small-study effects; whether the missing area
    is one of non-significance (contours) helps tell publication bias from other causes.

    ``egger`` adds Egger's test to the caption; ``trimfill`` (a
    :class:`~review.synthesis.meta_bias.TrimFillResult`) adds the filled studies as open
    circles and the adjusted estimate.
    """
    measure = result.measure
    ratio = measure in RATIO_MEASURES
    f = np.exp if ratio else back_transform(measure)
    ok = np.isfinite(result.yi) & np.isfinite(result.vi)
    se = np.sqrt(result.vi[ok])
    y = result.yi[ok]
    filled_y = np.asarray(getattr(trimfill, "filled_yi", np.array([])), dtype=float)
    filled_se = np.sqrt(np.asarray(getattr(trimfill, "filled_vi", np.array([])), dtype=float))
    fig = Figure(figsize=(6.5, 5.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    se_max = float(max(se.max(), filled_se.max() if filled_se.size else 0)) * 1.08
    grid = np.linspace(0, se_max, 100)
    z = float(stats.norm.ppf(0.5 + result.level / 2))
    est = result.estimate
    null = 0.0
    if contours:
        shades = (("p < 0.01", 2.575829, "#bdbdbd"), ("0.01 \u2264 p < 0.05", 1.959964, "#d9d9d9"),
                  ("0.05 \u2264 p < 0.10", 1.644854, "#f0f0f0"))
        outer = 1.1 * float(max(np.abs(y).max(), np.abs(filled_y).max() if filled_y.size else 0,
                                3 * se_max))
        ax.fill_betweenx(grid, f(np.full_like(grid, -outer)), f(np.full_like(grid, outer)),
                         color=shades[0][2], zorder=0, lw=0)
        handles = [Patch(color=shades[0][2], label=shades[0][0])]
        # inside |y| < z_c·SE the next band's colour: 0.01–0.05 inside 2.576, 0.05–0.10
        # inside 1.960, and white (p ≥ 0.10) inside 1.645
        for (_, zc, _), (label, _, colour) in zip(shades[:-1], shades[1:], strict=True):
            ax.fill_betweenx(grid, f(null - zc * grid), f(null + zc * grid), color=colour,
                             zorder=0, lw=0)
            handles.append(Patch(color=colour, label=label))
        ax.fill_betweenx(grid, f(null - 1.644854 * grid), f(null + 1.644854 * grid),
                         color="white", zorder=0, lw=0)
        handles.append(Patch(facecolor="white", edgecolor="#999999", label="p \u2265 0.10"))
        ax.legend(handles=handles, loc="lower right", fontsize=7, frameon=True,
                  title="Study alone", title_fontsize=7)
    xs_lo, xs_hi = f(est - z * grid), f(est + z * grid)
    ax.plot(xs_lo, grid, color="#555555", lw=0.9, ls="--")
    ax.plot(xs_hi, grid, color="#555555", lw=0.9, ls="--")
    ax.axvline(f(est), color=_POOLED_COLOUR, lw=1.1)
    ax.axvline(f(null), color="black", lw=0.6, ls=":")
    ax.scatter(f(y), se, s=28, color=_STUDY_COLOUR, edgecolor="white", lw=0.5, zorder=3)
    if filled_y.size:
        ax.scatter(f(filled_y), filled_se, s=28, facecolor="white", edgecolor=_STUDY_COLOUR,
                   lw=1.0, zorder=3)
        adj = trimfill.result.estimate  # type: ignore[attr-defined]
        ax.axvline(f(adj), color=_POOLED_COLOUR, lw=1.0, ls="-.")
    ax.set_ylim(se_max, 0)
    pts = np.concatenate([y, filled_y, est - z * grid, est + z * grid])
    lo, hi = float(pts.min()), float(pts.max())
    pad = 0.05 * (hi - lo or 1.0)
    if ratio:
        _log_ratio_axis(ax, math.exp(lo - pad), math.exp(hi + pad))
    ax.set_xlim(f(lo - pad), f(hi + pad))
    xlabel = MEASURE_LABELS.get(measure, measure)
    if ratio:
        xlabel += " (log scale)"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Standard error")
    caption = (
        f"k = {int(ok.sum())}; red line: pooled estimate ({result.method}); dashed: pseudo "
        f"{result.level * 100:g}% confidence region; shading: contours of significance"
    )
    if egger is not None:
        caption += (
            f"\nEgger's test: bias = {egger.bias:.2f} (SE {egger.bias_se:.2f}), {_fmt_p(egger.p)}"
        )
    if filled_y.size:
        t = trimfill
        caption += (f"\nTrim and fill (L0): {t.k0} filled (open circles) on the {t.side}; "  # type: ignore[attr-defined]
                    f"adjusted estimate {_fmt_num(f(t.result.estimate))} (dash-dot)")  # type: ignore[attr-defined]
    ax.set_title(caption, fontsize=7.5, loc="left", color="#444444")
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold")
    fig.tight_layout()
    if out is not None:
        save_figure(fig, out, formats)
    return fig


def bubble_plot(
    reg: MetaRegressionResult,
    *,
    out: str | Path | None = None,
    title: str | None = None,
    formats: Sequence[str] = FORMATS,
) -> Figure | None:
    """Bubble plot of a meta-regression on one numeric moderator: each study's effect
    against the moderator, bubble area ∝ its weight 1/(vᵢ + τ²), the fitted line and its
    CI band. ``None`` (nothing saved) when the model has several or categorical moderators."""
    c = reg.coefficients
    if len(c) != 2 or "[" in str(c.loc[1, "term"]):
        return None
    try:
        x = np.array([float(v if not isinstance(v, tuple) else v[0]) for v in reg.x])
    except (TypeError, ValueError):
        return None
    ratio = reg.measure in RATIO_MEASURES
    f = np.exp if ratio else back_transform(reg.measure)
    w = 1 / (reg.vi + reg.tau2)
    fig = Figure(figsize=(6.5, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(x, f(reg.yi), s=20 + 400 * w / w.max(), color=_STUDY_COLOUR, alpha=0.55,
               edgecolor="white", lw=0.5, zorder=3)
    grid = np.linspace(x.min(), x.max(), 100)
    b0, b1 = float(c.loc[0, "estimate"]), float(c.loc[1, "estimate"])
    ax.plot(grid, f(b0 + b1 * grid), color=_POOLED_COLOUR, lw=1.2)
    if ratio:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_ratio_formatter())
    ax.set_xlabel(reg.covariate)
    ax.set_ylabel(MEASURE_LABELS.get(reg.measure, reg.measure))
    stat = "F" if reg.hksj else "QM"
    ax.set_title(f"k = {reg.k}; slope {b1:.4g} (SE {float(c.loc[1, 'se']):.3g}); {stat} = "
                 f"{reg.qm:.2f}, {_fmt_p(reg.qm_p)}; bubble area \u221d weight",
                 fontsize=8, loc="left", color="#444444")
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold")
    fig.tight_layout()
    if out is not None:
        save_figure(fig, out, formats)
    return fig
