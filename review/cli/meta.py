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
    TEST_NAMES,
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
    MH = "MH"
    PETO = "PETO"


class Test(StrEnum):
    Z = "z"
    KNHA = "knha"
    ADHOC = "adhoc"


class PiType(StrEnum):
    Z = "z"
    T = "t"


class CcMode(StrEnum):
    ONLY0 = "only0"
    ALL = "all"
    IF0ALL = "if0all"
    NONE = "none"


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


def _analyse(df: pd.DataFrame, path: Path, measure: str, method: str, options: dict[str, Any],
             lines: list[int]) -> OutcomeAnalysis:
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
    for opt, value in (("--subgroup", options.get("subgroup")), ("--cluster", options.get("cluster")),
                       *(("--moderator", m) for m in options.get("moderators", ()))):
        if value and value.lower() not in df.columns:
            raise fail(f"{path}: no column {value!r} for {opt}; columns are "
                       f"{', '.join(df.columns)}")
    opts = dict(options)
    for key in ("subgroup", "cluster"):
        if opts.get(key):
            opts[key] = opts[key].lower()
    opts["moderators"] = [m.lower() for m in opts.get("moderators", ())]
    hksj = opts.pop("test")
    try:
        return meta_for_outcome(df, measure, method, hksj, **opts)
    except (EffectSizeError, MetaAnalysisError) as exc:
        raise fail(_located(path, exc, lines)) from exc


