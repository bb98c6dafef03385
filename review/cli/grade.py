"""``review grade``: a GRADE summary-of-findings table drafted from the pooled data.

Reads the same effect table as ``review meta`` (one outcome, or several with an
``outcome`` column), pools each outcome with the same options, takes the inconsistency,
imprecision and publication-bias ratings from the data (:mod:`review.synthesis.grade_data`)
and the risk-of-bias and indirectness ratings from the options, and writes ``sof.docx``,
``sof.xlsx`` and ``grade.json``. Files appear only when all are written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from review.cli.app import app, console, fail
from review.cli.meta import Measure, Method, PiType, Test, _analyse, _clean, read_table
from review.synthesis.grade import RATINGS, GradeError, export_sof_docx, export_sof_xlsx
from review.synthesis.grade_data import sof_row_from_data


def _given(rob: str | None, rob_reason: str | None, ind: str | None,
           ind_reason: str | None) -> dict[str, tuple[str, str]]:
    given: dict[str, tuple[str, str]] = {}
    for domain, rating, reason, flag in (("risk_of_bias", rob, rob_reason, "--risk-of-bias"),
                                         ("indirectness", ind, ind_reason, "--indirectness")):
        if rating is None:
            continue
        if rating.lower() not in RATINGS:
            raise fail(f"{flag}: unknown rating {rating!r}; use one of "
                       "not serious, serious, very serious")
        given[domain] = (rating.lower(), reason or "")
    return given


@app.command("grade")
def grade(
    input: Annotated[Path, typer.Option(
        "--input", help="Effect table as for review meta; an 'outcome' column gives one SoF "
        "row per outcome.")],
    measure: Annotated[Measure, typer.Option("--measure", case_sensitive=False,
                                             help="Effect measure to pool.")],
    output: Annotated[Path, typer.Option("--output", help="Folder for sof.docx, sof.xlsx "
                                         "and grade.json.")],
    method: Annotated[Method, typer.Option("--method", case_sensitive=False)] = Method.REML,
    test: Annotated[Test, typer.Option("--test", case_sensitive=False)] = Test.Z,
    pi: Annotated[PiType, typer.Option("--pi", case_sensitive=False)] = PiType.Z,
    design: Annotated[str, typer.Option(
        "--design", help="randomised or observational (GRADE's starting level).")
    ] = "randomised",
    risk_of_bias: Annotated[str | None, typer.Option(
        "--risk-of-bias", help="not serious / serious / very serious.")] = None,
    risk_of_bias_reason: Annotated[str | None, typer.Option("--risk-of-bias-reason")] = None,
    indirectness: Annotated[str | None, typer.Option(
        "--indirectness", help="not serious / serious / very serious.")] = None,
    indirectness_reason: Annotated[str | None, typer.Option("--indirectness-reason")] = None,
    assumed_risk: Annotated[float | None, typer.Option(
        "--assumed-risk", help="Comparison-group risk (0-1) for absolute effects; default: "
        "the pooled control-arm risk.")] = None,
    title: Annotated[str, typer.Option("--title")] = "Summary of findings",
    population: Annotated[str, typer.Option("--population")] = "",
    intervention: Annotated[str, typer.Option("--intervention")] = "",
    comparison: Annotated[str, typer.Option("--comparison")] = "",
) -> None:
    """Draft a GRADE summary-of-findings table (DOCX and XLSX) from pooled data."""
    if not input.is_file():
        raise fail(f"{input}: no such file")
    try:
        df, lines = read_table(input)
    except Exception as exc:  # pandas raises many types for unreadable files
        raise fail(f"{input}: cannot read the table: {exc}") from exc
    given = _given(risk_of_bias, risk_of_bias_reason, indirectness, indirectness_reason)
    options: dict[str, Any] = {"test": test.value,
                               "pi_type": "riley" if pi == PiType.T else "default"}
    if "outcome" in df.columns:
        groups = [(str(name), part.drop(columns="outcome").dropna(axis=1, how="all")
                   .reset_index(drop=True),
                   [lines[i] for i in part.index])
                  for name, part in df.groupby("outcome", sort=False)]
    else:
        groups = [(input.stem, df, lines)]
    rows, report = [], []
    for name, part, part_lines in groups:
        analysis = _analyse(part, input, measure.value, method.value, dict(options), part_lines)
        try:
            row, sug = sof_row_from_data(name, analysis, study_design=design, given=given,
                                         assumed_risk=assumed_risk)
        except GradeError as exc:
            raise fail(f"{input}: outcome {name!r}: {exc}") from exc
        rows.append(row)
        a = row.assessment
        report.append({
            "outcome": name, "k": analysis.result.k, "summary": analysis.result.summary(),
            "certainty": a.certainty,
            "ratings": {d: getattr(a, d) for d in ("risk_of_bias", "inconsistency",
                                                   "indirectness", "imprecision",
                                                   "publication_bias")},
            "reasons": dict(a.footnotes),
            "from_data": sorted(sug),
            "relative_effect": row.relative_effect, "absolute_effect": row.risk_intervention,
        })
    output.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".grade-", dir=output))
    try:
        header = {"title": title, "population": population, "intervention": intervention,
                  "comparison": comparison}
        export_sof_docx(rows, tmp / "sof.docx", **header)
        export_sof_xlsx(rows, tmp / "sof.xlsx", **header)
        (tmp / "grade.json").write_text(json.dumps(_clean(report), indent=2, allow_nan=False)
                                        + "\n", encoding="utf-8")
        written = []
        for f in sorted(tmp.iterdir()):
            f.replace(output / f.name)
            written.append(output / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in report:
        console.print(f"[bold]{r['outcome']}[/]: certainty {r['certainty']} "
                      f"({', '.join(f'{k} {v}' for k, v in r['ratings'].items())})",
                      highlight=False)
    console.print(f"Wrote {len(written)} files to [bold]{output}[/]: "
                  + ", ".join(p.name for p in written), highlight=False)
