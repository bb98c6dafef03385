"""From a review's final extractions to one outcome's meta-analysis, and tables/figures as bytes.

The ``outcome_data`` form stores each study's results in whatever shape the paper
gave: per-arm means and SDs, per-arm events, or a reported effect size with its SE
or CI. A lead pooling "loneliness, post-intervention, SMD" wants every study that
can give an SMD, whatever shape it came in, so :func:`study_effects` computes each
study's effect with :func:`review.synthesis.effects.compute_effects` in the shape
it has (arms → SMD/MD/OR/RR/RD; a reported effect size of the same measure →
``GENERIC`` with its SE or CI, ratio measures logged) and stacks them. Scores
where *lower* is better are turned round to the domain's majority direction, so
one forest plot reads one way, and the analysis says which were turned.

:func:`analyse` then pools with the same functions ``review meta`` uses
(:mod:`review.synthesis.meta`), keeping the real measure so ratios are
back-transformed on the plot.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from review.extraction import Codebook
from review.synthesis import mechanisms as mech
from review.synthesis import plots
from review.synthesis.effects import RATIO_MEASURES, EffectSizeError, compute_effects
from review.synthesis.grade import GradeError
from review.synthesis.mechanisms import OUTCOME_FORM
from review.synthesis.meta import (
    MetaAnalysisError,
    OutcomeAnalysis,
    cumulative_meta,
    egger_test,
    leave_one_out,
    meta_analyse,
    subgroup_analysis,
)
from review.synthesis.meta_plots import forest_plot, funnel_plot

#: Measures a lead can pool, and which stored effect shapes can give each.
POOLABLE = {"SMD": ("continuous",), "MD": ("continuous",), "OR": ("dichotomous",),
            "RR": ("dichotomous",), "RD": ("dichotomous",), "ZCOR": ()}
#: A reported effect size's measure → the measure it pools under.
_REPORTED_AS = {"SMD": "SMD", "MD": "MD", "OR": "OR", "RR": "RR", "RD": "RD", "r": "ZCOR"}
HIGHER, LOWER = "Higher is better", "Lower is better"
RESULT_COLUMNS = ["study_id", "study", "outcome", "measure_text", "time_point", "subgroup",
                  "direction_of_benefit", "kind", "effect", "reported_direction"]


class SynthesisInputError(ValueError):
    """The chosen outcome cannot be analysed as asked (too few studies, no usable data)."""


def results_frame(extractions: pd.DataFrame) -> pd.DataFrame:
    """Every result row of every study's ``outcome_data`` extraction, in form order."""
    rows = []
    for e in extractions[extractions["form_id"] == OUTCOME_FORM].itertuples(index=False):
        for r in (e.values or {}).get("outcomes") or []:
            effect = r.get("effect") if isinstance(r.get("effect"), Mapping) else None
            rows.append({"study_id": e.study_id, "study": e.short_citation,
                         "outcome": r.get("outcome"), "measure_text": r.get("measure"),
                         "time_point": r.get("time_point"), "subgroup": r.get("subgroup"),
                         "direction_of_benefit": r.get("direction_of_benefit"),
                         "kind": effect.get("kind") if effect else None, "effect": effect,
                         "reported_direction": r.get("reported_direction")})
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _gives(result: Mapping[str, Any], measure: str) -> bool:
    kind, effect = result["kind"], result["effect"]
    if kind in POOLABLE[measure]:
        return True
    return kind == "effect_size" and _REPORTED_AS.get(effect.get("measure")) == measure and (
        measure != "ZCOR" or bool(effect.get("n")))


def measures_available(results: pd.DataFrame, outcome: str, time_point: str | None = None
                       ) -> dict[str, int]:
    """For one outcome (and time point), how many studies could give each measure."""
    sel = _whole_sample(results, outcome, time_point)
    out = {}
    for m in POOLABLE:
        studies = {r["study_id"] for r in sel.to_dict("records") if _gives(r, m)}
        if studies:
            out[m] = len(studies)
    return out


