"""Lead tools: each reviewer's progress, handing records back or to someone else, the conflict
list with filters, and the review's tags.

Only a lead opens this page, and every action checks the role again in
:mod:`review.screening.lead_tools` / :mod:`review.screening.tags`. A record
here is "record #N", the same number as on every other page; "Open" takes
the lead to it on the Records page.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.widgets import escape_markdown, shorten
from review.screening import lead_tools, pdf_import, ranking_controls, seed, tags
from review.screening.record_list import RecordListError

TITLE = "Lead tools"
ICON = ":material/supervisor_account:"
URL = "lead"
ROLES = ("lead",)

STAGE_WORDS = {"title_abstract": "Title/abstract", "full_text": "Full text"}
ANY = "(any)"
K_FLASH = "lead_flash"


def _flash() -> None:
    got = st.session_state.pop(K_FLASH, None)
    if got:
        kind, text = got
        (st.success if kind == "ok" else st.error)(escape_markdown(text))


def _progress(ctx: AppContext, stage: str) -> pd.DataFrame:
    prog = lead_tools.reviewer_progress(ctx.store, ctx.user, stage, ctx.settings)
    st.subheader("Progress per reviewer")
    st.dataframe(prog.rename(columns={
        "reviewer": "Reviewer", "role": "Role", "active": "Active",
        "handed_out": "Handed out", "decided": "Decided", "pending": "Pending",
        "conflicts": "In conflict"}).drop(columns=["reviewer_id"]),
        hide_index=True, width="stretch")
    return prog


def _release(ctx: AppContext, stage: str, prog: pd.DataFrame) -> None:
    st.subheader("Release or reassign undecided records")
    holders = prog[prog["pending"] > 0]
    if holders.empty:
        st.caption("Nobody holds an undecided record at this stage.")
        return
    names = dict(zip(prog["reviewer_id"].astype(int), prog["reviewer"], strict=True))
    active = [int(r) for r, a, role in zip(prog["reviewer_id"], prog["active"], prog["role"],
                                           strict=True) if a and role != "automation"]
    with st.form("lead_release"):
        c = st.columns(3)
        pending = dict(zip(holders["reviewer_id"].astype(int), holders["pending"],
                           strict=True))
        who = c[0].selectbox("From", list(pending), key="lead_from",
                             format_func=lambda r: f"{names[r]} ({int(pending[r])} pending)")
        to = c[1].selectbox("To", [None, *active], key="lead_to",
                            format_func=lambda r: "Back to the pool" if r is None else names[r])
        n = c[2].number_input("How many (newest hand-outs are kept)", min_value=1, value=None,
                              step=1, key="lead_n",
                              help="Leave empty to move all of them.")
        if st.form_submit_button("Move records", icon=":material/move_up:"):
            try:
                open_ids = lead_tools.open_records(ctx.store, ctx.user, int(who), stage)
                chosen = open_ids if n is None else open_ids[: int(n)]
                moved = lead_tools.release(ctx.store, ctx.user, int(who), stage,
                                           to_reviewer=to, record_ids=chosen)
                where = "back to the pool" if to is None else f"to {names[to]}"
                st.session_state[K_FLASH] = ("ok", f"Moved {moved} of {names[who]}'s "
                                             f"undecided records {where}.")
            except RecordListError as exc:
                st.session_state[K_FLASH] = ("error", str(exc))
            st.rerun()


def _conflicts(ctx: AppContext, stage: str, prog: pd.DataFrame) -> None:
    st.subheader("Conflicts")
    names = dict(zip(prog["reviewer_id"].astype(int), prog["reviewer"], strict=True))
    reasons = [str(r) for r in ctx.settings.get(f"exclusion_reasons_{stage}") or []]
    c = st.columns(3)
    who = c[0].selectbox("Reviewer", [ANY, *names], key="lead_c_who",
                         format_func=lambda r: r if r == ANY else names[r])
    why = c[1].selectbox("Reason", [ANY, *reasons], key="lead_c_reason")
    label = c[2].selectbox("A reviewer said", [ANY, "include", "exclude", "maybe"],
                           key="lead_c_label")
    table = lead_tools.conflict_list(
        ctx.store, ctx.user, stage, ctx.settings,
        reviewer_id=None if who == ANY else int(who), reason=None if why == ANY else why,
        label=None if label == ANY else label)
    st.caption(f"{len(table):,} records in conflict match. Resolve them on the Conflicts page.")
    if table.empty:
        return
    shown = pd.DataFrame({"Record": [f"#{r}" for r in table["record_id"]],
                          "Title": [shorten(t, 120) for t in table["title"]],
                          "Year": table["year"], "Reviewers": table["reviewers"],
                          "Reasons": table["reasons"]})
    event = st.dataframe(shown, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key="lead_conflicts")
    rows = getattr(getattr(event, "selection", None), "rows", None) or []
    if rows:
        rid = int(table["record_id"].iloc[rows[0]])
        if st.button(f"Open record #{rid} in Records", key="lead_open"):
            from review.app.pages.records import OPEN_REQUEST
            st.session_state[OPEN_REQUEST] = rid
            st.session_state["goto"] = "records"
            st.rerun()


def _tags(ctx: AppContext) -> None:
    st.subheader("Tags")
    frame = tags.tags_frame(ctx.store)
    if not frame.empty:
        st.dataframe(frame.rename(columns={"name": "Tag", "description": "Description",
                                           "records": "Records"})[
            ["Tag", "Description", "Records"]], hide_index=True, width="stretch")
    with st.form("lead_new_tag", clear_on_submit=True):
        c = st.columns([1, 2])
        name = c[0].text_input("New tag", max_chars=tags.MAX_TAG_CHARS, key="lead_tag_name")
        desc = c[1].text_input("What it means (optional)", max_chars=500, key="lead_tag_desc")
        if st.form_submit_button("Add tag", icon=":material/sell:"):
            try:
                tags.create_tag(ctx.store, ctx.user, name, desc)
                st.session_state[K_FLASH] = ("ok", f"Added the tag {name.strip()!r}")
            except tags.TagError as exc:
                st.session_state[K_FLASH] = ("error", str(exc))
            st.rerun()
    if not frame.empty:
        names = dict(zip(frame["tag_id"].astype(int), frame["name"], strict=True))
        c = st.columns([2, 1])
        retire = c[0].selectbox("Retire a tag (it stays on its records)", list(names),
                                format_func=lambda t: names[t], key="lead_retire")
        if c[1].button("Retire", key="lead_retire_btn"):
            tags.archive_tag(ctx.store, ctx.user, int(retire))
            st.session_state[K_FLASH] = ("ok", f"Retired the tag {names[int(retire)]!r}")
            st.rerun()


#: The largest zip (or set of PDFs) one import takes, in MB; the uploader shows the same number.
MAX_IMPORT_MB = 500


def _pdf_import(ctx: AppContext) -> None:
    st.subheader("Import full-text PDFs")
    st.caption("A zip of PDFs, or several PDFs at once. Each is matched to a record that "
               "reached full text by its DOI, PMID (\"PMID12345678.pdf\") or title; the rest "
               f"are listed below. Each PDF up to {pdf_import.MAX_PDF_BYTES // 1_048_576} MB, "
               f"at most {pdf_import.MAX_FILES:,} files.")
    nonce = st.session_state.setdefault("lead_pdf_nonce", 0)
    files = st.file_uploader("Zip or PDFs", type=["zip", "pdf"], accept_multiple_files=True,
                             max_upload_size=MAX_IMPORT_MB, key=f"lead_pdfs_{nonce}")
    replace = st.checkbox("Replace PDFs already attached", key="lead_pdf_replace")
    if st.button("Import", key="lead_pdf_go", disabled=not files, icon=":material/upload:"):
        def entries():
            for f in files or []:
                data = f.getvalue()
                if len(data) > MAX_IMPORT_MB * 1_048_576:  # the same limit, checked here too
                    yield f.name, None, f"larger than {MAX_IMPORT_MB} MB"
                elif f.name.lower().endswith(".zip"):
                    yield from pdf_import.read_zip(data)
                else:
                    yield f.name, data, None
        try:
            result = pdf_import.import_pdfs(ctx.store, entries(), ctx.user.username,
                                            replace=replace)
        except pdf_import.ImportRejected as exc:
            st.error(escape_markdown(str(exc)))
            return
        st.session_state["lead_pdf_result"] = result
        st.session_state["lead_pdf_nonce"] = nonce + 1
        st.rerun()
    result = st.session_state.get("lead_pdf_result")
    if result is not None:
        st.success(f"Attached {len(result.matched)} PDFs; {len(result.unmatched)} not matched.")
        if result.matched:
            st.dataframe(pd.DataFrame({
                "File": [m["file"] for m in result.matched],
                "Record": [f"#{m['record_id']}" for m in result.matched],
                "Matched by": [m["by"] for m in result.matched]}),
                hide_index=True, width="stretch", key="lead_pdf_matched")
        if result.unmatched:
            st.markdown("**Not matched**")
            st.dataframe(pd.DataFrame({"File": [u["file"] for u in result.unmatched],
                                       "Why": [u["why"] for u in result.unmatched]}),
                         hide_index=True, width="stretch", key="lead_pdf_unmatched")


def _stopping_rule(ctx: AppContext) -> None:
    """Which rule the screening page's recall estimate and advice come from."""
    available, chosen = ranking_controls.stopping_rules(ctx.store)
    descriptions = dict(available)
    names = list(descriptions)
    warning = ranking_controls.weak_ranking_warning(ctx.store)
    if warning:
        st.warning(escape_markdown(warning), icon=":material/warning:")
    pick = st.selectbox("Stopping rule for the recall estimate", names,
                        index=names.index(chosen) if chosen in names else 0,
                        format_func=lambda n: f"{n}: {descriptions[n]}", key="lead_stopping",
                        help="Both estimate recall from the ranked order. For a guarantee "
                             "that holds on any ranking, start random sampling on the Team "
                             "page.")
    if pick != chosen and st.button("Use this stopping rule", key="lead_use_stopping"):
        ranking_controls.choose_stopping_rule(ctx.store, ctx.user, pick)
        st.session_state[K_FLASH] = ("ok", f"The recall estimate now comes from the {pick} "
                                     "rule.")
        st.rerun()


