"""Write every narrative-synthesis table and figure for a review in one call.

The CLI and the app need one entry point that turns the final extractions into the
files a review team shares: the mechanism table, CMO tables, effect direction table
and plot, vote-counting summary, for-whom table and the risk-of-bias figures. This is
that thin shell; each piece is built by :mod:`~review.synthesis.mechanisms`, drawn by
:mod:`~review.synthesis.plots` and written by :mod:`~review.synthesis.exports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from review.extraction.codebook import Codebook
from review.synthesis import mechanisms as mech
from review.synthesis import plots
from review.synthesis.exports import export_table

DIRECTION_NOTE = (
    "▲ benefit, ▼ harm, ◄► no change, mixed or conflicting (SWiM effect direction: a "
    "direction is called when at least 70% of a study's results in the domain agree)."
)


def write_narrative_synthesis(
    extractions: pd.DataFrame,
    out_dir: str | Path,
    codebook: Codebook | None = None,
    formats: Sequence[str] = ("csv", "xlsx", "docx"),
) -> list[Path]:
    """Write all tables (in each of ``formats``) and figures (PNG + SVG) to ``out_dir``.

    Returns the paths written. Tables that come out empty (e.g. no ROBINS-I studies)
    are skipped rather than written as empty files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    mechanism = mech.mechanism_table(extractions, codebook)
    tables: dict[str, tuple[pd.DataFrame, str, str | None]] = {
        "mechanism_table": (
            mechanism.as_text(),
            "Mechanism table: studies per intervention type and mechanism",
            "Cells: number of studies (short citations). Studies (n): studies of that "
            "type with any coded mechanism.",
        ),
        "cmo_configurations": (
            mech.cmo_table(extractions, codebook),
            "Context–mechanism–outcome configurations by intervention type",
            None,
        ),
        "effect_direction": (
            mech.effect_direction_table(extractions, codebook),
            "Effect direction by study and outcome domain",
            DIRECTION_NOTE,
        ),
        "direction_summary": (
            mech.direction_summary(extractions, codebook).round(3),
            "Vote counting on direction of effect, with sign test",
            "Share benefit among studies with a clear direction; 95% Wilson interval; "
            "two-sided sign test.",
        ),
        "for_whom": (
            mech.for_whom_table(extractions, codebook),
            "Direction of effect by targeted population and outcome domain",
            DIRECTION_NOTE,
        ),
    }
    for tool in mech.ROB_TOOLS.values():
        rob = mech.risk_of_bias_table(extractions, tool.name)
        if not rob.empty:
            tables[f"{tool.prefix}_judgements"] = (
                rob.drop(columns=["study_id"]),
                f"Risk of bias ({tool.name})",
                "; ".join(f"D{i}: {d}" for i, d in enumerate(tool.domains, start=1)),
            )
            written += plots.rob_figures(rob, tool.name, out)
    for name, (table, title, note) in tables.items():
        if table.empty:
            continue
        for fmt in formats:
            options = {"title": title, "notes": note} if fmt == "docx" else {}
            written.append(export_table(table, out / f"{name}.{fmt}", **options))
    per_type = mech.cmo_tables(extractions, codebook)
    if per_type and "xlsx" in formats:
        written.append(export_table(per_type, out / "cmo_by_intervention_type.xlsx"))
    written += plots.save_figure(plots.mechanism_heatmap(mechanism), out / "mechanism_table")
    directions = mech.effect_directions(extractions, codebook)
    written += plots.save_figure(plots.effect_direction_plot(directions), out / "effect_direction")
    return written
