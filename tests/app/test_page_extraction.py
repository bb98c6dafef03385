"""The extraction page: inputs from the YAML forms, submit with validation, dual + consensus."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from review.app.widgets import unescape_markdown
from review.extraction import store_ops as ops
from review.report import inputs
from review.screening import fulltext
from review.store import open_store, repo

SC = "study_characteristics"
P = "ex.{sid}.study_characteristics.v1"
COMPLETE = {
    "design": "Randomised controlled trial", "country": "United Kingdom",
    "settings": ["community"], "population": "Care-experienced young people aged 14-21",
    "targeting": "Targeted", "targeted_groups": ["care_experience"], "sample_size": 212,
    "addresses": ["Child or young person"], "intervention_types": ["mentoring"],
    "comparator": "Usual care or services",
}


def page_script(db: str, username: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import extraction
    from review.store import open_store, repo

    store = open_store(db)
    try:
        who = repo.reviewers_frame(store).set_index("username").loc[username]
        user = SignedIn(int(who["reviewer_id"]), username, str(who["display_name"]),
                        str(who["role"]))
        extraction.render(AppContext(store=store, user=user, settings=repo.get_settings(store)))
    finally:
        store.close()


def make_review(db: str, files: Path | None = None) -> dict:
    """Three records included at full text, grouped into two studies (one has two reports)."""
    store = open_store(db)
    recs = [{"title": "Mentoring trial", "authors": ["Okafor, A."], "year": 2019},
            {"title": "Mentoring trial follow-up", "authors": ["Okafor, A."], "year": 2021},
            {"title": "Peer support for young carers", "authors": ["Müller, J."], "year": 2022}]
    repo.add_source(store, name="PubMed", kind="database", file_name="a.ris", file_format="ris",
                    sha256="4" * 64, records=recs)
    lead = repo.add_reviewer(store, "lena", "Lena Lead", "lead")
    repo.add_reviewer(store, "rui", "Rui", "reviewer")
    repo.add_reviewer(store, "sam", "Sam", "reviewer")
    for rid in repo.records_frame(store)["record_id"]:
        repo.add_decision(store, record_id=int(rid), reviewer_id=lead, stage="title_abstract",
                          label="include")
    repo.ensure_reports(store)
    reports = fulltext.reports_frame(store)
    for rep in reports["report_id"]:
        fulltext.decide(store, report_id=int(rep), reviewer_id=lead, label="include")
    okafor = fulltext.create_study(store, "Okafor 2019", list(reports["report_id"][:2]))
    muller = fulltext.create_study(store, "Müller 2022", [int(reports["report_id"][2])])
    ids = {u: int(i) for u, i in zip(repo.reviewers_frame(store)["username"],
                                     repo.reviewers_frame(store)["reviewer_id"], strict=True)}
    store.close()
    return {"db": db, "okafor": okafor, "muller": muller, **ids}


@pytest.fixture
def review(tmp_path: Path) -> dict:
    return make_review(str(tmp_path / "review.db"), tmp_path / "review-files")


def open_page(review: dict, username: str) -> AppTest:
    at = AppTest.from_function(page_script, kwargs={"db": review["db"], "username": username},
                               default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def frame(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def final(review: dict) -> list[dict]:
    store = open_store(review["db"])
    try:
        return inputs.final_extractions(store)
    finally:
        store.close()


def test_studies_and_progress_per_form(review: dict) -> None:
    at = open_page(review, "rui")
    assert metric(at, "Studies to extract") == "2"
    assert metric(at, "Studies fully extracted") == "0"
    progress = frame(at, "forms done")
    assert sorted(progress["study"]) == ["Müller 2022", "Okafor 2019"]
    assert "Study characteristics" in progress.columns
    # a reviewer only extracts: there is no comparison view for them
    assert not [r for r in at.radio if r.key == "ex_view"]


def test_inputs_follow_the_form_and_submit_validates(review: dict) -> None:
    sid = review["okafor"]
    p = P.format(sid=sid)
    at = open_page(review, "rui")
    at.selectbox(key="ex_study").set_value(sid)
    at.selectbox(key="ex_form").set_value(SC).run()
    # field types became the matching inputs, choices from the codebook
    assert at.selectbox(key=f"{p}.design").options[0] == "Randomised controlled trial"
    assert "Community venue" in at.multiselect(key=f"{p}.settings").options  # codebook label
    assert at.number_input(key=f"{p}.sample_size").value is None
    # the conditional field appears only once targeting is "Targeted"
    assert not [m for m in at.multiselect if m.key == f"{p}.targeted_groups"]
    at.button(key=f"{p}.__submit").click().run()
    errors = [unescape_markdown(e.value) for e in at.error]
    assert errors and "Study design: required" in errors[0]
    assert "design:" not in errors[0].replace("Study design:", "")  # no internal field ids
    assert final(review) == []

    at.selectbox(key=f"{p}.design").set_value("Randomised controlled trial")
    at.text_input(key=f"{p}.country").input("United Kingdom")
    at.multiselect(key=f"{p}.settings").set_value(["community"])
    at.text_area(key=f"{p}.population").input("Care-experienced young people aged 14-21")
    at.selectbox(key=f"{p}.targeting").set_value("Targeted").run()
    at.multiselect(key=f"{p}.targeted_groups").set_value(["care_experience"])
    at.number_input(key=f"{p}.sample_size").set_value(212)
    at.multiselect(key=f"{p}.addresses").set_value(["Child or young person"])
    at.multiselect(key=f"{p}.intervention_types").set_value(["mentoring"])
    at.selectbox(key=f"{p}.comparator").set_value("Usual care or services").run()
    at.button(key=f"{p}.__submit").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("submitted" in s.value for s in at.success)
    rows = final(review)
    assert len(rows) == 1 and rows[0]["short_citation"] == "Okafor 2019"
    assert rows[0]["values"] == COMPLETE
    assert frame(at, "forms done").set_index("study").loc["Okafor 2019",
                                                           "Study characteristics"] == "done"


def test_repeating_group_rows_and_effect_data(review: dict) -> None:
    sid = review["muller"]
    p = f"ex.{sid}.outcome_data.v1.outcomes"
    at = open_page(review, "rui")
    at.selectbox(key="ex_study").set_value(sid)
    at.selectbox(key="ex_form").set_value("outcome_data").run()
    at.button(key=f"{p}.__add").click().run()  # a required group starts with one row
    for token, outcome in (("r0", "loneliness"), ("r1", "self_esteem")):
        at.selectbox(key=f"{p}.{token}.outcome").set_value(outcome)
        at.text_input(key=f"{p}.{token}.measure").input("UCLA-3")
        at.text_input(key=f"{p}.{token}.time_point").input("post")
        at.selectbox(key=f"{p}.{token}.direction_of_benefit").set_value("Lower is better")
    at.radio(key=f"{p}.r0.effect.kind").set_value("continuous").run()
    for arm, (n, mean, sd) in (("intervention", (80, 40.1, 8.2)),
                               ("comparator", (78, 43.5, 8.9))):
        at.number_input(key=f"{p}.r0.effect.continuous.{arm}.n").set_value(n)
        at.number_input(key=f"{p}.r0.effect.continuous.{arm}.mean").set_value(mean)
        at.number_input(key=f"{p}.r0.effect.continuous.{arm}.sd").set_value(sd)
    at.run()
    at.button(key=f"{p}.__add").click().run()
    at.button(key=f"{p}.r1.__del").click().run()  # removing the middle row keeps the others
    at.selectbox(key=f"{p}.r2.outcome").set_value("hope")
    at.text_input(key=f"{p}.r2.measure").input("Children's Hope Scale")
    at.text_input(key=f"{p}.r2.time_point").input("6 months")
    at.selectbox(key=f"{p}.r2.direction_of_benefit").set_value("Higher is better")
    at.selectbox(key=f"{p}.r2.reported_direction").set_value("No difference").run()
    at.button(key=f"ex.{sid}.outcome_data.v1.__submit").click().run()
    assert not at.error, [e.value for e in at.error]
    values = final(review)[0]["values"]["outcomes"]
    assert [r["outcome"] for r in values] == ["loneliness", "hope"]
    assert values[0]["effect"] == {
        "kind": "continuous", "intervention": {"n": 80, "mean": 40.1, "sd": 8.2},
        "comparator": {"n": 78, "mean": 43.5, "sd": 8.9}}
    assert "effect" not in values[1]


def test_dual_extraction_comparison_and_consensus(review: dict) -> None:
    sid = review["okafor"]
    store = open_store(review["db"])
    repo.set_setting(store, "extractors_per_study", 2)
    form = ops.library().get(SC)
    ops.save(store, study_id=sid, form=form, reviewer_id=review["rui"], values=COMPLETE,
             submit=True, actor="rui")
    store.close()
    lena = open_page(review, "lena")
    lena.selectbox(key="ex_study").set_value(sid)
    lena.selectbox(key="ex_form").set_value(SC)
    lena.radio(key="ex_view").set_value("Compare and agree").run()
    assert any("1 of 2 extractions submitted" in i.value for i in lena.info)
    assert final(review) == []  # one submission does not count under dual extraction

    store = open_store(review["db"])
    ops.save(store, study_id=sid, form=form, reviewer_id=review["sam"],
             values={**COMPLETE, "sample_size": 221}, submit=True, actor="sam")
    store.close()
    lena.run()
    diffs = frame(lena, "where")
    assert list(diffs["where"]) == ["sample_size"]
    assert list(diffs["A: Rui"]) == ["212"] and list(diffs["B: Sam"]) == ["221"]
    total = len(COMPLETE)  # every filled value is compared once
    assert metric(lena, "Agreement") == f"{(total - 1) / total:.0%}"
    cons = f"ex.cons.{sid}.{SC}.v1"
    lena.button(key=f"{cons}.__save").click().run()
    assert any("still to resolve" in unescape_markdown(e.value) for e in lena.error)
    lena.radio(key=f"{cons}.sample_size").set_value("A").run()
    lena.button(key=f"{cons}.__save").click().run()
    assert not lena.error, [e.value for e in lena.error]
    rows = final(review)
    assert len(rows) == 1 and rows[0]["values"]["sample_size"] == 212


def test_a_reviewer_in_dual_mode_sees_only_their_own_values(review: dict) -> None:
    sid = review["okafor"]
    store = open_store(review["db"])
    repo.set_setting(store, "extractors_per_study", 2)
    ops.save(store, study_id=sid, form=ops.library().get(SC), reviewer_id=review["sam"],
             values={**COMPLETE, "country": "Ireland"}, submit=True, actor="sam")
    store.close()
    rui = open_page(review, "rui")
    rui.selectbox(key="ex_study").set_value(sid)
    rui.selectbox(key="ex_form").set_value(SC).run()
    assert rui.text_input(key=f"{P.format(sid=sid)}.country").value == ""
    shown = " ".join(str(e.value) for e in [*rui.markdown, *rui.text, *rui.caption])
    assert "Ireland" not in shown


@pytest.mark.postgres
def test_dual_extraction_consensus_on_postgresql(pg_url: str) -> None:
    review = make_review(pg_url)
    sid = review["okafor"]
    store = open_store(review["db"])
    repo.set_setting(store, "extractors_per_study", 2)
    form = ops.library().get(SC)
    for who, size in (("rui", 212), ("sam", 221)):
        ops.save(store, study_id=sid, form=form, reviewer_id=review[who],
                 values={**COMPLETE, "sample_size": size}, submit=True, actor=who)
    store.close()
    lena = open_page(review, "lena")
    lena.selectbox(key="ex_study").set_value(sid)
    lena.selectbox(key="ex_form").set_value(SC)
    lena.radio(key="ex_view").set_value("Compare and agree").run()
    lena.radio(key=f"ex.cons.{sid}.{SC}.v1.sample_size").set_value("B").run()
    lena.button(key=f"ex.cons.{sid}.{SC}.v1.__save").click().run()
    assert not lena.error, [e.value for e in lena.error]
    assert [r["values"]["sample_size"] for r in final(review)] == [221]


def test_an_out_of_range_number_blocks_submission_with_a_message_at_the_field(review: dict
                                                                              ) -> None:
    """Finding 8 of issue 16: "Youngest age 42" (form maximum 30) is never dropped silently."""
    sid = review["okafor"]
    p = P.format(sid=sid)
    at = open_page(review, "rui")
    at.selectbox(key="ex_study").set_value(sid)
    at.selectbox(key="ex_form").set_value(SC).run()
    at.selectbox(key=f"{p}.design").set_value("Randomised controlled trial")
    at.text_input(key=f"{p}.country").input("United Kingdom")
    at.multiselect(key=f"{p}.settings").set_value(["community"])
    at.text_area(key=f"{p}.population").input("Young people")
    at.selectbox(key=f"{p}.targeting").set_value("Universal")
    at.number_input(key=f"{p}.sample_size").set_value(212)
    at.multiselect(key=f"{p}.addresses").set_value(["Child or young person"])
    at.multiselect(key=f"{p}.intervention_types").set_value(["mentoring"])
    at.selectbox(key=f"{p}.comparator").set_value("Usual care or services")
    at.number_input(key=f"{p}.age_min").set_value(42).run()
    at_field = [unescape_markdown(e.value) for e in at.error]
    assert any(e.startswith("Youngest age (years): 42 is out of range") for e in at_field)
    at.button(key=f"{p}.__submit").click().run()
    assert not any("submitted" in s.value for s in at.success)
    summary = " ".join(unescape_markdown(e.value) for e in at.error)
    assert "Not submitted" in summary and "Youngest age (years)" in summary
    assert final(review) == []  # nothing counts, nothing was dropped
    at.number_input(key=f"{p}.age_min").set_value(12)
    at.button(key=f"{p}.__submit").click().run()
    assert any("submitted" in s.value for s in at.success)
    rows = final(review)
    assert rows and rows[0]["values"]["age_min"] == 12


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_studys_pdf_is_shown_beside_the_form_when_one_is_stored(review: dict) -> None:
    at = open_page(review, "rui")
    at.selectbox(key="ex_study").set_value(review["okafor"]).run()
    assert not at.get("bidi_component")  # no PDF stored yet: the form alone, and a note why
    assert any("No PDF stored" in c.value for c in at.caption)
    store = open_store(review["db"])
    try:
        reports = fulltext.reports_frame(store)
        follow_up = reports[reports["title"] == "Mentoring trial follow-up"].iloc[0]
        fulltext.attach_pdf(store, int(follow_up["report_id"]), PDF, "okafor2021.pdf", "lena")
    finally:
        store.close()
    at = open_page(review, "rui")
    at.selectbox(key="ex_study").set_value(review["okafor"]).run()
    assert not at.exception, at.exception
    # st.pdf is a component: AppTest sees it as one, keyed by the report, in the left column
    cols = list(at.columns)
    i = next(i for i, c in enumerate(cols) if c.get("bidi_component"))
    left, right = cols[i], cols[i + 1]  # the study's PDF, and beside it the form
    viewers = left.get("bidi_component")
    assert [v.key for v in viewers] == [f"ex_pdf_{int(follow_up['report_id'])}"]
    assert [c.value for c in left.caption] == [
        f"Full text of record #{int(follow_up['record_id'])}"]
    assert any(b.key.endswith(".__save") for b in right.button)  # the form, beside it
