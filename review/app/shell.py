"""The review's browser app: ``review app --db PATH_OR_URL`` (or ``streamlit run`` this file).

``screening_app.py`` at the top of a checkout is a thin entry point to :func:`run`; this
module ships inside the package, so an installed review starts the same app. Without
``--db`` the app opens ``$REVIEW_DATABASE_URL``, else ``./review.db`` (the rule every
command follows, :func:`review.store.resolve_url`).
Several app processes may point at one PostgreSQL database: they share
nothing but the database, so they behave as one app.

This file is only the shell: open the review (once per process), sign the
reviewer in, and show the pages their role allows. The pages themselves live
in :mod:`review.app.pages`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType

import streamlit as st

from review.app.context import AccessDenied, AppContext, SignedIn
from review.app.pages import DEFAULT_PAGE, PAGES, pages_for
from review.app.pages import login as login_page
from review.app.widgets import escape_markdown
from review.screening import queue
from review.store import Store, StoreError, accounts, open_store, repo, resolve_url
from review.store.db import DEFAULT_DB
from review.store.instance import session_cookie_name

TOKEN_KEY = accounts.TOKEN_KEY
GOTO_KEY = "goto"
#: The browser keeps the session token in this cookie so a reload does not sign the reviewer out.
#: Named per copy of the review (``review.store.instance``), so two reviews on one host
#: never share it and a restored copy never accepts the original's.
_COOKIE_KEY = "auth_cookie"  # what to do to the cookie on the next run: "set" or "clear"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def database_arg(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """``--db`` after ``--`` on the command line, else $REVIEW_DATABASE_URL, else ./review.db."""
    args: list[str] = []
    if "--" in argv:
        args = list(argv[list(argv).index("--") + 1:])
    elif argv and Path(argv[0]).suffix == ".py":
        args = list(argv[1:])  # streamlit hands the script the arguments after `--`
    parser = argparse.ArgumentParser(prog="screening_app.py", add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(args)
    return known.db or environ.get("REVIEW_DATABASE_URL") or DEFAULT_DB


@st.cache_resource(show_spinner="Opening the review…")
def get_store(url: str) -> Store:
    """One store (engine + connection pool) per process and database, shared by all sessions."""
    store = open_store(url, create=False)
    queue.backfill_assignments(store)
    return store


def _cookie_script(store: Store, settings: dict) -> None:
    """Set or clear the session cookie in the browser (the server cannot: it speaks websocket).

    Only the random session token goes into the cookie; it is checked against
    its hash in the database on every run, so a stale or forged cookie is
    worthless, and signing out deletes the server-side session whatever the
    browser keeps.
    """
    action = st.session_state.pop(_COOKIE_KEY, None)
    token = st.session_state.get(TOKEN_KEY) or ""
    if action == "set" and _TOKEN_SHAPE.match(token):
        age = int(accounts.session_length(settings).total_seconds())
        value = f"{session_cookie_name(store)}={token}; Path=/; Max-Age={age}; SameSite=Strict"
    elif action == "clear":
        value = f"{session_cookie_name(store)}=; Path=/; Max-Age=0; SameSite=Strict"
    else:
        return
    st.html("<script>document.cookie = '" + value + "' + "
            "(location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True, width=1)


def _cookie_token(store: Store) -> str | None:
    try:
        token = st.context.cookies.get(session_cookie_name(store))
    except Exception:  # no browser behind this run (tests, bare mode)
        return None
    return token if isinstance(token, str) and _TOKEN_SHAPE.match(token) else None


def _page(module: ModuleType, ctx: AppContext) -> Callable[[], None]:
    def run() -> None:
        try:
            module.render(ctx)
        except AccessDenied as exc:
            st.error(f"Not allowed: {exc}")
    run.__name__ = f"page_{module.__name__.rsplit('.', 1)[-1]}"
    return run


def _sidebar(store: Store, user: SignedIn, settings: dict) -> None:
    with st.sidebar:
        st.caption(settings.get("review_title") or "Review")
        st.write(f"Signed in as **{escape_markdown(user.display_name)}** ({user.role})")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            accounts.sign_out(store, st.session_state.pop(TOKEN_KEY, None), user.username)
            queue.release_claims(store, user.reviewer_id)  # their open records go back
            st.session_state[_COOKIE_KEY] = "clear"
            st.session_state["signed_out"] = True
            login_page.sign_out_sso()  # else the identity provider would sign them in again
            st.rerun()


def _sign_in_navigation(store: Store):
    """Every page's address shows the sign-in form, so a bookmarked page opens after sign-in."""
    def sign_in() -> None:
        if login_page.render_sign_in(store, TOKEN_KEY):
            st.session_state[_COOKIE_KEY] = "set"
            st.session_state.pop("signed_out", None)
            st.rerun()

    pages = [st.Page(sign_in, title="Sign in", icon=":material/login:", url_path="login",
                     default=True)]
    for name, m in PAGES.items():
        pages.append(st.Page(_named(sign_in, name), title=m.TITLE, url_path=m.URL))
    return st.navigation(pages, position="hidden")


def _named(fn: Callable[[], None], name: str) -> Callable[[], None]:
    def run() -> None:
        fn()
    run.__name__ = f"sign_in_{name}"
    return run


def main() -> None:
    st.set_page_config(page_title="review", page_icon=":material/fact_check:", layout="wide")
    url = resolve_url(database_arg(sys.argv, os.environ))
    try:
        store = get_store(url)
    except StoreError as exc:
        st.error(f"{exc}")
        st.info("Build the demo review with `review demo`, or start the app on your own "
                "review: `review app --db PATH_OR_URL`.")
        st.stop()
    settings = repo.get_settings(store)
    token = st.session_state.get(TOKEN_KEY)
    if token is None and not st.session_state.get("signed_out"):
        token = _cookie_token(store)  # a reload or a new tab: the browser still has the session
        if token is not None:
            st.session_state[TOKEN_KEY] = token
    user = accounts.resume(store, token)
    if user is None:
        st.session_state.pop(TOKEN_KEY, None)
        _cookie_script(store, settings)
        _sign_in_navigation(store).run()
        return
    st.session_state.pop("signed_out", None)
    _cookie_script(store, settings)
    ctx = AppContext(store=store, user=user, settings=settings)
    modules = pages_for(user.role)
    # No real page is the default: Streamlit serves the default page at "/" only, so a
    # bookmarked /screening would be "Page not found". A hidden page at "/" draws the
    # landing page itself (a switch_page would drop this run's cookie script).
    pages = {name: st.Page(_page(m, ctx), title=m.TITLE, icon=m.ICON, url_path=m.URL)
             for name, m in modules.items()}
    home = _page(modules.get(DEFAULT_PAGE) or next(iter(modules.values())), ctx)
    home.__name__ = "page_home"
    _sidebar(store, user, settings)
    nav = st.navigation([st.Page(home, title="Home", url_path="home", default=True,
                                 visibility="hidden"), *pages.values()])
    goto = st.session_state.pop(GOTO_KEY, None)
    if goto in pages:
        st.switch_page(pages[goto])
    nav.run()


def run() -> None:
    if not os.environ.get("REVIEW_APP_TIMING"):
        main()
        return
    import time  # operators: log how long each script run takes

    t0 = time.perf_counter()
    try:
        main()
    finally:
        print(f"[review app] script run {1000 * (time.perf_counter() - t0):.1f} ms",
              file=sys.stderr, flush=True)


# Streamlit runs this file as __main__; a helper process started with "spawn" re-imports it
# as __mp_main__, and must not run the app.
if __name__ == "__main__":
    run()
