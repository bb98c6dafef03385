"""The app as a reviewer and a lead use it, through Streamlit's AppTest on the real entry point."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from app_helpers import (
    HOSTILE_ABSTRACT,
    HOSTILE_TITLE,
    LONG_ABSTRACT,
    add_person,
    app_for,
    shown_html,
    sign_in,
)
from sqlalchemy import select, update

from review.app.widgets import unescape_markdown
from review.screening import tags
from review.store import repo
from review.store.models import AuditLog, Decision, LoginSession, Record, Resolution

TA = "title_abstract"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def decisions(store, reviewer_id: int) -> list[tuple[int, str, str | None, str | None]]:
    with store.session() as s:
        rows = s.execute(select(Decision.record_id, Decision.label, Decision.reason,
                                Decision.note).where(Decision.reviewer_id == reviewer_id)
                         .order_by(Decision.id)).all()
    return [tuple(r) for r in rows]


def shown_record(at) -> int:
    return int(at.session_state["scr_current"])


def test_sign_in_refuses_a_wrong_password_and_shows_no_page(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana", "not-her-password")
    assert not at.exception
    assert [e.value for e in at.error] == ["Sign-in failed: check the user name and password."]
    assert not at.metric and "auth_token" not in at.session_state


def test_reviewer_signs_in_and_sees_the_first_record_and_progress(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana")
    assert not at.exception, at.exception
    assert shown_record(at) == review.records[0]
    m = metrics(at)
    assert m["Screened by you"] == "0" and m["Records decided by the team"] == "0 / 12"
    assert "Included (team)" not in m  # blind: no team label counts for a reviewer
    labels = [b.label for b in at.button]
    assert labels[:4] == ["Include", "Exclude", "Maybe", "Undo last"]
    shortcuts = {b.label: b.proto.shortcut for b in at.button}
    assert (shortcuts["Include"], shortcuts["Exclude"], shortcuts["Maybe"],
            shortcuts["Undo last"]) == ("i", "e", "m", "u")  # normalised by Streamlit


def test_hostile_record_text_is_shown_as_its_exact_characters(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana")
    assert all(not m.allow_html for m in at.markdown)
    shown = shown_html(at)
    assert next(b for b in shown if "script" in b.text).body == HOSTILE_TITLE
    assert next(b for b in shown if "onerror" in b.text).body == HOSTILE_ABSTRACT
    raw = "".join(h.proto.body for h in at.get("html"))
    assert "<script>alert" not in raw and "<img" not in raw and "<b>" not in raw


def test_very_long_abstract_is_shown_in_full_split_into_parts(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana")
    at.button(key=f"exclude_{review.records[0]}").click().run()
    assert shown_record(at) == review.records[1]
    head = next(b for b in shown_html(at) if b.text.startswith("Peer support"))
    assert head.marks[:2] == [("Peer support", "include keyword"), ("lonely", "include keyword")]
    rest = at.expander[0].text[0].value
    assert len(head.body) < len(LONG_ABSTRACT)
    assert (head.body + " " + rest).split() == LONG_ABSTRACT.split()  # st.text trims its ends


def test_highlights_on_screening_leave_words_whole_and_name_each_kind(review, monkeypatch
                                                                      ) -> None:
    """Regression: the old chips showed "placebo -controlled" and "Children 's"."""
    title = "A placebo-controlled trial of peer support in Children's homes"
    with review.store.session() as s:
        s.execute(update(Record).where(Record.id == review.records[0]).values(title=title))
    repo.set_setting(review.store, "highlight_include", ["placebo"])
    repo.set_setting(review.store, "highlight_exclude", ["children"])
    ana = SimpleNamespace(reviewer_id=review.ids["ana"], role="reviewer", username="ana")
    tags.set_personal_terms(review.store, ana, "peer support")
    at = sign_in(app_for(review, monkeypatch), "ana")
    shown = next(b for b in shown_html(at) if "placebo" in b.text)
    assert shown.body == title  # no space added inside a word or before an apostrophe
    assert shown.marks == [("placebo", "include keyword"), ("peer support", "your highlight term"),
                           ("Children", "exclude keyword")]


def test_decide_with_reason_and_note_then_undo(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana")
    ana = review.ids["ana"]
    first = shown_record(at)
    at.selectbox(key=f"reason_{first}").select("Wrong population")
    at.text_input(key=f"note_{first}").input("adults only")
    at.button(key=f"exclude_{first}").click().run()
    assert not at.exception, at.exception
    second = shown_record(at)
    assert second != first
    assert decisions(review.store, ana) == [(first, "exclude", "Wrong population", "adults only")]
    assert metrics(at)["You excluded"] == "1"
    assert metrics(at)["Records decided by the team"] == "1 / 12"
    at.button(key=f"include_{second}").click().run()
    assert metrics(at)["You included"] == "1" and metrics(at)["Screened by you"] == "2"
    # Undo the include: a retracted decision is appended and the record comes back.
    at.button(key="undo").click().run()
    assert shown_record(at) == second
    assert decisions(review.store, ana)[-1] == (second, "retracted", None, None)
    assert metrics(at)["Screened by you"] == "1" and metrics(at)["You included"] == "0"
    assert at.warning and "Undone" in at.warning[0].value
    # A reason chosen for an include is not recorded (reasons go with exclusions).
    at.selectbox(key=f"reason_{second}").select("Wrong outcome")
    at.button(key=f"maybe_{second}").click().run()
    assert decisions(review.store, ana)[-1] == (second, "maybe", None, None)


def test_a_forged_exclusion_reason_is_not_stored(review, monkeypatch) -> None:
    """Finding 9 of issue 16: the browser sends a reason the lead never listed.

    A browser can send any value for a select box (AppTest cannot), so the page's
    callback is run with the session state such a request leaves behind.
    """
    import types

    from review.app.context import AppContext
    from review.app.pages import screening
    from review.store import accounts

    token, who = accounts.sign_in(review.store, "ana", "ana-demo")
    rid = review.records[0]
    state = {accounts.TOKEN_KEY: token, f"reason_{rid}": "=HYPERLINK(\"http://x\")"}
    monkeypatch.setattr(screening, "st", types.SimpleNamespace(session_state=state))
    ctx = AppContext(store=review.store, user=who, settings=repo.get_settings(review.store))
    screening._decide(ctx, rid, "exclude", "forged-1")
    assert decisions(review.store, review.ids["ana"]) == []
    assert state[screening.K_FLASH][0] == "refused"
    assert "not one of the review's exclusion reasons" in state[screening.K_FLASH][2]
    state[f"reason_{rid}"] = "Wrong population"  # a listed reason is stored
    screening._decide(ctx, rid, "exclude", "forged-2")
    assert decisions(review.store, review.ids["ana"]) == [(rid, "exclude", "Wrong population",
                                                           None)]


def test_the_leads_landing_page_claims_nothing_until_they_join(review, monkeypatch) -> None:
    """Finding 5 of issue 16: opening Screening as lead takes no record from the team."""
    from review.store.models import Assignment

    at = sign_in(app_for(review, monkeypatch), "lead")
    assert not at.exception, at.exception
    assert any("not in the screening pool" in i.value for i in at.info)
    with review.store.session() as s:
        assert s.execute(select(Assignment.id)).all() == []
    at.button(key="pool_join").click().run()
    assert not at.exception, at.exception
    first = shown_record(at)
    with review.store.session() as s:
        held = s.execute(select(Assignment.record_id, Assignment.reviewer_id)).all()
    assert [tuple(h) for h in held] == [(first, review.ids["lead"])]
    at.button(key="pool_leave").click().run()
    with review.store.session() as s:
        assert s.execute(select(Assignment.id)).all() == []  # released when leaving


def test_sign_out_releases_the_record_on_screen(review, monkeypatch) -> None:
    from review.store.models import Assignment

    at = sign_in(app_for(review, monkeypatch), "ana")
    shown_record(at)
    at.button(key="sign_out").click().run()
    with review.store.session() as s:
        assert s.execute(select(Assignment.id)).all() == []


def test_a_repeated_click_is_recorded_once(review, monkeypatch) -> None:
    from review.app.pages import screening

    at = sign_in(app_for(review, monkeypatch), "ana")
    first = shown_record(at)
    request = f"{at.session_state['scr_session']}-{first}-0"
    at.button(key=f"include_{first}").click().run()
    # The same submit arriving again (network retry) carries the same request id.
    repo.add_decision(review.store, record_id=first, reviewer_id=review.ids["ana"], stage=TA,
                      label="include", request_id=request)
    assert [d for d in decisions(review.store, review.ids["ana"]) if d[0] == first] == [
        (first, "include", None, None)]
    assert screening.SHORTCUTS["include"] == "I"


def test_expired_session_asks_for_the_password_again(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ben")
    assert at.metric
    with review.store.session() as s:
        s.execute(update(LoginSession).values(expires_at=pd.Timestamp("2000-01-01", tz="UTC")))
    at.run()
    assert not at.metric and at.text_input(key="login_username") is not None


def test_a_click_after_the_session_expired_records_nothing(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ben")
    rid = shown_record(at)
    with review.store.session() as s:
        s.execute(update(LoginSession).values(expires_at=pd.Timestamp("2000-01-01", tz="UTC")))
    at.button(key=f"include_{rid}").click().run()
    assert decisions(review.store, review.ids["ben"]) == []
    assert not at.metric and at.text_input(key="login_username") is not None


def test_sign_out_ends_the_session(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ben")
    at.button(key="sign_out").click().run()
    assert not at.metric
    with review.store.session() as s:
        assert s.scalars(select(LoginSession)).all() == []


def test_reviewer_cannot_reach_team_or_conflicts(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana")
    for page in ("team", "conflicts"):
        at.session_state["goto"] = page
        at.run()
        assert not at.exception
        assert at.title[0].value == "Title/abstract screening"  # stayed on screening
        assert not at.get("form")  # no team/resolve forms drawn


def test_lead_adds_a_reviewer_who_can_then_sign_in(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "lead")
    at.session_state["goto"] = "team"
    at.run()
    assert at.title[0].value == "Team & settings"
    at.text_input(key="new_username").input("cara")
    at.text_input(key="new_display").input("Cara Reviewer")
    at.text_input(key="new_password").input("cara-secret")
    next(b for b in at.button if b.label == "Add reviewer").click().run()
    assert not at.exception, at.exception
    people = repo.reviewers_frame(review.store)
    assert "cara" in set(people["username"])
    assert at.success and "Added cara" in unescape_markdown(at.success[0].value)
    new = sign_in(app_for(review, monkeypatch), "cara", "cara-secret")
    assert new.title[0].value == "Title/abstract screening"


def test_add_a_reviewer_keeps_the_fields_on_a_validation_error(review, monkeypatch) -> None:
    """Finding 14 of issue 16: a refused "Add a reviewer" does not clear what was typed."""
    at = sign_in(app_for(review, monkeypatch), "lead")
    at.session_state["goto"] = "team"
    at.run()
    at.text_input(key="new_username").input(" ANA ")  # "ana" exists (names without case)
    at.text_input(key="new_display").input("Another Ana")
    at.text_input(key="new_password").input("long-enough-1")
    next(b for b in at.button if b.label == "Add reviewer").click().run()
    assert any("already exists" in e.value for e in at.error)
    assert at.text_input(key="new_username").value == " ANA "
    assert at.text_input(key="new_display").value == "Another Ana"
    at.text_input(key="new_username").input("cara")
    next(b for b in at.button if b.label == "Add reviewer").click().run()
    assert any("Added cara" in unescape_markdown(s.value) for s in at.success)
    assert at.text_input(key="new_username").value == ""  # emptied for the next person
    at.number_input(key="set_claim").set_value(10)
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert repo.get_settings(review.store)["claim_minutes"] == 10


def test_lead_changes_settings_and_the_change_is_audited(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "lead")
    at.session_state["goto"] = "team"
    at.run()
    at.radio(key="set_per").set_value(2)
    at.toggle(key="set_blind").set_value(False)
    at.text_area(key="set_rta").input("Wrong population\nNot about loneliness\n\nwrong population")
    at.text_area(key="set_hli").input("belonging\nlonel*")
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert not at.exception, at.exception
    s = repo.get_settings(review.store)
    assert s["reviewers_per_record"] == 2 and s["blind"] is False
    assert s["exclusion_reasons_title_abstract"] == ["Wrong population", "Not about loneliness"]
    assert s["highlight_include"] == ["belonging", "lonel*"]
    with review.store.session() as ss:
        changed = {a.detail["key"] for a in ss.scalars(select(AuditLog).where(
            AuditLog.action == "set_setting", AuditLog.actor == "lead"))}
    assert changed == {"reviewers_per_record", "blind", "exclusion_reasons_title_abstract",
                       "highlight_include"}
    # The screening page offers the new reasons at once (the lead joins the pool to screen).
    at.session_state["goto"] = "screening"
    at.run()
    at.button(key="pool_join").click().run()
    rid = shown_record(at)
    assert at.selectbox(key=f"reason_{rid}").options == [
        "(no reason)", "Wrong population", "Not about loneliness"]


def test_lead_can_switch_a_reviewer_off(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "lead")
    at.session_state["goto"] = "team"
    at.run()
    at.selectbox(key="manage_pick").select(review.ids["ben"])
    at.run()
    at.checkbox(key="manage_active").uncheck()
    next(b for b in at.button if b.label == "Save reviewer").click().run()
    assert not at.exception, at.exception
    people = repo.reviewers_frame(review.store).set_index("username")
    assert not bool(people.at["ben", "active"])
    denied = sign_in(app_for(review, monkeypatch), "ben")
    assert denied.error and not denied.metric


def _disagree(review) -> list[int]:
    """Ana and Ben decide five records; they disagree on two (records 1 and 4)."""
    pairs = [("include", "exclude"), ("exclude", "exclude"), ("include", "include"),
             ("maybe", "exclude"), ("exclude", "exclude")]
    for rec, (a, b) in zip(review.records, pairs, strict=False):
        repo.add_decision(review.store, record_id=rec, reviewer_id=review.ids["ana"], stage=TA,
                          label=a, reason="Wrong population" if a == "exclude" else None)
        repo.add_decision(review.store, record_id=rec, reviewer_id=review.ids["ben"], stage=TA,
                          label=b, reason="Wrong outcome" if b == "exclude" else None)
    return [review.records[0], review.records[3]]


def test_lead_resolves_a_conflict_and_sees_kappa(dual_review, monkeypatch) -> None:
    conflicted = _disagree(dual_review)
    at = sign_in(app_for(dual_review, monkeypatch), "lead")
    at.session_state["goto"] = "conflicts"
    at.run()
    assert not at.exception, at.exception
    assert metrics(at)["Open conflicts"] == "2"
    assert at.selectbox(key="conf_pick_title_abstract").options[0].startswith(
        f"#{conflicted[0]}")
    # The lead sees each reviewer's label and reason (even though the review is blind).
    table = at.dataframe[0].value
    assert sorted(zip(table["reviewer"], table["label"], table["reason"],
                      strict=True)) == [("Ana Reviewer", "include", ""),
                                        ("Ben Reviewer", "exclude", "Wrong outcome")]
    # κ for Ana vs Ben over 5 shared records: p_o = 3/5; labels Ana (inc 2, exc 2, maybe 1),
    # Ben (inc 1, exc 4): p_e = (2·1 + 2·4 + 0)/25 = 10/25; κ = (15−10)/(25−10) = 1/3.
    kappa = at.dataframe[-1].value
    row = kappa.iloc[0]
    assert (row["records"], row["agreed"], row["agreement %"]) == (5, 3, 60.0)
    assert row["Cohen's κ"] == pytest.approx(1 / 3, abs=1e-3)
    # Resolve the first as exclude with a reason.
    rid = conflicted[0]
    at.radio(key=f"res_label_title_abstract_{rid}").set_value("exclude")
    at.selectbox(key=f"res_reason_title_abstract_{rid}").select("Wrong outcome")
    at.text_area(key=f"res_note_title_abstract_{rid}").input("discussed 3 May")
    next(b for b in at.button if b.label == "Resolve").click().run()
    assert not at.exception, at.exception
    assert metrics(at)["Open conflicts"] == "1"
    with dual_review.store.session() as s:
        res = s.execute(select(Resolution.record_id, Resolution.label, Resolution.reason,
                               Resolution.note, Resolution.resolved_by)).all()
    assert [tuple(r) for r in res] == [(rid, "exclude", "Wrong outcome", "discussed 3 May",
                                        dual_review.ids["lead"])]
    # The reviewers' own decisions stay as they were.
    assert decisions(dual_review.store, dual_review.ids["ana"])[0][:2] == (rid, "include")
    out = repo.outcomes(dual_review.store, TA).set_index("record_id")
    assert out.at[rid, "status"] == "resolved" and out.at[rid, "label"] == "exclude"


def test_conflict_form_preselects_nothing_and_enter_cannot_submit(dual_review, monkeypatch
                                                                  ) -> None:
    """Finding 7 of issue 16: no pre-selected label, no form that Enter submits."""
    rid = _disagree(dual_review)[0]
    at = sign_in(app_for(dual_review, monkeypatch), "lead")
    at.session_state["goto"] = "conflicts"
    at.run()
    radio = at.radio(key=f"res_label_title_abstract_{rid}")
    assert radio.value is None and radio.index is None
    # the note is a text area (Enter adds a line) and there is no st.form to submit
    at.text_area(key=f"res_note_title_abstract_{rid}").input("first line").run()
    assert not at.get("form")
    assert metrics(at)["Open conflicts"] == "2"
    next(b for b in at.button if b.label == "Resolve").click().run()
    assert any("Choose the final decision" in e.value for e in at.error)
    assert metrics(at)["Open conflicts"] == "2"
    with dual_review.store.session() as s:
        assert s.execute(select(Resolution.id)).all() == []


def test_a_forged_reason_is_refused_on_the_server(dual_review, monkeypatch) -> None:
    """Finding 9 of issue 16: a resolution's label and reason are checked on the server."""
    import types

    from review.app.context import AppContext
    from review.app.pages import conflicts
    from review.store import accounts

    rid = _disagree(dual_review)[0]
    _token, lead = accounts.sign_in(dual_review.store, "lead", "lead-demo")
    ctx = AppContext(store=dual_review.store, user=lead,
                     settings=repo.get_settings(dual_review.store))
    for label, reason in (("exclude", "<b>made-up reason</b>"), ("delete", None),
                          ("maybe", None)):  # "maybe" is not offered at full text
        stage = "full_text" if label == "maybe" else "title_abstract"
        state = {f"res_label_{stage}_{rid}": label, f"res_reason_{stage}_{rid}": reason}
        monkeypatch.setattr(conflicts, "st", types.SimpleNamespace(session_state=state))
        conflicts._resolve(ctx, stage, rid)
        assert "Not resolved" in state[conflicts.K_ERROR]
    with dual_review.store.session() as s:
        assert s.execute(select(Resolution.id)).all() == []


