"""Signing in (finding 12 of issue 16): throttling per user name, an audit row per failure,
the same work for unknown and known names, user names unique without case and trimmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from review.store import accounts, repo
from review.store.models import AuditLog, Reviewer


def failures(store, name: str) -> int:
    with store.session() as s:
        return len(s.scalars(select(AuditLog.id).where(AuditLog.action == "sign_in_failed",
                                                       AuditLog.actor == name)).all())


@pytest.fixture
def ana(store):
    repo.add_reviewer(store, "ana", "Ana", password="right-secret")
    return store


def test_forty_wrong_passwords_then_the_right_one_does_not_sign_in(ana) -> None:
    now = datetime.now(UTC)
    refused = 0
    for i in range(40):
        try:
            assert accounts.sign_in(ana, "ana", f"wrong-{i}", now=now) is None
        except accounts.SignInThrottled:
            refused += 1
    assert refused == 40 - accounts.FREE_FAILURES  # after 5 failures every try must wait
    with pytest.raises(accounts.SignInThrottled, match="Try again in"):
        accounts.sign_in(ana, "ana", "right-secret", now=now)
    assert failures(ana, "ana") == 41  # one audit row per failed try, throttled ones too


def test_the_wait_doubles_with_each_failure_and_ends(ana) -> None:
    t0 = datetime.now(UTC)
    for i in range(accounts.FREE_FAILURES):
        accounts.sign_in(ana, "ana", "wrong", now=t0 + timedelta(seconds=i))
    last = t0 + timedelta(seconds=accounts.FREE_FAILURES - 1)
    assert accounts.throttle_wait(ana, "ana", last) == accounts.FIRST_WAIT
    later = last + accounts.FIRST_WAIT  # the wait is over: one more try is allowed
    assert accounts.sign_in(ana, "ana", "wrong", now=later) is None
    assert accounts.throttle_wait(ana, "ana", later) == 2 * accounts.FIRST_WAIT
    after = later + 2 * accounts.FIRST_WAIT
    assert accounts.sign_in(ana, "ana", "right-secret", now=after) is not None
    # a success starts the count again
    assert accounts.throttle_wait(ana, "ANA", after + timedelta(seconds=1)) == timedelta(0)


def test_throttling_is_per_user_name_and_the_same_for_unknown_names(ana) -> None:
    now = datetime.now(UTC)
    for _ in range(accounts.FREE_FAILURES):
        assert accounts.sign_in(ana, "nobody", "x", now=now) is None
    with pytest.raises(accounts.SignInThrottled):
        accounts.sign_in(ana, " NOBODY ", "x", now=now)  # the same name, trimmed, any case
    assert accounts.sign_in(ana, "ana", "right-secret", now=now) is not None  # ana unaffected
    assert failures(ana, "nobody") == accounts.FREE_FAILURES + 1


def test_unknown_and_known_names_cost_the_same_argon2_work(ana, monkeypatch) -> None:
    calls: list[str] = []
    real = repo._hasher

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(repo, "_hasher", Counting())
    accounts.sign_in(ana, "nobody-here", "x")
    accounts.sign_in(ana, "ana", "wrong")
    accounts.sign_in(ana, "ana", "right-secret")
    assert len(calls) == 3  # one argon2 verification each, whether the name exists or not
    assert all(h.startswith("$argon2") for h in calls)


def test_user_names_are_trimmed_and_unique_without_case(store) -> None:
    repo.add_reviewer(store, "ANA", password="right-secret")
    for clash in ("ana", " ana", "Ana "):
        with pytest.raises(repo.RepoError, match="already exists"):
            repo.add_reviewer(store, clash)
    rid = repo.add_reviewer(store, "  ben ", password="ben-secret-1")
    with store.session() as s:
        assert s.get(Reviewer, rid).username == "ben"
    assert accounts.sign_in(store, "ana", "right-secret") is not None  # as SSO: no case
    with pytest.raises(IntegrityError), store.session() as s:  # the database says so too
        s.add(Reviewer(username="Ben", display_name="Ben"))
        s.flush()
