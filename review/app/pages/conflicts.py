"""Conflicts (lead only): where reviewers disagree, the lead's resolution, and agreement statistics.

A resolution is recorded beside the decisions (a ``Resolution`` row), never
by changing them: PRISMA and the agreement statistics keep each reviewer's
own judgement. The lead sees every reviewer's label here even in blind mode;
that is the point of this page, and why only a lead may open it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.highlight import show_highlighted
from review.app.widgets import escape_markdown, shorten, show_keywords
from review.screening import tags
from review.screening.agreement import agreement_table
from review.screening.decisions import record_detail, records_brief, visible_decisions
from review.stages import DecisionError, Stage, checked_decision, current_decisions, stage_outcomes
from review.store import accounts, repo
from review.store.models import STAGES

TITLE = "Conflicts"
ICON = ":material/call_split:"
URL = "conflicts"
ROLES = ("lead",)

STAGE_WORDS = {s.value: s.words for s in Stage}
#: What a lead may resolve a record as, per stage (a full text is in hand: no "maybe").
FINAL_LABELS = {"title_abstract": ("include", "exclude", "maybe"),
                "full_text": ("include", "exclude")}
K_FLASH = "conf_flash"
K_ERROR = "conf_error"
NO_REASON = "(no reason)"


def conflicts_frame(decisions: pd.DataFrame, resolutions: pd.DataFrame, per_record: int
                    ) -> pd.DataFrame:
    """Records in conflict (unresolved), one row each, with each reviewer's current label."""
    out = stage_outcomes(decisions, resolutions, per_record)
    return out[out["status"] == "conflict"].reset_index(drop=True)


def _resolve(ctx: AppContext, stage: str, record_id: int) -> None:
    label = st.session_state.get(f"res_label_{stage}_{record_id}")
    reason = st.session_state.get(f"res_reason_{stage}_{record_id}")
    reason = None if label != "exclude" or reason == NO_REASON else reason
    note = (st.session_state.get(f"res_note_{stage}_{record_id}") or "").strip() or None
    ctx.require(*ROLES)
    if label is None:  # nothing is pre-selected: the lead must choose
        st.session_state[K_ERROR] = "Choose the final decision first."
        return
    try:  # the radio's and select box's values are checked against what was offered
        reason = checked_decision(ctx.settings, stage, label, reason, FINAL_LABELS[stage])
    except DecisionError as exc:
        st.session_state[K_ERROR] = f"Not resolved: {exc}."
        return
    repo.add_resolution(ctx.store, record_id=record_id, stage=stage, label=label,
                        resolved_by=ctx.user.reviewer_id, reason=reason, note=note)
    st.session_state[K_FLASH] = f"Resolved #{record_id} as {label}" + (
        f" ({reason})" if reason else "")


