"""``review meta``: pool a lead author's effect-size spreadsheet (stand-alone mode).

The shell only reads the table, calls :func:`review.synthesis.meta.meta_for_outcome`,
draws the figures and writes the files; every number comes from the pure core. Files are
written into a temporary folder first and moved into ``--output`` only when all of them
exist, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from review.cli.app import DbOption, app, console, fail
from review.synthesis.effects import (
    FAMILY_MEASURES,
    REQUIRED_COLUMNS,
    EffectSizeError,
    detect_measure_family,
)
from review.synthesis.meta import (
    MEASURE_LABELS,
    METHOD_NAMES,
    MetaAnalysisError,
    OutcomeAnalysis,
    meta_for_outcome,
)


class Measure(StrEnum):
    SMD = "SMD"
    MD = "MD"
    OR = "OR"
    RR = "RR"
    RD = "RD"
    ZCOR = "ZCOR"
    GENERIC = "GENERIC"


class Method(StrEnum):
    FE = "FE"
    DL = "DL"
    PM = "PM"
    REML = "REML"


LAYOUTS = (
    "study, ai, bi, ci, di (events and non-events, treatment then control) for OR/RR/RD; "
    "study, n1, m1, sd1, n2, m2, sd2 for SMD/MD; study, ri, ni for ZCOR; "
    "study, yi, vi (or sei, or ci_low + ci_high) for GENERIC"
)


def read_table(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read a CSV/TSV/XLSX effect table; returns the rows and each row's line in the file.

    Column names are trimmed and lower-cased; wholly empty rows are dropped but the line
    numbers of the others are kept, so messages point at the right line.
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        df = pd.read_excel(path)
    else:
        df = pd.read_csv(path, sep=None, engine="python", skipinitialspace=True,
                         encoding="utf-8-sig", skip_blank_lines=False)
    df.columns = [str(c).strip().lower() for c in df.columns]
    lines = [i + 2 for i in range(len(df))]  # line 1 is the header
    keep = ~df.isna().all(axis=1).to_numpy()
    df = df.loc[keep].reset_index(drop=True)
    return df, [ln for ln, k in zip(lines, keep, strict=True) if k]


def _located(path: Path, exc: EffectSizeError | MetaAnalysisError, lines: list[int]) -> str:
    """Turn a row-level error into 'FILE, line N (study X): ...'."""
    if isinstance(exc, EffectSizeError) and exc.row is not None and exc.row < len(lines):
        who = f" (study {exc.study!r})" if exc.study else ""
        return f"{path}, line {lines[exc.row]}{who}: {exc.detail}"
    return f"{path}: {exc}"


def _clean(obj: Any) -> Any:
    """JSON-safe values: numpy scalars to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _analyse(df: pd.DataFrame, path: Path, measure: str, method: str, hksj: bool,
             subgroup: str | None, lines: list[int]) -> OutcomeAnalysis:
    family = detect_measure_family(df.columns)
    if family is None:
        raise fail(f"{path}: cannot tell the table's layout from its columns "
                   f"({', '.join(df.columns)}); expected {LAYOUTS}")
    if measure not in FAMILY_MEASURES[family]:
        need = ", ".join(REQUIRED_COLUMNS[measure])
        raise fail(f"{path}: --measure {measure} needs columns study, {need}; this table has "
                   f"{family} data, which gives {'/'.join(FAMILY_MEASURES[family])}")
    if "study" not in df.columns:
        raise fail(f"{path}: no 'study' column; every row needs a study label")
    if subgroup and subgroup.lower() not in df.columns:
        raise fail(f"{path}: no column {subgroup!r} for --subgroup; columns are "
                   f"{', '.join(df.columns)}")
    try:
        return meta_for_outcome(df, measure, method, hksj,
                                subgroup=subgroup.lower() if subgroup else None)
    except (EffectSizeError, MetaAnalysisError) as exc:
        raise fail(_located(path, exc, lines)) from exc


