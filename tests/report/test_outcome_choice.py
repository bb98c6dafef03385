"""Finding 4 of issue 16: several time points or results per study are an explicit choice,
and what is left out of the pooling is listed (the same function serves the app and
``review meta --outcome``)."""

from __future__ import annotations

import pandas as pd
import pytest

from review.synthesis.store_ops import SynthesisInputError, study_effects, time_points


def _result(study_id, study, time_point, estimate, n, subgroup=None):
    return {"study_id": study_id, "study": study, "outcome": "loneliness",
            "measure_text": "UCLA", "time_point": time_point, "subgroup": subgroup,
            "direction_of_benefit": "Lower is better", "kind": "effect_size",
            "effect": {"kind": "effect_size", "measure": "SMD", "estimate": estimate,
                       "se": 0.1, "n": n}, "reported_direction": None}


@pytest.fixture
def results() -> pd.DataFrame:
    return pd.DataFrame([
        _result(1, "Okafor 2019", "post-intervention", -0.3, 80),
        _result(1, "Okafor 2019", "12 months", -0.1, 70),
        _result(2, "Lee 2020", "post-intervention", -0.5, 40),
        _result(2, "Lee 2020", "post-intervention", -0.4, 120),  # a second result
        _result(3, "Ruiz 2021", "post-intervention", -0.2, 60, subgroup="girls"),
        _result(3, "Ruiz 2021", "post-intervention", -0.25, 130),
    ])


def test_several_time_points_need_a_choice(results) -> None:
    assert time_points(results, "loneliness") == ["post-intervention", "12 months"]
    with pytest.raises(SynthesisInputError, match=r"2 time points \(post-intervention, "
                                                  r"12 months\); choose one"):
        study_effects(results, "loneliness", "SMD")
    with pytest.raises(SynthesisInputError, match="no whole-sample result"):
        study_effects(results, "loneliness", "SMD", "6 weeks")


def test_what_is_left_out_is_listed(results) -> None:
    effects, notes = study_effects(results, "loneliness", "SMD", "post-intervention",
                                   result="first")
    assert list(effects["study"]) == ["Okafor 2019", "Lee 2020", "Ruiz 2021"]
    assert list(effects["n"]) == [80, 40, 130]  # the first result extracted per study
    left = next(n for n in notes if n.startswith("Left out"))
    assert "Left out of the pooling (3)" in left
    assert "Okafor 2019 (UCLA, time point 12 months): another time point" in left
    assert "Lee 2020 (UCLA, time point post-intervention): not the first result" in left
    assert "Ruiz 2021 (UCLA, time point post-intervention, subgroup girls): a subgroup" in left


def test_which_result_is_a_choice_too(results) -> None:
    effects, notes = study_effects(results, "loneliness", "SMD", "post-intervention",
                                   result="largest_n")
    assert list(effects["n"]) == [80, 120, 130]
    assert any("Lee 2020" in n and "-0.5" not in n for n in notes)
    with pytest.raises(SynthesisInputError, match="choose the result per study"):
        study_effects(results, "loneliness", "SMD", "post-intervention", result="best")


def test_one_time_point_needs_no_choice(results) -> None:
    only = results[results["time_point"] == "post-intervention"]
    effects, _ = study_effects(only, "loneliness", "SMD", result="first")
    assert len(effects) == 3
    every, _ = study_effects(only, "loneliness", "SMD")  # the default: every result
    assert len(every) == 4


def test_prisma_json_carries_the_awaiting_counts_as_integers(tmp_path) -> None:
    """The issue's PRISMA item: a review in progress adds up with integer awaiting counts."""
    import json

    from review.demo import build_demo
    from review.report import prisma_files
    from review.report.prisma import counts_from_store

    store = build_demo(tmp_path / "demo.db", say=lambda _m: None)
    try:
        path = prisma_files.write_json(counts_from_store(store), tmp_path / "counts.json")
    finally:
        store.close()
    c = json.loads(path.read_text())
    assert isinstance(c["records_awaiting_decision"], int) and c["records_awaiting_decision"] > 0
    assert isinstance(c["reports_awaiting_decision"], int)
    assert c["records_screened"] == (c["records_excluded"] + c["dbr_sought_reports"]
                                     + c["records_awaiting_decision"])
    excluded = sum(int(x.rsplit(",", 1)[1]) for x in c["dbr_excluded"].split("; ") if x)
    assert c["dbr_assessed"] >= excluded + c["reports_awaiting_decision"]