def _conflict_panel(ctx: AppContext, stage: str, record_id: int, decisions: pd.DataFrame,
                    names: dict[int, str]) -> None:
    rec = record_detail(ctx.store, record_id) or {"id": record_id}
    inc = list(ctx.settings.get("highlight_include") or [])
    exc = list(ctx.settings.get("highlight_exclude") or [])
    mine = tags.personal_terms(ctx.store, ctx.user.reviewer_id)
    with st.container(border=True):
        show_highlighted(rec.get("title") or "(no title)", inc, exc, mine, heading=True)
        where = " · ".join(str(x) for x in (rec.get("journal"), rec.get("year")) if x)
        if where:
            st.caption(escape_markdown(where))
        with st.expander("Abstract"):
            show_highlighted(rec.get("abstract") or "(no abstract)", inc, exc, mine,
                             legend=True)
            show_keywords(rec.get("keywords"))
    cur = current_decisions(decisions[decisions["record_id"] == record_id])
    table = pd.DataFrame({
        "reviewer": [names.get(int(r), str(r)) for r in cur["reviewer_id"]],
        "label": cur["label"].tolist(),
        "reason": cur["reason"].fillna("").tolist(),
        "note": cur["note"].fillna("").tolist() if "note" in cur else [""] * len(cur),
        "decided": cur["created_at"].tolist(),
    })
    st.dataframe(table, hide_index=True, width="stretch")
    reasons = [NO_REASON, *[str(r) for r in ctx.settings.get(f"exclusion_reasons_{stage}") or []]]
    # No st.form: Enter in a form's text field submits it, and a resolution must be a
    # deliberate click. Nothing is pre-selected, so the lead's choice is their own.
    error = st.session_state.pop(K_ERROR, None)
    if error:
        st.error(escape_markdown(error))
    c1, c2 = st.columns([1, 2])
    c1.radio("Final decision", FINAL_LABELS[stage], key=f"res_label_{stage}_{record_id}",
             horizontal=True, index=None)
    c2.selectbox("Reason (for exclude)", reasons, key=f"res_reason_{stage}_{record_id}")
    st.text_area("Note", key=f"res_note_{stage}_{record_id}", max_chars=2000, height=68)
    st.button("Resolve", type="primary", key=f"res_go_{stage}_{record_id}", on_click=_resolve,
              args=(ctx, stage, record_id))


def _agreement(ctx: AppContext, names: dict[int, str]) -> None:
    st.subheader("Agreement between reviewers")
    frames = [agreement_table(visible_decisions(ctx.store, ctx.user, stage, ctx.settings),
                              stage, names) for stage in STAGES]
    table = pd.concat([f for f in frames if not f.empty] or [frames[0]], ignore_index=True)
    if table.empty:
        st.caption("No two reviewers have decided the same record yet.")
        return
    table["stage"] = table["stage"].map(STAGE_WORDS)
    st.dataframe(table.rename(columns={"reviewer_a": "reviewer A", "reviewer_b": "reviewer B",
                                       "percent_agreement": "agreement %",
                                       "kappa": "Cohen's κ"}),
                 hide_index=True, width="stretch")
    st.caption("Cohen's κ over the records both reviewers decided (their current decisions); "
               "empty where a pair used one label only, so κ is undefined.")


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title(TITLE)
    flash = st.session_state.pop(K_FLASH, None)
    if flash:
        st.success(escape_markdown(flash), icon=":material/check:")
    store, settings = ctx.store, ctx.settings
    per = int(settings.get("reviewers_per_record", 1))
    names = accounts.reviewer_names(store)
    stage = st.radio("Stage", STAGES, format_func=STAGE_WORDS.get, horizontal=True,
                     key="conf_stage")
    decisions = visible_decisions(store, ctx.user, stage, settings)
    resolutions = repo.resolutions_frame(store, stage)
    conflicts = conflicts_frame(decisions, resolutions, per)
    c1, c2, c3 = st.columns(3)
    c1.metric("Open conflicts", len(conflicts))
    c2.metric("Resolved", resolutions["record_id"].nunique() if not resolutions.empty else 0)
    c3.metric("Reviewers per record", per)
    if conflicts.empty:
        st.info("No open conflicts at this stage.", icon=":material/handshake:")
    else:
        briefs = records_brief(store, conflicts["record_id"].astype(int).tolist())
        ids = conflicts["record_id"].astype(int).tolist()
        record_id = st.selectbox(
            "Conflict", ids, key=f"conf_pick_{stage}",
            format_func=lambda r: f"#{r} · {shorten((briefs.get(r) or {}).get('title'), 100)}")
        if record_id is not None:
            _conflict_panel(ctx, stage, int(record_id), decisions, names)
    if not resolutions.empty:
        with st.expander(f"Resolutions at this stage ({len(resolutions)})"):
            shown = resolutions.assign(
                resolved_by=[names.get(int(r), str(r)) for r in resolutions["resolved_by"]])
            st.dataframe(shown, hide_index=True, width="stretch")
    st.divider()
    _agreement(ctx, names)
