"""Access: blind mode in the data layer, argon2 passwords, expiring sessions, an audit log that
names who did what and when and that no app code can edit, and role checks on every page.

These complement ``tests/app/test_access.py`` (the app engineer's) from the
reliability side: both stages, undo, and code-level checks that hold for
pages not written yet.
"""

from __future__ import annotations

import ast
import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from argon2 import PasswordHasher
from reliability_helpers import make_records
from sqlalchemy import func, select, update

from review.app.context import AccessDenied, AppContext, SignedIn
from review.app.pages import PAGES, conflicts
from review.screening import decisions, fulltext
from review.store import Store, accounts, repo
from review.store.models import AuditLog, LoginSession, Resolution, Reviewer

ROOT = Path(__file__).resolve().parents[2]
TA, FT = "title_abstract", "full_text"
PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    """argon2 is slow on purpose: hash the test password once per run."""
    return repo.hash_password(PASSWORD)


@pytest.fixture
def team(store: Store) -> dict[str, int]:
    repo.add_source(store, name="PubMed", kind="database", file_name="p.nbib", file_format="nbib",
                    sha256="1" * 64, records=make_records(6, seed=8))
    ids = {"lead": repo.add_reviewer(store, "lead", "Lena Lead", role="lead"),
           "ana": repo.add_reviewer(store, "ana", "Ana"),
           "ben": repo.add_reviewer(store, "ben", "Ben")}
    with store.session() as s:
        s.execute(update(Reviewer).values(password_hash=password_hash()))
    repo.set_setting(store, "reviewers_per_record", 2)
    return ids


def records(store: Store) -> list[int]:
    return repo.records_frame(store)["record_id"].astype(int).tolist()


def who(ids: dict[str, int], name: str, role: str | None = None) -> SignedIn:
    return SignedIn(ids[name], name, name.title(), role or ("lead" if name == "lead" else
                                                             "reviewer"))


def audit_rows(store: Store) -> list[AuditLog]:
    with store.session() as s:
        return list(s.scalars(select(AuditLog).order_by(AuditLog.id)))


# --- blind mode -------------------------------------------------------------------------------

@pytest.mark.parametrize("stage", [TA, FT])
def test_blind_reviewer_gets_no_other_label_from_the_data_layer(store: Store, team, stage) -> None:
    recs = records(store)
    for rec in recs[:3]:
        repo.add_decision(store, record_id=rec, reviewer_id=team["ana"], stage=stage,
                          label="include")
        repo.add_decision(store, record_id=rec, reviewer_id=team["ben"], stage=stage,
                          label="exclude", reason="Wrong population")
    # Ben undoes one: the retraction is his and stays his.
    repo.add_decision(store, record_id=recs[0], reviewer_id=team["ben"], stage=stage,
                      label="retracted")
    blind = {**repo.get_settings(store), "blind": True}
    ana = who(team, "ana")
    assert set(repo.decisions_frame(store, stage, reviewer_id=team["ana"])["label"]) == {
        "include"}
    assert decisions.visible_decisions(store, ana, stage, blind, reviewer_id=team["ben"]).empty
    everything = decisions.visible_decisions(store, ana, stage, blind)
    assert set(everything["reviewer_id"]) == {team["ana"]}
    assert set(everything["label"]) == {"include"}
    for rec in recs[:3]:
        labels = decisions.current_labels(store, ana, rec, stage, blind)
        assert labels["reviewer_id"].tolist() == [team["ana"]]
    # Not blind: Ana sees Ben's current labels (two excludes; the undone one is gone).
    open_ = {**blind, "blind": False}
    bens = decisions.visible_decisions(store, ana, stage, open_, reviewer_id=team["ben"])
    assert bens["label"].tolist() == ["exclude", "exclude", "exclude", "retracted"]


