"""Single sign-on through Streamlit's own auth (``st.login``), where the deployment sets it up.

The identity provider says who the person is (``st.user``); the review's own
list of reviewers says whether they may screen. AppTest plays the provider's
part by setting ``at.user``, as Streamlit documents for testing.
"""

from __future__ import annotations

from app_helpers import add_person, app_for
from sqlalchemy import func, select, update

from review.store.models import LoginSession, Reviewer

ONE_PROVIDER = {"redirect_uri": "http://localhost:8501/oauth2callback",
                "cookie_secret": "a-long-random-string-for-tests",
                "client_id": "review-app", "client_secret": "s3cret",
                "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}


def sessions(store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(LoginSession)))


def buttons(at) -> list[str]:
    return [b.label for b in at.button]


def test_without_sso_settings_only_the_password_form_shows(review, monkeypatch) -> None:
    at = app_for(review, monkeypatch)
    at.run()
    assert not at.exception
    assert not [b for b in buttons(at) if "organisation" in b]
    assert at.text_input(key="login_password") is not None


def test_configured_sso_offers_its_providers_beside_the_password_form(review, monkeypatch) -> None:
    at = app_for(review, monkeypatch)
    at.secrets["auth"] = ONE_PROVIDER
    at.user = {"is_logged_in": False}
    at.run()
    assert "Sign in with your organisation's account" in buttons(at)
    assert at.text_input(key="login_password") is not None  # the lead can still use a password

    named = app_for(review, monkeypatch)
    named.secrets["auth"] = {"redirect_uri": ONE_PROVIDER["redirect_uri"],
                             "cookie_secret": ONE_PROVIDER["cookie_secret"],
                             "microsoft": {k: ONE_PROVIDER[k] for k in
                                           ("client_id", "client_secret",
                                            "server_metadata_url")}}
    named.user = {"is_logged_in": False}
    named.run()
    assert "Sign in with Microsoft" in buttons(named)


def test_a_reviewer_known_by_their_address_is_signed_in(review, monkeypatch) -> None:
    add_person(review.store, "cara@uni.example.ac.uk", "Cara Reviewer", password="unused-pw")
    at = app_for(review, monkeypatch)
    at.secrets["auth"] = ONE_PROVIDER
    at.user = {"is_logged_in": True, "email": "Cara@Uni.Example.ac.uk", "name": "Cara"}
    at.run()
    assert not at.exception
    assert any("Signed in as **Cara Reviewer**" in m.value for m in at.sidebar.markdown)
    assert at.title[0].value == "Title/abstract screening"
    assert sessions(review.store) == 1  # an ordinary server-side session, expiring as usual


def test_an_address_that_is_not_a_reviewer_gets_no_session(review, monkeypatch) -> None:
    at = app_for(review, monkeypatch)
    at.secrets["auth"] = ONE_PROVIDER
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()
    assert "not a reviewer of this review" in at.error[0].value
    assert "Sign out of single sign-on" in buttons(at)
    assert sessions(review.store) == 0
    assert not any("Signed in as" in m.value for m in at.sidebar.markdown)


def test_a_switched_off_reviewer_cannot_come_back_through_sso(review, monkeypatch) -> None:
    add_person(review.store, "dev@uni.example.ac.uk", "Dev Reviewer", password="unused-pw")
    with review.store.session() as s:
        s.execute(update(Reviewer).where(Reviewer.username == "dev@uni.example.ac.uk")
                  .values(active=False))
    at = app_for(review, monkeypatch)
    at.secrets["auth"] = ONE_PROVIDER
    at.user = {"is_logged_in": True, "email": "dev@uni.example.ac.uk"}
    at.run()
    assert "not a reviewer of this review" in at.error[0].value
    assert sessions(review.store) == 0


def test_with_sso_the_lead_adds_a_reviewer_by_address_without_a_password(review, monkeypatch
                                                                         ) -> None:
    at = app_for(review, monkeypatch)
    at.secrets["auth"] = ONE_PROVIDER
    at.user = {"is_logged_in": False}
    at.run()
    at.text_input(key="login_username").input("lead")
    at.text_input(key="login_password").input("lead-demo")
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    at.session_state["goto"] = "team"
    at.run()
    at.text_input(key="new_username").input("erin@uni.example.ac.uk")
    at.text_input(key="new_display").input("Erin Reviewer")
    next(b for b in at.button if b.label == "Add reviewer").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    with review.store.session() as s:
        erin = s.scalars(select(Reviewer).where(
            Reviewer.username == "erin@uni.example.ac.uk")).one()
        assert erin.password_hash is None  # signs in only through the organisation's account
