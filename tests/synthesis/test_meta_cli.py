"""``review meta --input ... --output DIR``: the stand-alone mode a lead author uses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from review.cli import app

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
KEYS_Z = ["estimate", "se", "ci_low", "ci_high", "z", "p", "tau2", "tau", "i2", "h2", "q",
          "q_df", "q_p", "pi_low", "pi_high", "k", "method", "measure"]

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["meta", *args], catch_exceptions=False)


def test_bcg_reml_writes_summary_and_figures(tmp_path):
    out = tmp_path / "out"
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--method", "REML",
              "--output", str(out))
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    # today's keys first, in order, then the Q-profile CIs of issue 18
    assert list(summary) == KEYS_Z + ["tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high"]
    # BENCHMARKS.md §3, REML
    assert summary["estimate"] == pytest.approx(-0.7145, abs=1e-4)
    assert summary["se"] == pytest.approx(0.1798, abs=1e-4)
    assert summary["tau2"] == pytest.approx(0.3132, abs=1e-3)
    assert summary["i2"] == pytest.approx(92.22, abs=0.005)
    assert summary["k"] == 13 and summary["method"] == "REML" and summary["measure"] == "RR"
    for name in ("forest.png", "forest.svg", "funnel.png", "funnel.svg", "studies.csv",
                 "details.json", "leave_one_out.csv", "cumulative.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    details = json.loads((out / "details.json").read_text())
    assert details["back_transformed"]["estimate"] == pytest.approx(
        math.exp(summary["estimate"]))
    studies = pd.read_csv(out / "studies.csv")
    assert studies["weight"].sum() == pytest.approx(100)
    # the printed summary shows the numbers and the back-transformed ratio
    assert "-0.7145" in res.output and "0.489" in res.output
    assert not [p for p in out.iterdir() if p.name.startswith(".meta-")]


def test_hksj_reports_t(tmp_path):
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "rr", "--method", "reml",
              "--hksj", "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "t" in summary and "z" not in summary
    assert summary["se"] == pytest.approx(0.1808, abs=1e-4)
    assert summary["p"] == pytest.approx(0.0019, abs=1e-4)


def test_subgroups_add_their_table_and_forest(tmp_path):
    res = run("--input", str(FIX / "dat_bcg.csv"), "--measure", "RR", "--method", "DL",
              "--subgroup", "alloc", "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    sub = pd.read_csv(tmp_path / "subgroups.csv")
    assert sorted(sub["subgroup"]) == ["alternate", "random", "systematic"]
    assert (tmp_path / "forest_subgroups.svg").exists()
    assert "Subgroup differences" in res.output


@pytest.mark.parametrize(
    ("csv", "measure", "layout"),
    [
        ("dat_normand1999.csv", "SMD", "means"),
        ("dat_molloy2014.csv", "ZCOR", "correlations"),
        ("homogeneous.csv", "GENERIC", "effects"),
    ],
)
def test_every_layout(tmp_path, csv, measure, layout):
    res = run("--input", str(FIX / csv), "--measure", measure, "--method", "PM",
              "--output", str(tmp_path))
    assert res.exit_code == 0, (layout, res.output)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["measure"] == measure
    assert all(v is not None for v in summary.values())


def test_zero_cells_are_corrected_and_the_output_says_so(tmp_path):
    res = run("--input", str(FIX / "zero_cells.csv"), "--measure", "OR", "--method", "REML",
              "--output", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "Continuity correction" in res.output
    details = json.loads((tmp_path / "details.json").read_text())
    assert any("No events treated" in n for n in details["notes"])


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "effects.csv"
    p.write_text(text)
    return p


def test_one_study_is_refused(tmp_path):
    p = _write(tmp_path, "study,yi,vi\nOnly,0.2,0.04\n")
    res = run("--input", str(p), "--measure", "GENERIC", "--method", "REML",
              "--output", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "at least 2 studies" in res.output
    assert not (tmp_path / "o" / "summary.json").exists()


def test_negative_variance_names_file_line_and_study(tmp_path):
    p = _write(tmp_path, "study,yi,vi\nA,0.2,0.04\n\nB,0.1,-0.03\nC,0.3,0.02\n")
    res = run("--input", str(p), "--measure", "GENERIC", "--method", "REML",
              "--output", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "effects.csv, line 4 (study 'B')" in res.output.replace("\n", "")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_missing_arm_is_named(tmp_path):
    p = _write(tmp_path, "study,ai,bi,ci,di\nA,1,9,2,8\nB,3,7,,\n")
    res = run("--input", str(p), "--measure", "RR", "--method", "DL",
              "--output", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "line 3 (study 'B')" in res.output and "missing ci" in res.output


def test_measure_that_does_not_fit_the_table(tmp_path):
    res = run("--input", str(FIX / "dat_normand1999.csv"), "--measure", "OR", "--method",
              "REML", "--output", str(tmp_path))
    assert res.exit_code == 1
    assert "needs columns study, ai, bi, ci, di" in res.output.replace("\n", " ")


def test_missing_file(tmp_path):
    res = run("--input", str(tmp_path / "nope.csv"), "--measure", "RR", "--output",
              str(tmp_path))
    assert res.exit_code == 1 and "no such file" in res.output


def test_spreadsheet_input_and_line_numbers(tmp_path):
    p = tmp_path / "effects.xlsx"
    pd.DataFrame({"Study": ["A", "B", "C"], "YI": [0.2, 0.1, 0.4],
                  "VI": [0.04, 0.0, 0.05]}).to_excel(p, index=False)
    res = run("--input", str(p), "--measure", "GENERIC", "--method", "DL",
              "--output", str(tmp_path / "o"))
    assert res.exit_code == 1
    # column names are case-insensitive; row 2 of the data is spreadsheet row 3
    assert "effects.xlsx, line 3 (study 'B')" in res.output.replace("\n", "")
