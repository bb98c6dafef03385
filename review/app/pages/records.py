"""Records: every record of the review, searched, filtered, sorted, paged; open one, change it.

Everything here calls :mod:`review.screening.record_list` (and ``tags`` /
``bulk``); blind mode and roles are enforced there, so the filters this page
leaves out for a blind reviewer would be refused anyway. A record is always
"record #N", its id in the review, on every page.

Opening a record shows it with the review's keywords and the reviewer's own
highlight terms, its tags, the reviewer's decision history at the stage
(everyone's for a lead or an open review) and buttons that append a new
decision: the old one stays, and the audit log says which it replaced.
Keys: ``I`` include, ``M`` maybe, ``1``-``9`` exclude with that reason.
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.highlight import show_highlighted
from review.app.pdf_view import PDF_HEIGHT, stored_pdf
from review.app.widgets import escape_markdown, shorten
from review.io.export import neutralise
from review.screening import bulk, tags
from review.screening import record_list as rl
from review.store import repo

TITLE = "Records"
ICON = ":material/list_alt:"
URL = "records"
ROLES = ("lead", "reviewer")

STAGE_WORDS = {"title_abstract": "Title/abstract", "full_text": "Full text"}
ANY = "(any)"
SORT_WORDS = {"relevance": "Relevance (model's ranking)", "match": "Best search match",
              "year_desc": "Year, newest first", "year_asc": "Year, oldest first",
              "record": "Record number"}
DUP_WORDS = {"hide": "Hide duplicates", "only": "Only duplicates", "all": "Show all"}
K_OPEN = "rec_open"
K_PAGE = "rec_page"
K_FLASH = "rec_flash"
K_PREVIEW = "rec_bulk_preview"
PER_PAGE = 50
#: Where another page sends a reviewer to open one record here.
OPEN_REQUEST = "records_open_request"


def _opt(label: str, options: list[Any], key: str, fmt=None, **kw) -> Any:
    value = st.selectbox(label, [ANY, *options], key=key,
                         format_func=fmt or (lambda v: v if v == ANY else str(v)), **kw)
    return None if value == ANY else value


def _query(ctx: AppContext) -> rl.RecordQuery:
    """The filter widgets, as a query (only the filters this viewer may use are drawn)."""
    everyone = rl.sees_everyone(ctx.user, ctx.settings)
    sources = repo.sources_frame(ctx.store)
    tag_frame = tags.tags_frame(ctx.store, include_archived=True)
    text = st.text_input("Search title, abstract, authors and keywords", key="rec_text",
                         max_chars=500, placeholder='e.g. lonel* "peer support" placebo-controlled',
                         help='All words must match. "quotes" for a phrase, * for a stem.')
    c = st.columns(6)
    stage = c[0].selectbox("Stage", list(STAGE_WORDS), format_func=STAGE_WORDS.get,
                           key="rec_stage")
    with c[1]:
        mine = _opt("My decision", list(rl.MY_DECISIONS), "rec_mine")
    final = conflict = reviewer = None
    if everyone:
        final = c[2].selectbox("Final decision", [ANY, *rl.FINAL_DECISIONS], key="rec_final")
        final = None if final == ANY else final
        conflict = {ANY: None, "In conflict": True, "Not in conflict": False}[
            c[3].selectbox("Conflict", [ANY, "In conflict", "Not in conflict"],
                           key="rec_conflict")]
    reasons = [str(r) for r in ctx.settings.get(f"exclusion_reasons_{stage}") or []]
    reason = c[4].selectbox("Reason", [ANY, *reasons], key="rec_reason")
    tag_names = dict(zip(tag_frame["tag_id"].astype(int), tag_frame["name"], strict=True))
    tag_id = c[5].selectbox("Tag", [ANY, *tag_names], key="rec_tag",
                            format_func=lambda v: v if v == ANY else tag_names[v])
    d = st.columns(6)
    year_from = d[0].number_input("Year from", min_value=1000, max_value=3000, value=None,
                                  step=1, key="rec_y0")
    year_to = d[1].number_input("Year to", min_value=1000, max_value=3000, value=None, step=1,
                                key="rec_y1")
    src_names = dict(zip(sources["source_id"].astype(int), sources["name"], strict=True)) \
        if not sources.empty else {}
    source = d[2].selectbox("Source", [ANY, *src_names], key="rec_source",
                            format_func=lambda v: v if v == ANY else f"{src_names[v]} (#{v})")
    dups = d[3].selectbox("Duplicates", list(DUP_WORDS), format_func=DUP_WORDS.get,
                          key="rec_dups")
    if everyone:
        people = repo.reviewers_frame(ctx.store)
        names = dict(zip(people["reviewer_id"].astype(int), people["display_name"], strict=True))
        reviewer = d[4].selectbox("Decided by", [ANY, *names], key="rec_reviewer",
                                  format_func=lambda v: v if v == ANY else names[v])
        reviewer = None if reviewer == ANY else int(reviewer)
    sort = d[5].selectbox("Sort by", list(SORT_WORDS), format_func=SORT_WORDS.get,
                          key="rec_sort")
    return rl.RecordQuery(
        stage=stage, text=text or "", my_decision=mine, final=final,
        reason=None if reason == ANY else reason,
        tag_id=None if tag_id == ANY else int(tag_id),
        year_from=None if year_from is None else int(year_from),
        year_to=None if year_to is None else int(year_to),
        source_id=None if source == ANY else int(source), conflict=conflict,
        duplicates=dups, reviewer_id=reviewer, sort=sort)


def _words(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _shown(rows: pd.DataFrame, everyone: bool) -> pd.DataFrame:
    """The page's table: record number first, plain text cells, hidden columns dropped."""
    table = pd.DataFrame({
        "Record": [f"#{r}" for r in rows["record_id"]],
        "Title": [shorten(t, 140) for t in rows["title"]],
        "Year": rows["year"], "Authors": rows["authors"], "Source": rows["source"],
        "My decision": [_words(lab) + (f" ({why})" if _words(why) else "")
                        for lab, why in zip(rows["my_decision"], rows["my_reason"],
                                            strict=True)],
        "Tags": rows["tags"],
    })
    if everyone:
        table["Final"] = [_words(v) for v in rows["final"]]
        table["Conflict"] = rows["conflict"].map({True: "yes", False: ""})
        table["Reviewers"] = rows["reviewers"]
        table["Score"] = rows["score"]
    table["Rank"] = rows["rank"]
    table["Duplicate of"] = [f"#{int(c)}" if pd.notna(c) else "" for c in rows["duplicate_of"]]
    return table