def _whole_sample(results: pd.DataFrame, outcome: str, time_point: str | None) -> pd.DataFrame:
    sel = results[(results["outcome"] == outcome) & results["subgroup"].isna()
                  & results["effect"].notna()]
    if time_point:
        sel = sel[sel["time_point"] == time_point]
    return sel


#: Which result a study contributes when it reports several usable ones at the time point.
RESULT_CHOICES = {"all": "every result (three-level model)",
                  "first": "the first result extracted",
                  "largest_n": "the result with the largest sample"}


def time_points(results: pd.DataFrame, outcome: str) -> list[str]:
    """The time points at which whole-sample effect data of ``outcome`` was extracted."""
    sel = _whole_sample(results, outcome, None)
    return [str(t) for t in dict.fromkeys(sel["time_point"].dropna())]


def _size(r: Mapping[str, Any]) -> float:
    e = r["effect"] or {}
    if e.get("kind") in ("continuous", "dichotomous"):
        arms = [e.get("intervention") or {}, e.get("comparator") or {}]
        return float(sum(float(a.get("n") or a.get("total") or 0) for a in arms))
    return float(e.get("n") or 0)


def _describe(r: Mapping[str, Any]) -> str:
    def text(key: str) -> str | None:
        v = r.get(key)
        return str(v) if isinstance(v, str) and v.strip() else None

    bits = [text("measure_text"),
            f"time point {text('time_point')}" if text("time_point") else "no time point",
            f"subgroup {text('subgroup')}" if text("subgroup") else None]
    return f"{r['study']} ({', '.join(b for b in bits if b)})"


def study_effects(results: pd.DataFrame, outcome: str, measure: str,
                  time_point: str | None = None, level: float = 0.95,
                  result: str = "all", all_results: bool = False
                  ) -> tuple[pd.DataFrame, list[str]]:
    """One effect per study (yi, vi on the analysis scale) for ``outcome`` and ``measure``.

    The choice is explicit: where ``outcome`` was extracted at more than one time
    point, ``time_point`` must name one (results at two time points of one study
    are not independent, and pooling a 12-month follow-up with post-intervention
    results answers no question); where a study gives several whole-sample results
    at that time point, ``result`` says which (:data:`RESULT_CHOICES`; ``all``, or
    ``all_results``, keeps every one, several rows per study, for the three-level
    model). Every result of the outcome that is not pooled is named in the notes, with why.

    Returns the frame (study_id, study, yi, vi, n, source, measure_text, time_point,
    flipped; ``attrs["direction_of_benefit"]`` says which way they read) and notes.
    """
    if all_results:
        result = "all"
    if measure not in POOLABLE:
        raise SynthesisInputError(f"pool as one of {', '.join(POOLABLE)}, not {measure!r}")
    if result not in RESULT_CHOICES:
        raise SynthesisInputError(f"choose the result per study as one of "
                                  f"{', '.join(RESULT_CHOICES)}, not {result!r}")
    points = time_points(results, outcome)
    if time_point is None and len(points) > 1:
        raise SynthesisInputError(
            f"{outcome!r} was extracted at {len(points)} time points ({', '.join(points)}); "
            "choose one (--time-point in the CLI, “Time point” in the app)")
    if time_point is not None and points and time_point not in points:
        raise SynthesisInputError(f"no whole-sample result of {outcome!r} at time point "
                                  f"{time_point!r} (time points: {', '.join(points)})")
    results = results.assign(_i=range(len(results)))
    usable: dict[Any, list[dict[str, Any]]] = {}
    for r in _whole_sample(results, outcome, time_point).to_dict("records"):
        if _gives(r, measure):
            usable.setdefault(r["study_id"], []).append(r)
    if not usable:
        raise SynthesisInputError(f"no study reports {outcome!r} in a form that gives {measure}")
    chosen: dict[Any, dict[str, Any]] = {}
    for sid, rows in usable.items():
        if result == "all":
            chosen.update({(sid, r["_i"]): r for r in rows})
        else:
            chosen[sid] = rows[0] if result == "first" else max(rows, key=_size)
    left_out = []
    for r in results[results["outcome"] == outcome].to_dict("records"):
        if any(r["_i"] == c["_i"] for c in chosen.values()):
            continue
        if time_point is not None and r.get("time_point") != time_point:
            why = "another time point"
        elif isinstance(r.get("subgroup"), str) and r["subgroup"]:
            why = "a subgroup"
        elif r.get("effect") is None or not _gives(r, measure):
            why = f"cannot give {measure}"
        else:
            why = f"not {RESULT_CHOICES[result]} of its study"
        left_out.append(f"{_describe(r)}: {why}")
    notes: list[str] = []
    if left_out:
        notes.append(f"Left out of the pooling ({len(left_out)}): " + "; ".join(left_out) + ".")
    directions = [r["direction_of_benefit"] for r in chosen.values()]
    majority = LOWER if directions.count(LOWER) > directions.count(HIGHER) else HIGHER
    rows, flipped = [], []
    for r in chosen.values():
        yi, vi, n, source = _one_effect(r, measure, level)
        turn = r["direction_of_benefit"] in (HIGHER, LOWER) and \
            r["direction_of_benefit"] != majority
        if turn:
            yi = -yi
            flipped.append(str(r["study"]))
        rows.append({"study_id": r["study_id"], "study": r["study"], "yi": yi, "vi": vi,
                     "n": n, "source": source, "measure_text": r["measure_text"],
                     "time_point": r["time_point"], "flipped": turn})
    if flipped:
        notes.append(f"Sign reversed so that every study reads “{majority.lower()}”: "
                     + ", ".join(flipped) + ".")
    if measure == "RR" and flipped:
        notes.append("A reversed log risk ratio compares comparator with intervention.")
    out = pd.DataFrame(rows)
    out.attrs["direction_of_benefit"] = majority
    return out, notes


