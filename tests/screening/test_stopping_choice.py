"""The lead chooses the stopping rule the screening page estimates with; the page warns when
the ranking has little to go on (most records without an abstract)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from test_record_list import build, ids_of, people

from review.app import progress
from review.screening import ranking_controls
from review.screening import record_list as rl
from review.screening.rules import DEFAULT_RULE, weak_ranking_note
from review.screening.stopping import counting_estimate, counting_evidence, recall_estimate
from review.store import Store, repo
from review.store.models import AuditLog, Record

#: An early cluster of finds, then a long run of irrelevant records: the shape on which the
#: plain model is sure nothing is left and the floor model is not.
LABELS = np.r_[[1, 1, 0, 1, 1, 0, 1], np.zeros(40), [1], np.zeros(60)].astype(int)


def test_the_floor_rules_estimate_is_the_floor_model_and_more_cautious() -> None:
    plain = recall_estimate(LABELS, 400)
    floor = recall_estimate(LABELS, 400, floor=True)
    assert plain.method == "counting process"
    assert floor.method == "counting process with a floor"
    assert floor.p_value == pytest.approx(counting_evidence(LABELS, 400, floor=True)[2])
    assert plain.p_value == pytest.approx(counting_evidence(LABELS, 400)[2])
    assert floor.p_value > plain.p_value
    assert floor.recall_low < plain.recall_low
    # what the page is handed follows the rule's name, the default for none
    page = progress.recall_estimate(LABELS, 400, 0.95, rule="floor")
    assert page.method == floor.method and page.recall_low == pytest.approx(floor.recall_low)
    assert progress.recall_estimate(LABELS, 400, 0.95).method == plain.method
    assert counting_estimate(LABELS, 400, floor=True).stop == floor.stop


def test_the_lead_chooses_the_rule_and_the_page_estimates_with_it(store: Store) -> None:
    build(store, n=40)
    who = people(store)
    ids = ids_of(store)
    for rid, label in zip(ids[:len(LABELS[:30])], LABELS[:30], strict=True):
        repo.add_decision(store, record_id=rid, reviewer_id=who["ana"].reviewer_id,
                          stage="title_abstract", label="include" if label else "exclude")
    names, chosen = ranking_controls.stopping_rules(store)
    assert chosen == DEFAULT_RULE and {n for n, _ in names} == {"counting", "floor"}

    def page_method() -> str:
        est = progress._estimate_in_worker(store.url, "title_abstract", len(ids), 0.95)
        return est.method

    assert page_method() == "counting process"
    with pytest.raises(rl.RecordListError):  # a reviewer may not
        ranking_controls.choose_stopping_rule(store, who["ana"], "floor")
    for bad in ("sample", "knee", "../floor", "FLOOR", ""):  # not an estimate the page shows
        with pytest.raises(rl.RecordListError):
            ranking_controls.choose_stopping_rule(store, who["lead"], bad)
    assert ranking_controls.stopping_rules(store)[1] == "counting"
    ranking_controls.choose_stopping_rule(store, who["lead"], "floor")
    assert ranking_controls.stopping_rules(store)[1] == "floor"
    assert page_method() == "counting process with a floor"
    with store.session() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.actor == "lead",
                                                AuditLog.table_name == "setting")).first()


def test_the_page_warns_when_most_records_have_no_abstract(store: Store) -> None:
    build(store, n=20)
    who = people(store)
    assert ranking_controls.weak_ranking_warning(store) is None  # every record has one
    ids = ids_of(store)
    blank = ids[:10]
    with store.session() as s:
        for rid, value in zip(blank, [None, "", "   "] * 4, strict=False):
            s.get(Record, rid).abstract = value
    assert ranking_controls.weak_ranking_warning(store) is None  # half is not most
    with store.session() as s:
        s.get(Record, ids[10]).abstract = None
    warning = ranking_controls.weak_ranking_warning(store)
    assert warning is not None and "11 of 20 records have no abstract" in warning
    assert "floor" in warning
    ranking_controls.choose_stopping_rule(store, who["lead"], "floor")
    assert ranking_controls.weak_ranking_warning(store) is None  # the floor rule is chosen
    # a duplicate linked to its canonical record is not screened, so it does not count
    ranking_controls.choose_stopping_rule(store, who["lead"], "counting")
    repo.link_duplicate(store, ids[0], ids[15])
    assert "10 of 19 records" in ranking_controls.weak_ranking_warning(store)


@pytest.mark.parametrize(("n", "without", "rule", "warns"), [
    (100, 51, None, True), (100, 51, "counting", True), (100, 50, None, False),
    (100, 100, "floor", False), (100, 100, "sample", False), (100, 100, "knee", False),
    (0, 0, None, False), (100, 0, None, False),
])
def test_weak_ranking_note_names_the_counts_and_the_safer_rule(n, without, rule, warns) -> None:
    note = weak_ranking_note(n, without, rule)
    assert (note is not None) == warns
    if warns:
        assert f"{without:,} of {n:,} records have no abstract" in note and "`floor`" in note