def _ranking(ctx: AppContext) -> None:
    st.subheader("Ranking model")
    runs = ranking_controls.ranking_runs(ctx.store, ctx.user)
    c = st.columns([3, 1])
    if runs.empty:
        c[0].caption("No fit yet: the model fits once two records are labelled.")
    else:
        last = runs.iloc[0]
        c[0].markdown(f"Latest fit: **{escape_markdown(last['model'])}** on "
                      f"{int(last['labelled']):,} labelled records "
                      f"({int(last['relevant']):,} relevant). Every record's score and rank "
                      "are in the Records list (sort by relevance).")
    available, chosen = ranking_controls.models(ctx.store)
    descriptions = dict(available)
    names = list(descriptions)
    pick = c[0].selectbox("Model for the next refits", names,
                          index=names.index(chosen) if chosen in names else 0,
                          format_func=lambda n: f"{n}: {descriptions[n]}", key="lead_model")
    if pick != chosen and c[0].button("Use this model and refit", key="lead_use_model"):
        ranking_controls.choose_model(ctx.store, ctx.user, pick)
        ranking_controls.refit_now(ctx.store, ctx.user)
        st.session_state[K_FLASH] = ("ok", f"The review is now ranked with {pick}; the refit "
                                     "runs in the background.")
        st.rerun()
    if c[1].button("Refit now", key="lead_refit", icon=":material/model_training:"):
        started = ranking_controls.refit_now(ctx.store, ctx.user)
        st.session_state[K_FLASH] = ("ok", "Refit started in the background; the queue follows "
                                     "the new ranking as soon as it is stored." if started
                                     else "A refit is already running or nothing to fit yet.")
        st.rerun()
    _stopping_rule(ctx)
    curve = ranking_controls.recall_curve(ctx.store, ctx.user)
    if len(curve) >= 2:
        st.caption("Relevant records found against records screened (in the order they "
                   "were screened), beside what a random order would find.")
        st.line_chart(curve.set_index("screened")[["found", "random"]], height=260,
                      x_label="records screened", y_label="relevant found")


