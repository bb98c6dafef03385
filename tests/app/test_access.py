"""Access: hashed sessions that expire, roles on every page, blind mode in the data layer."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from review.app.context import AccessDenied, AppContext, SignedIn
from review.app.pages import PAGES, conflicts, pages_for, team
from review.screening import decisions
from review.store import accounts, repo
from review.store.models import AuditLog, LoginSession

TA = "title_abstract"


@pytest.fixture
def team_review(db_url: str):
    from app_helpers import build_review

    r = build_review(db_url, hostile=False)
    try:
        yield r
    finally:
        r.store.close()


def who(r, username: str) -> SignedIn:
    return SignedIn(r.ids[username], username, username.title(),
                    "lead" if username == "lead" else "reviewer")


def test_sign_in_stores_only_a_hash_of_the_token(team_review) -> None:
    store = team_review.store
    token, me = accounts.sign_in(store, "ana", "ana-demo")
    assert me.username == "ana" and me.role == "reviewer"
    with store.session() as s:
        rows = s.scalars(select(LoginSession)).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert accounts.resume(store, token) == me
    assert accounts.resume(store, "not-a-token") is None


@pytest.mark.parametrize("username,password", [("ana", "wrong"), ("nobody", "ana-demo"),
                                               ("ana", "")])
def test_wrong_credentials_give_no_session(team_review, username: str, password: str) -> None:
    assert accounts.sign_in(team_review.store, username, password) is None
    with team_review.store.session() as s:
        assert s.scalars(select(LoginSession)).all() == []


def test_sessions_expire(team_review) -> None:
    store = team_review.store
    start = datetime.now(UTC)
    token, _ = accounts.sign_in(store, "ben", "ben-demo", ttl=timedelta(hours=1), now=start)
    assert accounts.resume(store, token, now=start + timedelta(minutes=59)) is not None
    assert accounts.resume(store, token, now=start + timedelta(minutes=61)) is None
    assert accounts.purge_expired_sessions(store, start + timedelta(hours=2)) == 1


def test_signing_out_switching_off_or_resetting_a_password_ends_sessions(team_review) -> None:
    store = team_review.store
    t1, _ = accounts.sign_in(store, "ana", "ana-demo")
    accounts.sign_out(store, t1, "ana")
    assert accounts.resume(store, t1) is None
    t2, _ = accounts.sign_in(store, "ana", "ana-demo")
    accounts.set_reviewer_active(store, team_review.ids["ana"], False, "lead")
    assert accounts.resume(store, t2) is None
    # a switched-off reviewer cannot sign in
    assert accounts.sign_in(store, "ana", "ana-demo") is None
    accounts.set_reviewer_active(store, team_review.ids["ana"], True, "lead")
    t3, _ = accounts.sign_in(store, "ana", "ana-demo")
    accounts.set_reviewer_password(store, team_review.ids["ana"], "a-new-password", "lead")
    assert accounts.resume(store, t3) is None
    assert accounts.sign_in(store, "ana", "a-new-password") is not None
    with pytest.raises(repo.RepoError):
        accounts.set_reviewer_password(store, team_review.ids["ana"], "short", "lead")


def test_blind_reviewer_cannot_read_another_reviewers_labels(team_review) -> None:
    store, r = team_review.store, team_review
    for rec, (a, b) in zip(r.records[:3], [("include", "exclude"), ("exclude", "exclude"),
                                           ("maybe", "include")], strict=True):
        repo.add_decision(store, record_id=rec, reviewer_id=r.ids["ana"], stage=TA, label=a)
        repo.add_decision(store, record_id=rec, reviewer_id=r.ids["ben"], stage=TA, label=b)
    blind = {**repo.get_settings(store), "blind": True}
    ana = who(r, "ana")
    # Asked outright for Ben's labels, the data layer returns nothing.
    assert decisions.visible_decisions(store, ana, TA, blind, reviewer_id=r.ids["ben"]).empty
    # Asked for everything, it returns Ana's own rows only.
    mine = decisions.visible_decisions(store, ana, TA, blind)
    assert set(mine["reviewer_id"]) == {r.ids["ana"]} and len(mine) == 3
    on_record = decisions.current_labels(store, ana, r.records[0], TA, blind)
    assert on_record["reviewer_id"].tolist() == [r.ids["ana"]]
    # The lead sees both; with blind mode off, so does a reviewer.
    assert len(decisions.visible_decisions(store, who(r, "lead"), TA, blind)) == 6
    open_ = {**blind, "blind": False}
    assert len(decisions.visible_decisions(store, ana, TA, open_, reviewer_id=r.ids["ben"])) == 3


def test_reviewers_cannot_open_lead_pages(team_review) -> None:
    ctx = AppContext(store=team_review.store, user=who(team_review, "ana"),
                     settings=repo.get_settings(team_review.store))
    for page in (team, conflicts):
        with pytest.raises(AccessDenied):
            page.render(ctx)
    allowed = pages_for("reviewer")
    assert "team" not in allowed and "conflicts" not in allowed and "screening" in allowed
    assert {"team", "conflicts", "screening"} <= set(pages_for("lead"))
    for name, module in PAGES.items():  # every page declares who may open it
        assert set(module.ROLES) <= {"lead", "reviewer"}, name
        assert callable(module.render) and module.TITLE and module.URL


def test_audit_log_names_who_signed_in_decided_and_resolved(team_review) -> None:
    store, r = team_review.store, team_review
    accounts.sign_in(store, "lead", "lead-demo")
    repo.add_decision(store, record_id=r.records[0], reviewer_id=r.ids["ana"], stage=TA,
                      label="include", actor="ana")
    repo.add_resolution(store, record_id=r.records[0], stage=TA, label="exclude",
                        resolved_by=r.ids["lead"])
    with store.session() as s:
        rows = [(a.actor, a.action) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert ("lead", "sign_in") in rows and ("ana", "decide") in rows
    assert (str(r.ids["lead"]), "resolve") in rows
