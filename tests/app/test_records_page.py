"""The Records and Lead tools pages through the real app (Streamlit AppTest), and highlighting."""

from __future__ import annotations

import re
from types import SimpleNamespace

from app_helpers import HOSTILE_TITLE, app_for, sign_in
from sqlalchemy import select

from review.app.highlight import find_marks, highlight_html
from review.app.widgets import unescape_markdown
from review.screening import bulk, tags
from review.store import repo
from review.store.models import Decision


def open_records(review, monkeypatch, who: str):
    at = sign_in(app_for(review, monkeypatch), who)
    at.session_state["goto"] = "records"
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Records"
    return at


def matches(at) -> int:
    text = next(m.value for m in at.markdown if "records match" in m.value)
    return int(re.search(r"\*\*([\d,]+)\*\*", text).group(1).replace(",", ""))


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_reviewer_searches_filters_and_sees_no_blind_filters(review, monkeypatch) -> None:
    at = open_records(review, monkeypatch, "ana")
    assert matches(at) == 12
    # A blind reviewer gets no final-decision, conflict or reviewer filter at all.
    keys = {w.key for w in at.selectbox}
    assert {"rec_final", "rec_conflict", "rec_reviewer"}.isdisjoint(keys)
    at.text_input(key="rec_text").input("mentoring").run()
    assert matches(at) == 2  # record 1's keywords and record 7's title (a hand count)
    at.text_input(key="rec_text").input('"family support" 2013').run()
    assert matches(at) == 0  # a year is not searched text
    at.text_input(key="rec_text").input("").run()
    at.number_input(key="rec_y0").set_value(2015).run()
    at.number_input(key="rec_y1").set_value(2016).run()
    assert matches(at) == 2  # years cycle 2010..2021 over twelve records


def test_open_a_record_and_change_the_decision_keeping_the_old_one(review, monkeypatch
                                                                   ) -> None:
    at = open_records(review, monkeypatch, "ana")
    rid = review.records[0]
    at.number_input(key="rec_open_number").set_value(rid).run()
    assert not at.exception, at.exception
    # The hostile title is shown as its characters (escaped HTML, no markup of its own).
    html = "".join(h.proto.body for h in at.get("html"))
    assert "&lt;script&gt;" in html and "<script>" not in html
    button(at, "Include").click().run()
    assert at.success and f"Record #{rid}" in unescape_markdown(at.success[0].value)
    button(at, "2 · Wrong intervention").click().run()
    assert not at.exception, at.exception
    with review.store.session() as s:
        rows = s.execute(select(Decision.label, Decision.reason).where(
            Decision.record_id == rid, Decision.reviewer_id == review.ids["ana"])
            .order_by(Decision.id)).all()
    assert [tuple(r) for r in rows] == [("include", None), ("exclude", "Wrong intervention")]
    at.selectbox(key="rec_mine").set_value("exclude").run()
    assert matches(at) == 1
    history = at.dataframe[-1].value if at.dataframe else None
    assert history is not None and list(history["Decision"]) == ["include", "exclude"]


def test_tags_from_the_lead_applied_by_a_reviewer_and_exported(review, monkeypatch) -> None:
    lead = sign_in(app_for(review, monkeypatch), "lead")
    lead.session_state["goto"] = "lead"
    lead.run()
    assert lead.title[0].value == "Lead tools"
    lead.text_input(key="lead_tag_name").input("RCT")
    button(lead, "Add tag").click().run()
    assert not lead.exception, lead.exception
    frame = tags.tags_frame(review.store)
    assert list(frame["name"]) == ["RCT"]
    at = open_records(review, monkeypatch, "ana")
    rid = review.records[3]
    at.number_input(key="rec_open_number").set_value(rid).run()
    at.multiselect(key=f"rec_tags_{rid}").select(int(frame["tag_id"].iloc[0])).run()
    assert not at.exception, at.exception
    assert tags.tags_by_record(review.store) == {rid: ["RCT"]}
    at.selectbox(key="rec_tag").set_value(int(frame["tag_id"].iloc[0])).run()
    assert matches(at) == 1
    button(at, "Prepare CSV of all matches").click().run()
    csv = at.session_state["rec_csv"].decode()
    assert csv.splitlines()[0].startswith("record_id,title")
    assert ",RCT," in csv.splitlines()[1]
    assert "final" not in csv.splitlines()[0]  # blind: no final decision in her export


def bulk_exclude_preview(review, monkeypatch):
    """The lead's Records page with a bulk exclusion of the two "mentoring" records previewed."""
    at = open_records(review, monkeypatch, "lead")
    at.text_input(key="rec_text").input("mentoring").run()
    at.radio(key="rec_bulk_kind").set_value("Exclude").run()
    at.selectbox(key="rec_bulk_reason").set_value("Wrong study design").run()
    return button(at, "Preview").click().run()


