"""Tags, personal highlight terms, bulk actions with one undo, the lead tools; both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_record_list import SETTINGS, build, ids_of, people

from review.screening import bulk, lead_tools, tags
from review.screening import record_list as rl
from review.store import Store, repo
from review.store.models import Assignment, AuditLog, Decision, RecordTag


def test_lead_defines_tags_reviewers_apply_them_and_they_show_in_the_list(store: Store) -> None:
    build(store, n=6)
    who = people(store)
    ids = ids_of(store)
    lead, ana = who["lead"], who["ana"]
    with pytest.raises(tags.TagError, match="only the lead"):
        tags.create_tag(store, ana, "RCT")
    rct = tags.create_tag(store, lead, "  RCT ")
    check = tags.create_tag(store, lead, "check with lead")
    for bad, why in (("rct", "already"), ("=HYPERLINK(1)", "formula"), ("", "needs a name"),
                     ("x" * 61, "at most"), ("a\x07b", "control")):
        with pytest.raises(tags.TagError, match=why):
            tags.create_tag(store, lead, bad)
    assert tags.apply_tag(store, ana, ids[0], rct) is True
    assert tags.apply_tag(store, ana, ids[0], rct) is False  # already there
    assert tags.apply_tag(store, ana, ids[0], check) is True
    assert tags.remove_tag(store, ana, ids[0], check) is True
    assert tags.remove_tag(store, ana, ids[0], check) is False
    assert tags.apply_tag(store, ana, ids[1], check) is True
    assert tags.tags_by_record(store) == {ids[0]: ["RCT"], ids[1]: ["check with lead"]}
    got = rl.find_record_ids(store, ana, rl.RecordQuery(tag_id=rct), SETTINGS)
    assert got == [ids[0]]
    rows = rl.find_records(store, ana, rl.RecordQuery(sort="record"), SETTINGS).rows
    assert rows.set_index("record_id").loc[ids[0], "tags"] == "RCT"
    # The removed tag's row stays, stamped; every change is audited.
    with store.session() as s:
        removed = s.scalars(select(RecordTag).where(RecordTag.removed_at.is_not(None))).all()
        actions = [a for a in s.scalars(select(AuditLog.action)) if "tag" in a]
    assert [(r.record_id, r.removed_by) for r in removed] == [(ids[0], "ana")]
    assert actions.count("tag") == 3 and actions.count("untag") == 1
    tags.archive_tag(store, lead, check)
    with pytest.raises(tags.TagError, match="retired"):
        tags.apply_tag(store, ana, ids[2], check)
    assert list(tags.tags_frame(store)["name"]) == ["RCT"]
    assert tags.tags_by_record(store)[ids[1]] == ["check with lead"]  # still on the record


def test_personal_highlight_terms_are_each_reviewers_own(store: Store) -> None:
    who = people(store)
    got = tags.set_personal_terms(store, who["ana"], "placebo\n peer  support , placebo;RCT")
    assert got == ["placebo", "peer support", "RCT"]
    assert tags.personal_terms(store, who["ana"].reviewer_id) == got
    assert tags.personal_terms(store, who["ben"].reviewer_id) == []
    with pytest.raises(tags.TagError):
        tags.set_personal_terms(store, who["ben"], [f"t{i}" for i in range(51)])


def _decide(store: Store, rid: int, p, label: str, reason: str | None = None) -> None:
    repo.add_decision(store, record_id=rid, reviewer_id=p.reviewer_id, stage="title_abstract",
                      label=label, reason=reason)


def test_bulk_exclude_previews_confirms_skips_finals_and_undoes_once(store: Store) -> None:
    recs = build(store, n=20)
    who = people(store)
    ids = ids_of(store)
    lead, ana = who["lead"], who["ana"]
    q = rl.RecordQuery(year_to=2009)  # years 2000..2019 cycle: the first ten records
    matched = [r for r, rec in zip(ids, recs, strict=True) if rec["year"] <= 2009]
    _decide(store, matched[0], ana, "include")  # a final decision (one reviewer per record)
    with pytest.raises(bulk.BulkError, match="only the lead"):
        bulk.preview(store, ana, q, SETTINGS)
    p = bulk.preview(store, lead, q, SETTINGS)
    assert (p.matched, p.with_final, p.target) == (10, 1, 9)
    assert matched[0] not in p.ids
    with pytest.raises(bulk.BulkError, match="exclusion reasons"):
        bulk.bulk_exclude(store, lead, q, SETTINGS, "Because", confirmed=9)
    with pytest.raises(bulk.BulkError, match="not the 8 you confirmed"):
        bulk.bulk_exclude(store, lead, q, SETTINGS, "Wrong design", confirmed=8)
    action, n = bulk.bulk_exclude(store, lead, q, SETTINGS, "Wrong design", confirmed=9)
    assert n == 9
    finals = set(rl.find_record_ids(store, lead, rl.RecordQuery(final="exclude"), SETTINGS))
    assert finals == set(matched[1:])
    assert set(rl.find_record_ids(store, lead, rl.RecordQuery(final="include"), SETTINGS)) \
        == {matched[0]}
    # The lead changes their mind on one record by hand before undoing: that one stays.
    rl.change_decision(store, lead, matched[1], "title_abstract", "maybe", SETTINGS)
    assert bulk.last_undoable(store)["id"] == action
    assert bulk.undo(store, lead, action) == 8
    with pytest.raises(bulk.BulkError, match="already undone"):
        bulk.undo(store, lead, action)
    assert rl.find_record_ids(store, lead, rl.RecordQuery(final="exclude"), SETTINGS) == []
    assert set(rl.find_record_ids(store, lead, rl.RecordQuery(final="maybe"), SETTINGS)) \
        == {matched[1]}
    with store.session() as s:
        n_rows = len(s.scalars(select(Decision.id).where(
            Decision.reviewer_id == lead.reviewer_id)).all())
        held = len(s.scalars(select(Assignment.id).where(
            Assignment.reviewer_id == lead.reviewer_id)).all())
    assert n_rows == 9 + 1 + 8  # nothing deleted: the exclusions, the change, the retractions
    assert held == 9  # the queue will not hand the lead these records again
    # Asked to, it includes records with a final decision.
    p = bulk.preview(store, lead, q, SETTINGS, include_final=True)
    assert p.target == 10


def test_bulk_tag_and_its_undo_leave_hand_made_tags_alone(store: Store) -> None:
    build(store, n=12)
    who = people(store)
    ids = ids_of(store)
    lead, ana = who["lead"], who["ana"]
    t = tags.create_tag(store, lead, "qualitative")
    tags.apply_tag(store, ana, ids[0], t)  # by hand, before the bulk action
    q = rl.RecordQuery(text="qualitative")
    p = bulk.preview(store, lead, q, SETTINGS)
    action, n = bulk.bulk_tag(store, lead, q, SETTINGS, t, confirmed=p.target)
    tagged = set(rl.find_record_ids(store, lead, rl.RecordQuery(tag_id=t), SETTINGS))
    assert tagged == set(p.ids) | {ids[0]}
    assert n == len(set(p.ids) - {ids[0]})
    assert bulk.undo(store, lead, action) == n
    assert rl.find_record_ids(store, lead, rl.RecordQuery(tag_id=t), SETTINGS) == [ids[0]]


def test_reviewer_progress_release_reassign_and_conflict_list(store: Store) -> None:
    build(store, n=10)
    who = people(store)
    ids = ids_of(store)
    lead, ana, ben = who["lead"], who["ana"], who["ben"]
    settings = {**SETTINGS, "reviewers_per_record": 2}
    with store.session() as s:
        for rid in ids[:6]:
            s.add(Assignment(record_id=rid, reviewer_id=ana.reviewer_id, stage="title_abstract"))
        for rid in ids[:3]:
            s.add(Assignment(record_id=rid, reviewer_id=ben.reviewer_id, stage="title_abstract"))
    _decide(store, ids[0], ana, "include")
    _decide(store, ids[0], ben, "exclude", "Wrong design")   # conflict
    _decide(store, ids[1], ana, "include")
    _decide(store, ids[1], ben, "include")                   # agreed
    _decide(store, ids[2], ana, "exclude", "Wrong population")
    _decide(store, ids[2], ana, "retracted")                 # undone: pending again
    with pytest.raises(lead_tools.LeadError):
        lead_tools.reviewer_progress(store, ana, "title_abstract", settings)
    prog = lead_tools.reviewer_progress(store, lead, "title_abstract", settings)
    prog = prog.set_index("reviewer").loc[["Ana", "Ben"], ["handed_out", "decided", "pending",
                                                           "conflicts"]]
    assert prog.loc["Ana"].tolist() == [6, 2, 4, 1]
    assert prog.loc["Ben"].tolist() == [3, 2, 1, 1]
    assert lead_tools.open_records(store, lead, ana.reviewer_id, "title_abstract") \
        == [ids[2], ids[3], ids[4], ids[5]]
    # Reassign two of Ana's open records to Ben (who already holds ids[2]) and release the rest.
    moved = lead_tools.release(store, lead, ana.reviewer_id, "title_abstract",
                               to_reviewer=ben.reviewer_id, record_ids=[ids[2], ids[3]])
    assert moved == 2
    assert lead_tools.open_records(store, lead, ben.reviewer_id, "title_abstract") \
        == [ids[2], ids[3]]
    assert lead_tools.release(store, lead, ana.reviewer_id, "title_abstract") == 2
    assert lead_tools.open_records(store, lead, ana.reviewer_id, "title_abstract") == []
    prog = lead_tools.reviewer_progress(store, lead, "title_abstract", settings)
    assert prog.set_index("reviewer").loc["Ana", "handed_out"] == 2  # decided ones stay
    with pytest.raises(lead_tools.LeadError):
        lead_tools.release(store, lead, ana.reviewer_id, "title_abstract",
                           to_reviewer=ana.reviewer_id)
    conflicts = lead_tools.conflict_list(store, lead, "title_abstract", settings)
    assert conflicts["record_id"].tolist() == [ids[0]]
    assert conflicts["reasons"].iloc[0] == "Wrong design"
    assert lead_tools.conflict_list(store, lead, "title_abstract", settings,
                                    reason="Wrong population").empty
    assert len(lead_tools.conflict_list(store, lead, "title_abstract", settings,
                                        reviewer_id=ben.reviewer_id)) == 1


def test_recall_curve_counts_includes_in_screening_order(store: Store) -> None:
    from review.screening import ranking_controls

    build(store, n=6)
    who = people(store)
    ids = ids_of(store)
    for rid, label in zip(ids[:5], ["include", "exclude", "include", "exclude", "exclude"],
                          strict=True):
        _decide(store, rid, who["ana"], label)
    _decide(store, ids[2], who["ana"], "retracted")  # undone: no longer found
    curve = ranking_controls.recall_curve(store, who["lead"])
    assert curve["found"].tolist() == [1, 1, 1, 1, 1]  # hand count
    assert curve["random"].iloc[-1] == pytest.approx(1.0)
    with pytest.raises(rl.RecordListError):
        ranking_controls.recall_curve(store, who["ana"])
    assert ranking_controls.ranking_runs(store, who["lead"]).empty


def test_the_lead_chooses_the_ranking_model_and_the_next_fit_uses_it(store: Store) -> None:
    from review.screening import ranking_controls
    from review.screening.components import available_models, get_model
    from review.screening.store_ops import rank_store

    build(store, n=12)
    who = people(store)
    ids = ids_of(store)
    for rid, label in zip(ids[:4], ["include", "exclude", "include", "exclude"], strict=True):
        _decide(store, rid, who["ana"], label)
    names, chosen = ranking_controls.models(store)
    assert chosen == available_models()[0][0]  # the default until the lead picks
    other = next(n for n, _ in names if n != chosen)

    with pytest.raises(rl.RecordListError):  # a reviewer may not
        ranking_controls.choose_model(store, who["ana"], other)
    with pytest.raises(rl.RecordListError):  # a name the registry does not have
        ranking_controls.choose_model(store, who["lead"], "gpt-9")
    assert ranking_controls.models(store)[1] == chosen

    ranking_controls.choose_model(store, who["lead"], other)
    assert ranking_controls.models(store)[1] == other
    assert rank_store(store)["model"] == get_model(other).description
    with store.session() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.actor == "lead",
                                                AuditLog.table_name == "setting")).first()


def test_review_export_carries_each_records_tags(tmp_path) -> None:
    """`review export` (CSV, XLSX, RIS) carries the live tags; a removed tag is gone."""
    import openpyxl
    import pandas as pd
    from typer.testing import CliRunner

    from review.cli import app
    from review.store import open_store

    db = str(tmp_path / "review.db")
    store = open_store(db)
    try:
        build(store, n=4)
        who = people(store)
        ids = ids_of(store)
        rct = tags.create_tag(store, who["lead"], "RCT")
        qual = tags.create_tag(store, who["lead"], "qualitative")
        tags.apply_tag(store, who["ana"], ids[0], rct)
        tags.apply_tag(store, who["ana"], ids[0], qual)
        tags.apply_tag(store, who["ana"], ids[1], qual)
        tags.remove_tag(store, who["ana"], ids[1], qual)
    finally:
        store.close()
    runner = CliRunner()
    for name in ("records.csv", "records.xlsx", "records.ris"):
        done = runner.invoke(app, ["export", str(tmp_path / name), "--db", db])
        assert done.exit_code == 0, done.output
    csv = pd.read_csv(tmp_path / "records.csv", keep_default_na=False).set_index("record_id")
    assert csv.loc[ids[0], "tags"] == "qualitative; RCT"
    assert csv.loc[ids[1], "tags"] == "" and csv.loc[ids[2], "tags"] == ""
    sheet = openpyxl.load_workbook(tmp_path / "records.xlsx").worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    cells = [row[header.index("tags")].value for row in sheet.iter_rows(min_row=2)]
    assert "qualitative; RCT" in cells
    assert "tags: qualitative; RCT" in (tmp_path / "records.ris").read_text(encoding="utf-8")