def test_full_text_reads_apply_blind_mode_in_the_data_layer(store: Store, team) -> None:
    rec = records(store)[0]
    for name in ("ana", "ben"):
        repo.add_decision(store, record_id=rec, reviewer_id=team[name], stage=TA,
                          label="include")
    repo.ensure_reports(store)
    (report_id,) = fulltext.reports_frame(store)["report_id"].astype(int)
    fulltext.decide(store, report_id=report_id, reviewer_id=team["ben"], label="exclude",
                        reason="Wrong outcome")
    blind = {**repo.get_settings(store), "blind": True}
    ana = who(team, "ana")
    others = fulltext.all_decisions(store, viewer=ana, settings=blind)
    assert team["ben"] not in set(others["reviewer_id"])
    reports = fulltext.reports_frame(store, viewer=ana, settings=blind)
    assert reports["reason"].isna().all()  # Ben's reason is not handed to Ana's page


# --- passwords and sessions -------------------------------------------------------------------

def test_passwords_are_stored_as_argon2_hashes_only(store: Store) -> None:
    ids = {name: repo.add_reviewer(store, name, password=PASSWORD) for name in ("ana", "ben")}
    with store.session() as s:
        hashes = dict(s.execute(select(Reviewer.username, Reviewer.password_hash)).all())
    assert len(set(hashes.values())) == 2  # salted: the same password, different hashes
    for h in hashes.values():
        assert h.startswith("$argon2id$") and PASSWORD not in h
        assert PasswordHasher().verify(h, PASSWORD)
    assert repo.authenticate(store, "ana", PASSWORD).id == ids["ana"]
    assert repo.authenticate(store, "ana", PASSWORD.upper()) is None
    assert "password_hash" not in SignedIn.__dataclass_fields__  # a page never holds it


def test_sessions_expire_and_only_a_token_hash_is_stored(store: Store, team) -> None:
    start = datetime.now(UTC)
    token, me = accounts.sign_in(store, "ana", PASSWORD, ttl=timedelta(minutes=30), now=start)
    assert me.reviewer_id == team["ana"]
    with store.session() as s:
        stored = s.scalars(select(LoginSession.token_hash)).all()
    assert stored == [accounts.token_hash(token)] and token not in stored
    assert accounts.resume(store, token, now=start + timedelta(minutes=29)) == me
    assert accounts.resume(store, token, now=start + timedelta(minutes=31)) is None
    # The review's setting decides the length (the sign-in page passes it).
    assert accounts.session_length({"session_hours": 2}) == timedelta(hours=2)


# --- audit log --------------------------------------------------------------------------------

def test_audit_log_names_who_and_when_for_decision_undo_and_resolution(store: Store,
                                                                       team) -> None:
    rec = records(store)[0]
    before = datetime.now(UTC) - timedelta(seconds=1)
    d1 = repo.add_decision(store, record_id=rec, reviewer_id=team["ana"], stage=TA,
                           label="include", actor="ana", request_id="ana-1")
    d2 = repo.add_decision(store, record_id=rec, reviewer_id=team["ben"], stage=TA,
                           label="exclude", reason="Wrong population", actor="ben")
    d3 = repo.add_decision(store, record_id=rec, reviewer_id=team["ana"], stage=TA,
                           label="retracted", actor="ana")  # undo
    r1 = repo.add_resolution(store, record_id=rec, stage=TA, label="include",
                             resolved_by=team["lead"], reason=None, note="fits the protocol")
    repo.add_decision(store, record_id=rec, reviewer_id=team["ana"], stage=TA,
                      label="include", actor="ana", request_id="ana-1")  # a retried click
    rows = [r for r in audit_rows(store) if r.table_name in ("decision", "resolution")]
    got = [(r.actor, r.action, r.table_name, r.row_id, r.detail.get("label")) for r in rows]
    assert got == [("ana", "decide", "decision", d1, "include"),
                   ("ben", "decide", "decision", d2, "exclude"),
                   ("ana", "decide", "decision", d3, "retracted"),
                   (str(team["lead"]), "resolve", "resolution", r1, "include")]
    for r in rows:
        at = r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)
        assert before <= at <= datetime.now(UTC)
        assert r.detail["record_id"] == rec and r.detail["stage"] == TA


