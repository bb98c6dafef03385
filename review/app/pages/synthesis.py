"""Synthesis page: what works, for whom and how (mechanism tables and plots), and meta-analysis.

Everything is computed from the final extractions (consensus, or the one
submitted extraction under single extraction) by :mod:`review.synthesis`; the
page only picks, shows and offers downloads (tables as CSV/XLSX/DOCX, figures
as PNG/SVG). One view is drawn at a time, and each view is computed once per
set of extractions and choices (cached for every session of the app process),
so clicking a download or coming back to a view does not redraw its figures.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.widgets import escape_markdown
from review.extraction import Codebook, FormError, load_forms
from review.extraction import store_ops as extraction_ops
from review.report.inputs import final_extractions, included_studies
from review.screening import fulltext
from review.store import repo
from review.synthesis import mechanisms as mech
from review.synthesis import store_ops as ops

TITLE = "Synthesis"
ICON = ":material/hub:"
URL = "synthesis"
ROLES = ("lead", "reviewer")

VIEWS = tuple(ops.PANELS)
METHODS = {"REML": "Random effects (REML)", "DL": "Random effects (DerSimonian–Laird)",
           "PM": "Random effects (Paule–Mandel)", "FE": "Common (fixed) effect"}
SUBGROUPS = {"": "No subgroups", "intervention_type": "Intervention type",
             "rob_overall": "Overall risk of bias", "design": "Study design"}
MIME = {"csv": "text/csv", "png": "image/png", "svg": "image/svg+xml",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@st.cache_data(max_entries=64, show_spinner="Drawing…")
def _panel(view: str, records_json: str, forms_dir: str, forms_stamp: float,
           params_json: str) -> ops.Panel:
    """One view, keyed by the extractions, the forms (folder and last change) and the
    choices made."""
    ex = mech.extractions_frame(json.loads(records_json))
    codebook = load_forms(forms_dir).codebook
    return ops.PANELS[view](ex, codebook, **json.loads(params_json))


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title(TITLE)
    settings = ctx.settings or repo.get_settings(ctx.store)
    try:
        forms_dir = extraction_ops.forms_dir(settings)
        codebook = load_forms(forms_dir).codebook
    except (extraction_ops.ExtractionError, FormError) as exc:
        st.error(escape_markdown(f"The extraction forms cannot be loaded: {exc}"))
        return
    records = final_extractions(ctx.store)
    if not records:
        st.info("Nothing to synthesise yet: the tables fill in as studies are extracted "
                "(submitted, or agreed under dual extraction).")
        return
    ex = mech.extractions_frame(records)
    n_included = included_studies(ctx.store)["study_key"].nunique()
    st.caption(f"From {ex['study_id'].nunique()} studies' final extractions "
               f"({n_included} included studies, as in PRISMA and the evidence tables).")
    view = st.radio("Show", VIEWS, horizontal=True, key="syn_view")
    params = _choices(ctx, view, ex, codebook)
    if params is None:
        return
    records_json = json.dumps(records, sort_keys=True, ensure_ascii=False, default=str)
    stamp = max((p.stat().st_mtime for p in forms_dir.rglob("*.y*ml")), default=0.0)
    _show(_panel(view, records_json, str(forms_dir.resolve()), stamp,
                 json.dumps(params, sort_keys=True, ensure_ascii=False)))


def _vocab(codebook: Codebook | None, name: str) -> dict[str, str]:
    if codebook is None or name not in codebook:
        return {}
    v = codebook[name]
    return {c: v.label_of(c) for c in v.codes()}


def _choices(ctx: AppContext, view: str, ex: pd.DataFrame, codebook: Codebook | None
             ) -> dict[str, Any] | None:
    """The widgets of one view; returns the panel's parameters (None: nothing to analyse)."""
    if view == "Mechanisms":
        params: dict[str, Any] = {}
        cols = st.columns(3)
        for col, (arg, vocab, label) in zip(cols, (("population", "populations", "Population"),
                                                   ("setting", "settings", "Setting"),
                                                   ("outcome", "outcomes", "Outcome")),
                                            strict=True):
            options = _vocab(codebook, vocab)
            params[arg] = col.multiselect(label, list(options), key=f"syn_mech_{arg}",
                                          format_func=lambda c, o=options: o.get(c, c))
        return params
    if view == "CMO configurations":
        types = list(mech.cmo_tables(ex, codebook))
        if not types:
            return {}
        return {"intervention_type": st.selectbox("Intervention type", types,
                                                  key="syn_cmo_type")}
    if view == "Risk of bias":
        return {"tool": st.radio("Tool", list(mech.ROB_TOOLS), horizontal=True,
                                 key="syn_rob_tool")}
    if view == "Meta-analysis":
        return _meta_choices(ctx, ex, codebook)
    return {}