def _write_outputs(analysis: OutcomeAnalysis, output: Path, title: str) -> list[Path]:
    from review.synthesis.meta_plots import forest_plot, funnel_plot

    r = analysis.result
    details = r.details()
    details["notes"] = list(analysis.notes)
    if analysis.egger is not None:
        details["egger"] = analysis.egger.summary()
    if analysis.subgroups is not None:
        details["subgroups"] = analysis.subgroups.summary()
    output.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".meta-", dir=output))
    try:
        (tmp / "summary.json").write_text(
            json.dumps(_clean(r.summary()), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        (tmp / "details.json").write_text(
            json.dumps(_clean(details), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        studies = analysis.effects.copy()
        studies["weight"] = r.weights
        studies.to_csv(tmp / "studies.csv", index=False)
        if analysis.leave_one_out is not None:
            analysis.leave_one_out.to_csv(tmp / "leave_one_out.csv", index=False)
        if analysis.cumulative is not None:
            analysis.cumulative.to_csv(tmp / "cumulative.csv", index=False)
        forest_plot(r, out=tmp / "forest", title=title)
        funnel_plot(r, out=tmp / "funnel", title=title, egger=analysis.egger)
        if analysis.subgroups is not None:
            analysis.subgroups.table().to_csv(tmp / "subgroups.csv", index=False)
            forest_plot(analysis.subgroups, out=tmp / "forest_subgroups", title=title)
        written = []
        for f in sorted(tmp.iterdir()):
            dest = output / f.name
            f.replace(dest)
            written.append(dest)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _print_summary(analysis: OutcomeAnalysis, title: str) -> None:
    r = analysis.result
    d = r.details()
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("Studies (k)", str(r.k))
    table.add_row("Measure", MEASURE_LABELS.get(r.measure, r.measure))
    model = METHOD_NAMES[r.method] + (", Knapp-Hartung (HKSJ)" if r.hksj else "")
    table.add_row("Model", model)
    pct = f"{r.level * 100:g}%"
    table.add_row("Estimate", f"{r.estimate:.4f} (SE {r.se:.4f}), {pct} CI "
                  f"{r.ci_low:.4f} to {r.ci_high:.4f}")
    if "back_transformed" in d:
        bt = d["back_transformed"]
        table.add_row(f"As {bt['scale']}", f"{bt['estimate']:.3f} ({pct} CI {bt['ci_low']:.3f} "
                      f"to {bt['ci_high']:.3f}; PI {bt['pi_low']:.3f} to {bt['pi_high']:.3f})")
    df = f" (df = {r.df})" if r.df is not None else ""
    table.add_row("Test", f"{r.test}{df} = {r.stat:.4f}, p = {r.p:.4g}")
    table.add_row("tau^2 / tau", f"{r.tau2:.4f} / {r.tau:.4f}")
    table.add_row("I^2 / H^2", f"{r.i2:.2f}% / {r.h2:.4f}")
    table.add_row("Q", f"{r.q:.4f} (df = {r.q_df}, p = {r.q_p:.4g})")
    table.add_row("Prediction interval", f"{r.pi_low:.4f} to {r.pi_high:.4f}")
    if analysis.egger is not None:
        e = analysis.egger
        edf = f" (df = {e.df})" if e.df is not None else ""
        table.add_row("Egger's test", f"{e.test}{edf} = {e.stat:.3f}, p = {e.p:.4g}")
    if analysis.subgroups is not None:
        s = analysis.subgroups
        table.add_row("Subgroup differences", f"Q = {s.q_between:.3f} (df = {s.df_between}, "
                      f"p = {s.p_between:.4g})")
    console.print(table)
    for note in analysis.notes:
        console.print(f"[yellow]Note:[/] {note}", highlight=False)


def _analyse_review_outcome(db: str | None, outcome: str, measure: str, method: str,
                           hksj: bool, time_point: str | None,
                           result: str = "first") -> OutcomeAnalysis:
    """One outcome's per-study effects from the review's final extractions, pooled."""
    from review.cli.project import open_review
    from review.report.inputs import extractions_frame
    from review.synthesis.store_ops import (
        SynthesisInputError,
        analyse,
        results_frame,
        study_effects,
    )

    results = results_frame(extractions_frame(open_review(db)))
    if results.empty or outcome not in set(results["outcome"].dropna()):
        known = ", ".join(sorted(set(results["outcome"].dropna()))) or "none yet"
        raise fail(f"no extracted results for outcome {outcome!r} (outcomes extracted: {known})")
    try:
        effects, notes = study_effects(results, outcome, measure, time_point, result=result)
        return analyse(effects, measure, method, hksj, notes=notes)
    except (SynthesisInputError, EffectSizeError, MetaAnalysisError) as exc:
        raise fail(f"outcome {outcome!r}: {exc}") from exc


@app.command("meta")
def meta(
    measure: Annotated[Measure, typer.Option(
        "--measure", case_sensitive=False, help="Effect measure to pool.")],
    output: Annotated[Path, typer.Option(
        "--output", help="Folder for summary.json, details.json, studies.csv and the forest "
        "and funnel plots (PNG + SVG).")],
    input: Annotated[Path | None, typer.Option(
        "--input", help=f"Effect table (CSV or XLSX), one row per study: {LAYOUTS}.")] = None,
    method: Annotated[Method, typer.Option(
        "--method", case_sensitive=False, help="FE (common effect) or random effects with a "
        "DL, PM or REML tau^2.")] = Method.REML,
    hksj: Annotated[bool, typer.Option(
        "--hksj", help="Hartung-Knapp-Sidik-Jonkman (Knapp-Hartung) CI and t-test.")] = False,
    subgroup: Annotated[str | None, typer.Option(
        "--subgroup", help="Column whose values form subgroups (e.g. intervention type); "
        "adds the test for subgroup differences.")] = None,
    title: Annotated[str | None, typer.Option(
        "--title", help="Title for the figures (default: the file name).")] = None,
    outcome: Annotated[str | None, typer.Option(
        "--outcome", help="In a review (--db): pool this outcome (codebook code, e.g. "
        "loneliness) from the studies' extracted outcome data instead of --input.")] = None,
    time_point: Annotated[str | None, typer.Option(
        "--time-point", help="With --outcome: the time point to pool (required when the "
        "outcome was extracted at several).")] = None,
    result: Annotated[str, typer.Option(
        "--result", help="With --outcome: which result a study with several at the time "
        "point gives: first (as extracted) or largest_n.")] = "first",
    db: DbOption = None,
) -> None:
    """Meta-analysis of a spreadsheet of per-study outcome data or effect sizes, or of an
    outcome extracted in a review (--outcome NAME --db ...)."""
    if outcome is not None:
        heading = title or f"{outcome} ({measure.value})"
        analysis = _analyse_review_outcome(db, outcome, measure.value, method.value, hksj,
                                           time_point, result)
        written = _write_outputs(analysis, output, heading)
        _print_summary(analysis, heading)
        console.print(f"Wrote {len(written)} files to [bold]{output}[/]: "
                      + ", ".join(p.name for p in written), highlight=False)
        return
    if input is None:
        raise fail("give --input EFFECTS.csv, or --outcome NAME with --db for a review")
    if not input.is_file():
        raise fail(f"{input}: no such file")
    try:
        df, lines = read_table(input)
    except Exception as exc:  # pandas raises many types for unreadable files
        raise fail(f"{input}: cannot read the table: {exc}") from exc
    heading = title or input.stem
    analysis = _analyse(df, input, measure.value, method.value, hksj, subgroup, lines)
    written = _write_outputs(analysis, output, heading)
    _print_summary(analysis, heading)
    console.print(f"Wrote {len(written)} files to [bold]{output}[/]: "
                  + ", ".join(p.name for p in written), highlight=False)