def _writes_audit_rows(tree: ast.AST) -> list[str]:
    """Places that build, update or delete audit-log rows, or edit the table in raw SQL."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
            args = [a.id for a in node.args if isinstance(a, ast.Name)]
            if name == "AuditLog":
                found.append(f"line {node.lineno}: AuditLog(...)")
            if name in ("update", "delete", "insert") and "AuditLog" in args:
                found.append(f"line {node.lineno}: {name}(AuditLog)")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = " ".join(node.value.lower().split())
            if any(f"{verb} audit_log" in text for verb in ("update", "delete from", "truncate",
                                                             "insert into")):
                found.append(f"line {node.lineno}: SQL on audit_log")
    return found


def test_no_app_code_writes_the_audit_log_except_through_repo_audit() -> None:
    files = sorted((ROOT / "review" / "app").rglob("*.py")) + [ROOT / "screening_app.py"]
    files += [p for p in (ROOT / "review").rglob("*.py")
              if "app" not in p.relative_to(ROOT / "review").parts[:1]]
    allowed = {ROOT / "review" / "store" / "repo.py",  # repo.audit: the one way in
               ROOT / "review" / "store" / "models.py",
               ROOT / "review" / "store" / "backup.py"}  # restore into an empty review only
    offenders = {}
    for path in files:
        if path in allowed or "migrations" in path.parts:
            continue
        hits = _writes_audit_rows(ast.parse(path.read_text(encoding="utf-8")))
        if hits:
            offenders[str(path.relative_to(ROOT))] = hits
    assert offenders == {}


def test_the_audit_scan_finds_a_write() -> None:
    """The scan above would notice the ways a page could edit the log."""
    code = ("from sqlalchemy import delete, update\n"
            "s.add(AuditLog(actor='x', action='y', table_name='z'))\n"
            "s.execute(update(AuditLog).values(actor='me'))\n"
            "s.execute(delete(AuditLog))\n"
            "conn.exec_driver_sql('DELETE FROM audit_log WHERE id = 1')\n")
    assert len(_writes_audit_rows(ast.parse(code))) == 4


# --- roles ------------------------------------------------------------------------------------

def test_every_page_refuses_a_role_it_does_not_list(store: Store, team) -> None:
    """Each page checks the role itself before it reads or writes anything."""
    before = len(audit_rows(store))
    refused = {}
    for name, page in PAGES.items():
        outsider = "reviewer" if "reviewer" not in page.ROLES else "automation"
        ctx = AppContext(store=store, user=who(team, "ana", role=outsider),
                         settings=repo.get_settings(store))
        try:
            page.render(ctx)
            refused[name] = False
        except AccessDenied:
            refused[name] = True
    assert len(refused) >= 5 and all(refused.values()), refused
    assert len(audit_rows(store)) == before


def test_a_reviewer_cannot_resolve_a_conflict_even_by_calling_the_action(store: Store,
                                                                        team) -> None:
    rec = records(store)[0]
    repo.add_decision(store, record_id=rec, reviewer_id=team["ana"], stage=TA, label="include")
    repo.add_decision(store, record_id=rec, reviewer_id=team["ben"], stage=TA, label="exclude")
    key = f"res_label_{TA}_{rec}"
    st.session_state[key] = "include"  # what the conflicts page's form would hold
    try:
        ctx = AppContext(store=store, user=who(team, "ana"), settings=repo.get_settings(store))
        with pytest.raises(AccessDenied):
            conflicts._resolve(ctx, TA, rec)
        with pytest.raises(AccessDenied):
            ctx.require("lead")
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Resolution)) == 0
        lead = AppContext(store=store, user=who(team, "lead"), settings=repo.get_settings(store))
        conflicts._resolve(lead, TA, rec)
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Resolution)) == 1
    finally:
        st.session_state.clear()
