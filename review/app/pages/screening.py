"""Title/abstract screening: one record at a time, decided with a click or a key.

The page keeps only *which record is on screen* in the browser session;
everything else (what is decided, what is handed to whom) is in the store, so
a reload, a second tab or a second app process shows the same state. Every
decision carries a request id, so a double click or a retried submit lands
once. Undo appends a ``retracted`` decision (nothing is deleted) and brings the
record back.

Keyboard: ``I`` include, ``E`` exclude, ``M`` maybe, ``U`` undo (the keys do
nothing while the cursor is in the note box).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import streamlit as st

from review.app import progress
from review.app.context import AppContext
from review.app.highlight import show_highlighted
from review.app.widgets import escape_markdown, shorten, show_keywords
from review.screening import decisions, queue, tags
from review.stages import DecisionError, Stage, checked_decision
from review.store import Store, StoreBusyError, accounts, repo

TITLE = "Screening"
ICON = ":material/fact_check:"
URL = "screening"
ROLES = ("lead", "reviewer")

STAGE = Stage.TITLE_ABSTRACT
K_CURRENT = "scr_current"
K_FLASH = "scr_flash"
K_SESSION = "scr_session"
K_SERIAL = "scr_serial"
NO_REASON = "(no reason)"
SHORTCUTS = {"include": "I", "exclude": "E", "maybe": "M", "undo": "U"}
WORDS = {"include": "Included", "exclude": "Excluded", "maybe": "Maybe", "retracted": "Undone"}


# --- state ------------------------------------------------------------------------------------

def _session_id() -> str:
    if K_SESSION not in st.session_state:
        st.session_state[K_SESSION] = uuid.uuid4().hex[:16]
    return st.session_state[K_SESSION]


def _request_id(record_id: int) -> str:
    """Unique per shown record per browser session: a repeated click reuses it (lands once)."""
    serial = st.session_state.get(K_SERIAL, 0)
    return f"{_session_id()}-{record_id}-{serial}"


def _still_open(store: Store, reviewer_id: int, record_id: int) -> bool:
    return decisions.my_current_decision(store, reviewer_id, record_id, STAGE) is None


def current_record(ctx: AppContext) -> int | None:
    """The record on screen: kept across reruns while it is undecided, else the queue's next."""
    me = ctx.user.reviewer_id
    rid = st.session_state.get(K_CURRENT)
    if rid is not None and _still_open(ctx.store, me, int(rid)):
        return int(rid)
    claim = queue.next_record(ctx.store, me, STAGE,
                              per_record=int(ctx.settings.get("reviewers_per_record", 1)),
                              claim_for=queue.claim_minutes(ctx.settings))
    st.session_state[K_CURRENT] = None if claim is None else claim.record_id
    return st.session_state[K_CURRENT]


def _pool_choice(ctx: AppContext) -> bool:
    """A lead screens only by choice; returns whether this person is in the screening pool."""
    if ctx.user.role != "lead":
        return True
    joined = queue.in_pool(ctx.settings, ctx.user.reviewer_id, ctx.user.role)
    leads = [int(x) for x in ctx.settings.get("screening_leads") or []]
    if not joined:
        st.info("As lead you are not in the screening pool, so opening this page takes no "
                "record from the team. Join it to screen records yourself.")
        if st.button("Join the screening pool", key="pool_join"):
            repo.set_setting(ctx.store, "screening_leads", [*leads, ctx.user.reviewer_id],
                             ctx.user.username)
            st.rerun()
        return False
    if st.button("Leave the screening pool", key="pool_leave"):
        repo.set_setting(ctx.store, "screening_leads",
                         [x for x in leads if x != ctx.user.reviewer_id], ctx.user.username)
        queue.release_claims(ctx.store, ctx.user.reviewer_id, STAGE)
        st.rerun()
    return True


# --- actions (button callbacks: they run before the page is drawn again) ----------------------

