"""Extraction page: extract each included study with the review's forms, then agree.

Inputs are generated from the YAML forms (:mod:`review.app.form_widgets`). With
single extraction a submitted form counts as it is; with dual extraction two
reviewers submit independently (neither sees the other's values) and the lead
compares them field by field and records the consensus.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.form_widgets import as_text, render_form, values_table
from review.app.pdf_view import show_stored_pdf
from review.app.widgets import escape_markdown, shorten
from review.extraction import (
    ConsensusError,
    Form,
    FormError,
    Pick,
    build_consensus,
    carry_over,
    compare_extractions,
    default_values,
)
from review.extraction import store_ops as ops
from review.store import repo

TITLE = "Extraction"
ICON = ":material/table_edit:"
URL = "extraction"
ROLES = ("lead", "reviewer")

_FLASH = "ex_flash"
_RESOLVE = {"A": Pick.A, "B": Pick.B, "Leave empty": None}


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title(TITLE)
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(escape_markdown(flash))
    store = ctx.store
    settings = ctx.settings or repo.get_settings(store)
    try:
        library = ops.library(settings)
    except (ops.ExtractionError, FormError) as exc:
        st.error(escape_markdown(f"The extraction forms cannot be loaded: {exc}"))
        return
    forms = library.current()
    per = ops.extractors_per_study(settings)
    if ctx.is_lead:
        per = _mode(ctx, per)

    studies = ops.studies_to_extract(store)
    if studies.empty:
        st.info("No studies to extract yet: include reports at full text and group them into "
                "studies on the full-text page.")
        return
    progress = ops.progress_frame(store, forms, per)
    complete = int((progress["forms done"] == len(forms)).sum())
    c1, c2 = st.columns(2)
    c1.metric("Studies to extract", len(studies))
    c2.metric("Studies fully extracted", complete)
    st.dataframe(progress, hide_index=True)

    labels = dict(zip(studies["study_id"].astype(int), studies["study"], strict=True))
    c1, c2 = st.columns(2)
    sid = c1.selectbox("Study", list(labels), key="ex_study", format_func=lambda s: labels[s])
    by_id = {f.id: f for f in forms}
    form_id = c2.selectbox("Form", list(by_id), key="ex_form",
                           format_func=lambda f: f"{by_id[f].title} (v{by_id[f].version})")
    if sid is None or form_id is None:
        return
    form = by_id[form_id]
    if form.description:
        st.caption(escape_markdown(form.description))

    views = ["My extraction"]
    if ctx.is_lead:
        views.append("Compare and agree" if per == 2 else "Submitted extractions")
    view = st.radio("View", views, horizontal=True, key="ex_view") if len(views) > 1 \
        else views[0]
    if view == "My extraction":
        pdfs = ops.study_pdfs(store, int(sid))
        if pdfs:
            view_col, form_col = st.columns([1, 1], gap="medium")
            with view_col:
                _pdf(ctx, int(sid), pdfs)
            with form_col:
                _extract(ctx, int(sid), form, library)
        else:
            st.caption("No PDF stored for this study's reports: attach one on the Full text "
                       "page to read it beside the form.")
            _extract(ctx, int(sid), form, library)
    elif per == 2:
        _compare(ctx, int(sid), form)
    else:
        _submitted(ctx, int(sid), form)


def _pdf(ctx: AppContext, sid: int, pdfs: list[dict[str, Any]]) -> None:
    """The study's full text beside the form (a study with several reports: pick one)."""
    by_report = {p["report_id"]: p for p in pdfs}
    rid = next(iter(by_report))
    if len(by_report) > 1:
        rid = st.selectbox("Full text", list(by_report), key=f"ex_pdf_pick_{sid}",
                           format_func=lambda r: f"Record #{by_report[r]['record_id']} · "
                           f"{shorten(by_report[r]['title'], 70)}")
    p = by_report[rid]
    st.caption(f"Full text of record #{p['record_id']}")
    show_stored_pdf(ctx.store, p["pdf_path"], p["pdf_sha256"], key=f"ex_pdf_{p['report_id']}")


def _mode(ctx: AppContext, per: int) -> int:
    choice = st.radio("Extractors per study", [1, 2], index=per - 1, horizontal=True,
                      key="ex_per_study",
                      format_func=lambda n: "Single extraction" if n == 1
                      else "Dual extraction with consensus")
    if choice != per:
        ctx.require("lead")
        repo.set_setting(ctx.store, "extractors_per_study", int(choice), actor=ctx.user.username)
        st.session_state[_FLASH] = ("Dual extraction: two reviewers per study, then a consensus."
                                    if choice == 2 else "Single extraction: one reviewer per "
                                    "study.")
        st.rerun()
    return per