def favours(effects: pd.DataFrame) -> tuple[str, str]:
    """Forest-plot labels (left, right of no effect) for the direction the effects read."""
    if effects.attrs.get("direction_of_benefit") == LOWER:
        return ("Favours intervention", "Favours comparator")
    return ("Favours comparator", "Favours intervention")


def _one_effect(r: Mapping[str, Any], measure: str, level: float
                ) -> tuple[float, float, float | None, str]:
    e = r["effect"]
    label = str(r["study"])
    if e["kind"] == "continuous":
        a, b = e["intervention"], e["comparator"]
        df = pd.DataFrame([{"study": label, "n1": a["n"], "m1": a["mean"], "sd1": a["sd"],
                            "n2": b["n"], "m2": b["mean"], "sd2": b["sd"]}])
        source = "means and SDs"
    elif e["kind"] == "dichotomous":
        a, b = e["intervention"], e["comparator"]
        df = pd.DataFrame([{"study": label, "ai": a["events"], "bi": a["total"] - a["events"],
                            "ci": b["events"], "di": b["total"] - b["events"]}])
        source = "events per arm"
    elif measure == "ZCOR":
        df = pd.DataFrame([{"study": label, "ri": e["estimate"], "ni": e["n"]}])
        source = "reported r"
    else:
        log = measure in RATIO_MEASURES
        t = math.log if log else float
        row: dict[str, Any] = {"study": label, "yi": t(e["estimate"])}
        if e.get("se") is not None and not log:
            row["sei"] = e["se"]
        elif e.get("ci_lower") is not None and e.get("ci_upper") is not None:
            row.update(ci_low=t(e["ci_lower"]), ci_high=t(e["ci_upper"]),
                       ci_level=e.get("ci_level") or 0.95)
        elif e.get("se") is not None:
            raise SynthesisInputError(f"{label}: a {measure} with only an SE on its own scale "
                                      "cannot be logged; give its confidence interval")
        out = compute_effects(pd.DataFrame([row]), "GENERIC", level=level)
        return (float(out["yi"].iloc[0]), float(out["vi"].iloc[0]), e.get("n"),
                f"reported {e['measure']}")
    out = compute_effects(df, measure, level=level)
    n = out["n"].iloc[0] if "n" in out.columns else None
    return (float(out["yi"].iloc[0]), float(out["vi"].iloc[0]),
            None if n is None or pd.isna(n) else float(n), source)


