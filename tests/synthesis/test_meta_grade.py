"""GRADE summary-of-findings: certainty from the five domains, absolute effects, exports."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook

from review.synthesis.grade import (
    GradeAssessment,
    GradeError,
    export_sof_docx,
    export_sof_xlsx,
    sof_row,
    sof_table,
)
from review.synthesis.meta import meta_analyse, meta_for_outcome

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "meta"


def pooled(estimate: float, lo: float, hi: float, measure: str, k: int = 3):
    """A MetaResult whose pooled estimate and CI are exactly the numbers given."""
    # k identical studies with the right variance reproduce the estimate and CI exactly
    se = (hi - lo) / (2 * 1.959963984540054)
    r = meta_analyse([estimate] * k, [se**2 * k] * k, "FE", measure=measure)
    assert r.ci_low == pytest.approx(lo) and r.ci_high == pytest.approx(hi)
    return r


def test_certainty_starts_high_for_trials_and_drops_per_concern():
    assert GradeAssessment().certainty == "High"
    g = GradeAssessment(risk_of_bias="serious", footnotes={"risk_of_bias": "unblinded"})
    assert g.certainty == "Moderate"
    g = GradeAssessment(risk_of_bias="serious", imprecision="very serious",
                        footnotes={"risk_of_bias": "x", "imprecision": "y"})
    assert g.certainty == "Very low"  # 4 - 1 - 2 = 1
    g = GradeAssessment(inconsistency="very serious", indirectness="very serious",
                        footnotes={"inconsistency": "x", "indirectness": "y"})
    assert g.level == 1  # never below very low


def test_observational_evidence_starts_low_and_may_be_upgraded():
    assert GradeAssessment(study_design="observational").certainty == "Low"
    g = GradeAssessment(study_design="observational", large_effect=1, dose_response=1,
                        footnotes={"large_effect": "RR 0.2", "dose_response": "gradient"})
    assert g.certainty == "High"
    with pytest.raises(GradeError, match="observational evidence only"):
        GradeAssessment(large_effect=1, footnotes={"large_effect": "x"})


def test_a_downgrade_needs_a_reason():
    with pytest.raises(GradeError, match=r"Imprecision is rated 'serious'.*footnote"):
        GradeAssessment(imprecision="serious")
    with pytest.raises(GradeError, match="unknown rating"):
        GradeAssessment(indirectness="a bit")


def test_absolute_effect_for_a_risk_ratio():
    # RR 0.5 (0.25 to 1.0) with a comparison risk of 200 per 1,000:
    # 100 per 1,000 (50 to 200), 100 fewer (150 fewer to no difference)
    r = pooled(math.log(0.5), math.log(0.25), math.log(1.0), "RR")
    row = sof_row("Loneliness (any)", r, GradeAssessment(), assumed_risk=0.2)
    assert row.relative_effect == "RR 0.50 (0.25 to 1.00)"
    assert row.risk_comparison == "200 per 1,000"
    assert row.risk_intervention == ("100 per 1,000 (50 to 200); 100 fewer per 1,000 "
                                     "(150 fewer to no difference)")


def test_absolute_effect_for_an_odds_ratio():
    # OR 2 with comparison risk 0.25: odds 1/3 -> 2/3 -> risk 0.4 (400 per 1,000)
    r = pooled(math.log(2.0), math.log(1.0), math.log(4.0), "OR")
    row = sof_row("Belonging", r, GradeAssessment(), assumed_risk=0.25)
    # OR 1: risk stays 0.25; OR 4: odds 4/3 -> risk 4/7 = 571 per 1,000
    assert row.risk_intervention == ("400 per 1,000 (250 to 571); 150 more per 1,000 "
                                     "(no difference to 321 more)")


def test_comparison_risk_defaults_to_the_pooled_control_arms():
    df = pd.DataFrame({"study": ["A", "B", "C"], "ai": [5, 8, 4], "bi": [45, 42, 46],
                       "ci": [10, 12, 8], "di": [40, 38, 42]})
    a = meta_for_outcome(df, "RR", "DL")
    row = sof_row("Self-harm", a.result, GradeAssessment(), effects=a.effects)
    assert row.risk_comparison == "200 per 1,000"  # 30 / 150
    assert row.participants == 300 and row.studies == 3
    assert row.participants_text == "300 (3 studies)"
    assert any("control-arm" in n for n in row.notes)


def test_rare_events_use_a_larger_denominator():
    r = pooled(math.log(0.5), math.log(0.25), math.log(1.0), "RR")
    row = sof_row("Suicide", r, GradeAssessment(), assumed_risk=0.004)
    assert row.risk_comparison == "40 per 10,000"


def test_continuous_outcome_wording():
    r = pooled(-0.32, -0.54, -0.10, "SMD")
    row = sof_row("Loneliness score", r, GradeAssessment(), participants=420)
    assert row.relative_effect == "\u2014"
    assert row.risk_intervention == "SMD 0.32 SD lower (0.54 lower to 0.10 lower)"
    r = pooled(2.5, -0.5, 5.5, "MD")
    row = sof_row("UCLA loneliness", r, GradeAssessment(), units="points")
    assert row.risk_intervention == "MD 2.50 points higher (0.50 lower to 5.50 higher)"


def _rows():
    a = meta_for_outcome(pd.read_csv(FIX / "dat_bcg.csv"), "RR", "REML")
    g1 = GradeAssessment(inconsistency="serious",
                         footnotes={"inconsistency": "I\u00b2 = 92%; RRs from 0.20 to 1.56"})
    r1 = sof_row("Tuberculosis", a.result, g1, effects=a.effects, comments="BCG trials")
    b = meta_for_outcome(pd.read_csv(FIX / "dat_normand1999.csv"), "SMD", "REML")
    g2 = GradeAssessment(risk_of_bias="serious", imprecision="serious",
                         footnotes={"risk_of_bias": "No blinding of outcome assessors",
                                    "imprecision": "CI includes no effect"})
    r2 = sof_row("Length of stay", b.result, g2, effects=b.effects)
    return [r1, r2]


def test_sof_table_letters_footnotes_and_marks_certainty():
    table, notes = sof_table(_rows())
    assert table.loc[0, "Certainty of the evidence (GRADE)"].startswith(
        "\u2295\u2295\u2295\u25ef Moderate a")
    assert table.loc[1, "Certainty of the evidence (GRADE)"].startswith(
        "\u2295\u2295\u25ef\u25ef Low")
    marks = [m for m, _ in notes]
    assert marks == [chr(ord("a") + i) for i in range(len(notes))]
    assert any("No blinding" in t for _, t in notes)
    assert table.loc[0, "No of participants (studies)"] == "357,347 (13 studies)"


def test_docx_export(tmp_path):
    path = export_sof_docx(_rows(), tmp_path / "sof.docx", population="Children",
                           intervention="BCG", comparison="No vaccine")
    doc = Document(path)
    t = doc.tables[0]
    assert [c.text for c in t.rows[0].cells][0] == "Outcome"
    assert t.rows[1].cells[0].text == "Tuberculosis"
    assert "RR 0.49" in t.rows[1].cells[3].text
    assert "Moderate" in t.rows[1].cells[5].text
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Intervention: BCG" in body and "No blinding of outcome assessors" in body
    assert "High certainty" in body


def test_xlsx_export(tmp_path):
    path = export_sof_xlsx(_rows(), tmp_path / "sof.xlsx")
    wb = load_workbook(path)
    ws = wb["Summary of findings"]
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(values) if r[0] == "Outcome")
    assert values[header + 1][0] == "Tuberculosis"
    assert values[header + 2][0] == "Length of stay"
    assert "Low" in values[header + 2][5]
    domains = wb["GRADE domains"]
    rows = list(domains.iter_rows(values_only=True))
    assert rows[0][2:7] == ("Risk of bias", "Inconsistency", "Indirectness", "Imprecision",
                            "Publication bias")
    assert rows[2][2] == "serious" and rows[2][-1] == "Low"
    assert np.all([r[1] == "randomised" for r in rows[1:]])