def _export(ctx: AppContext, q: rl.RecordQuery) -> bytes:
    """Every record the filter matches as CSV, tags included, formulas neutralised."""
    ids = rl.find_record_ids(ctx.store, ctx.user, q, ctx.settings)
    parts = [rl.page_rows(ctx.store, ctx.user, ids[i:i + 2000], q.stage, ctx.settings)
             for i in range(0, len(ids), 2000)]
    frame = pd.concat(parts) if parts else pd.DataFrame(columns=rl.ROW_COLUMNS)
    if not rl.sees_everyone(ctx.user, ctx.settings):
        frame = frame.drop(columns=["final", "conflict", "reviewers", "score"])
    return frame.map(neutralise).to_csv(index=False).encode("utf-8")


def _list(ctx: AppContext, q: rl.RecordQuery) -> None:
    everyone = rl.sees_everyone(ctx.user, ctx.settings)
    key = repr(q)
    if st.session_state.get("rec_last_query") != key:
        st.session_state["rec_last_query"] = key
        st.session_state[K_PAGE] = 0
    page = rl.find_records(ctx.store, ctx.user, q, ctx.settings,
                           page=st.session_state.get(K_PAGE, 0), per_page=PER_PAGE)
    st.session_state[K_PAGE] = page.page
    top = st.columns([3, 1, 1, 1, 2])
    top[0].markdown(f"**{page.total:,}** records match · page {page.page + 1} of {page.pages}")
    if top[1].button("Previous", key="rec_prev", disabled=page.page == 0,
                     icon=":material/chevron_left:"):
        st.session_state[K_PAGE] = page.page - 1
        st.rerun()
    if top[2].button("Next", key="rec_next", disabled=page.page + 1 >= page.pages,
                     icon=":material/chevron_right:"):
        st.session_state[K_PAGE] = page.page + 1
        st.rerun()
    with top[4]:
        if st.button("Prepare CSV of all matches", key="rec_csv_prepare"):
            st.session_state["rec_csv"] = _export(ctx, q)
        if st.session_state.get("rec_csv"):
            st.download_button("Download CSV", st.session_state["rec_csv"],
                               file_name="records.csv", mime="text/csv", key="rec_csv_dl")
    if page.rows.empty:
        st.info("No record matches these filters.")
        return
    event = st.dataframe(_shown(page.rows, everyone), hide_index=True, width="stretch",
                         on_select="rerun", selection_mode="single-row", key="rec_table")
    chosen = getattr(getattr(event, "selection", None), "rows", None) or []
    if chosen:
        st.session_state[K_OPEN] = int(page.rows["record_id"].iloc[chosen[0]])


