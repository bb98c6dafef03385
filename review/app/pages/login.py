"""Signing in, and once signed in the reviewer's account: who they are, their password, sign out.

The sign-in form says the same thing for every failure (unknown name, wrong
password, account switched off), so it does not tell a stranger which user
names exist.
"""

from __future__ import annotations

import streamlit as st

from review.app import auth, queries
from review.app.context import AppContext
from review.app.widgets import escape_markdown
from review.store import Store, repo

TITLE = "Account"
ICON = ":material/account_circle:"
URL = "account"
ROLES = ("lead", "reviewer")

FAILED = "Sign-in failed: check the user name and password."


def render_sign_in(store: Store, token_key: str) -> bool:
    """The sign-in form; on success stores the session token in ``st.session_state[token_key]``.

    Returns True when the reviewer just signed in (the caller reruns the app).
    """
    settings = repo.get_settings(store)
    st.title(escape_markdown(settings.get("review_title") or "Review"))
    st.subheader("Sign in")
    with st.form("sign_in", clear_on_submit=False):
        username = st.text_input("User name", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        result = auth.sign_in(store, username, password, ttl=auth.session_length(settings))
        if result is None:
            st.error(FAILED)
            return False
        token, _who = result
        st.session_state[token_key] = token
        return True
    return False


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    me = ctx.user
    st.title(TITLE)
    st.write(f"**{escape_markdown(me.display_name)}** — user name "
             f"*{escape_markdown(me.username)}*, role **{me.role}**")
    st.caption(f"A sign-in lasts {auth.session_length(ctx.settings).total_seconds() / 3600:g} "
               "hours; after that the app asks for the password again.")
    with st.form("change_password", clear_on_submit=True):
        st.subheader("Change password")
        old = st.text_input("Current password", type="password", key="acct_old")
        new = st.text_input("New password (at least 8 characters)", type="password",
                            key="acct_new")
        again = st.text_input("New password again", type="password", key="acct_again")
        change = st.form_submit_button("Change password")
    if change:
        if repo.authenticate(ctx.store, me.username, old) is None:
            st.error("The current password is not right.")
        elif new != again:
            st.error("The two new passwords differ.")
        else:
            try:
                queries.set_reviewer_password(ctx.store, me.reviewer_id, new, me.username)
            except repo.RepoError as exc:
                st.error(str(exc))
            else:
                # Changing the password ends every session, this one included.
                st.session_state.clear()
                st.session_state["auth_cookie"] = "clear"
                st.rerun()
