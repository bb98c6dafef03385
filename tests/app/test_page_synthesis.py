"""The synthesis page over a review whose studies carry the demo's (synthetic) extractions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from review.extraction import store_ops as extraction_ops
from review.screening import fulltext
from review.store import open_store, repo

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo" / "extractions.json"
N_STUDIES = 8


def page_script(db: str, username: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import synthesis
    from review.store import open_store, repo

    store = open_store(db)
    try:
        who = repo.reviewers_frame(store).set_index("username").loc[username]
        user = SignedIn(int(who["reviewer_id"]), username, str(who["display_name"]),
                        str(who["role"]))
        synthesis.render(AppContext(store=store, user=user, settings=repo.get_settings(store)))
    finally:
        store.close()


def demo_studies() -> dict[str, list[dict]]:
    assert DEMO.is_file(), f"the committed demo extractions are missing: {DEMO}"
    by_key: dict[str, list[dict]] = {}
    for rec in json.loads(DEMO.read_text(encoding="utf-8")):
        by_key.setdefault(rec["study_key"], []).append(rec)
    return dict(list(by_key.items())[:N_STUDIES])


def make_review(db: str, files: Path | None = None) -> dict:
    """One included report per demo study, grouped into its study, every form submitted."""
    studies = demo_studies()
    store = open_store(db)
    records = [{"title": f"Report of {k}", "authors": [recs[0]["short_citation"].split()[0]],
                "year": int(recs[0]["short_citation"].split()[-1][:4])}
               for k, recs in studies.items()]
    repo.add_source(store, name="PubMed", kind="database", file_name="a.ris", file_format="ris",
                    sha256="5" * 64, records=records)
    lead = repo.add_reviewer(store, "lena", "Lena Lead", "lead")
    for rid in repo.records_frame(store)["record_id"]:
        repo.add_decision(store, record_id=int(rid), reviewer_id=lead, stage="title_abstract",
                          label="include")
    repo.ensure_reports(store)
    library = extraction_ops.library()
    reports = fulltext.reports_frame(store)
    for rep, recs in zip(reports["report_id"], studies.values(), strict=True):
        fulltext.decide(store, report_id=int(rep), reviewer_id=lead, label="include")
        sid = fulltext.create_study(store, recs[0]["short_citation"], [int(rep)])
        for rec in recs:
            extraction_ops.save(store, study_id=sid, form=library.get(rec["form_id"],
                                                                     rec["form_version"]),
                                reviewer_id=lead, values=rec["values"], submit=True,
                                actor="lena")
    store.close()
    return {"db": db, "studies": studies}


@pytest.fixture
def review(tmp_path: Path) -> dict:
    return make_review(str(tmp_path / "review.db"), tmp_path / "review-files")


def open_page(review: dict, view: str | None = None) -> AppTest:
    at = AppTest.from_function(page_script, kwargs={"db": review["db"], "username": "lena"},
                               default_timeout=60)
    at.run()
    if view:
        at.radio(key="syn_view").set_value(view).run()
    assert not at.exception, at.exception
    return at


def frame(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def test_mechanism_table_with_downloads_and_figure(review: dict) -> None:
    at = open_page(review)
    assert any(f"From {N_STUDIES} studies" in c.value for c in at.caption)
    table = frame(at, "Studies (n)")
    assert len(table) >= 1 and table["Studies (n)"].sum() >= 1
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["CSV", "XLSX", "DOCX", "PNG", "SVG"]
    assert len(at.get("image")) == 1


def test_fixed_effect_pool_of_loneliness_matches_a_hand_calculation(review: dict) -> None:
    """Hedges' g from arms and reported SMDs (SE from the CI) pooled by inverse variance."""
    y, v = [], []
    for recs in review["studies"].values():
        for rec in recs:
            if rec["form_id"] != "outcome_data":
                continue
            for r in rec["values"]["outcomes"]:
                e = r.get("effect")
                if (r["outcome"] != "loneliness" or r["time_point"] != "post-intervention"
                        or r.get("subgroup") or not e):
                    continue
                if e["kind"] == "continuous":
                    a, b = e["intervention"], e["comparator"]
                    m = a["n"] + b["n"] - 2
                    sp = math.sqrt(((a["n"] - 1) * a["sd"] ** 2 + (b["n"] - 1) * b["sd"] ** 2) / m)
                    j = math.exp(math.lgamma(m / 2) - math.lgamma((m - 1) / 2)) / math.sqrt(m / 2)
                    g = j * (a["mean"] - b["mean"]) / sp
                    y.append(g)
                    v.append(1 / a["n"] + 1 / b["n"] + g * g / (2 * (a["n"] + b["n"])))
                elif e["kind"] == "effect_size" and e["measure"] == "SMD":
                    y.append(e["estimate"])
                    v.append(((e["ci_upper"] - e["ci_lower"]) / (2 * 1.959963984540054)) ** 2)
                else:
                    continue
                break  # the first usable result per study
    assert len(y) >= 3
    w = [1 / x for x in v]
    pooled = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / sum(w)

    at = open_page(review, "Meta-analysis")
    at.selectbox(key="syn_meta_outcome").set_value("loneliness")
    at.selectbox(key="syn_meta_time").set_value("post-intervention")
    at.selectbox(key="syn_meta_method").set_value("FE").run()
    at.selectbox(key="syn_meta_measure").set_value("SMD").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Studies"] == str(len(y))
    assert metrics["Pooled SMD"] == f"{pooled:.2f}"
    used = frame(at, "sign reversed")
    assert len(used) == len(y)
    assert set(used["from"]) <= {"means and SDs", "reported SMD"}
    assert len(at.get("image")) == 2  # forest and funnel
    assert {"PNG", "SVG", "XLSX", "DOCX"} <= {b.label for b in at.get("download_button")}
    # a GRADE summary-of-findings table drafted from the pooled data (issue 18)
    assert any("grade sof" in c.value for c in at.caption), [c.value for c in at.caption]


def test_risk_of_bias_view_draws_both_robvis_figures(review: dict) -> None:
    at = open_page(review, "Risk of bias")
    tools_with_studies = 0
    for tool in ("RoB 2", "ROBINS-I"):
        at.radio(key="syn_rob_tool").set_value(tool).run()
        assert not at.exception, at.exception
        if at.info:
            continue
        tools_with_studies += 1
        assert "Overall" in frame(at, "Overall").columns
        assert len(at.get("image")) == 2
    assert tools_with_studies >= 1


def test_other_views_render(review: dict) -> None:
    at = open_page(review)
    for view in ("CMO configurations", "Effect direction", "For whom"):
        at.radio(key="syn_view").set_value(view).run()
        assert not at.exception, (view, at.exception)
        assert at.dataframe, view


def test_nothing_to_synthesise_without_final_extractions(tmp_path: Path) -> None:
    db = str(tmp_path / "empty.db")
    store = open_store(db)
    repo.add_reviewer(store, "lena", "Lena Lead", "lead")
    store.close()
    at = open_page({"db": db})
    assert any("Nothing to synthesise" in i.value for i in at.info)


@pytest.mark.postgres
def test_views_render_on_postgresql(pg_url: str) -> None:
    review = make_review(pg_url)
    at = open_page(review, "Meta-analysis")
    assert any(m.label == "Studies" for m in at.metric)
    at.radio(key="syn_view").set_value("Mechanisms").run()
    assert not at.exception, at.exception
    assert len(frame(at, "Studies (n)")) >= 1
