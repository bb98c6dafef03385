"""Figures for the narrative synthesis: mechanisms, effect direction and risk of bias.

Each function takes the DataFrame built by :mod:`review.synthesis.mechanisms` and
returns a matplotlib :class:`~matplotlib.figure.Figure` made without pyplot, so it
works the same in the CLI, in tests and inside the Streamlit app (no global state,
no display needed). Sizes are set for print: 7 in (a double journal column) wide at
most, 8 pt text, colours that survive greyscale and colour-blindness (direction is
also carried by the arrow's shape; risk of bias by a symbol inside each circle).
:func:`save_figure` writes PNG (300 dpi) and SVG side by side.

* :func:`mechanism_heatmap` — intervention type × mechanism, shaded by the number of
  studies, the count in each cell.
* :func:`effect_direction_plot` — the SWiM effect direction plot (Thomson & Thomas
  2013; Boon & Thomson 2021): one row per study grouped by intervention type, one
  column per outcome domain; ▲ benefit, ▼ harm, ◄► no change/mixed; arrow size by
  sample size; a risk-of-bias dot per study.
* :func:`rob_traffic_light` and :func:`rob_summary` — the two robvis-style figures
  for RoB 2 and ROBINS-I: judgements per study and domain, and the (weighted) share
  of each judgement per domain.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch

from review.synthesis.mechanisms import (
    BENEFIT,
    HARM,
    MIXED,
    ROB_TOOLS,
    MechanismTable,
    RobTool,
)
from review.synthesis.plot_labels import fit_labels, wrap_notes

#: Widest figure, in inches: a double column in most journals (≈178 mm).
MAX_WIDTH = 7.0
FONT_SIZE = 8

#: robvis colours, keyed by judgement in each tool's own words.
ROB_COLOURS: Mapping[str, str] = {
    "Low risk of bias": "#02C100",
    "Some concerns": "#E2DF07",
    "Moderate risk of bias": "#E2DF07",
    "High risk of bias": "#BF0000",
    "Serious risk of bias": "#BF0000",
    "Critical risk of bias": "#820000",
    "No information": "#4EA1F7",
}
#: Symbols drawn inside the circles, so the plot also reads in greyscale.
ROB_SYMBOLS: Mapping[str, str] = {
    "Low risk of bias": "+",
    "Some concerns": "−",
    "Moderate risk of bias": "−",
    "High risk of bias": "×",
    "Serious risk of bias": "×",
    "Critical risk of bias": "!",
    "No information": "?",
}
_DARK = {"High risk of bias", "Serious risk of bias", "Critical risk of bias"}
_MISSING_COLOUR = "#D9D9D9"

#: Direction colours (Okabe–Ito, colour-blind safe); the shape carries the meaning too.
DIRECTION_COLOURS: Mapping[str, str] = {BENEFIT: "#0072B2", HARM: "#D55E00", MIXED: "#4D4D4D"}
#: Marker areas (pt²) for the three SWiM sample-size classes.
ARROW_SIZES: Mapping[str, float] = {"small": 28.0, "medium": 62.0, "large": 115.0}


def _rc() -> dict[str, object]:
    return {
        "font.size": FONT_SIZE,
        "axes.titlesize": FONT_SIZE + 1,
        "axes.labelsize": FONT_SIZE,
        "xtick.labelsize": FONT_SIZE,
        "ytick.labelsize": FONT_SIZE,
        "legend.fontsize": FONT_SIZE - 0.5,
        "font.family": "DejaVu Sans",
        "svg.fonttype": "none",
    }


def _default_mode() -> int:
    """The permissions a normally created file gets (temporary files start at 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def save_figure(fig: Figure, path: str | Path, dpi: int = 300) -> list[Path]:
    """Write ``fig`` as PNG and SVG next to each other; returns both paths.

    ``path`` may end in .png, .svg or nothing. Each file is written to a temporary
    name first and moved into place, so a failed export never leaves half a file.
    """
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in ("png", "svg"):
        target = stem.with_name(f"{stem.name}.{fmt}")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        try:
            fig.savefig(
                tmp, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.03, facecolor="white"
            )
            os.chmod(tmp, _default_mode())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


# ------------------------------------------------------------------ mechanisms


def mechanism_heatmap(table: MechanismTable, title: str | None = None) -> Figure:
    """Mechanism × intervention type heat map with the number of studies in each cell.

    Drawn with mechanisms as rows (their long names read best horizontally) and
    intervention types as columns, each headed by the number of studies of that type
    with any coded mechanism ("n = 4"), so a reader can tell 3 of 3 from 3 of 12.
    """
    counts = table.counts.T
    with matplotlib.rc_context(_rc()):
        n_rows, n_cols = counts.shape
        if n_rows == 0 or n_cols == 0:
            return _empty_figure("No coded mechanisms to show")
        per_type = table.studies_per_type
        headers = [f"{t} (n = {int(per_type[t])})" for t in counts.columns]
        label_w = max(_text_width(str(m)) for m in counts.index) + 0.2
        cell_w = min(0.5, (MAX_WIDTH - label_w - 1.2) / n_cols)
        cell_h = 0.26
        header_h = max(_text_width(h) for h in headers) * 0.72 + 0.2
        width = label_w + n_cols * cell_w + 1.2
        height = 0.1 + n_rows * cell_h + header_h + 0.3
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes(
            (label_w / width, 0.1 / height, n_cols * cell_w / width, n_rows * cell_h / height)
        )
        data = counts.to_numpy(dtype=float)
        vmax = max(1.0, float(data.max()))
        image = ax.imshow(data, cmap="Blues", vmin=0, vmax=vmax * 1.15, aspect="auto")
        for r in range(n_rows):
            for c in range(n_cols):
                n = int(data[r, c])
                if n:
                    shade = image.cmap(image.norm(n))
                    luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
                    ax.text(
                        c,
                        r,
                        str(n),
                        ha="center",
                        va="center",
                        fontweight="bold",
                        color="white" if luminance < 0.5 else "black",
                    )
        ax.xaxis.tick_top()
        ax.set_xticks(range(n_cols), headers, rotation=45, ha="left", rotation_mode="anchor")
        ax.set_yticks(range(n_rows), [str(m) for m in counts.index])
        ax.set_xticks(np.arange(-0.5, n_cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, n_rows, 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="both", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        caption = title or "Number of studies supporting each mechanism, by intervention type"
        filters = table.describe_filters()
        if filters and not title:
            caption += f" ({filters})"
        fig.text(
            0.1 / width, 1 - 0.08 / height, caption, ha="left", va="top", fontsize=FONT_SIZE + 1
        )
        return fig


def _empty_figure(message: str) -> Figure:
    fig = Figure(figsize=(4, 1.0))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return fig


# ------------------------------------------------------------ effect direction


def _column_major(groups: Sequence[Sequence[Line2D]], rows: int) -> list[Line2D]:
    """Pad each legend group to ``rows`` entries so each group fills its own columns."""
    blank = Line2D([], [], linestyle="", label=" ")
    out: list[Line2D] = []
    for group in groups:
        group = list(group)
        while len(group) % rows:
            group.append(blank)
        out += group
    return out


def effect_direction_plot(directions: pd.DataFrame, title: str | None = None) -> Figure:
    """SWiM effect direction plot from :func:`~review.synthesis.mechanisms.effect_directions`.

    Studies are grouped under their intervention type (shaded heading rows); columns
    are outcome domains in codebook order; the left columns give the sample size and
    an overall risk-of-bias dot in robvis colours.
    """
    with matplotlib.rc_context(_rc()):
        if directions.empty:
            return _empty_figure("No results with a direction to show")
        ranked = (
            directions.sort_values("outcome_rank", kind="stable")
            if ("outcome_rank" in directions)
            else directions
        )
        domains = list(dict.fromkeys(ranked["outcome_label"]))
        studies = directions.drop_duplicates("study_id")
        labels: list[str] = []
        heading: list[bool] = []
        row_of: dict = {}
        for itype, part in studies.groupby("intervention_type", sort=False):
            labels.append(str(itype) or "Other")
            heading.append(True)
            for s in part.itertuples(index=False):
                row_of[s.study_id] = len(labels)
                labels.append(str(s.study))
                heading.append(False)
        labels, label_notes = fit_labels(labels)
        domains_shown, domain_notes = fit_labels(domains)
        footer = wrap_notes([*label_notes, *domain_notes], 110)
        footer_h = 0.14 * len(footer) + (0.1 if footer else 0.0)
        n_rows = len(labels)
        x_domain = {d: i + 2 for i, d in enumerate(domains)}  # 0: sample size, 1: RoB
        n_cols = len(domains) + 2
        label_w = max(_text_width(lab) for lab in labels) + 0.25
        col_w = max(0.22, min(0.42, (MAX_WIDTH - label_w - 0.4) / n_cols))
        header_h = max(_text_width(h) for h in [*domains_shown, "Risk of bias"]) * 0.72 + 0.25
        row_h = 0.2
        legend_h = 0.75 + footer_h
        width = label_w + n_cols * col_w + 0.6
        height = header_h + n_rows * row_h + legend_h + (0.3 if title else 0.05)
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes(
            (label_w / width, legend_h / height, n_cols * col_w / width, n_rows * row_h / height)
        )
        ax.set_xlim(-0.5, n_cols - 0.5)
        ax.set_ylim(n_rows - 0.5, -0.5)
        for y, is_heading in enumerate(heading):
            if is_heading:
                ax.axhspan(y - 0.5, y + 0.5, color="#EFEFEF", zorder=0, linewidth=0)
        for s in studies.itertuples(index=False):
            y = row_of[s.study_id]
            if pd.notna(s.sample_size):
                ax.text(
                    0,
                    y,
                    f"{int(s.sample_size):,}",
                    ha="center",
                    va="center",
                    fontsize=FONT_SIZE - 0.5,
                )
            if isinstance(s.rob_overall, str) and s.rob_overall:
                ax.scatter(
                    [1],
                    [y],
                    s=52,
                    color=ROB_COLOURS.get(s.rob_overall, _MISSING_COLOUR),
                    edgecolor="#333333",
                    linewidth=0.4,
                    zorder=3,
                )
                ax.text(
                    1,
                    y,
                    ROB_SYMBOLS.get(s.rob_overall, "?"),
                    ha="center",
                    va="center",
                    fontsize=FONT_SIZE - 1.5,
                    zorder=4,
                    fontweight="bold",
                    color="white" if s.rob_overall in _DARK else "black",
                )
        for r in directions.itertuples(index=False):
            x, y = x_domain[r.outcome_label], row_of[r.study_id]
            size = ARROW_SIZES.get(r.size_class or "medium", ARROW_SIZES["medium"])
            colour = DIRECTION_COLOURS[r.direction]
            if r.direction == MIXED:
                for dx, marker in ((-0.16, "<"), (0.16, ">")):
                    ax.scatter(
                        [x + dx],
                        [y],
                        marker=marker,
                        s=size * 0.55,
                        color=colour,
                        linewidth=0,
                        zorder=3,
                    )
            else:
                marker = "^" if r.direction == BENEFIT else "v"
                ax.scatter([x], [y], marker=marker, s=size, color=colour, linewidth=0, zorder=3)
        ax.set_yticks(range(n_rows), labels)
        for tick, is_heading in zip(ax.get_yticklabels(), heading, strict=True):
            if is_heading:
                tick.set_fontweight("bold")
        ax.xaxis.tick_top()
        ax.set_xticks(
            range(n_cols),
            ["Sample size", "Risk of bias", *domains_shown],
            rotation=45,
            ha="left",
            rotation_mode="anchor",
        )
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.axvline(1.5, color="#999999", linewidth=0.6)
        for x in range(3, n_cols):
            ax.axvline(x - 0.5, color="#E3E3E3", linewidth=0.5, zorder=0)

        def arrow(marker: str, colour: str, size: float, label: str) -> Line2D:
            return Line2D(
                [], [], marker=marker, linestyle="", color=colour, markersize=size, label=label
            )

        grey = "#777777"
        groups = [
            [
                arrow("^", DIRECTION_COLOURS[BENEFIT], 7, "Benefit"),
                arrow("v", DIRECTION_COLOURS[HARM], 7, "Harm"),
                arrow("$◄►$", DIRECTION_COLOURS[MIXED], 11, "No change / mixed"),
            ],
            [
                arrow("^", grey, ARROW_SIZES["small"] ** 0.5, "n < 50"),
                arrow("^", grey, ARROW_SIZES["medium"] ** 0.5, "n 50–300"),
                arrow("^", grey, ARROW_SIZES["large"] ** 0.5, "n > 300"),
            ],
        ]
        present = set(studies["rob_overall"].dropna())
        groups.append(
            [
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markerfacecolor=ROB_COLOURS[j],
                    markeredgecolor="#333333",
                    markersize=6,
                    label=_risk_label(j),
                )
                for j in ROB_COLOURS
                if j in present
            ]
        )
        handles = _column_major([g for g in groups if g], rows=3)
        fig.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.02, footer_h / height),
            ncol=len(handles) // 3,
            frameon=False,
            handletextpad=0.3,
            columnspacing=1.2,
            borderaxespad=0.2,
        )
        for i, line in enumerate(footer):
            fig.text(0.1 / width, (footer_h - 0.1 - 0.14 * i) / height, line, ha="left",
                     va="top", fontsize=FONT_SIZE - 1.5, color="#444444")
        if title:
            fig.text(
                0.1 / width, 1 - 0.05 / height, title, ha="left", va="top", fontsize=FONT_SIZE + 1
            )
        return fig


