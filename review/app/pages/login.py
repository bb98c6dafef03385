"""Signing in, and once signed in the reviewer's account: who they are, their password, sign out.

The sign-in form says the same thing for every failure (unknown name, wrong
password, account switched off), so it does not tell a stranger which user
names exist.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from review.app.context import AppContext
from review.app.widgets import escape_markdown
from review.store import Store, accounts, repo

TITLE = "Account"
ICON = ":material/account_circle:"
URL = "account"
ROLES = ("lead", "reviewer")

FAILED = "Sign-in failed: check the user name and password."
#: Shared settings of Streamlit's ``[auth]`` section (anything else that is a table is a provider).
_SHARED_AUTH_KEYS = {"redirect_uri", "cookie_secret", "expose_tokens"}


def sso_providers() -> list[str | None]:
    """The identity providers configured for ``st.login`` (``[auth]`` in secrets.toml).

    ``[]`` when single sign-on is not set up (the usual case: passwords only);
    ``[None]`` for one provider configured directly in ``[auth]``; else the
    names of the ``[auth.NAME]`` tables.
    """
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return []
    if not isinstance(section, Mapping) or not section:
        return []
    named = [str(k) for k, v in section.items()
             if isinstance(v, Mapping) and k not in _SHARED_AUTH_KEYS]
    if named:
        return named
    return [None] if section.get("client_id") else []


def sso_signed_in_email() -> str | None:
    """The e-mail address the identity provider vouched for in this browser, if any."""
    try:
        if not st.user.is_logged_in:
            return None
        return str(st.user.get("email") or "") or None
    except Exception:  # no [auth] section: st.user knows nobody
        return None


def sign_out_sso() -> None:
    """End the identity provider's sign-in too, so "Sign out" is not undone at once."""
    if sso_providers() and sso_signed_in_email():
        st.logout()


def _render_sso(store: Store, token_key: str, settings: dict, providers: list[str | None]
                ) -> bool:
    email = sso_signed_in_email()
    if email is None:
        for name in providers:
            label = f"Sign in with {name.replace('_', ' ').title()}" if name else \
                "Sign in with your organisation's account"
            st.button(label, key=f"sso_{name or 'default'}", type="primary",
                      icon=":material/key:", on_click=st.login, args=(name,) if name else ())
        st.caption("Or with a user name and password from the review's lead:")
        return False
    result = accounts.sign_in_sso(store, email, ttl=accounts.session_length(settings))
    if result is not None:
        st.session_state[token_key] = result[0]
        return True
    st.error(f"{escape_markdown(email)} is not a reviewer of this review. Ask the lead to add "
             f"you on the Team page with the user name {escape_markdown(email)}.")
    st.button("Sign out of single sign-on", key="sso_logout", on_click=st.logout)
    return False


def render_sign_in(store: Store, token_key: str) -> bool:
    """The sign-in form; on success stores the session token in ``st.session_state[token_key]``.

    Returns True when the reviewer just signed in (the caller reruns the app).
    """
    settings = repo.get_settings(store)
    st.title(escape_markdown(settings.get("review_title") or "Review"))
    st.subheader("Sign in")
    providers = sso_providers()
    if providers and _render_sso(store, token_key, settings, providers):
        return True
    with st.form("sign_in", clear_on_submit=False):
        username = st.text_input("User name", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            result = accounts.sign_in(store, username, password,
                                      ttl=accounts.session_length(settings))
        except accounts.SignInThrottled as exc:
            st.error(str(exc))
            return False
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
    st.caption(f"A sign-in lasts {accounts.session_length(ctx.settings).total_seconds() / 3600:g} "
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
                accounts.set_reviewer_password(ctx.store, me.reviewer_id, new, me.username)
            except repo.RepoError as exc:
                st.error(str(exc))
            else:
                # Changing the password ends every session, this one included.
                st.session_state.clear()
                st.session_state["auth_cookie"] = "clear"
                st.rerun()