#: File types the seed uploader offers: what :mod:`review.io` reads.
SEED_TYPES = ["ris", "txt", "nbib", "bib", "csv", "tsv", "xlsx"]


def _seed(ctx: AppContext) -> None:
    st.subheader("Seed the model with known relevant papers")
    st.caption("Upload the key papers you already know belong in the review (RIS, MEDLINE, "
               "Web of Science, BibTeX, CSV or XLSX). Each is matched to the review's records "
               "by DOI, then PMID, then title; you see what matched before anything is "
               "recorded. Confirming records each match as your include at title/abstract "
               "(audited; earlier decisions stay in the history), and the model is refitted "
               f"on them. Up to {seed.MAX_SEED_MB} MB and {seed.MAX_SEED_PAPERS:,} papers.")
    nonce = st.session_state.setdefault("lead_seed_nonce", 0)
    upload = st.file_uploader("Key papers", type=SEED_TYPES, max_upload_size=seed.MAX_SEED_MB,
                              key=f"lead_seed_{nonce}")
    if upload is None:
        return
    data = upload.getvalue()
    try:  # read and matched on the server every time: nothing from the page is trusted
        plan = seed.plan_seed(ctx.store, ctx.user, data, upload.name)
    except seed.SeedError as exc:
        st.error(escape_markdown(str(exc)))
        return
    for w in plan.warnings:
        st.caption(escape_markdown(w))
    n = len(plan.to_include)
    st.markdown(f"**{len(plan.matched):,}** of {len(plan.matched) + len(plan.unmatched):,} "
                f"papers matched a record; **{n:,}** will be recorded as your includes.")
    if plan.matched:
        st.dataframe(pd.DataFrame({
            "Paper": [r.paper for r in plan.matched],
            "Title": [shorten(r.title, 100) for r in plan.matched],
            "Record": [f"#{r.record_id}" for r in plan.matched],
            "Matched by": [r.by for r in plan.matched],
            "On confirming": [r.status for r in plan.matched]}),
            hide_index=True, width="stretch", key="lead_seed_matched")
    if plan.unmatched:
        st.markdown("**Not matched**")
        st.dataframe(pd.DataFrame({
            "Paper": [r.paper for r in plan.unmatched],
            "Title": [shorten(r.title, 100) for r in plan.unmatched],
            "Why": [r.status for r in plan.unmatched]}),
            hide_index=True, width="stretch", key="lead_seed_unmatched")
    if st.button(f"Confirm: include {n:,} records and refit", key="lead_seed_go",
                 disabled=n == 0, type="primary", icon=":material/verified:"):
        try:
            done = seed.apply_seed(ctx.store, ctx.user, data, upload.name, ctx.settings)
        except seed.SeedError as exc:
            st.error(escape_markdown(str(exc)))
            return
        ranking_controls.refit_now(ctx.store, ctx.user)
        st.session_state[K_FLASH] = ("ok", f"Recorded {len(done.to_include):,} known relevant "
                                     f"papers from {upload.name} as your includes; the model "
                                     "refits on them in the background.")
        st.session_state["lead_seed_nonce"] = nonce + 1
        st.rerun()


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title("Lead tools")
    _flash()
    stage = st.radio("Stage", list(STAGE_WORDS), format_func=STAGE_WORDS.get, horizontal=True,
                     key="lead_stage")
    prog = _progress(ctx, stage)
    _release(ctx, stage, prog)
    _conflicts(ctx, stage, prog)
    _tags(ctx)
    _ranking(ctx)
    _seed(ctx)
    _pdf_import(ctx)