# --- one record -------------------------------------------------------------------------------

def _change(ctx: AppContext, record_id: int, stage: str, label: str,
            reason: str | None) -> None:
    note = st.session_state.get(f"rec_note_{record_id}") or None
    try:
        rl.change_decision(ctx.store, ctx.user, record_id, stage, label, ctx.settings,
                           reason=reason, note=note, request_id=st.session_state.get(
                               f"rec_req_{record_id}"))
    except rl.RecordListError as exc:
        st.session_state[K_FLASH] = ("error", str(exc))
        return
    st.session_state[f"rec_req_{record_id}"] = uuid.uuid4().hex
    st.session_state[K_FLASH] = ("ok", f"Record #{record_id}: your decision is now {label}"
                                 + (f" ({reason})" if reason else ""))


def _set_tags(ctx: AppContext, record_id: int, before: list[int]) -> None:
    after = [int(t) for t in st.session_state.get(f"rec_tags_{record_id}") or []]
    try:
        for t in set(after) - set(before):
            tags.apply_tag(ctx.store, ctx.user, record_id, t)
        for t in set(before) - set(after):
            tags.remove_tag(ctx.store, ctx.user, record_id, t)
    except tags.TagError as exc:
        st.session_state[K_FLASH] = ("error", str(exc))


def _record(ctx: AppContext, record_id: int, stage: str) -> None:
    try:
        rec = rl.open_record(ctx.store, ctx.user, record_id, stage, ctx.settings)
    except rl.RecordListError as exc:
        st.error(str(exc))
        return
    inc = list(ctx.settings.get("highlight_include") or [])
    exc_ = list(ctx.settings.get("highlight_exclude") or [])
    mine = tags.personal_terms(ctx.store, ctx.user.reviewer_id)
    pdf = _pdf(ctx, rec) if stage == "full_text" else None
    if pdf is not None:
        view, left, right = st.columns([5, 3, 2], gap="small")
        with view:
            st.pdf(pdf, height=PDF_HEIGHT, key=f"rec_pdf_{record_id}")
    else:
        left, right = st.columns([3, 2], gap="medium")
    with left, st.container(border=True):
        st.caption(f"Record #{record_id}" + (f" · DOI {escape_markdown(rec['doi'])}"
                                              if rec.get("doi") else "")
                   + (f" · PMID {escape_markdown(rec['pmid'])}" if rec.get("pmid") else ""))
        show_highlighted(rec.get("title") or "(no title)", inc, exc_, mine, heading=True)
        authors = rec.get("authors") or []
        where = " · ".join(str(x) for x in (rec.get("journal"), rec.get("year")) if x)
        st.caption(escape_markdown(" — ".join(x for x in (
            "; ".join(str(a) for a in authors[:8]) + (" et al." if len(authors) > 8 else ""),
            where) if x)))
        show_highlighted(rec.get("abstract") or "(no abstract)", inc, exc_, mine, legend=True)
        if rec.get("keywords"):
            st.caption("Keywords: " + escape_markdown("; ".join(map(str, rec["keywords"]))))
        if rec.get("duplicate_of"):
            st.warning(f"Duplicate of record #{rec['duplicate_of']}: decide on that one.")
    with right:
        _history(rec, stage)
        if not rec.get("duplicate_of") and (stage == "title_abstract" or rec["has_report"]):
            _decision_buttons(ctx, record_id, stage, rec)
        elif stage == "full_text":
            st.info("This record has not reached full text.")
        live = tags.tags_frame(ctx.store)
        names = dict(zip(live["tag_id"].astype(int), live["name"], strict=True))
        before = [t["id"] for t in rec["tags"]]
        for t in rec["tags"]:
            names.setdefault(t["id"], t["name"])
        st.multiselect("Tags", list(names), default=before, key=f"rec_tags_{record_id}",
                       format_func=lambda t: names[t], on_change=_set_tags,
                       args=(ctx, record_id, before),
                       help="Review-wide tags the lead defines; anyone can apply them.")


