"""Duplicates page (lead): settle the uncertain pairs side by side, and unmerge a wrong link."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.highlight import show_highlighted
from review.app.widgets import escape_markdown, shorten
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
            show_highlighted(rec["title"] or "(no title)", heading=True)

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
            show_highlighted(a.get("abstract") or "(no abstract)")
        with lb:
            show_highlighted(b.get("abstract") or "(no abstract)")

    plan = ops.plan_confirm(ctx.store, int(cid))
    me = ctx.user.username
    st.subheader("What each answer does")
    titles = ops.record_titles(ctx.store, list(plan.moves))
    counts = ops.decision_counts(ctx.store, list(plan.moves))
    lines = [f"#{r} · {shorten(titles[r], 90)}"
             + (f" ({counts[r]} screening decision(s) stop counting)" if counts[r] else "")
             for r in plan.moves]
    if lines:  # every record it would move, named before anything runs (allowed or not)
        would = "would keep" if plan.blocked else "keeps"
        st.markdown(escape_markdown(
            f"“Confirm: same work” {would} record #{plan.keep} as the canonical record and "
            f"links these {len(plan.moves)} record(s) to it:") + "\n\n" + "\n".join(
            "- " + escape_markdown(x) for x in lines))
    for why in plan.blocked:
        st.warning(escape_markdown(f"Cannot confirm as duplicates: {why}."))
    if plan.settles and not plan.blocked:
        st.caption("It also settles the pair(s) now inside one cluster: "
                   + ", ".join(f"#{c}" for c in plan.settles) + ".")
    st.caption("“Same study, another report” keeps both records (a protocol and its results "
               "paper are two reports of one study under PRISMA 2020) and groups their "
               "reports into one study. “Not duplicates” keeps them apart. Neither moves a "
               "record.")
    b1, b2, b3 = st.columns(3)
    if b1.button("Confirm: same work", key="dup_confirm", type="primary",
                 disabled=bool(plan.blocked)):
        def confirm() -> str:
            ops.confirm_candidate(ctx.store, int(cid), actor=me, expect_moves=plan.moves)
            return (f"Pair #{cid} confirmed: record(s) "
                    + ", ".join(f"#{r}" for r in plan.moves) + f" linked to #{plan.keep}.")
        _act(confirm)
    if b2.button("Same study, another report", key="dup_same_study",
                 type="primary" if plan.blocked and plan.same_study_possible else "secondary"):
        def same_study() -> str:
            sid = ops.same_study_candidate(ctx.store, int(cid), actor=me)
            grouped = f" and their reports grouped into study #{sid}" if sid else ""
            return f"Pair #{cid} kept as two reports of one study{grouped}."
        _act(same_study)
    if b3.button("Not duplicates", key="dup_reject"):
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
