"""Reviewers' accounts and signing in: argon2 passwords, session tokens stored as hashes, expiry.

Why a server-side session table rather than trusting Streamlit's session
state alone: several app processes serve one team (PostgreSQL), a lead who
deactivates a reviewer or resets a password must be able to end that person's
sessions everywhere, and a session must stop working after its time even if
the browser tab stays open. The browser session keeps only the random token;
the database keeps its SHA-256 (a stolen database row cannot be replayed, and
a 256-bit random token needs no slow hash). Passwords themselves are checked
by :func:`review.store.repo.authenticate` (argon2). Where the deployment
configures single sign-on (Streamlit's ``st.login``, an ``[auth]`` section in
``.streamlit/secrets.toml``), :func:`sign_in_sso` opens the same kind of session
for the reviewer whose user name is the e-mail address the provider vouched for.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from review.store import repo
from review.store.db import Store
from review.store.models import AuditLog, LoginSession, Reviewer


@dataclass
class SignedIn:
    """The reviewer behind this browser session (never a password or hash)."""

    reviewer_id: int
    username: str
    display_name: str
    role: str  # "lead" or "reviewer"


#: Where the browser session keeps its token (``st.session_state[TOKEN_KEY]``).
TOKEN_KEY = "auth_token"
#: How long a sign-in lasts unless the review's ``session_hours`` setting says otherwise.
DEFAULT_SESSION_HOURS = 12.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_length(settings: dict | None = None) -> timedelta:
    hours = float((settings or {}).get("session_hours", DEFAULT_SESSION_HOURS))
    return timedelta(hours=max(hours, 0.01))


#: Failed sign-ins a user name may have (since its last success, within the window)
#: before each further try must wait; the wait doubles per failure up to the cap.
FREE_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=30)
FIRST_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(minutes=15)


class SignInThrottled(Exception):
    """Too many failed sign-ins for this user name: try again after ``wait``."""

    def __init__(self, wait: timedelta) -> None:
        self.wait = wait
        minutes = max(1, round(wait.total_seconds() / 60))
        super().__init__(f"Too many failed sign-ins for this user name. Try again in "
                         f"{minutes} minute{'s' if minutes != 1 else ''}.")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def throttle_wait(store: Store, username: str, now: datetime | None = None) -> timedelta:
    """How long this user name must wait before its next try (zero: it may try now).

    Counted per user name as typed (trimmed, without case), whether or not an
    account has it, so throttling says nothing about which names exist. Failures
    count from the name's last successful sign-in, within :data:`FAILURE_WINDOW`;
    after :data:`FREE_FAILURES` the wait after the latest failure is
    :data:`FIRST_WAIT`, doubled per further failure, at most :data:`MAX_WAIT`.
    """
    now = now or datetime.now(UTC)
    name = (username or "").strip().lower()
    with store.session() as s:
        last_ok = s.scalar(select(func.max(AuditLog.at)).where(
            AuditLog.action == "sign_in", func.lower(AuditLog.actor) == name))
        since = now - FAILURE_WINDOW
        if last_ok is not None:
            since = max(since, _aware(last_ok))
        fails = [_aware(a) for a in s.scalars(select(AuditLog.at).where(
            AuditLog.action == "sign_in_failed", AuditLog.actor == name))]
    fails = sorted(a for a in fails if a > since)
    if len(fails) < FREE_FAILURES:
        return timedelta(0)
    wait = min(FIRST_WAIT * 2 ** (len(fails) - FREE_FAILURES), MAX_WAIT)
    return max(timedelta(0), fails[-1] + wait - now)


def _failed(store: Store, name: str, why: str, now: datetime) -> None:
    """One audit row per failed sign-in (the user name as typed, never the password)."""
    with store.session() as s:
        repo.audit(s, name, "sign_in_failed", "login_session", None, at=now, why=why)


def sign_in(store: Store, username: str, password: str, *, ttl: timedelta | None = None,
            now: datetime | None = None) -> tuple[str, SignedIn] | None:
    """Check the password; on success open a session and return ``(token, who)``.

    The same ``None`` for an unknown user, a wrong password, a deactivated
    reviewer or an account without a password, so the page gives no hint
    which it was; and the same work (one argon2 verification) for each. Every
    failure leaves an audit row; a user name with too many recent failures
    raises :class:`SignInThrottled` without checking the password at all.
    """
    now = now or datetime.now(UTC)
    name = (username or "").strip().lower()[:100]
    wait = throttle_wait(store, name, now)
    if wait > timedelta(0):
        _failed(store, name, "throttled", now)
        raise SignInThrottled(wait)
    reviewer = repo.authenticate(store, name, password)
    if reviewer is None:
        _failed(store, name, "wrong user name or password", now)
        return None
    return _open_session(store, reviewer, ttl, now)


def sign_in_sso(store: Store, email: str | None, *, ttl: timedelta | None = None,
                now: datetime | None = None) -> tuple[str, SignedIn] | None:
    """Open a session for the reviewer an identity provider vouched for (``st.user.email``).

    The provider proves who the person is; whether they may screen is still the
    review's own list of reviewers (:func:`review.store.repo.reviewer_for_identity`).
    From here on the session is the same as after a password sign-in, so expiry,
    switching a reviewer off and signing out work the same way.
    """
    reviewer = repo.reviewer_for_identity(store, email or "")
    if reviewer is None:
        return None
    return _open_session(store, reviewer, ttl, now)


def _open_session(store: Store, reviewer: Reviewer, ttl: timedelta | None, now: datetime | None
                  ) -> tuple[str, SignedIn]:
    now = now or datetime.now(UTC)
    purge_expired_sessions(store, now)  # keep the table to live sessions
    token = secrets.token_urlsafe(32)
    add_login_session(store, reviewer.id, token_hash(token),
                              now + (ttl or session_length()), reviewer.username)
    return token, SignedIn(reviewer_id=reviewer.id, username=reviewer.username,
                           display_name=reviewer.display_name, role=reviewer.role)


def resume(store: Store, token: str | None, *, now: datetime | None = None) -> SignedIn | None:
    """Who holds ``token`` now, or None if it is unknown, expired, or the reviewer was stopped."""
    if not token:
        return None
    reviewer = session_reviewer(store, token_hash(token), now or datetime.now(UTC))
    if reviewer is None:
        return None
    return SignedIn(reviewer_id=reviewer.id, username=reviewer.username,
                    display_name=reviewer.display_name, role=reviewer.role)


def sign_out(store: Store, token: str | None, username: str | None = None) -> None:
    if token:
        end_login_session(store, token_hash(token), username)


def still_signed_in(store: Store, user: SignedIn, token: str | None) -> bool:
    """Whether ``token`` still belongs to ``user`` (checked again before every write)."""
    now = resume(store, token)
    return now is not None and now.reviewer_id == user.reviewer_id and now.role == user.role


# --- reviewers --------------------------------------------------------------------------------

def reviewer_names(store: Store) -> dict[int, str]:
    with store.session() as s:
        return {int(i): str(n) for i, n in s.execute(select(Reviewer.id, Reviewer.display_name))}


def set_reviewer_active(store: Store, reviewer_id: int, active: bool, actor: str) -> None:
    """Let a reviewer sign in again, or stop them (their decisions stay; their sessions end)."""
    with store.session() as s:
        r = s.get(Reviewer, reviewer_id)
        if r is None:
            raise repo.RepoError(f"no reviewer #{reviewer_id}")
        r.active = active
        if not active:
            s.execute(delete(LoginSession).where(LoginSession.reviewer_id == reviewer_id))
        repo.audit(s, actor, "activate" if active else "deactivate", "reviewer", reviewer_id,
                   username=r.username)


def set_reviewer_password(store: Store, reviewer_id: int, password: str, actor: str) -> None:
    """Set a new password (argon2 hash) and end the reviewer's open sessions."""
    if len(password) < 8:
        raise repo.RepoError("a password needs at least 8 characters")
    with store.session() as s:
        r = s.get(Reviewer, reviewer_id)
        if r is None:
            raise repo.RepoError(f"no reviewer #{reviewer_id}")
        r.password_hash = repo.hash_password(password)
        s.execute(delete(LoginSession).where(LoginSession.reviewer_id == reviewer_id))
        repo.audit(s, actor, "set_password", "reviewer", reviewer_id, username=r.username)


