"""Team (lead only): the review's reviewers and the settings that shape screening.

Every change goes through the repository, so it is one transaction with an
audit-log row naming the lead who made it. Settings take effect on each
reviewer's next click (every page reads them fresh).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from review.app.context import AppContext
from review.app.highlight import clean_keywords
from review.app.pages import login
from review.app.widgets import escape_markdown
from review.screening import decisions, queue
from review.stages import Stage
from review.store import accounts, repo

TITLE = "Team & settings"
ICON = ":material/groups:"
URL = "team"
ROLES = ("lead",)

K_FLASH = "team_flash"
K_CLEAR = "team_clear_new"
STAGE = Stage.TITLE_ABSTRACT


def lines(text: str) -> list[str]:
    """A text area's non-blank lines, trimmed, duplicates (any case) dropped, order kept."""
    return clean_keywords(text.splitlines())


def settings_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Only the settings whose value the lead actually changed (so the audit log stays honest)."""
    return {k: v for k, v in new.items() if old.get(k) != v}


def _flash() -> None:
    msg = st.session_state.pop(K_FLASH, None)
    if msg:
        st.success(escape_markdown(msg), icon=":material/check:")


def _reviewers(ctx: AppContext) -> pd.DataFrame:
    people = repo.reviewers_frame(ctx.store)
    work = decisions.reviewer_workload(ctx.store, STAGE)
    people = people.merge(work, on="reviewer_id", how="left").fillna(
        {"assigned": 0, "decided": 0})
    people[["assigned", "decided"]] = people[["assigned", "decided"]].astype(int)
    st.subheader("Reviewers")
    st.dataframe(people.rename(columns={"display_name": "name", "assigned": "records handed out",
                                        "decided": "decided (title/abstract)"}),
                 hide_index=True, width="stretch")
    return people


def _add_reviewer(ctx: AppContext) -> None:
    if st.session_state.pop(K_CLEAR, False):  # added: empty the form for the next person
        for key in ("new_username", "new_display", "new_password"):
            st.session_state[key] = ""
    # Not clear_on_submit: a refused submission keeps what the lead typed, to correct it.
    with st.form("add_reviewer", clear_on_submit=False):
        st.markdown("**Add a reviewer**")
        c1, c2 = st.columns(2)
        username = c1.text_input("User name", key="new_username")
        display = c2.text_input("Full name", key="new_display")
        c3, c4 = st.columns(2)
        role = c3.selectbox("Role", ("reviewer", "lead"), key="new_role")
        password = c4.text_input("First password (at least 8 characters)", type="password",
                                 key="new_password")
        sso = bool(login.sso_providers())
        if sso:
            st.caption("Single sign-on is set up: use the person's e-mail address as user name "
                       "and they can sign in with their organisation's account; a password is "
                       "then optional.")
        submitted = st.form_submit_button("Add reviewer", type="primary")
    if submitted:
        sso_only = sso and "@" in username and not password
        if len(password) < 8 and not sso_only:
            st.error("A first password needs at least 8 characters.")
            return
        try:
            repo.add_reviewer(ctx.store, username.strip(), display.strip() or username.strip(),
                              role=role, password=password or None, actor=ctx.user.username)
        except repo.RepoError as exc:
            st.error(str(exc))
            return
        st.session_state[K_FLASH] = f"Added {username.strip()} ({role})."
        st.session_state[K_CLEAR] = True
        st.rerun()


def _manage(ctx: AppContext, people: pd.DataFrame) -> None:
    people = people[people["role"] != "automation"]
    if people.empty:
        return
    with st.expander("Change a reviewer"):
        ids = people["reviewer_id"].astype(int).tolist()
        row_of = people.set_index("reviewer_id")
        rid = st.selectbox("Reviewer", ids, key="manage_pick",
                           format_func=lambda i: f"{row_of.at[i, 'display_name']} "
                                                 f"({row_of.at[i, 'username']})")
        if rid is None:
            return
        rid = int(rid)
        row = row_of.loc[rid]
        is_me = rid == ctx.user.reviewer_id
        with st.form("manage_reviewer"):
            active = st.checkbox("May sign in", value=bool(row["active"]), disabled=is_me,
                                 key="manage_active")
            role = st.selectbox("Role", ("reviewer", "lead"), disabled=is_me, key="manage_role",
                                index=0 if row["role"] == "reviewer" else 1)
            password = st.text_input("New password (leave empty to keep)", type="password",
                                     key="manage_password")
            save = st.form_submit_button("Save reviewer")
        if is_me:
            st.caption("You cannot switch off or demote yourself (the review would lose its lead).")
        if save:
            who = ctx.user.username
            try:
                if not is_me and bool(active) != bool(row["active"]):
                    accounts.set_reviewer_active(ctx.store, rid, bool(active), who)
                    if not active:  # the records they held undecided go back to the team
                        queue.release_claims(ctx.store, rid)
                if not is_me and role != row["role"]:
                    accounts.set_reviewer_role(ctx.store, rid, role, who)
                if password:
                    accounts.set_reviewer_password(ctx.store, rid, password, who)
            except repo.RepoError as exc:
                st.error(str(exc))
                return
            st.session_state[K_FLASH] = f"Saved {row['username']}."
            st.rerun()


def _sampling_phase(ctx: AppContext, s: dict) -> None:
    """The stopping rule's random-sampling phase: the lead starts it, the queue follows it."""
    from review.screening import store_rank

    st.subheader("Stopping rule")
    start = s.get("sampling_start")
    if start is None:
        st.write("Reviewers screen in the ranking's order. When the recall estimate or the "
                 "'irrelevant in a row' heuristic says the relevant records seem exhausted, "
                 "start random sampling: the rest is screened in random order, and the "
                 "hypergeometric test can then say, with 95% confidence, when the target recall "
                 "is reached.")
        if st.button("Start random sampling", key="start_sampling"):
            n = len(repo.outcomes(ctx.store, Stage.TITLE_ABSTRACT))
            repo.set_setting(ctx.store, "sampling_start", n, actor=ctx.user.username)
            store_rank(ctx.store)
            st.session_state[K_FLASH] = f"Random sampling started after {n} screened records."
            st.rerun()
    else:
        st.write(f"Random sampling began after {int(start)} screened records; the queue hands "
                 "out the remaining records in random order and the recall estimate carries "
                 "the statistical guarantee.")
        if st.button("Return to ranked order", key="stop_sampling"):
            repo.set_setting(ctx.store, "sampling_start", None, actor=ctx.user.username)
            store_rank(ctx.store)
            st.session_state[K_FLASH] = "Back to ranked order."
            st.rerun()


