"""The PRISMA 2020 flow diagram, drawn from :class:`~review.report.prisma.PrismaCounts`.

Matplotlib draws it (no Graphviz or browser needed) in the 2020 statement's
layout: identification via databases and registers on the left, via other
methods on the right when a review used any, phase labels down the side, and
excluded boxes beside the boxes they leave from. Sizes are chosen so the
diagram still reads when a journal shrinks it to one page width.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from review.report.prisma import PrismaCounts  # noqa: E402

BOX_W = 2.35  # inches
HEAD_WRAP, ITEM_WRAP = 38, 33  # characters per line that fit BOX_W at FONT
FONT = 7.5
LINE_H = 0.145  # inches per text line at FONT
PAD = 0.12
HEADER_COLOUR = "#f4c542"
PHASE_COLOUR = "#9ec5e8"


@dataclass
class _Box:
    x: float  # left edge, inches
    y: float  # top edge
    lines: list[str]
    bold_first: bool = False

    @property
    def h(self) -> float:
        return len(self.lines) * LINE_H + 2 * PAD

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2

    @property
    def cy(self) -> float:
        return self.y - self.h / 2


def _wrap(text: str, width: int = HEAD_WRAP) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _n(k: int) -> str:
    """ "(n = k)" glued with no-break spaces so a line never ends inside it."""
    return f"(n\u00a0=\u00a0{k:,})"


def _lines(head: str, n: int | None = None) -> list[str]:
    return _wrap(head + (f" {_n(n)}" if n is not None else ""))


def _items(pairs: list[tuple[str, int]] | dict[str, int]) -> list[str]:
    """Indented "label (n = k)" lines under a box's heading."""
    pairs = list(pairs.items()) if isinstance(pairs, dict) else pairs
    return ["    " + line for label, k in pairs for line in _wrap(f"{label} {_n(k)}",
                                                                    ITEM_WRAP)]