def _extract(ctx: AppContext, sid: int, form: Form, library) -> None:
    me = ctx.user
    own = ops.latest_own(ctx.store, sid, form.id, me.reviewer_id)
    initial: dict[str, Any] = default_values(form)
    if own is not None and int(own["form_version"]) == form.version:
        initial = own["values"] or {}
        st.caption(f"Your extraction: {own['status']} (saved {own['updated_at']:%Y-%m-%d %H:%M})")
    elif own is not None:
        old = library.get(form.id, int(own["form_version"]))
        initial, problems = carry_over(own["values"] or {}, old, form)
        st.info(f"You extracted this study with version {old.version} of the form; its values "
                f"are carried over to version {form.version} (your version {old.version} "
                "extraction is kept unchanged).")
        for p in problems:
            st.warning(escape_markdown(str(p)))
    prefix = f"ex.{sid}.{form.id}.v{form.version}"
    values = render_form(form, initial, prefix)
    c1, c2 = st.columns(2)
    if c1.button("Save draft", key=f"{prefix}.__save"):
        _act(lambda: ops.save(ctx.store, study_id=sid, form=form, reviewer_id=me.reviewer_id,
                              values=values, submit=False, actor=me.username),
             f"Draft of “{form.title}” saved.")
    if c2.button("Submit", key=f"{prefix}.__submit", type="primary"):
        _act(lambda: ops.save(ctx.store, study_id=sid, form=form, reviewer_id=me.reviewer_id,
                              values=values, submit=True, actor=me.username),
             f"“{form.title}” submitted.")


def _submitted(ctx: AppContext, sid: int, form: Form) -> None:
    rows = ops.submitted(ctx.store, sid, form.id, form.version)
    if rows.empty:
        st.info("Nobody has submitted this form for this study yet.")
        return
    names = repo.reviewers_frame(ctx.store).set_index("reviewer_id")["display_name"]
    for r in rows.itertuples(index=False):
        st.subheader(str(names.get(r.reviewer_id, r.reviewer_id)))
        st.dataframe(values_table(form, r.values or {}), hide_index=True)


def _compare(ctx: AppContext, sid: int, form: Form) -> None:
    ctx.require("lead")
    rows = ops.submitted(ctx.store, sid, form.id, form.version)
    if len(rows) < 2:
        st.info(f"{len(rows)} of 2 extractions submitted; the comparison opens when both are in.")
        return
    names = repo.reviewers_frame(ctx.store).set_index("reviewer_id")["display_name"]
    a_row, b_row = rows.iloc[0], rows.iloc[1]
    a_name = str(names.get(a_row["reviewer_id"], "A"))
    b_name = str(names.get(b_row["reviewer_id"], "B"))
    a, b = a_row["values"] or {}, b_row["values"] or {}
    comparison = compare_extractions(form, a, b)
    st.metric("Agreement", f"{comparison.agreement:.0%}",
              help=f"{comparison.n_agreed} of {comparison.n_compared} values agree")
    key = f"ex.cons.{sid}.{form.id}.v{form.version}"
    resolutions: dict[str, Any] = {}
    if comparison.differences:
        st.dataframe(pd.DataFrame({
            "field": [d.label for d in comparison.differences],
            "where": [d.path for d in comparison.differences],
            f"A: {a_name}": [as_text(d.a) for d in comparison.differences],
            f"B: {b_name}": [as_text(d.b) for d in comparison.differences],
        }), hide_index=True)
        for d in comparison.differences:
            pick = st.radio(f"{d.label} ({d.path})", list(_RESOLVE), index=None,
                            horizontal=True, key=f"{key}.{d.path}")
            if pick is not None:
                resolutions[d.path] = _RESOLVE[pick]
    else:
        st.success("The two extractions agree on every value.")
    if st.button("Save consensus", key=f"{key}.__save", type="primary"):
        def save() -> None:
            merged = build_consensus(form, a, b, resolutions)
            ops.save_consensus(ctx.store, study_id=sid, form=form, values=merged,
                               actor=ctx.user.username)
        _act(save, f"Consensus for “{form.title}” saved.")
    final = ops.final_rows(ops.extractions_frame(ctx.store, sid), 2)
    mine = final[(final["form_id"] == form.id) & (final["status"] == ops.CONSENSUS)]
    if not mine.empty:
        with st.expander("The consensus as saved"):
            st.dataframe(values_table(form, mine.iloc[-1]["values"] or {}), hide_index=True)


def _act(action, message: str) -> None:
    try:
        action()
    except (ops.ExtractionError, ConsensusError, repo.RepoError) as exc:
        st.error(escape_markdown(str(exc)))
        return
    st.session_state[_FLASH] = message
    st.rerun()
