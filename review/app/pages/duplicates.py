"""Duplicates page (lead): settle the uncertain pairs side by side, and unmerge a wrong link."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.widgets import escape_markdown, shorten, show_text
from review.dedup import review_ops as ops
from review.store import repo

TITLE = "Duplicates"
ICON = ":material/content_copy:"
URL = "duplicates"
ROLES = ("lead",)

_FLASH = "dup_flash"
_STATUS_MARK = {ops.SAME: "", ops.SAME_FORM: "≈", ops.DIFFERS: "≠", ops.ONLY_A: "A only",
                ops.ONLY_B: "B only"}
_SHADE = {ops.DIFFERS: "background-color: rgba(255, 75, 75, 0.18)",
          ops.ONLY_A: "background-color: rgba(255, 170, 0, 0.15)",
          ops.ONLY_B: "background-color: rgba(255, 170, 0, 0.15)"}


def render(ctx: AppContext) -> None:
    ctx.require("lead")
    st.title(TITLE)
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.success(escape_markdown(flash))
    pending = ops.pending_candidates(ctx.store)
    links = ops.live_links_frame(ctx.store)
    c1, c2, c3 = st.columns(3)
    c1.metric("Pairs to check", len(pending))
    c2.metric("Linked duplicates", len(links))
    c3.metric("Linked by a person", int((links["method"] == "manual").sum()))

    st.header("Uncertain pairs")
    if pending.empty:
        st.info("No pairs are waiting. Run deduplication on the data page to find them.")
    else:
        _candidate(ctx, pending)
    st.header("Linked duplicates")
    _links(ctx, links)


def _candidate(ctx: AppContext, pending: pd.DataFrame) -> None:
    def label(r) -> str:
        score = f" · score {r.score:.2f}" if pd.notna(r.score) else ""
        return f"#{r.candidate_id}{score} · {shorten(r.title_a, 60)}"

    labels = {int(r.candidate_id): label(r) for r in pending.itertuples(index=False)}
    cid = st.selectbox("Pair", list(labels), key="dup_candidate",
                       format_func=lambda c: labels[c])
    if cid is None:
        return
    row = pending.set_index("candidate_id").loc[cid]
    a, b = ops.candidate_records(ctx.store, int(cid))
    if isinstance(row["reason"], str) and row["reason"]:
        st.caption(escape_markdown(f"Why it was flagged: {shorten(row['reason'], 300)}"))

    left, right = st.columns(2)
    for col, rec, name in ((left, a, "A"), (right, b, "B")):
        with col:
            st.subheader(f"Record {name} · #{rec['record_id']}")
            st.text(f"Source: {rec['source']}")
            show_text(rec["title"] or "(no title)", heading=True)

    table = ops.compare_records(a, b)
    table["A"] = [shorten(v, 400) for v in table["A"]]
    table["B"] = [shorten(v, 400) for v in table["B"]]
    table["differs"] = table["status"].map(_STATUS_MARK)
    shown = table[["field", "A", "B", "differs"]]
    styled = shown.style.apply(
        lambda r: [_SHADE.get(table.loc[r.name, "status"], "")] * len(r), axis=1)
    st.dataframe(styled, hide_index=True)
    n_diff = int((table["status"] == ops.DIFFERS).sum())
    st.caption(f"{n_diff} field(s) differ in fact (≠); ≈ differs only in form "
               "(case, accents, punctuation).")
    with st.expander("Abstracts in full"):
        la, lb = st.columns(2)
        with la:
            show_text(a.get("abstract") or "(no abstract)")
        with lb:
            show_text(b.get("abstract") or "(no abstract)")

    keep, lose = ops.canonical_after_confirm(ctx.store, int(cid))
    if keep == lose:
        st.info("These two records are already in one cluster.")
    else:
        st.text(f"Confirming keeps record #{keep} as the canonical record (the more complete "
                f"one) and links #{lose}" + (" with its duplicates" if lose not in
                                              (a["record_id"], b["record_id"]) else "") + ".")
        counts = ops.decision_counts(ctx.store, [lose])
        if counts[lose]:
            st.warning(f"Record #{lose} carries {counts[lose]} screening decision(s); as a "
                       "duplicate they stay in the store but no longer count.")
    me = ctx.user.username
    b1, b2 = st.columns(2)
    if b1.button("Confirm: same work", key="dup_confirm", type="primary"):
        def confirm() -> str:
            ops.confirm_candidate(ctx.store, int(cid), actor=me)
            return f"Pair #{cid} confirmed: record #{lose} linked to #{keep}."
        _act(confirm)
    if b2.button("Not duplicates", key="dup_reject"):
        def reject() -> str:
            ops.reject_candidate(ctx.store, int(cid), actor=me)
            return f"Pair #{cid} kept as two records."
        _act(reject)


def _links(ctx: AppContext, links: pd.DataFrame) -> None:
    if links.empty:
        st.text("No records are linked as duplicates.")
        return
    query = st.text_input("Find by title or record number", key="dup_find")
    shown = links
    if query.strip():
        q = query.strip().lstrip("#").casefold()
        hit = (links["title"].fillna("").str.casefold().str.contains(q, regex=False)
               | links["canonical_title"].fillna("").str.casefold().str.contains(q, regex=False)
               | links["record_id"].astype(str).eq(q) | links["canonical_id"].astype(str).eq(q))
        shown = links[hit]
    table = pd.DataFrame({
        "link": shown["link_id"], "duplicate": shown["record_id"], "source": shown["source"],
        "title": [shorten(t, 200) for t in shown["title"]], "canonical": shown["canonical_id"],
        "canonical title": [shorten(t, 200) for t in shown["canonical_title"]],
        "method": shown["method"], "score": shown["score"], "by": shown["created_by"],
    })
    st.dataframe(table, hide_index=True)
    if shown.empty:
        return
    titles = dict(zip(shown["link_id"], shown["title"], strict=True))
    pairs = dict(zip(shown["link_id"], zip(shown["record_id"], shown["canonical_id"],
                                           strict=True), strict=True))
    lid = st.selectbox("Link to unmerge", list(titles), key="dup_link", format_func=lambda k: (
        f"#{pairs[k][0]} → #{pairs[k][1]} · {shorten(titles[k], 70)}"))
    st.caption("An unmerged pair is never linked again by a later deduplication run.")
    if st.button("Unmerge", key="dup_unmerge") and lid is not None:
        def unmerge() -> str:
            ops.undo_link(ctx.store, int(lid), actor=ctx.user.username)
            rec, canon = pairs[lid]
            return f"Record #{rec} is no longer a duplicate of #{canon}."
        _act(unmerge)


def _act(action) -> None:
    try:
        message = action()
    except (ops.DedupError, ops.DedupStoreError, repo.RepoError) as exc:
        st.error(escape_markdown(str(exc)))
        return
    st.session_state[_FLASH] = message
    st.rerun()