def set_reviewer_role(store: Store, reviewer_id: int, role: str, actor: str) -> None:
    if role not in ("lead", "reviewer"):
        raise repo.RepoError(f"role must be lead or reviewer, not {role!r}")
    with store.session() as s:
        r = s.get(Reviewer, reviewer_id)
        if r is None:
            raise repo.RepoError(f"no reviewer #{reviewer_id}")
        old, r.role = r.role, role
        repo.audit(s, actor, "set_role", "reviewer", reviewer_id, old=old, new=role)


# --- login sessions ---------------------------------------------------------------------------

def add_login_session(store: Store, reviewer_id: int, token_hash: str, expires_at: datetime,
                      username: str) -> None:
    with store.session() as s:
        s.add(LoginSession(reviewer_id=reviewer_id, token_hash=token_hash,
                           expires_at=expires_at))
        repo.audit(s, username, "sign_in", "login_session", None, reviewer_id=reviewer_id)


def session_reviewer(store: Store, token_hash: str, now: datetime) -> Reviewer | None:
    """The active reviewer behind an unexpired session, else None."""
    with store.session() as s:
        row = s.execute(select(Reviewer, LoginSession.expires_at)
                        .join(LoginSession, LoginSession.reviewer_id == Reviewer.id)
                        .where(LoginSession.token_hash == token_hash)).first()
    if row is None:
        return None
    reviewer, expires = row
    if expires.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        expires = expires.replace(tzinfo=UTC)
    if expires <= now or not reviewer.active:
        return None
    return reviewer


def end_login_session(store: Store, token_hash: str, username: str | None = None) -> None:
    with store.session() as s:
        n = s.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash)).rowcount
        if n:
            repo.audit(s, username, "sign_out", "login_session", None)


def purge_expired_sessions(store: Store, now: datetime) -> int:
    with store.session() as s:
        return int(s.execute(delete(LoginSession).where(LoginSession.expires_at <= now)).rowcount
                   or 0)