def _specific(text: str) -> list[tuple[str, int]]:
    """ "PubMed, 5; Scopus, 3" → [("PubMed", 5), ("Scopus", 3)] (names may hold commas)."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, k = part.rpartition(",")
        out.append((name.strip(), int(k)))
    return out


def has_other_methods(counts: PrismaCounts) -> bool:
    v = counts.values
    return bool(v["website_results"] or v["organisation_results"] or v["citations_results"]
                or v["other_sought_reports"])


def draw(counts: PrismaCounts, title: str | None = None) -> plt.Figure:
    """A matplotlib Figure of the flow diagram (the caller saves or shows it)."""
    v = counts.values
    other = has_other_methods(counts)
    ident = ["Records identified from:"]
    ident += _lines("Databases", n=v["database_results"])
    ident += _items(_specific(v["database_specific_results"]))
    ident += _lines("Registers", n=v["register_results"])
    ident += _items(_specific(v["register_specific_results"]))
    removed = ["Records removed before screening:"] + _items([
        ("Duplicate records removed", v["duplicates"]),
        ("Records marked as ineligible by automation tools", v["excluded_automatic"]),
        ("Records removed for other reasons", v["excluded_other"])])
    excl = _lines("Records excluded", n=v["records_excluded"])
    if counts.excluded_by_stopping_rule:
        excl += _items([("by reviewers", counts.excluded_by_reviewers),
                        ("by the stopping rule, not screened", counts.excluded_by_stopping_rule)])
    ft_excl = (["Reports excluded:"] + _items(counts.ft_reasons) if counts.ft_reasons
               else _lines("Reports excluded", n=0))
    included = _lines("Studies included in review", n=v["total_studies"]) + _lines(
        "Reports of included studies", n=v["total_reports"])
    if v["previous_studies"] or v["previous_reports"]:
        included += _lines("of which from the previous version of the review",
                           n=v["previous_studies"])

    gap_x, gap_y = 0.35, 0.3
    x1, x2 = 0.65, 0.65 + BOX_W + gap_x
    x3 = x2 + BOX_W + 0.45
    x4 = x3 + BOX_W + gap_x
    width = (x4 if other else x2) + BOX_W + 0.25
    top = 0.0
    boxes: dict[str, _Box] = {}
    y = top - 0.75  # below the column header
    boxes["ident"] = _Box(x1, y, ident)
    boxes["removed"] = _Box(x2, y, removed)
    if other:
        boxes["o_ident"] = _Box(x3, y, ["Records identified from:"]
                                + _lines("Websites", n=v["website_results"])
                                + _lines("Organisations", n=v["organisation_results"])
                                + _lines("Citation searching", n=v["citations_results"]))
    row_h = max(b.h for b in boxes.values())
    y -= row_h + gap_y
    screening_top = y
    screened_lines = _lines("Records screened", n=v["records_screened"])
    if counts.awaiting_screening:
        screened_lines += _items([("awaiting a title/abstract decision",
                                   counts.awaiting_screening)])
    boxes["screened"] = _Box(x1, y, screened_lines)
    boxes["excluded"] = _Box(x2, y, excl)
    y -= max(boxes["screened"].h, boxes["excluded"].h) + gap_y
    boxes["sought"] = _Box(x1, y, _lines("Reports sought for retrieval",
                                         n=v["dbr_sought_reports"]))
    boxes["notret"] = _Box(x2, y, _lines("Reports not retrieved",
                                         n=v["dbr_notretrieved_reports"]))
    if other:
        boxes["o_sought"] = _Box(x3, y, _lines("Reports sought for retrieval",
                                               n=v["other_sought_reports"]))
        boxes["o_notret"] = _Box(x4, y, _lines("Reports not retrieved",
                                               n=v["other_notretrieved_reports"]))
    y -= max(b.h for k, b in boxes.items() if k in ("sought", "notret", "o_sought")) + gap_y
    assessed_lines = _lines("Reports assessed for eligibility", n=v["dbr_assessed"])
    if counts.awaiting_full_text:
        assessed_lines += _items([("awaiting a full-text decision", counts.awaiting_full_text)])
    boxes["assessed"] = _Box(x1, y, assessed_lines)
    boxes["ft_excl"] = _Box(x2, y, ft_excl)
    if other:
        boxes["o_assessed"] = _Box(x3, y, _lines("Reports assessed for eligibility",
                                                 n=v["other_assessed"]))
        boxes["o_ft_excl"] = _Box(x4, y, ["Reports excluded:"] + _items(counts.other_ft_reasons)
                                  if counts.other_ft_reasons else _lines("Reports excluded", n=0))
    y -= max(b.h for k, b in boxes.items() if k in ("assessed", "ft_excl", "o_ft_excl")) + gap_y
    included_top = y
    boxes["included"] = _Box(x1, y, included)
    bottom = min(y - boxes["included"].h, included_top - 0.8) - 0.2

    height = -bottom + 0.1
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(bottom, 0.1)
    ax.axis("off")

    def header(x0: float, x1_: float, text: str) -> None:
        ax.add_patch(FancyBboxPatch((x0, -0.55), x1_ - x0, 0.45, boxstyle="round,pad=0.02",
                                    fc=HEADER_COLOUR, ec="black", lw=0.8))
        ax.text((x0 + x1_) / 2, -0.325, text, ha="center", va="center", fontsize=FONT + 0.5,
                weight="bold")

    header(x1, x2 + BOX_W, "Identification of studies via databases and registers")
    if other:
        header(x3, x4 + BOX_W, "Identification of studies via other methods")

    def phase(y_top: float, y_bot: float, text: str) -> None:
        ax.add_patch(FancyBboxPatch((0.1, y_bot), 0.42, y_top - y_bot, boxstyle="round,pad=0.02",
                                    fc=PHASE_COLOUR, ec="black", lw=0.8))
        ax.text(0.31, (y_top + y_bot) / 2, text, ha="center", va="center", rotation=90,
                fontsize=FONT + 0.5, weight="bold")

    phase(-0.75, screening_top + gap_y / 2, "Identification")
    phase(screening_top, included_top + gap_y / 2, "Screening")
    phase(included_top, bottom + 0.2, "Included")

    for b in boxes.values():
        ax.add_patch(FancyBboxPatch((b.x, b.y - b.h), BOX_W, b.h, boxstyle="square,pad=0",
                                    fc="white", ec="black", lw=0.9))
        ax.text(b.x + 0.1, b.y - PAD, "\n".join(b.lines), ha="left", va="top", fontsize=FONT,
                linespacing=1.25, family="DejaVu Sans")

    def arrow(a: _Box, b: _Box, side: bool = False) -> None:
        if side:
            start, end = (a.x + BOX_W, a.cy), (b.x, a.cy)
        else:
            start, end = (a.cx, a.y - a.h), (b.cx if b.x == a.x else a.cx, b.y)
        ax.annotate("", xy=end, xytext=start,
                    arrowprops={"arrowstyle": "-|>", "lw": 1.0, "color": "black"})

    arrow(boxes["ident"], boxes["removed"], side=True)
    arrow(boxes["ident"], boxes["screened"])
    arrow(boxes["screened"], boxes["excluded"], side=True)
    arrow(boxes["screened"], boxes["sought"])
    arrow(boxes["sought"], boxes["notret"], side=True)
    arrow(boxes["sought"], boxes["assessed"])
    arrow(boxes["assessed"], boxes["ft_excl"], side=True)
    arrow(boxes["assessed"], boxes["included"])
    if other:
        arrow(boxes["o_ident"], boxes["o_sought"])
        arrow(boxes["o_sought"], boxes["o_notret"], side=True)
        arrow(boxes["o_sought"], boxes["o_assessed"])
        arrow(boxes["o_assessed"], boxes["o_ft_excl"], side=True)
        a, inc = boxes["o_assessed"], boxes["included"]
        ax.annotate("", xy=(inc.x + BOX_W, inc.cy), xytext=(a.cx, a.y - a.h),
                    arrowprops={"arrowstyle": "-|>", "lw": 1.0, "color": "black",
                                "connectionstyle": "angle,angleA=-90,angleB=180,rad=0"})
    if title:
        fig.suptitle(title, fontsize=FONT + 1, y=0.999, va="top")
    return fig


def save(counts: PrismaCounts, out_dir: Path, stem: str = "prisma_flow",
         title: str | None = None, formats: tuple[str, ...] = ("svg", "png", "pdf")) -> list[Path]:
    """Write the diagram in each format; PNG at 300 dpi for journals."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fig = draw(counts, title)
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        fig.savefig(path, dpi=300 if fmt == "png" else None)
        paths.append(path)
    plt.close(fig)
    return paths