def test_blind_team_counts_do_not_tell_whether_the_other_reviewer_agreed(dual_review,
                                                                        monkeypatch) -> None:
    """Finding 6 of issue 16: with 2 reviewers per record, agreement must not show."""
    rec = dual_review.records[0]
    repo.add_decision(dual_review.store, record_id=rec, reviewer_id=dual_review.ids["ben"],
                      stage=TA, label="include")
    repo.add_decision(dual_review.store, record_id=rec, reviewer_id=dual_review.ids["ana"],
                      stage=TA, label="include")
    at = sign_in(app_for(dual_review, monkeypatch), "ana")
    agreed = {k: v for k, v in metrics(at).items()}
    repo.add_decision(dual_review.store, record_id=rec, reviewer_id=dual_review.ids["ben"],
                      stage=TA, label="exclude", reason="Wrong outcome")  # now a conflict
    at.run()
    assert metrics(at) == agreed  # every number ana sees is the same either way
    assert "Records finished" not in agreed and "Included (team)" not in agreed
    assert agreed["Records decided by the team"] == "1 / 12"
    assert not any("recall" in x.value.lower() for x in [*at.info, *at.success, *at.caption])
    # the lead sees the conflict
    lead = sign_in(app_for(dual_review, monkeypatch), "lead")
    assert metrics(lead)["Records finished"] == "0 / 12"


