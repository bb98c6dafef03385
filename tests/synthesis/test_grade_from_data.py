"""GRADE ratings from the pooled data and ``review grade`` (issue 18, item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from review.cli import app
from review.synthesis.grade_data import imprecision, inconsistency, publication_bias
from review.synthesis.meta import meta_for_outcome

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
runner = CliRunner()


def test_inconsistency_uses_the_i2_interval_and_the_prediction_interval():
    bcg = meta_for_outcome(pd.read_csv(FIX / "dat_bcg.csv"), "RR")
    s = inconsistency(bcg)  # I2 92% (CI 82-98%), PI crosses 1
    assert s.rating == "very serious"
    assert "95% CI 82% to 98%" in s.reason and "spans both sides" in s.reason
    homo = meta_for_outcome(pd.read_csv(FIX / "homogeneous.csv"), "GENERIC")
    assert inconsistency(homo).rating == "not serious"


def test_imprecision_from_the_ci_and_the_information_size():
    hine = meta_for_outcome(pd.read_csv(FIX / "dat_hine1989.csv"), "RR")
    s = imprecision(hine)  # RR CI 1.00 to 2.88 (above 1), but only 58 events
    assert s.rating == "serious"
    assert "optimal information size is not met" in s.reason and "58 events" in s.reason
    tiny = pd.DataFrame({"study": ["A", "B"], "ai": [2, 3], "bi": [18, 17], "ci": [3, 2],
                         "di": [17, 18]})
    s = imprecision(meta_for_outcome(tiny, "RR"))  # CI spans 0.75 and 1.25
    assert s.rating == "very serious" and "appreciable benefit and harm" in s.reason
    bcg = meta_for_outcome(pd.read_csv(FIX / "dat_bcg.csv"), "RR")
    assert imprecision(bcg).rating == "not serious"


def test_publication_bias_needs_ten_studies():
    hine = meta_for_outcome(pd.read_csv(FIX / "dat_hine1989.csv"), "RR")
    s = publication_bias(hine)
    assert s.rating == "undetected" and "too few" in s.reason
    hack = meta_for_outcome(pd.read_csv(FIX / "dat_hackshaw1998.csv"), "GENERIC",
                            trimfill=True)
    s = publication_bias(hack)
    assert "Trim and fill: 7 studies filled" in s.reason


def test_review_grade_writes_docx_xlsx_and_json(tmp_path):
    df = pd.concat([pd.read_csv(FIX / "dat_bcg.csv").assign(outcome="Tuberculosis"),
                    pd.read_csv(FIX / "dat_hine1989.csv").assign(outcome="=Mortality")])
    src = tmp_path / "two.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "out"
    res = runner.invoke(app, ["grade", "--input", str(src), "--measure", "RR", "--output",
                              str(out), "--risk-of-bias", "serious", "--risk-of-bias-reason",
                              "Allocation concealment unclear in half the trials"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    report = json.loads((out / "grade.json").read_text())
    assert [r["outcome"] for r in report] == ["Tuberculosis", "=Mortality"]
    tb = report[0]
    assert tb["ratings"]["inconsistency"] == "very serious"
    assert tb["ratings"]["risk_of_bias"] == "serious"
    assert tb["certainty"] == "Very low"  # 4 - 1 (RoB) - 2 (inconsistency)
    assert report[1]["ratings"]["imprecision"] == "serious"
    text = "\n".join(p.text for p in Document(out / "sof.docx").paragraphs)
    assert "Allocation concealment unclear" in text and "I\u00b2 = 92%" in text
    ws = load_workbook(out / "sof.xlsx")["Summary of findings"]
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=Mortality" in cells and "=Mortality" not in cells


def test_review_grade_refuses_an_unknown_rating(tmp_path):
    res = runner.invoke(app, ["grade", "--input", str(FIX / "dat_bcg.csv"), "--measure", "RR",
                              "--output", str(tmp_path), "--indirectness", "awful"])
    assert res.exit_code != 0 and "--indirectness" in res.output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("rating", ["serious"])
def test_a_given_rating_without_a_reason_is_refused(tmp_path, rating):
    res = runner.invoke(app, ["grade", "--input", str(FIX / "dat_bcg.csv"), "--measure", "RR",
                              "--output", str(tmp_path), "--indirectness", rating])
    assert res.exit_code != 0 and "footnote" in res.output