def _signed_in(ctx: AppContext) -> bool:
    """Parts of this page rerun on their own (fragments), without the app's sign-in check:
    so every write checks the session again (expired, signed out, or switched off)."""
    if accounts.still_signed_in(ctx.store, ctx.user, st.session_state.get(accounts.TOKEN_KEY)):
        return True
    st.session_state[K_FLASH] = ("signed_out", None, None)
    return False


def _decide(ctx: AppContext, record_id: int, label: str, request_id: str) -> None:
    if not _signed_in(ctx):
        return
    me = ctx.user
    reason = st.session_state.get(f"reason_{record_id}") if label == "exclude" else None
    if reason == NO_REASON:
        reason = None
    try:  # checked on the server: a select box's value is whatever the browser sent
        reason = checked_decision(ctx.settings, STAGE, label, reason)
    except DecisionError as exc:
        st.session_state[K_FLASH] = ("refused", record_id, str(exc))
        return
    note = (st.session_state.get(f"note_{record_id}") or "").strip() or None
    try:  # the store retries a busy SQLite file; past that, say so (nothing was saved)
        repo.add_decision(ctx.store, record_id=record_id, reviewer_id=me.reviewer_id,
                          stage=STAGE, label=label, reason=reason, note=note,
                          request_id=request_id, actor=me.username)
    except StoreBusyError as exc:
        st.session_state[K_FLASH] = ("busy", record_id, str(exc))
        return
    st.session_state[K_SERIAL] = st.session_state.get(K_SERIAL, 0) + 1
    claim = queue.next_record(ctx.store, me.reviewer_id, STAGE,
                              per_record=int(ctx.settings.get("reviewers_per_record", 1)),
                              skip=frozenset({record_id}),
                              claim_for=queue.claim_minutes(ctx.settings))
    st.session_state[K_CURRENT] = None if claim is None else claim.record_id
    st.session_state[K_FLASH] = (label, record_id, reason)
    queue.maybe_refresh(ctx.store, STAGE)


def _undo(ctx: AppContext) -> None:
    if not _signed_in(ctx):
        return
    me = ctx.user
    last = decisions.last_undoable(ctx.store, me.reviewer_id, STAGE)
    if last is None:
        st.session_state[K_FLASH] = ("nothing", None, None)
        return
    repo.add_decision(ctx.store, record_id=last["record_id"], reviewer_id=me.reviewer_id,
                      stage=STAGE, label="retracted",
                      request_id=f"{_session_id()}-undo-{last['decision_id']}",
                      actor=me.username)
    queue.ensure_assignment(ctx.store, last["record_id"], me.reviewer_id, STAGE)
    st.session_state[K_SERIAL] = st.session_state.get(K_SERIAL, 0) + 1
    st.session_state[K_CURRENT] = last["record_id"]
    if last.get("reason"):
        st.session_state[f"reason_{last['record_id']}"] = last["reason"]
    st.session_state[K_FLASH] = ("retracted", last["record_id"], last["label"])


# --- drawing ----------------------------------------------------------------------------------

def _flash(store: Store) -> None:
    flash = st.session_state.pop(K_FLASH, None)
    if not flash:
        return
    label, record_id, extra = flash
    if label == "signed_out":
        st.rerun(scope="app")  # the app shell shows the sign-in form
    if label == "nothing":
        st.info("Nothing to undo: you have no standing decision.")
        return
    if label == "refused":
        st.error(f"Not saved: {escape_markdown(extra)}. Choose again.")
        return
    if label == "busy":
        st.error(escape_markdown(extra), icon=":material/hourglass_top:")
        return
    title = (decisions.records_brief(store, [record_id]).get(record_id) or {}).get("title")
    what = escape_markdown(shorten(title, 80))
    if label == "retracted":
        st.warning(f"Undone: your *{escape_markdown(extra)}* on #{record_id} “{what}”. "
                   "Decide it again below.", icon=":material/undo:")
    else:
        because = f" ({escape_markdown(extra)})" if extra else ""
        st.success(f"{WORDS[label]}{because}: #{record_id} “{what}”", icon=":material/check:")


#: How often the progress panel redraws itself (other reviewers' work, background summaries).
PROGRESS_EVERY = timedelta(seconds=10)