def _settings(ctx: AppContext) -> None:
    s = repo.get_settings(ctx.store)
    _sampling_phase(ctx, s)
    st.subheader("Screening settings")
    with st.form("settings"):
        title = st.text_input("Review title", value=str(s.get("review_title") or ""),
                              key="set_title")
        c1, c2, c3 = st.columns(3)
        per = c1.radio("Reviewers per record", (1, 2), horizontal=True, key="set_per",
                       index=0 if int(s.get("reviewers_per_record", 1)) == 1 else 1,
                       help="2 = dual screening: every record is decided by two reviewers and "
                            "disagreements go to the Conflicts page.")
        blind = c2.toggle("Blind mode", value=bool(s.get("blind", True)), key="set_blind",
                          help="Reviewers see only their own decisions (the lead sees all).")
        target = c3.number_input("Target recall", min_value=0.5, max_value=1.0, step=0.01,
                                 value=float(s.get("target_recall", 0.95)), key="set_target",
                                 help="The stopping rule advises stopping once the estimated "
                                      "recall reaches this.")
        claim = st.number_input(
            "Minutes a record stays with the reviewer it was handed to", min_value=1,
            max_value=24 * 60, step=5, value=int(queue.claim_minutes(s)), key="set_claim",
            help="A record handed out and not decided in this time goes back to the team "
                 "(also at sign-out, and when a reviewer is switched off).")
        c4, c5 = st.columns(2)
        reasons_ta = c4.text_area(
            "Exclusion reasons, title/abstract (one per line)",
            value="\n".join(s.get("exclusion_reasons_title_abstract") or []), key="set_rta")
        reasons_ft = c5.text_area(
            "Exclusion reasons, full text (one per line)",
            value="\n".join(s.get("exclusion_reasons_full_text") or []), key="set_rft")
        c6, c7 = st.columns(2)
        hl_inc = c6.text_area("Highlight as include terms (one per line; `lonel*` = stem)",
                              value="\n".join(s.get("highlight_include") or []), key="set_hli")
        hl_exc = c7.text_area("Highlight as exclude terms (one per line)",
                              value="\n".join(s.get("highlight_exclude") or []), key="set_hle")
        save = st.form_submit_button("Save settings", type="primary")
    if save:
        new = {
            "review_title": title.strip() or "Untitled review",
            "reviewers_per_record": int(per),
            "blind": bool(blind),
            "target_recall": round(float(target), 3),
            "exclusion_reasons_title_abstract": lines(reasons_ta),
            "exclusion_reasons_full_text": lines(reasons_ft),
            "highlight_include": lines(hl_inc),
            "highlight_exclude": lines(hl_exc),
        }
        if int(claim) != int(queue.claim_minutes(s)):
            new["claim_minutes"] = int(claim)
        if not new["exclusion_reasons_title_abstract"] or not new["exclusion_reasons_full_text"]:
            st.error("Each stage needs at least one exclusion reason.")
            return
        changed = settings_changes(s, new)
        for key, value in changed.items():
            repo.set_setting(ctx.store, key, value, actor=ctx.user.username)
        st.session_state[K_FLASH] = (f"Saved {len(changed)} setting(s): {', '.join(changed)}."
                                     if changed else "No setting changed.")
        st.rerun()


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title(TITLE)
    _flash()
    people = _reviewers(ctx)
    _add_reviewer(ctx)
    _manage(ctx, people)
    st.divider()
    _settings(ctx)