def _write_outputs(analysis: OutcomeAnalysis, output: Path, title: str,
                   favours: tuple[str, str] | None = None) -> list[Path]:
    from review.synthesis.exports import to_csv
    from review.synthesis.meta_plots import bubble_plot, forest_plot, funnel_plot

    r = analysis.result
    details = r.details()
    details["notes"] = list(analysis.notes)
    if analysis.egger is not None:
        details["egger"] = analysis.egger.summary()
    if analysis.subgroups is not None:
        details["subgroups"] = analysis.subgroups.summary()
    if analysis.regression is not None:
        details["meta_regression"] = analysis.regression.summary()
        if analysis.permutation is not None:
            details["meta_regression"]["permutation"] = analysis.permutation
    output.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".meta-", dir=output))
    try:
        (tmp / "summary.json").write_text(
            json.dumps(_clean(r.summary()), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        (tmp / "details.json").write_text(
            json.dumps(_clean(details), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        studies = analysis.effects.copy()
        studies["weight"] = r.weights
        # every table goes through the one neutralising exporter: a study label typed as
        # "=HYPERLINK(...)" must never become a live formula in a spreadsheet
        to_csv(studies, tmp / "studies.csv")
        if analysis.leave_one_out is not None:
            to_csv(analysis.leave_one_out, tmp / "leave_one_out.csv")
        if analysis.cumulative is not None:
            to_csv(analysis.cumulative, tmp / "cumulative.csv")
        forest_plot(r, out=tmp / "forest", title=title, favours=favours,
                    arms=analysis.effects)
        funnel_plot(r, out=tmp / "funnel", title=title, egger=analysis.egger,
                    trimfill=analysis.trimfill)
        if analysis.subgroups is not None:
            to_csv(analysis.subgroups.table(), tmp / "subgroups.csv")
            forest_plot(analysis.subgroups, out=tmp / "forest_subgroups", title=title,
                        favours=favours)
        if analysis.regression is not None:
            to_csv(analysis.regression.coefficients, tmp / "meta_regression.csv")
            bubble_plot(analysis.regression, out=tmp / "bubble", title=title)
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
    model = METHOD_NAMES[r.method] + (f", {TEST_NAMES[r.test_type]}" if r.hksj else "")
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
    if "sigma2" in r.extra:
        sb, sw = r.extra["sigma2"]
        table.add_row("sigma^2 (between / within clusters)", f"{sb:.4f} / {sw:.4f}")
    table.add_row("I^2 / H^2", f"{r.i2:.2f}% / {r.h2:.4f}")
    if r.heterogeneity_ci is not None:
        c = r.heterogeneity_ci
        table.add_row(f"{pct} CI (Q-profile)", f"tau^2 {c.tau2_low:.4f} to {c.tau2_high:.4f}; "
                      f"I^2 {c.i2_low:.1f}% to {c.i2_high:.1f}%")
    table.add_row("Q", f"{r.q:.4f} (df = {r.q_df}, p = {r.q_p:.4g})")
    pi_df = " (t, k-2 df)" if r.pi_type == "riley" else ""
    table.add_row(f"Prediction interval{pi_df}", f"{r.pi_low:.4f} to {r.pi_high:.4f}")
    if "robust_se" in r.extra:
        x = r.extra
        table.add_row("Cluster-robust (CR2)", f"SE {x['robust_se']:.4f}, df {x['robust_df']:.2f}, "
                      f"{pct} CI {x['robust_ci_low']:.4f} to {x['robust_ci_high']:.4f}, "
                      f"p = {x['robust_p']:.4g}")
    if analysis.trimfill is not None:
        t = analysis.trimfill
        table.add_row("Trim and fill (L0)", f"{t.k0} filled on the {t.side}; estimate "
                      f"{t.result.estimate:.4f} ({t.result.ci_low:.4f} to {t.result.ci_high:.4f})")
    if analysis.egger is not None:
        e = analysis.egger
        edf = f" (df = {e.df})" if e.df is not None else ""
        table.add_row("Egger's test", f"{e.test}{edf} = {e.stat:.3f}, p = {e.p:.4g}")
    if analysis.subgroups is not None:
        s = analysis.subgroups
        table.add_row("Subgroup differences", s.between_text)
    if analysis.regression is not None:
        g = analysis.regression
        stat = "F" if g.hksj else "QM"
        perm = (f"; permutation p = {analysis.permutation['p']:.4g}"
                if analysis.permutation else "")
        table.add_row(f"Moderators ({g.covariate})", f"{stat} = {g.qm:.4f} (df = {g.qm_df}), "
                      f"p = {g.qm_p:.4g}{perm}; R^2 = {g.r2 if g.r2 is None else round(g.r2, 2)}%")
    console.print(table)
    for note in analysis.notes:
        console.print(f"[yellow]Note:[/] {note}", highlight=False)


def _analyse_review_outcome(db: str | None, outcome: str, measure: str, method: str,
                           options: dict[str, Any], time_point: str | None,
                           result: str = "all") -> OutcomeAnalysis:
    """One outcome's per-study effects from the review's final extractions, pooled."""
    unsupported = [flag for flag, on in (("--method MH/PETO", method in ("MH", "PETO")),
                                         ("--cluster", options.get("cluster")),
                                         ("--moderator", options.get("moderators")),
                                         ("--trimfill", options.get("trimfill")),
                                         ("--robust", options.get("robust"))) if on]
    if unsupported:
        raise fail(f"{', '.join(unsupported)}: not available with --outcome yet; export the "
                   "outcome's effects and use --input")
    hksj = options["test"]
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
        return analyse(effects, measure, method, hksj, notes=notes)  # type: ignore[arg-type]
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
        "--method", case_sensitive=False, help="FE (common effect), random effects with a "
        "DL, PM or REML tau^2, or MH (Mantel-Haenszel; OR/RR/RD) / PETO (OR) for 2x2 "
        "tables.")] = Method.REML,
    test: Annotated[Test | None, typer.Option(
        "--test", case_sensitive=False, help="z; knha (Knapp-Hartung/HKSJ t-test); adhoc "
        "(Knapp-Hartung never narrower than z).")] = None,
    hksj: Annotated[bool, typer.Option(
        "--hksj", help="Same as --test knha.")] = False,
    pi: Annotated[PiType, typer.Option(
        "--pi", case_sensitive=False, help="Prediction interval: z (metafor's default) or t "
        "on k-2 df (Higgins et al. 2009; Cochrane Handbook).")] = PiType.Z,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", help="Column naming the study (or cluster) of each result: fits the "
        "three-level model (results within clusters, REML).")] = None,
    robust: Annotated[bool, typer.Option(
        "--robust", help="Cluster-robust CR2 errors with Satterthwaite df (clusters from "
        "--cluster, else each row).")] = False,
    trimfill: Annotated[bool, typer.Option(
        "--trimfill", help="Trim and fill (L0) and a contour-enhanced funnel.")] = False,
    subgroup: Annotated[str | None, typer.Option(
        "--subgroup", help="Column whose values form subgroups (e.g. intervention type); "
        "adds the test for subgroup differences.")] = None,
    moderator: Annotated[list[str] | None, typer.Option(
        "--moderator", help="Column for a meta-regression (repeat for several); adds a "
        "bubble plot and, below 30 studies, a permutation test.")] = None,
    favours: Annotated[tuple[str, str] | None, typer.Option(
        "--favours", help="Two labels under the forest plot's axis, left then right, e.g. "
        "--favours 'Favours mentoring' 'Favours control'.")] = None,
    cc: Annotated[float, typer.Option(
        "--cc", help="Continuity correction added to 2x2 cells.")] = 0.5,
    cc_to: Annotated[CcMode, typer.Option(
        "--cc-to", case_sensitive=False, help="Which tables get --cc: only0 (a zero cell), "
        "all, if0all (all when any has a zero), none.")] = CcMode.ONLY0,
    keep_double_zero: Annotated[bool, typer.Option(
        "--keep-double-zero", help="MH/Peto: keep double-zero studies in the study effects "
        "and Q (metafor's drop00 = FALSE).")] = False,
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
        "point gives: all (three-level model), first (as extracted) or largest_n.")] = "all",
    db: DbOption = None,
) -> None:
    """Meta-analysis of a spreadsheet of per-study outcome data or effect sizes, or of an
    outcome extracted in a review (--outcome NAME --db ...)."""
    if hksj and test not in (None, Test.KNHA):
        raise fail(f"--hksj is --test knha; it cannot be combined with --test {test.value}")
    chosen = (test or (Test.KNHA if hksj else Test.Z)).value
    if favours is not None and not all(str(f).strip() for f in favours):
        raise fail("--favours needs two non-empty labels")
    options: dict[str, Any] = {
        "test": chosen,
        "pi_type": "riley" if pi == PiType.T else "default",
        "cluster": cluster,
        "robust": robust,
        "trimfill": trimfill,
        "subgroup": subgroup,
        "moderators": list(moderator or ()),
        "add": cc,
        "to": cc_to.value,
        "drop00": not keep_double_zero,
    }
    if outcome is not None:
        heading = title or f"{outcome} ({measure.value})"
        analysis = _analyse_review_outcome(db, outcome, measure.value, method.value, options,
                                           time_point, result)
        written = _write_outputs(analysis, output, heading, favours)
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
    analysis = _analyse(df, input, measure.value, method.value, options, lines)
    written = _write_outputs(analysis, output, heading, favours)
    _print_summary(analysis, heading)
    console.print(f"Wrote {len(written)} files to [bold]{output}[/]: "
                  + ", ".join(p.name for p in written), highlight=False)
