"""Full-text page: seek each report, attach its PDF or say why it was not retrieved, decide, group.

Records included at title/abstract become reports sought for retrieval as soon
as anyone opens this page. A reviewer works one report at a time; in blind
mode (the default) a reviewer sees only their own decisions, and a lead sees
everyone's.
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import streamlit as st

from review.app.citations import citation
from review.app.context import AppContext
from review.app.highlight import show_highlighted
from review.app.widgets import escape_markdown, shorten
from review.screening import fulltext as ops
from review.screening.decisions import sees_everyone
from review.store import repo
from review.store.files import MAX_PDF_BYTES, FileRejected, FilesLocationError, read_stored

TITLE = "Full text"
ICON = ":material/description:"
URL = "full-text"
ROLES = ("lead", "reviewer")

_FLASH = "ft_flash"
_FILTERS = ("To decide", "Not retrieved", "Decided by me", "All")
_RETRIEVAL_WORDS = {"sought": "sought", "retrieved": "retrieved", "not_retrieved": "not retrieved"}
_ERRORS = (ops.FullTextError, FileRejected, FilesLocationError, repo.RepoError)


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title(TITLE)
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(escape_markdown(flash))

    store, me = ctx.store, ctx.user
    added = repo.ensure_reports(store, actor=me.username)
    if added:
        st.info(f"{added} record(s) included at title/abstract are now reports sought for "
                "retrieval.")
    settings = ctx.settings or repo.get_settings(store)
    # blind mode is applied by the data layer: a blind reviewer gets no outcome columns
    reports = ops.reports_frame(store, me, settings)
    if reports.empty:
        st.info("No reports yet. Records included at title/abstract appear here as reports "
                "sought for retrieval.")
        return
    blind = not sees_everyone(me, settings)
    mine = ops.my_decisions(store, me.reviewer_id)
    _metrics(reports, mine, blind)

    studies = ops.studies_frame(store, reports)
    choice = st.radio("Show", _FILTERS, horizontal=True, key="ft_filter")
    shown = _filtered(reports, mine, choice)
    if shown.empty:
        st.info(f"No reports to show under “{choice}”.")
    else:
        _table(shown, mine, blind)
        titles = dict(zip(shown["report_id"], shown["title"], strict=True))
        number = dict(zip(shown["report_id"], shown["record_id"], strict=True))
        # A paper is "record #N" on every page (its record's number), never its report's.
        rid = st.selectbox("Record", list(titles), key="ft_report",
                           format_func=lambda r: f"#{number[r]} · {shorten(titles[r], 90)}")
        if rid is not None:
            row = reports.set_index("report_id").loc[rid]
            _report_panel(ctx, int(rid), row, mine.get(int(row["record_id"])), blind, settings,
                          studies)
    st.divider()
    _studies_panel(ctx, reports, studies)


# --- overview ---------------------------------------------------------------------------------

def _metrics(reports: pd.DataFrame, mine: dict[int, dict[str, Any]], blind: bool) -> None:
    c = ops.progress_counts(reports)
    cols = st.columns(6)
    cols[0].metric("Reports sought", c["sought"])
    cols[1].metric("Not retrieved", c["not_retrieved"])
    cols[2].metric("PDF attached", c["with_pdf"])
    if blind:
        labels = [d["label"] for d in mine.values()]
        cols[3].metric("Decided by me", len(labels))
        cols[4].metric("Included by me", labels.count("include"))
        cols[5].metric("Excluded by me", labels.count("exclude"))
    else:
        cols[3].metric("Assessed", c["assessed"])
        cols[4].metric("Included", c["included"])
        cols[5].metric("Excluded", c["excluded"])
        st.caption(f"Included: {c['included']} reports of {c['included_studies']} studies "
                   "(counted as in PRISMA and the evidence tables).")
        if c["conflicts"]:
            st.warning(f"{c['conflicts']} report(s) have conflicting decisions: resolve them on "
                       "the conflicts page.")


def _filtered(reports: pd.DataFrame, mine: dict[int, dict[str, Any]], choice: str) -> pd.DataFrame:
    decided = reports["record_id"].isin(list(mine))
    not_retrieved = reports["retrieval"] == "not_retrieved"
    if choice == "To decide":
        return reports[~decided & ~not_retrieved]
    if choice == "Not retrieved":
        return reports[not_retrieved]
    if choice == "Decided by me":
        return reports[decided]
    return reports


def _table(shown: pd.DataFrame, mine: dict[int, dict[str, Any]], blind: bool) -> None:
    def mine_of(record_id: int) -> str:
        d = mine.get(int(record_id))
        return "" if d is None else d["label"] + (f" ({d['reason']})" if d["reason"] else "")

    table = pd.DataFrame({
        "record": [f"#{int(r)}" for r in shown["record_id"]],
        "study": shown["study"].fillna(""),
        "retrieval": shown["retrieval"].map(_RETRIEVAL_WORDS).fillna(shown["retrieval"]),
        "my decision": [mine_of(r) for r in shown["record_id"]],
        "title": [shorten(t, 300) for t in shown["title"]],  # a table cell is text, never Markdown
    })
    if not blind:
        table.insert(4, "outcome", [
            "" if pd.isna(st_) else (lab if isinstance(lab, str) else st_)
            for lab, st_ in zip(shown["label"], shown["status"], strict=True)])
    st.dataframe(table, hide_index=True)


def _num(row: pd.Series) -> int:
    """The paper's number on every page: its record's id (not the report's)."""
    return int(row["record_id"])


# --- one report -------------------------------------------------------------------------------

def _report_panel(ctx: AppContext, rid: int, row: pd.Series, my: dict[str, Any] | None,
                  blind: bool, settings: dict[str, Any], studies: pd.DataFrame) -> None:
    with st.container(border=True):
        show_highlighted(_text(row["title"]) or "(no title)", heading=True)
        st.caption(escape_markdown(citation(row["authors"], row["year"], row["journal"])))
        if _text(row["doi"]):
            st.text(f"DOI: {row['doi']}")
        if row["title_abstract"] != "include":
            st.warning("This record is no longer included at title/abstract (its decision "
                       "changed after the report was sought).")
        left, middle, right = st.columns(3)
        with left:
            _retrieval(ctx, rid, row)
        with middle:
            _decision(ctx, rid, row, my, blind, settings)
        with right:
            _study(ctx, rid, row, studies)


def _retrieval(ctx: AppContext, rid: int, row: pd.Series) -> None:
    st.subheader("Retrieval")
    me = ctx.user.username
    if row["retrieval"] == "not_retrieved":
        st.text(f"Not retrieved: {_text(row['not_retrieved_reason'])}")
        if st.button("Seek again", key=f"ft_seek_{rid}"):
            _act(lambda: ops.mark_sought(ctx.store, rid, me),
                 f"Record #{_num(row)} is sought again.")
    elif _text(row["pdf_path"]):
        st.text(f"PDF attached (SHA-256 {str(row['pdf_sha256'])[:12]}…)")
        try:
            data = read_stored(ctx.store, row["pdf_path"], _text(row["pdf_sha256"]) or None)
        except (OSError, FileRejected, FilesLocationError) as exc:
            st.error(escape_markdown(str(exc)))
        else:
            st.download_button("Download PDF", data, file_name=f"report-{rid}.pdf",
                               mime="application/pdf", key=f"ft_dl_{rid}")
    else:
        st.text("Sought; no PDF yet.")

    nonce = st.session_state.setdefault(f"ft_up_nonce_{rid}", 0)
    upload = st.file_uploader("Replace the PDF" if _text(row["pdf_path"]) else "Attach the PDF",
                              type=["pdf"], key=f"ft_upload_{rid}_{nonce}",
                              max_upload_size=MAX_PDF_BYTES // 1_048_576,  # shown = enforced
                              help=f"A PDF of up to {MAX_PDF_BYTES // 1_048_576} MB, kept with "
                              "the review under its SHA-256.")
    if st.button("Attach PDF", key=f"ft_attach_{rid}", disabled=upload is None) and upload:
        def attach() -> None:
            stored = ops.attach_pdf(ctx.store, rid, upload.getvalue(), upload.name, me)
            st.session_state[f"ft_up_nonce_{rid}"] = nonce + 1  # empty the uploader
            st.session_state[_FLASH] = (f"Attached {upload.name} to record #{_num(row)} "
                                        f"({stored.size / 1024:.0f} KB).")
        _act(attach, None)

    if row["retrieval"] != "not_retrieved":
        reason = st.text_input("Why it could not be retrieved", key=f"ft_nr_reason_{rid}",
                               placeholder="e.g. no library access; author did not reply")
        if st.button("Mark not retrieved", key=f"ft_nr_{rid}"):
            _act(lambda: ops.mark_not_retrieved(ctx.store, rid, reason, me),
                 f"Record #{_num(row)} marked not retrieved.")


def _decision(ctx: AppContext, rid: int, row: pd.Series, my: dict[str, Any] | None,
              blind: bool, settings: dict[str, Any]) -> None:
    st.subheader("Decision")
    store, me = ctx.store, ctx.user
    if my:
        st.text(f"Your decision: {my['label']}" + (f" — {my['reason']}" if my["reason"] else ""))
    if not blind:
        others = ops.all_decisions(store, me, settings)
        others = others[others["record_id"] == row["record_id"]]
        if not others.empty:
            st.dataframe(others[["reviewer", "label", "reason"]], hide_index=True)
        if isinstance(row["label"], str):
            st.text(f"Outcome: {row['label']} ({row['status']})")
        elif row["status"] == "conflict":
            st.text("Outcome: conflict")
    if row["retrieval"] == "not_retrieved":
        st.caption("A report that was not retrieved cannot be assessed.")
        return
    reasons = list(settings.get("exclusion_reasons_full_text") or [])
    label = st.radio("Full-text decision", ops.FULL_TEXT_LABELS, horizontal=True,
                     key=f"ft_label_{rid}", index=None)
    reason = st.selectbox("Reason for exclusion", reasons, index=None, key=f"ft_reason_{rid}",
                          disabled=label != "exclude", placeholder="Choose a reason")
    note = st.text_area("Note", key=f"ft_note_{rid}", height=68)
    req_key = f"ft_req_{rid}"
    request_id = st.session_state.setdefault(req_key, uuid.uuid4().hex)
    if st.button("Save decision", key=f"ft_save_{rid}", type="primary", disabled=label is None):
        def save() -> None:
            ops.decide(store, report_id=rid, reviewer_id=me.reviewer_id, label=label,
                       reason=reason, note=note, actor=me.username, request_id=request_id)
            st.session_state.pop(req_key, None)
        _act(save, f"Saved: record #{_num(row)} {label}d" + (f" ({reason})." if
                                                       label == "exclude" else "."))
    if my and st.button("Withdraw my decision", key=f"ft_withdraw_{rid}"):
        _act(lambda: ops.withdraw(store, report_id=rid, reviewer_id=me.reviewer_id,
                                  actor=me.username),
             f"Your decision on record #{_num(row)} was withdrawn.")


def _study(ctx: AppContext, rid: int, row: pd.Series, studies: pd.DataFrame) -> None:
    st.subheader("Study")
    me = ctx.user.username
    st.text(f"Study: {row['study']}" if isinstance(row["study"], str) else "In no study yet.")
    labels = dict(zip(studies["study_id"], studies["study"], strict=True))
    options: list[int | None] = [None, *labels]
    current = None if pd.isna(row["study_id"]) else int(row["study_id"])
    target = st.selectbox("Move to study", options, index=options.index(current),
                          key=f"ft_study_{rid}",
                          format_func=lambda s: "— no study —" if s is None else labels[s])
    if st.button("Move", key=f"ft_move_{rid}", disabled=target == current):
        _act(lambda: ops.assign_to_study(ctx.store, [rid], target, me),
             f"Record #{_num(row)} moved to "
             f"{labels.get(target, 'no study') if target else 'no study'}.")
    suggestion = ops.suggest_study_label(row["authors"],
                                         None if pd.isna(row["year"]) else int(row["year"]))
    label = st.text_input("New study label", value=suggestion, key=f"ft_new_study_{rid}")
    if st.button("New study with this report", key=f"ft_create_{rid}"):
        _act(lambda: ops.create_study(ctx.store, label, [rid], me),
             f"Study “{label}” created with record #{_num(row)}.")


# --- studies ----------------------------------------------------------------------------------

def _studies_panel(ctx: AppContext, reports: pd.DataFrame, studies: pd.DataFrame) -> None:
    st.header("Studies")
    st.caption("A study groups the reports that describe it; PRISMA counts both.")
    if studies.empty:
        st.text("No studies yet.")
    else:
        table = studies[["study_id", "study", "reports", "included"]].copy()
        number = dict(zip(reports["report_id"].astype(int), reports["record_id"].astype(int),
                          strict=True))
        table["records"] = [", ".join(f"#{number.get(int(r), r)}" for r in ids)
                            for ids in studies["report_ids"]]
        st.dataframe(table, hide_index=True)
    me = ctx.user.username
    titles = dict(zip(reports["report_id"].astype(int), reports["title"], strict=True))
    records = dict(zip(reports["report_id"].astype(int), reports["record_id"].astype(int),
                       strict=True))
    picked = st.multiselect("Reports of one study", list(titles), key="ft_group_reports",
                            format_func=lambda r: f"#{records[r]} · {shorten(titles[r], 70)}")
    label = st.text_input("Study label", key="ft_group_label", placeholder="e.g. Smith 2019")
    if st.button("Group into a new study", key="ft_group", disabled=not picked):
        _act(lambda: ops.create_study(ctx.store, label, picked, me),
             f"Study “{label.strip()}” created with {len(picked)} report(s).")
    if ctx.is_lead and st.button("One study for each included report not yet in a study",
                                 key="ft_auto_studies"):
        def auto() -> None:
            ctx.require("lead")
            made = ops.create_studies_for_included(ctx.store, me)
            noun = "study" if len(made) == 1 else "studies"
            st.session_state[_FLASH] = f"Created {len(made)} {noun}."
        _act(auto, None)


def _text(value: Any) -> str:
    """A text cell, or "" for None/NaN (pandas fills gaps either way, by backend)."""
    return value if isinstance(value, str) else ""


def _act(action, message: str | None) -> None:
    """Run a store action; on success show ``message`` after a fresh render, else the error."""
    try:
        action()
    except _ERRORS as exc:
        st.error(escape_markdown(str(exc)))
        return
    if message:
        st.session_state[_FLASH] = message
    st.rerun()