def _pdf(ctx: AppContext, rec: dict[str, Any]) -> bytes | None:
    """The record's full-text PDF, checked against its stored hash, or None (with a note)."""
    if not rec.get("pdf_path"):
        if rec.get("has_report"):
            st.caption("No PDF attached yet: attach one on the Full text page, or import a "
                       "folder of PDFs there.")
        return None
    return stored_pdf(ctx.store, rec["pdf_path"], rec.get("pdf_sha256"))


def _history(rec: dict[str, Any], stage: str) -> None:
    hist = rec["history"]
    if rec.get("resolution"):
        r = rec["resolution"]
        st.markdown(f"**Lead's final decision:** {r['label']}"
                    + (f" ({escape_markdown(r['reason'])})" if r.get("reason") else ""))
    if not hist:
        st.caption(f"No decision on this record at {STAGE_WORDS[stage].lower()} yet.")
        return
    st.dataframe(pd.DataFrame({
        "When": [h["created_at"] for h in hist],
        "Reviewer": [h["display_name"] for h in hist],
        "Decision": [h["label"] for h in hist],
        "Reason": [h["reason"] or "" for h in hist],
        "Note": [h["note"] or "" for h in hist],
    }), hide_index=True, width="stretch")


def _decision_buttons(ctx: AppContext, record_id: int, stage: str, rec: dict[str, Any]) -> None:
    cur = rec["my_current"]
    st.markdown("Your decision now: " + (f"**{cur['label']}**" + (
        f" ({escape_markdown(cur['reason'])})" if cur.get("reason") else "")
        if cur else "*none*"))
    st.session_state.setdefault(f"rec_req_{record_id}", uuid.uuid4().hex)
    b = st.columns(2) if stage == "title_abstract" else [st.container()]
    b[0].button("Include", key=f"rec_inc_{record_id}", icon=":material/check_circle:",
                shortcut="I", on_click=_change, args=(ctx, record_id, stage, "include", None),
                width="stretch")
    if stage == "title_abstract":  # a full text is included or excluded, never "maybe"
        b[1].button("Maybe", key=f"rec_maybe_{record_id}", icon=":material/help:",
                    shortcut="M", on_click=_change,
                    args=(ctx, record_id, stage, "maybe", None), width="stretch")
    reasons = [str(r) for r in ctx.settings.get(f"exclusion_reasons_{stage}") or []]
    st.caption("Exclude, with the reason (keys 1–9):")
    for i, why in enumerate(reasons):
        st.button(f"{i + 1} · {why}" if i < 9 else why, key=f"rec_exc_{record_id}_{i}",
                  icon=":material/cancel:", shortcut=str(i + 1) if i < 9 else None,
                  on_click=_change, args=(ctx, record_id, stage, "exclude", why),
                  width="stretch")
    if not reasons and stage == "title_abstract":
        st.button("Exclude", key=f"rec_exc_{record_id}", icon=":material/cancel:", shortcut="E",
                  on_click=_change, args=(ctx, record_id, stage, "exclude", None),
                  width="stretch")
    st.text_input("Note (optional)", key=f"rec_note_{record_id}", max_chars=2000)


# --- personal terms and the lead's bulk actions -----------------------------------------------

def _personal(ctx: AppContext) -> None:
    with st.expander("My highlight terms"):
        current = tags.personal_terms(ctx.store, ctx.user.reviewer_id)
        with st.form("rec_terms", border=False):
            text = st.text_area("One per line (a trailing * matches a stem); only you see them",
                                "\n".join(current), key="rec_terms_text", max_chars=4000)
            if st.form_submit_button("Save my terms"):
                try:
                    saved = tags.set_personal_terms(ctx.store, ctx.user, text)
                    st.session_state[K_FLASH] = ("ok", f"Saved {len(saved)} highlight terms")
                except tags.TagError as exc:
                    st.session_state[K_FLASH] = ("error", str(exc))
                st.rerun()