def test_a_switched_off_reviewers_tab_gets_no_more_team_counts(review, monkeypatch) -> None:
    """Finding 13 of issue 16: the timed progress rerun checks the session itself."""
    import types

    from review.app.context import AppContext
    from review.app.pages import screening
    from review.store import accounts

    token, ana = accounts.sign_in(review.store, "ana", "ana-demo")
    shown: list[str] = []

    class Rerun(Exception):
        pass

    def rerun(scope: str = "app") -> None:
        raise Rerun(scope)

    class Col:
        def metric(self, label, *_a, **_k):
            shown.append(label)

        def progress(self, *_a, **_k):
            shown.append("progress")

    fake = types.SimpleNamespace(
        session_state={accounts.TOKEN_KEY: token}, rerun=rerun,
        columns=lambda spec, **_k: [Col() for _ in (spec if isinstance(spec, list) else
                                                     range(spec))])
    monkeypatch.setattr(screening, "st", fake)
    ctx = AppContext(store=review.store, user=ana, settings=repo.get_settings(review.store))
    screening._team_progress.__wrapped__(ctx)
    assert "Records decided by the team" in shown  # signed in: the counts come
    shown.clear()
    lead = review.ids["lead"]
    accounts.set_reviewer_active(review.store, ana.reviewer_id, False, str(lead))
    with pytest.raises(Rerun):
        screening._team_progress.__wrapped__(ctx)
    assert shown == []  # switched off: not one number more


