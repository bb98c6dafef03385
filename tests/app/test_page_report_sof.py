"""The Report page's GRADE summary of findings: every outcome accounted for, exported as DOCX/XLSX.

The review is the synthesis page's (demo studies with their extractions); the expected
outcomes are counted by hand from the committed extractions, not by the code under test.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest
from test_page_synthesis import make_review

from review.app.widgets import unescape_markdown
from review.extraction import load_forms
from review.extraction import store_ops as extraction_ops
from review.report import inputs


def page_script(db: str) -> None:
    from review.app.context import AppContext, SignedIn
    from review.app.pages import report
    from review.store import open_store, repo

    store = open_store(db)
    try:
        who = repo.reviewers_frame(store).set_index("username").loc["lena"]
        user = SignedIn(int(who["reviewer_id"]), "lena", str(who["display_name"]), "lead")
        report.render(AppContext(store=store, user=user, settings=repo.get_settings(store)))
    finally:
        store.close()


def outcomes_by_hand(studies: dict[str, list[dict]]) -> dict[tuple[str, str], set[str]]:
    """(outcome, time point) → the studies that report an effect for it (whole sample)."""
    found: dict[tuple[str, str], set[str]] = {}
    for key, recs in studies.items():
        for rec in recs:
            if rec["form_id"] != "outcome_data":
                continue
            for r in rec["values"]["outcomes"]:
                if r.get("effect") and not r.get("subgroup"):
                    found.setdefault((r["outcome"], r["time_point"]), set()).add(key)
    return found


@pytest.fixture
def review(tmp_path: Path) -> dict:
    return make_review(str(tmp_path / "review.db"), tmp_path / "review-files")


def test_summary_of_findings_accounts_for_every_outcome_and_exports(review: dict) -> None:
    at = AppTest.from_function(page_script, kwargs={"db": review["db"]}, default_timeout=120)
    at.run()
    at.radio(key="rep_view").set_value("Summary of findings").run()
    assert not at.exception, at.exception

    outcomes = load_forms(extraction_ops.forms_dir()).codebook["outcomes"]
    expected = {f"{outcomes.label_of(o)}, {tp}": n
                for (o, tp), n in outcomes_by_hand(review["studies"]).items()}
    table = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
    rows = set(table["Outcome"])
    notes = " ".join(unescape_markdown(c.value) for c in at.caption)
    # every pooled row is an outcome with at least two studies' effects ...
    assert rows and rows <= {label for label, keys in expected.items() if len(keys) >= 2}
    # ... and every outcome with effect data is either a row or named with its reason
    for label in expected:
        assert label in rows or label in notes, f"{label} silently missing"

    buttons = {b.label for b in at.get("download_button")}
    assert buttons == {"Summary of findings (DOCX)", "Summary of findings (XLSX)"}


def test_summary_of_findings_workbook_has_one_row_per_pooled_outcome(review: dict) -> None:
    from review.store import open_store, repo
    from review.synthesis import mechanisms
    from review.synthesis.store_ops import sof_panel

    store = open_store(review["db"])
    try:
        settings = repo.get_settings(store)
        ex = mechanisms.extractions_frame(inputs.final_extractions(store))
        panel = sof_panel(ex, load_forms(extraction_ops.forms_dir(settings)).codebook)
    finally:
        store.close()
    rows = list(panel.tables["summary_of_findings"]["Outcome"])
    book = openpyxl.load_workbook(io.BytesIO(panel.downloads["summary_of_findings"]["xlsx"]))
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None}
    assert all(any(r in c for c in cells) for r in rows)
    assert panel.downloads["summary_of_findings"]["docx"][:2] == b"PK"