def analyse(effects: pd.DataFrame, measure: str, method: str = "REML", hksj: bool = False,
            *, subgroup: str | None = None, years: Mapping[Any, int] | None = None,
            notes: list[str] | None = None, level: float = 0.95) -> OutcomeAnalysis:
    """Pool ``effects`` (from :func:`study_effects`), as ``review meta`` does, under ``measure``."""
    if len(effects) < 2:
        raise SynthesisInputError(f"only {len(effects)} study gives this outcome as {measure}; "
                                  "pooling needs two or more")
    notes = list(notes or [])
    studies = list(effects["study"])
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    ids = effects["study_id"] if "study_id" in effects.columns else effects["study"]
    n_clusters = ids.nunique()
    if 2 <= n_clusters < len(effects) and len(effects) >= 3:
        # several results of one study are not independent: three-level model (results in
        # studies) with CR2 errors, instead of keeping one result per study
        from review.synthesis.meta_multilevel import three_level

        result = three_level(yi, vi, ids.tolist(), studies=studies, measure=measure,
                             level=level, robust=True, notes=notes)
        return OutcomeAnalysis(effects=effects, result=result, notes=result.notes)
    result = meta_analyse(yi, vi, method, hksj, measure=measure, studies=studies, level=level,
                          notes=notes)
    sub = None
    if subgroup:
        sub = subgroup_analysis(yi, vi, effects[subgroup].fillna("not reported").tolist(),
                                method, hksj, studies=studies, measure=measure, level=level,
                                variable=subgroup)
    egger = loo = cum = None
    if len(effects) >= 3:
        egger = egger_test(yi, vi, studies=studies)
        loo = leave_one_out(yi, vi, method, hksj, studies=studies, measure=measure, level=level)
        if len(effects) < 10:
            notes.append(f"Egger's test with {len(effects)} studies has little power "
                         "(fewer than 10).")
    if years:
        yrs = [years.get(s) for s in effects["study_id"]]
        if all(y is not None for y in yrs):
            cum = cumulative_meta(yi, vi, yrs, method, hksj, studies=studies, measure=measure,
                                  level=level)
    return OutcomeAnalysis(effects=effects, result=result, subgroups=sub, egger=egger,
                           leave_one_out=loo, cumulative=cum, notes=tuple(notes))


# --- bytes for downloads ----------------------------------------------------------------------