def _team(store: Store, version: tuple[int, int, int], per_record: int) -> progress.TeamSummary:
    """Team counts from the database; on a big review computed beside the reviewer."""
    def compute() -> progress.TeamSummary:
        return progress.team_summary_from_counts(
            decisions.outcome_counts(store, STAGE, per_record), decisions.count_to_screen(store))

    return progress.SUMMARIES.get(f"team|{store.url}|{per_record}", version, compute)


def _recall(store: Store, version: tuple[int, int, int], target: float, n_records: int,
            settings: dict) -> progress.RecallEstimate | None:
    """The stopping rule's estimate; on a big review computed beside the reviewer.

    The lead's choice of rule and the start of random sampling are part of the key, so a
    change to either shows at once, not after the next decision.
    """
    def compute() -> progress.RecallEstimate | None:
        return progress.estimate_for_review(store.url, STAGE, n_records, target)

    chosen = (settings.get("stopping_rule"), settings.get("sampling_start"))
    return progress.SUMMARIES.get(f"recall|{store.url}|{target}", (version, n_records, chosen),
                                  compute, first_wait=1.0)


def _my_counts(ctx: AppContext) -> None:
    """The reviewer's own counts: cheap, so they change with every click."""
    mine = decisions.my_progress(ctx.store, ctx.user.reviewer_id, STAGE)
    cols = st.columns(4)
    cols[0].metric("Screened by you", mine["screened"])
    cols[1].metric("You included", mine["include"])
    cols[2].metric("You excluded", mine["exclude"])
    cols[3].metric("Your maybes", mine["maybe"])


@st.fragment(run_every=PROGRESS_EVERY)
def _team_progress(ctx: AppContext) -> None:
    """Team counts and the recall estimate; redrawn on its own every few seconds.

    A timed rerun skips the app's sign-in check, so it checks the session itself: a
    reviewer switched off (or signed out, or expired) gets no more team numbers, and
    their tab is sent back to the sign-in form.
    """
    store, me, settings = ctx.store, ctx.user, ctx.settings
    if not accounts.still_signed_in(store, me, st.session_state.get(accounts.TOKEN_KEY)):
        st.rerun(scope="app")
    version = decisions.data_version(store, STAGE)
    per = int(settings.get("reviewers_per_record", 1))
    team = decisions.visible_progress(_team(store, version, per), me, settings)
    if "finished" not in team:  # blind: only numbers that no reviewer's label moves
        cols = st.columns([3, 6])
        cols[0].metric("Records decided by the team", f"{team['decided']:,} / "
                       f"{team['to_screen']:,}",
                       help=f"Records decided by {per} reviewer(s), whatever they decided "
                            "(blind mode hides agreement and the team's labels).")
        if team["to_screen"]:
            cols[1].progress(min(team["decided"] / team["to_screen"], 1.0))
        return  # the recall estimate is made of everyone's labels: not for a blind reviewer
    cols = st.columns([3, 2, 4])
    cols[0].metric("Records finished", f"{team['finished']:,} / {team['to_screen']:,}",
                   help="Records with a final decision (agreed, or resolved by the lead).")
    cols[1].metric("Included (team)", team["included"],
                   help=f"{team['conflicts']} conflicts, {team['pending']} waiting for a "
                        "second reviewer")
    with cols[-1]:
        if team["to_screen"]:
            st.progress(min(team["finished"] / team["to_screen"], 1.0))
        target = float(settings.get("target_recall", 0.95))
        est = _recall(store, version, target, team["to_screen"], settings)
        if est is None:
            st.caption("Estimated recall: being computed in the background; it appears here "
                       "in a few seconds.")
        elif est.recall is None:
            st.caption(escape_markdown(est.advice))
        else:  # the estimate, its lower bound and the next step: review.screening.stopping
            (st.success if est.stop else st.info)(escape_markdown(est.advice),
                                                  icon=":material/query_stats:")