def _risk_label(judgement: str) -> str:
    """Short legend text: "Low risk", "Some concerns", "Serious risk", "No information"."""
    if judgement in ("Some concerns", "No information"):
        return judgement
    return judgement.replace(" of bias", "")


# ---------------------------------------------------------------- risk of bias


def _tool(tool: str | RobTool) -> RobTool:
    if isinstance(tool, RobTool):
        return tool
    if tool not in ROB_TOOLS:
        raise ValueError(f"unknown risk-of-bias tool {tool!r} (known: {', '.join(ROB_TOOLS)})")
    return ROB_TOOLS[tool]


def _judgement_handles(spec: RobTool) -> list[Patch]:
    return [
        Patch(
            facecolor=ROB_COLOURS[j],
            edgecolor="#333333",
            linewidth=0.4,
            label=f"{ROB_SYMBOLS[j]}  {j}",
        )
        for j in spec.scale
    ]


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough width of a line of DejaVu Sans text in inches (for laying out a figure)."""
    return len(text) * size * 0.0078


def rob_traffic_light(rob: pd.DataFrame, tool: str | RobTool) -> Figure:
    """robvis-style traffic-light plot from :func:`risk_of_bias_table`.

    One row per study, one circle per domain plus the overall judgement (set apart by
    a rule); colour and a symbol give the judgement. The domain names and the key sit
    under the grid. Laid out in inches so nothing overlaps however many studies.
    """
    spec = _tool(tool)
    columns = [*spec.domain_columns(), "Overall"]
    with matplotlib.rc_context(_rc()):
        cell, gap, line = 0.3, 0.14, 0.165
        studies, label_notes = fit_labels([str(s) for s in rob["Study"]] if "Study" in rob else [])
        footer = wrap_notes(label_notes, 110)
        label_w = max([_text_width(s) for s in studies] + [0.6]) + 0.15
        xs = [label_w + cell * (c + 0.5) for c in range(len(columns) - 1)]
        xs.append(xs[-1] + cell + gap)
        top = 0.28
        ys = [top + cell * (r + 1) for r in range(len(rob))]
        grid_bottom = (ys[-1] if ys else top) + cell * 0.5 + 0.18
        domain_lines = [f"{spec.name} domains"] + [
            f"D{i}: {name}" for i, name in enumerate(spec.domains, start=1)
        ]
        key_lines = ["Judgement"] + [f"{ROB_SYMBOLS[j]}  {j}" for j in spec.scale]
        domain_w = max(_text_width(t, FONT_SIZE - 0.5) for t in domain_lines)
        key_w = max(_text_width(t, FONT_SIZE - 0.5) for t in key_lines) + 0.3
        side_by_side = 0.1 + domain_w + 0.35 + key_w <= MAX_WIDTH
        key_x = 0.1 + domain_w + 0.35 if side_by_side else 0.1
        key_top = grid_bottom if side_by_side else grid_bottom + line * (len(domain_lines) + 0.6)
        width = max(xs[-1] + cell, key_x + key_w, 0.1 + domain_w) + 0.1
        height = max(grid_bottom + line * len(domain_lines), key_top + line * len(key_lines))
        footer_top = height + 0.05
        height += 0.1 + line * len(footer)
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        for x, name in zip(xs, columns, strict=True):
            ax.text(x, top, name, ha="center", va="center", fontweight="bold")
        rule_x = (xs[-2] + xs[-1]) / 2
        ax.plot([rule_x, rule_x], [top - 0.12, grid_bottom - 0.18], color="#999999", linewidth=0.6)
        radius = cell * 0.42
        for i, text in enumerate(footer):
            ax.text(0.1, footer_top + line * i, text, ha="left", va="top",
                    fontsize=FONT_SIZE - 1.5, color="#444444")
        for y, label, row in zip(ys, studies, rob.itertuples(index=False), strict=True):
            values = dict(zip(rob.columns, row, strict=True))
            ax.text(label_w - 0.1, y, label, ha="right", va="center")
            for x, col in zip(xs, columns, strict=True):
                judgement = values.get(col)
                ax.add_patch(
                    Circle(
                        (x, y),
                        radius,
                        facecolor=ROB_COLOURS.get(judgement, _MISSING_COLOUR),
                        edgecolor="#333333",
                        linewidth=0.4,
                    )
                )
                ax.text(
                    x,
                    y,
                    ROB_SYMBOLS.get(judgement, ""),
                    ha="center",
                    va="center",
                    fontweight="bold",
                    color="white" if judgement in _DARK else "black",
                )
        for i, text in enumerate(domain_lines):
            ax.text(
                0.1,
                grid_bottom + line * i,
                text,
                ha="left",
                va="top",
                fontsize=FONT_SIZE - 0.5,
                fontweight="bold" if i == 0 else "normal",
            )
        ax.text(
            key_x,
            key_top,
            key_lines[0],
            ha="left",
            va="top",
            fontsize=FONT_SIZE - 0.5,
            fontweight="bold",
        )
        for i, j in enumerate(spec.scale, start=1):
            y = key_top + line * i
            ax.add_patch(
                Circle(
                    (key_x + 0.08, y + 0.055),
                    0.06,
                    facecolor=ROB_COLOURS[j],
                    edgecolor="#333333",
                    linewidth=0.4,
                )
            )
            ax.text(
                key_x + 0.22,
                y,
                f"{ROB_SYMBOLS[j]}  {j}",
                ha="left",
                va="top",
                fontsize=FONT_SIZE - 0.5,
            )
        return fig


def rob_summary(
    rob: pd.DataFrame,
    tool: str | RobTool,
    weighted: bool = True,
    weight_label: str = "sample size",
) -> Figure:
    """robvis-style summary: share of each judgement per domain, as stacked bars.

    With ``weighted`` each study counts by its ``Weight`` column (sample size or the
    meta-analysis weight; say which in ``weight_label``), so a reader sees how much of
    the *evidence* is at risk, not just how many studies.
    """
    spec = _tool(tool)
    columns = [*spec.domain_columns(), "Overall"]
    names = [*spec.domains, "Overall risk of bias"]
    with matplotlib.rc_context(_rc()):
        weights = (
            rob["Weight"].astype(float).to_numpy()
            if weighted and "Weight" in rob
            else np.ones(len(rob))
        )
        fig = Figure(figsize=(MAX_WIDTH, 0.9 + 0.3 * len(columns)), layout="constrained")
        ax = fig.add_subplot()
        total = weights.sum()
        y_positions = np.arange(len(columns))
        for y, col in zip(y_positions, columns, strict=True):
            left = 0.0
            judgements = rob[col].to_numpy() if col in rob else np.array([None] * len(rob))
            for j in [*spec.scale, None]:
                mask = judgements == j if j is not None else pd.isna(judgements)
                share = 100 * weights[mask].sum() / total if total else 0.0
                if share <= 0:
                    continue
                ax.barh(
                    y,
                    share,
                    left=left,
                    height=0.7,
                    color=ROB_COLOURS.get(j, _MISSING_COLOUR) if j else _MISSING_COLOUR,
                    edgecolor="white",
                    linewidth=0.6,
                )
                left += share
        ax.set_yticks(y_positions, names)
        ax.get_yticklabels()[-1].set_fontweight("bold")
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xticks(range(0, 101, 25), [f"{v}%" for v in range(0, 101, 25)])
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(
            f"Share of studies, weighted by {weight_label}" if weighted else "Share of studies"
        )
        handles = _judgement_handles(spec)
        if rob[[c for c in columns if c in rob]].isna().any().any():
            handles.append(Patch(facecolor=_MISSING_COLOUR, label="Not assessed"))
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=len(handles) if len(handles) <= 4 else 3,
            frameon=False,
            handlelength=1.0,
        )
        return fig


def rob_figures(
    rob: pd.DataFrame, tool: str, out_dir: str | Path, stem: str | None = None
) -> list[Path]:
    """Draw and save both robvis figures for one tool; returns the files written."""
    out_dir = Path(out_dir)
    stem = stem or ROB_TOOLS[tool].prefix
    written = save_figure(rob_traffic_light(rob, tool), out_dir / f"{stem}_traffic_light")
    written += save_figure(rob_summary(rob, tool), out_dir / f"{stem}_summary")
    return written


__all__: Sequence[str] = (
    "effect_direction_plot",
    "mechanism_heatmap",
    "rob_figures",
    "rob_summary",
    "rob_traffic_light",
    "save_figure",
)