def figure_bytes(fig: Figure, fmt: str, dpi: int = 200) -> bytes:
    """A figure as PNG or SVG bytes (white background, trimmed), for st.image and downloads."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def table_bytes(tables: pd.DataFrame | Mapping[str, pd.DataFrame], fmt: str) -> bytes:
    """A table (or named tables) through :func:`review.synthesis.exports.export_table`."""
    from review.synthesis.exports import export_table

    with tempfile.TemporaryDirectory(prefix="review-table-") as tmp:
        return export_table(tables, Path(tmp) / f"table.{fmt}").read_bytes()


def summary_table(a: OutcomeAnalysis) -> pd.DataFrame:
    """The pooled result in one row, back-transformed where the measure is a ratio or r."""
    s = a.result.summary()
    row = {k: s[k] for k in ("k", "measure", "method", "estimate", "ci_low", "ci_high", "p",
                             "tau2", "i2", "q", "q_p", "pi_low", "pi_high")}
    bt = a.result.details().get("back_transformed")
    if bt:
        for k in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
            row[f"{k} ({bt['scale']})"] = bt[k]
    return pd.DataFrame([{k: (float(v) if isinstance(v, np.floating) else v)
                          for k, v in row.items()}])


# --- one view of the synthesis page -----------------------------------------------------------

@dataclass
class Panel:
    """Everything one synthesis view shows, computed in one go so a page can cache it.

    Tables are DataFrames; figures and downloads are bytes (PNG and SVG; CSV, XLSX,
    DOCX), so the whole panel pickles and the drawing happens once per input.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    downloads: dict[str, dict[str, bytes]] = field(default_factory=dict)
    metrics: list[tuple[str, str, str | None]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: str | None = None
    error: str | None = None


TABLE_FORMATS = ("csv", "xlsx", "docx")


def _figure_pair(fig: Figure) -> tuple[bytes, bytes]:
    return figure_bytes(fig, "png"), figure_bytes(fig, "svg")


def _downloads(tables: pd.DataFrame | Mapping[str, pd.DataFrame],
               formats: tuple[str, ...] = TABLE_FORMATS) -> dict[str, bytes]:
    return {fmt: table_bytes(tables, fmt) for fmt in formats}


def mechanisms_panel(ex: pd.DataFrame, codebook: Codebook | None, *,
                     population: list[str] | None = None, setting: list[str] | None = None,
                     outcome: list[str] | None = None) -> Panel:
    table = mech.mechanism_table(ex, codebook, population=population or None,
                                 setting=setting or None, outcome=outcome or None)
    if table.cells.empty:
        return Panel(empty="No coded mechanisms match these filters.")
    text = table.as_text()
    notes = [f"Filtered by {table.describe_filters()}."] if table.describe_filters() else []
    return Panel(tables={"mechanism_table": text}, notes=notes,
                 downloads={"mechanism_table": _downloads(text)},
                 figures={"mechanism_heatmap": _figure_pair(plots.mechanism_heatmap(table))})


def cmo_panel(ex: pd.DataFrame, codebook: Codebook | None, *,
              intervention_type: str | None = None) -> Panel:
    tables = mech.cmo_tables(ex, codebook)
    if not tables:
        return Panel(empty="No CMO configurations have been extracted.")
    one = tables.get(intervention_type) if intervention_type else next(iter(tables.values()))
    if one is None:
        return Panel(empty=f"No CMO configurations for {intervention_type}.")
    return Panel(tables={"cmo": one},
                 downloads={"cmo_tables": _downloads(tables, ("xlsx", "docx")),
                            "cmo": _downloads(one, ("csv",))})


def direction_panel(ex: pd.DataFrame, codebook: Codebook | None) -> Panel:
    table = mech.effect_direction_table(ex, codebook)
    if table.empty:
        return Panel(empty="No outcome results have been extracted.")
    summary = mech.direction_summary(ex, codebook)
    fig = plots.effect_direction_plot(mech.effect_directions(ex, codebook))
    return Panel(tables={"effect_direction": table, "direction_summary": summary},
                 downloads={"effect_direction": _downloads(table),
                            "direction_summary": _downloads(summary)},
                 figures={"effect_direction_plot": _figure_pair(fig)},
                 notes=["▲ benefit, ▼ harm, ◄► no change, mixed or conflicting (70% rule)."])


def for_whom_panel(ex: pd.DataFrame, codebook: Codebook | None) -> Panel:
    table = mech.for_whom_table(ex, codebook)
    if table.empty or len(table.columns) <= 1:
        return Panel(empty="No results to break down by population yet.")
    return Panel(tables={"for_whom": table}, downloads={"for_whom": _downloads(table)})


def rob_panel(ex: pd.DataFrame, codebook: Codebook | None, *, tool: str = "RoB 2") -> Panel:
    table = mech.risk_of_bias_table(ex, tool)
    if table.empty:
        return Panel(empty=f"No study was assessed with {tool}.")
    prefix = mech.ROB_TOOLS[tool].prefix
    return Panel(tables={f"risk_of_bias_{prefix}": table.drop(columns=["study_id"],
                                                              errors="ignore")},
                 downloads={f"risk_of_bias_{prefix}": _downloads(table)},
                 figures={f"{prefix}_traffic_light": _figure_pair(plots.rob_traffic_light(
                     table, tool)),
                          f"{prefix}_summary": _figure_pair(plots.rob_summary(table, tool))})


def _with_study_facts(effects: pd.DataFrame, ex: pd.DataFrame, codebook: Codebook | None
                      ) -> pd.DataFrame:
    """Add intervention type, design and overall risk of bias per study, for subgroups."""
    facts = mech.effect_directions(ex, codebook)
    out = effects.copy()
    first = facts.drop_duplicates("study_id").set_index("study_id") if not facts.empty \
        else pd.DataFrame()
    for col in ("intervention_type", "design", "rob_overall"):
        out[col] = [first[col].get(s) if col in first.columns else None
                    for s in out["study_id"]]
    out.attrs = dict(effects.attrs)
    return out


def meta_panel(ex: pd.DataFrame, codebook: Codebook | None, *, outcome: str,
               time_point: str | None, measure: str, method: str = "REML",
               hksj: bool = False, subgroup: str | None = None,
               years: Mapping[str, int] | None = None, title: str | None = None,
               result: str = "first") -> Panel:
    """One outcome's analysis: numbers, forest and funnel plots, tables and downloads."""
    try:
        effects, notes = study_effects(results_frame(ex), outcome, measure, time_point,
                                       result=result)
        effects = _with_study_facts(effects, ex, codebook)
        a = analyse(effects, measure, method, hksj and method != "FE", subgroup=subgroup,
                    years={int(k): int(v) for k, v in (years or {}).items()}, notes=notes)
    except (SynthesisInputError, EffectSizeError, MetaAnalysisError) as exc:
        return Panel(error=str(exc))
    r, d = a.result, a.result.details()
    bt = d.get("back_transformed")
    est, lo, hi, pi_lo, pi_hi = ((bt["estimate"], bt["ci_low"], bt["ci_high"], bt["pi_low"],
                                  bt["pi_high"]) if bt else
                                 (r.estimate, r.ci_low, r.ci_high, r.pi_low, r.pi_high))
    scale = bt["scale"] if bt else r.measure
    panel = Panel(metrics=[
        (f"Pooled {scale}", f"{est:.2f}", d["model"]),
        (f"{r.level:.0%} CI", f"{lo:.2f} to {hi:.2f}", None),
        ("I²", f"{r.i2:.0f}%", f"τ² = {r.tau2:.3f}; Q = {r.q:.2f} (df {r.q_df}, "
                               f"p = {r.q_p:.3g})"),
        ("Studies", str(r.k), None)], notes=list(a.notes))
    panel.lines.append(f"{r.test} = {r.stat:.2f}, p = {r.p:.3g}; prediction interval "
                       f"{pi_lo:.2f} to {pi_hi:.2f}")
    if a.egger is not None:
        panel.lines.append(f"Egger's test: p = {a.egger.p:.3g}")
    tables: dict[str, pd.DataFrame] = {"summary": summary_table(a),
                                       "studies": r.study_table()}
    if a.subgroups is not None:
        s = a.subgroups
        panel.lines.append(f"Test for subgroup differences: {s.between_text}")
        tables["subgroups"] = s.table()
    if a.leave_one_out is not None:
        tables["leave_one_out"] = a.leave_one_out
    if a.cumulative is not None:
        tables["cumulative"] = a.cumulative
    shown = effects[["study", "source", "measure_text", "time_point", "yi", "vi", "flipped"]]
    panel.tables = {"effects": shown.rename(columns={
        "source": "from", "measure_text": "measure", "time_point": "time point",
        "yi": f"effect ({measure})", "vi": "variance", "flipped": "sign reversed"}), **tables}
    name = f"{outcome}_{measure}"
    panel.figures = {
        f"forest_{name}": _figure_pair(forest_plot(a.subgroups if a.subgroups is not None
                                                   else r, title=title,
                                                   favours=favours(effects))),
        f"funnel_{name}": _figure_pair(funnel_plot(r, egger=a.egger))}
    panel.downloads = {f"meta_{name}": _downloads(tables, ("xlsx", "docx"))}
    try:
        panel.downloads[f"grade_sof_{name}"] = grade_downloads(a, title or outcome)
    except GradeError as exc:
        panel.notes.append(f"GRADE summary of findings not drafted: {exc}")
    return panel


def grade_downloads(a: OutcomeAnalysis, outcome: str) -> dict[str, bytes]:
    """A GRADE summary-of-findings table drafted from the pooled data (DOCX and XLSX):
    inconsistency, imprecision and publication bias from the numbers, risk of bias and
    indirectness left at "not serious" and said to be the team's to rate."""
    from review.synthesis.grade import export_sof_docx, export_sof_xlsx
    from review.synthesis.grade_data import sof_row_from_data

    row, _ = sof_row_from_data(outcome, a)
    with tempfile.TemporaryDirectory(prefix="review-grade-") as tmp:
        return {"docx": export_sof_docx([row], Path(tmp) / "sof.docx").read_bytes(),
                "xlsx": export_sof_xlsx([row], Path(tmp) / "sof.xlsx").read_bytes()}


def sof_panel(ex: pd.DataFrame, codebook: Codebook | None, *, method: str = "REML",
              result: str = "all") -> Panel:
    """The review's GRADE summary of findings: one row per outcome and time point that has
    effect data, each pooled as the Meta-analysis view pools it (the measure most studies
    give) and rated from the numbers by :func:`review.synthesis.grade_data.sof_row_from_data`.

    The lead exports it from the Report page; an outcome that cannot be pooled is named in
    the notes with the reason, never dropped silently.
    """
    from review.synthesis.grade import export_sof_docx, export_sof_xlsx, sof_table
    from review.synthesis.grade_data import sof_row_from_data

    results = results_frame(ex)
    names = (codebook["outcomes"] if codebook is not None and "outcomes" in codebook
             else None)
    rows, notes = [], []
    pairs = results.dropna(subset=["outcome"])[["outcome", "time_point"]].drop_duplicates()
    for outcome, tp in pairs.itertuples(index=False):
        tp = None if pd.isna(tp) else str(tp)
        label = names.label_of(outcome) if names is not None else str(outcome)
        label = f"{label}, {tp}" if tp else label
        available = measures_available(results, outcome, tp)
        if not available:
            notes.append(f"{label}: no study gives effect data (only directions)")
            continue
        measure = max(available, key=lambda m: (available[m], m == "SMD"))
        try:
            effects, effect_notes = study_effects(results, outcome, measure, tp, result=result)
            effects = _with_study_facts(effects, ex, codebook)
            a = analyse(effects, measure, method, notes=effect_notes)
            rows.append(sof_row_from_data(label, a)[0])
        except (SynthesisInputError, EffectSizeError, MetaAnalysisError, GradeError) as exc:
            notes.append(f"{label}: not drafted ({exc})")
    if not rows:
        return Panel(empty="No outcome can be pooled yet, so there is no summary of findings "
                           "to draft.", notes=notes)
    table, footnotes = sof_table(rows)
    with tempfile.TemporaryDirectory(prefix="review-sof-") as tmp:
        files = {"docx": export_sof_docx(rows, Path(tmp) / "sof.docx").read_bytes(),
                 "xlsx": export_sof_xlsx(rows, Path(tmp) / "sof.xlsx").read_bytes()}
    notes += [f"{mark} {text}" for mark, text in footnotes]
    return Panel(tables={"summary_of_findings": table},
                 downloads={"summary_of_findings": files}, notes=notes)


#: View name → panel function, for pages that pick a view by name.
PANELS = {"Mechanisms": mechanisms_panel, "CMO configurations": cmo_panel,
          "Effect direction": direction_panel, "For whom": for_whom_panel,
          "Risk of bias": rob_panel, "Meta-analysis": meta_panel}