def test_lead_bulk_excludes_with_preview_confirmation_and_one_undo(review, monkeypatch
                                                                   ) -> None:
    at = bulk_exclude_preview(review, monkeypatch)
    assert any("The filter matches 2 records" in unescape_markdown(w.value) for w in at.warning)
    button(at, "Confirm: exclude 2 records (Wrong study design)").click().run()
    assert not at.exception, at.exception
    with review.store.session() as s:
        n = len(s.scalars(select(Decision.id).where(Decision.label == "exclude")).all())
    assert n == 2
    undo = next(b for b in at.button if b.label.startswith("Undo bulk action"))
    undo.click().run()
    assert any("2 records taken back" in unescape_markdown(m.value) for m in at.success)
    final = repo.outcomes(review.store, "title_abstract")
    assert final.empty or set(final["label"].dropna()) == set()


def test_an_undo_already_made_in_another_tab_is_refused_with_a_message(review, monkeypatch
                                                                      ) -> None:
    at = bulk_exclude_preview(review, monkeypatch)
    button(at, "Confirm: exclude 2 records (Wrong study design)").click().run()
    assert any("Done: 2 records changed" in unescape_markdown(m.value) for m in at.success)
    undo = next(b for b in at.button if b.label.startswith("Undo bulk action"))
    action_id = int(undo.label.split("#")[1].split(":")[0])
    other_tab = SimpleNamespace(reviewer_id=review.ids["lead"], role="lead", username="lead")
    assert bulk.undo(review.store, other_tab, action_id) == 2
    undo.click().run()
    assert not at.exception, at.exception
    assert any("already undone" in unescape_markdown(e.value) for e in at.error)
    with review.store.session() as s:
        assert len(s.scalars(select(Decision.id).where(Decision.label == "retracted")).all()) == 2


def test_reviewer_cannot_open_lead_tools_and_lead_sees_progress(review, monkeypatch) -> None:
    at = sign_in(app_for(review, monkeypatch), "ana")
    at.session_state["goto"] = "lead"
    at.run()
    assert at.title[0].value == "Title/abstract screening"
    lead = sign_in(app_for(review, monkeypatch), "lead")
    lead.session_state["goto"] = "lead"
    lead.run()
    progress = lead.dataframe[0].value
    assert {"Handed out", "Decided", "Pending", "In conflict"} <= set(progress.columns)
    assert set(progress["Reviewer"]) >= {"Ana Reviewer", "Ben Reviewer"}
    assert {"Ranking model", "Import full-text PDFs", "Conflicts", "Tags"} <= {
        h.value for h in lead.subheader}
    assert not lead.exception


def test_highlights_add_no_space_and_do_not_rely_on_colour() -> None:
    out = highlight_html("A placebo-controlled trial in Children's homes", ["placebo"],
                         ["children"])
    assert re.sub(r"<[^>]+>", "", out) == "A placebo-controlled trial in Children&#x27;s homes"
    assert '<mark class="rv-include" title="include keyword">placebo</mark>-controlled' in out
    assert '<mark class="rv-exclude" title="exclude keyword">Children</mark>&#x27;s' in out
    # Each kind is named in words (title) and styled beyond colour (see highlight.STYLE).
    from review.app.highlight import STYLE
    assert "underline solid" in STYLE and "underline wavy" in STYLE and "dotted" in STYLE
    assert [m.kind for m in find_marks("peer support peer", ["peer support"], [], ["peer"])] \
        == ["include", "personal"]
    hostile = highlight_html(HOSTILE_TITLE, ["alert"])
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile


def test_lead_chooses_the_stopping_rule_and_is_warned_about_missing_abstracts(
        review, monkeypatch) -> None:
    from review.store.models import Record

    lead = sign_in(app_for(review, monkeypatch), "lead")
    lead.session_state["goto"] = "lead"
    lead.run()
    assert not any("have no abstract" in unescape_markdown(w.value) for w in lead.warning)
    assert lead.selectbox(key="lead_stopping").value == "counting"
    lead.selectbox(key="lead_stopping").set_value("floor").run()
    button(lead, "Use this stopping rule").click().run()
    assert not lead.exception, lead.exception
    assert repo.get_settings(review.store)["stopping_rule"] == "floor"
    assert lead.selectbox(key="lead_stopping").value == "floor"
    # an export without abstracts: the page says why the counting rule is risky
    repo.set_setting(review.store, "stopping_rule", None)
    with review.store.session() as s:
        for rid in review.records:
            s.get(Record, rid).abstract = None
    lead.run()
    n = len(review.records)
    assert any(f"{n} of {n} records have no abstract" in unescape_markdown(w.value)
               for w in lead.warning)