def _meta_choices(ctx: AppContext, ex: pd.DataFrame, codebook: Codebook | None
                  ) -> dict[str, Any] | None:
    results = ops.results_frame(ex)
    outcomes = _vocab(codebook, "outcomes")
    have = list(dict.fromkeys(results["outcome"].dropna()))
    if not have:
        st.info("No outcome data has been extracted.")
        return None
    c1, c2 = st.columns(2)
    outcome = c1.selectbox("Outcome", have, key="syn_meta_outcome",
                           format_func=lambda o: outcomes.get(o, o))
    times = list(dict.fromkeys(results.loc[results["outcome"] == outcome, "time_point"]
                               .dropna()))
    time_point = c2.selectbox("Time point", times, key="syn_meta_time")
    available = ops.measures_available(results, outcome, time_point)
    if not available:
        st.info("No study gives effect data for this outcome and time point (only directions).")
        return None
    c3, c4, c5 = st.columns(3)
    measure = c3.selectbox("Effect measure", list(available), key="syn_meta_measure",
                           format_func=lambda m: f"{m} ({available[m]} studies)")
    method = c4.selectbox("Model", list(METHODS), key="syn_meta_method",
                          format_func=METHODS.get)
    hksj = c5.checkbox("Hartung–Knapp–Sidik–Jonkman", key="syn_meta_hksj",
                       disabled=method == "FE")
    subgroup = st.selectbox("Subgroups", list(SUBGROUPS), key="syn_meta_subgroup",
                            format_func=SUBGROUPS.get)
    pick = st.selectbox("A study with several results at this time point gives",
                        list(ops.RESULT_CHOICES), key="syn_meta_result",
                        format_func=ops.RESULT_CHOICES.get)
    reports = fulltext.reports_frame(ctx.store).dropna(subset=["study_id", "year"])
    years = {str(int(s)): int(y) for s, y in reports.groupby("study_id")["year"].min().items()}
    return {"outcome": outcome, "time_point": time_point, "measure": measure,
            "method": method, "hksj": bool(hksj and method != "FE"),
            "subgroup": subgroup or None, "years": years, "result": pick,
            "title": f"{outcomes.get(outcome, outcome)}, {time_point}"}


def _show(panel: ops.Panel) -> None:
    if panel.error:
        st.error(escape_markdown(panel.error))
        return
    if panel.empty:
        st.info(panel.empty)
        return
    if panel.metrics:
        cols = st.columns(len(panel.metrics))
        for col, (label, value, help_) in zip(cols, panel.metrics, strict=True):
            col.metric(label, value, help=help_)
    for line in panel.lines:
        st.text(line)
    for note in panel.notes:
        st.caption(escape_markdown(note))
    if panel.metrics:  # an analysis: its figures first, then the numbers behind them
        _figures(panel)
        _tables(panel)
    else:  # a narrative table: the table first, then its figure
        _tables(panel)
        _figures(panel)


def _tables(panel: ops.Panel) -> None:
    for name, table in panel.tables.items():
        if len(panel.tables) > 1:
            st.subheader(name.replace("_", " ").capitalize())
        st.dataframe(table, hide_index=True)
    for name, files in panel.downloads.items():
        st.caption(escape_markdown(f"Download {name.replace('_', ' ')}:"))
        cols = st.columns(len(files))
        for col, (fmt, data) in zip(cols, files.items(), strict=True):
            col.download_button(fmt.upper(), data, file_name=f"{name}.{fmt}", mime=MIME[fmt],
                                key=f"syn_dl_{name}_{fmt}")


def _figures(panel: ops.Panel) -> None:
    for name, (png, svg) in panel.figures.items():
        st.image(png)
        c1, c2 = st.columns(2)
        c1.download_button("PNG", png, file_name=f"{name}.png", mime=MIME["png"],
                           key=f"syn_fig_{name}_png")
        c2.download_button("SVG", svg, file_name=f"{name}.svg", mime=MIME["svg"],
                           key=f"syn_fig_{name}_svg")