def _bulk(ctx: AppContext, q: rl.RecordQuery) -> None:
    with st.expander("Bulk action on every record this filter matches (lead)"):
        live = tags.tags_frame(ctx.store)
        names = dict(zip(live["tag_id"].astype(int), live["name"], strict=True))
        reasons = [str(r) for r in ctx.settings.get(f"exclusion_reasons_{q.stage}") or []]
        c = st.columns([1, 2, 2])
        kind = c[0].radio("Action", ["Tag", "Exclude"], key="rec_bulk_kind")
        if kind == "Tag":
            target = c[1].selectbox("Tag", list(names), format_func=lambda t: names[t],
                                    key="rec_bulk_tag")
        else:
            target = c[1].selectbox("Exclusion reason", reasons, key="rec_bulk_reason")
        finals = c[2].checkbox("Also records that already have a final decision",
                               key="rec_bulk_finals")
        if st.button("Preview", key="rec_bulk_preview_btn", icon=":material/preview:"):
            p = bulk.preview(ctx.store, ctx.user, q, ctx.settings, include_final=finals)
            st.session_state[K_PREVIEW] = (repr(q), kind, target, finals, p.target,
                                           p.matched, p.with_final)
        pv = st.session_state.get(K_PREVIEW)
        if pv and pv[:4] == (repr(q), kind, target, finals):
            _, _, _, _, n, matched, with_final = pv
            skipped = 0 if finals else with_final
            what = (f"tag {n:,} records “{names.get(target, '?')}”" if kind == "Tag"
                    else f"exclude {n:,} records ({target})")
            st.warning(escape_markdown(f"The filter matches {matched:,} records; {skipped:,} "
                                       f"with a final decision are left alone. This will "
                                       f"{what}."), icon=":material/warning:")
            st.button(f"Confirm: {what}", key="rec_bulk_confirm", type="primary",
                      disabled=n == 0 or target is None, on_click=_bulk_confirm,
                      args=(ctx, q, kind, target, n, finals))
        last = bulk.last_undoable(ctx.store)
        if last is not None:
            what = (f"tag “{last['tag']}”" if last["kind"] == "tag"
                    else f"exclusion ({last['reason']})")
            st.button(f"Undo bulk action #{last['id']}: {what} on {last['n']:,} records",
                      key="rec_bulk_undo", icon=":material/undo:", on_click=_bulk_undo,
                      args=(ctx, int(last["id"])))


# The lead's bulk action and its undo are callbacks, not ``if st.button(...): ...; st.rerun()``:
# a callback runs before the page is drawn again, so the page shows the result in the same run,
# and there is no second run for ``st.rerun()`` to start, which drops a click the lead made
# meanwhile (a lost Undo click, seen in the browser test).

def _bulk_confirm(ctx: AppContext, q: rl.RecordQuery, kind: str, target: object, n: int,
                  finals: bool) -> None:
    try:
        if kind == "Tag":
            _, done = bulk.bulk_tag(ctx.store, ctx.user, q, ctx.settings, int(target),
                                    confirmed=n, include_final=finals)
        else:
            _, done = bulk.bulk_exclude(ctx.store, ctx.user, q, ctx.settings, str(target),
                                        confirmed=n, include_final=finals)
        st.session_state[K_FLASH] = ("ok", f"Done: {done:,} records changed. "
                                     "Undo below takes the whole action back.")
    except bulk.BulkError as exc:
        st.session_state[K_FLASH] = ("error", str(exc))
    st.session_state.pop(K_PREVIEW, None)


def _bulk_undo(ctx: AppContext, action_id: int) -> None:
    try:
        n = bulk.undo(ctx.store, ctx.user, action_id)
        st.session_state[K_FLASH] = ("ok", f"Undone: {n:,} records taken back.")
    except bulk.BulkError as exc:  # undone meanwhile, in another tab
        st.session_state[K_FLASH] = ("error", str(exc))


def _flash() -> None:
    got = st.session_state.pop(K_FLASH, None)
    if got:
        kind, text = got
        (st.success if kind == "ok" else st.error)(escape_markdown(text))


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title("Records")
    request = st.session_state.pop(OPEN_REQUEST, None)
    if request is not None:
        st.session_state[K_OPEN] = int(request)
    _flash()
    try:
        q = _query(ctx)
        _list(ctx, q)
        if ctx.is_lead:
            _bulk(ctx, q)
    except rl.RecordListError as exc:
        st.error(str(exc))
        return
    _personal(ctx)
    st.divider()
    c = st.columns([1, 4])
    typed = c[0].number_input("Open record #", min_value=1, step=1, value=None,
                              key="rec_open_number")
    if typed is not None and st.session_state.get("rec_open_typed") != typed:
        st.session_state["rec_open_typed"] = typed
        st.session_state[K_OPEN] = int(typed)
    rid = st.session_state.get(K_OPEN)
    if rid is None:
        st.caption("Select a row (or type a record number) to open the record.")
        return
    _record(ctx, int(rid), q.stage)