def _record_card(ctx: AppContext, record: dict[str, Any]) -> None:
    inc = list(ctx.settings.get("highlight_include") or [])
    exc = list(ctx.settings.get("highlight_exclude") or [])
    mine = tags.personal_terms(ctx.store, ctx.user.reviewer_id)
    with st.container(border=True):
        show_highlighted(record.get("title") or "(no title)", inc, exc, mine, heading=True)
        where = " · ".join(str(x) for x in (record.get("journal"), record.get("year")) if x)
        authors = record.get("authors") or []
        names = "; ".join(str(a) for a in authors[:6]) + (" et al." if len(authors) > 6 else "")
        if where or names:
            st.caption(escape_markdown(" — ".join(x for x in (names, where) if x)))
        show_highlighted(record.get("abstract") or "(no abstract)", inc, exc, mine, legend=True)
        show_keywords(record.get("keywords"))
        st.caption(f"Record #{record['id']}" + (f" · DOI {escape_markdown(record['doi'])}"
                                                 if record.get("doi") else ""))


def _others(ctx: AppContext, record_id: int) -> None:
    """Other reviewers' current labels on this record, only when the review is not blind."""
    if bool(ctx.settings.get("blind", True)):
        return
    labels = decisions.current_labels(ctx.store, ctx.user, record_id, STAGE, ctx.settings)
    labels = labels[labels["reviewer_id"] != ctx.user.reviewer_id]
    for row in labels.itertuples():
        reason = f" ({escape_markdown(row.reason)})" if row.reason else ""
        st.caption(f"{escape_markdown(row.reviewer)}: {row.label}{reason}")


def _controls(ctx: AppContext, record_id: int) -> None:
    """Reason, note and the decision buttons (drawn beside the record, so no scrolling)."""
    reasons = [NO_REASON, *[str(r) for r in ctx.settings.get(f"exclusion_reasons_{STAGE}") or []]]
    key = f"reason_{record_id}"
    if key in st.session_state and st.session_state[key] not in reasons:
        del st.session_state[key]  # a reason no longer offered (or never offered) is not kept
    rid = _request_id(record_id)
    for label, icon in (("include", ":material/check_circle:"), ("exclude", ":material/cancel:"),
                        ("maybe", ":material/help:")):
        st.button(label.capitalize(), key=f"{label}_{record_id}", icon=icon,
                  shortcut=SHORTCUTS[label], on_click=_decide, args=(ctx, record_id, label, rid),
                  width="stretch")
    st.selectbox("Exclusion reason", reasons, key=key,
                 help="Recorded with an Exclude decision (the PRISMA reasons).")
    st.text_input("Note (optional)", key=f"note_{record_id}", max_chars=2000)
    st.button("Undo last", key="undo", icon=":material/undo:", shortcut=SHORTCUTS["undo"],
              on_click=_undo, args=(ctx,), width="stretch")
    st.caption("Keys: **I** include · **E** exclude · **M** maybe · **U** undo last")


@st.fragment
def _work(ctx: AppContext) -> None:
    """Own counts, the record and the decision buttons: a click reruns only this part."""
    store = ctx.store
    if not accounts.still_signed_in(store, ctx.user, st.session_state.get(accounts.TOKEN_KEY)):
        st.rerun(scope="app")  # the sign-in ran out: let the app shell ask again
    _flash(store)
    _my_counts(ctx)
    if not _pool_choice(ctx):
        return
    record_id = current_record(ctx)
    if record_id is None:
        st.success("Nothing left for you to screen at title/abstract. Thank you!",
                   icon=":material/celebration:")
        st.button("Undo last", key="undo", icon=":material/undo:", shortcut=SHORTCUTS["undo"],
                  on_click=_undo, args=(ctx,))
        return
    record = decisions.record_detail(store, record_id)
    if record is None:
        st.session_state[K_CURRENT] = None
        st.error(f"Record #{record_id} is gone from the review; reload to get the next one.")
        return
    left, right = st.columns([3, 1], gap="medium")
    with left:
        _record_card(ctx, record)
        _others(ctx, record_id)
    with right:
        _controls(ctx, record_id)


def render(ctx: AppContext) -> None:
    ctx.require(*ROLES)
    st.title("Title/abstract screening")
    _team_progress(ctx)
    _work(ctx)