def test_not_blind_shows_the_other_reviewers_label_blind_does_not(dual_review, monkeypatch
                                                                  ) -> None:
    rec = dual_review.records[0]
    repo.add_decision(dual_review.store, record_id=rec, reviewer_id=dual_review.ids["ben"],
                      stage=TA, label="exclude", reason="Wrong outcome")
    from app_helpers import build_review  # noqa: F401  (fixture module already imported)

    at = sign_in(app_for(dual_review, monkeypatch), "ana")
    assert shown_record(at) == rec  # the pair is completed first
    assert not any("Ben Reviewer" in c.value for c in at.caption)
    repo.set_setting(dual_review.store, "blind", False)
    at.run()
    assert any(unescape_markdown(c.value) == "Ben Reviewer: exclude (Wrong outcome)"
               for c in at.caption)


def test_a_new_account_added_outside_the_app_can_sign_in(review, monkeypatch) -> None:
    add_person(review.store, "dee", "Dee", password="dee-secret-1")
    at = sign_in(app_for(review, monkeypatch), "dee", "dee-secret-1")
    assert at.title[0].value == "Title/abstract screening"


def test_reviewer_changes_their_password_and_must_sign_in_again(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana")
    at.session_state["goto"] = "login"
    at.run()
    assert at.title[0].value == "Account"
    at.text_input(key="acct_old").input("ana-demo")
    at.text_input(key="acct_new").input("a-longer-secret")
    at.text_input(key="acct_again").input("a-longer-secret")
    next(b for b in at.button if b.label == "Change password").click().run()
    assert not at.exception, at.exception
    assert at.text_input(key="login_username") is not None  # signed out everywhere
    assert sign_in(app_for(review, monkeypatch), "ana").error  # the old password is gone
    assert sign_in(app_for(review, monkeypatch), "ana", "a-longer-secret").metric
