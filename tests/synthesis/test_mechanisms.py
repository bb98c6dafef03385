"""Mechanism, CMO, effect-direction, for-whom and risk-of-bias tables on a hand-made fixture.

The expected numbers below were worked out by hand from
``tests/fixtures/extraction/mechanism_studies.json`` (four studies; see the comments).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from review.extraction.codebook import load_codebook
from review.extraction.forms import load_forms
from review.synthesis import mechanisms as mech

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "extraction" / "mechanism_studies.json"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(ROOT / "extraction_forms" / "codebook.yaml")


@pytest.fixture(scope="module")
def extractions():
    records = [r for r in json.loads(FIXTURE.read_text()) if "_comment" not in r]
    return mech.extractions_frame(records)


def _cells(table: mech.MechanismTable) -> dict[tuple[str, str], tuple[int, str]]:
    return {
        (r.intervention_type, r.mechanism): (r.n_studies, r.citations)
        for r in table.cells.itertuples(index=False)
    }


def test_fixture_values_are_valid_for_the_shipped_forms(extractions):
    library = load_forms(ROOT / "extraction_forms")
    for row in extractions.itertuples(index=False):
        assert library.validate(row.form_id, row.form_version, row.values) == []


def test_mechanism_table_counts_each_study_once_per_cell_with_its_citation(extractions):
    cells = _cells(mech.mechanism_table(extractions))
    assert cells == {
        # s1 (Smith 2019a) row 1 and s2's type-less row, which counts for both its types.
        ("mentoring", "trust_building"): (2, "Jones 2020; Smith 2019a"),
        ("mentoring", "heard_and_validated"): (1, "Smith 2019a"),
        ("mentoring", "relationship_consistency"): (1, "Smith 2019a"),
        # s2's reciprocity row is the peer-support component only; s3 codes it twice.
        ("peer_support", "reciprocity"): (2, "Brown 2021; Jones 2020"),
        ("peer_support", "trust_building"): (1, "Jones 2020"),
        ("peer_support", "shared_identity"): (1, "Jones 2020"),
        ("family_support", "parents_networks"): (1, "Smith 2019b"),
    }


def test_wide_tables_use_codebook_labels_and_order(extractions, codebook):
    table = mech.mechanism_table(extractions, codebook)
    assert list(table.counts.index) == ["Mentoring", "Peer support", "Family support"]
    assert table.counts.loc["Mentoring", "Trust-building"] == 2
    assert table.counts.loc["Mentoring", "Reciprocity"] == 0
    assert table.citations.loc["Peer support", "Reciprocity"] == "Brown 2021; Jones 2020"
    assert table.studies_per_type.to_dict() == {
        "Mentoring": 2,
        "Peer support": 2,
        "Family support": 1,
    }
    text = table.as_text().set_index("Intervention type")
    assert text.loc["Mentoring", "Trust-building"] == "2 (Jones 2020; Smith 2019a)"
    assert text.loc["Mentoring", "Reciprocity"] == ""
    assert text.loc["Family support", "Studies (n)"] == 1


def test_filter_by_population_keeps_only_studies_targeting_it(extractions, codebook):
    table = mech.mechanism_table(extractions, population="care_experience")
    assert set(table.cells["citations"]) == {"Smith 2019a"}
    universal = mech.mechanism_table(extractions, population="universal")
    assert _cells(universal) == {("peer_support", "reciprocity"): (1, "Brown 2021")}
    either = mech.mechanism_table(extractions, population=["care_experience", "refugee_migrant"])
    assert _cells(either)[("mentoring", "trust_building")] == (2, "Jones 2020; Smith 2019a")
    labelled = mech.mechanism_table(extractions, codebook, population="care_experience")
    assert labelled.describe_filters() == "population: Care experience"


def test_filter_by_setting(extractions):
    table = mech.mechanism_table(extractions, setting="school")  # s1 and s3
    assert _cells(table)[("peer_support", "reciprocity")] == (1, "Brown 2021")
    assert ("peer_support", "shared_identity") not in _cells(table)


def test_filter_by_outcome_keeps_only_cmo_rows_for_that_outcome(extractions):
    cells = _cells(mech.mechanism_table(extractions, outcome="loneliness"))
    assert cells[("mentoring", "trust_building")] == (1, "Smith 2019a")  # s2's row is wellbeing
    assert cells[("peer_support", "reciprocity")] == (2, "Brown 2021; Jones 2020")
    assert ("mentoring", "heard_and_validated") not in cells


def test_include_empty_shows_every_codebook_term(extractions, codebook):
    table = mech.mechanism_table(extractions, codebook, include_empty=True)
    assert table.counts.shape == (
        len(codebook["intervention_types"].terms),
        len(codebook["mechanisms"].terms),
    )
    assert table.counts.to_numpy().sum() == 9  # the seven cells above: 2+1+1+2+1+1+1


def test_bad_input_shape_is_named():
    with pytest.raises(ValueError, match="lack column"):
        mech.mechanism_table(pd.DataFrame({"study_id": [1]}))
    twice = mech.extractions_frame(
        [
            {
                "study_id": 1,
                "short_citation": "A 2020",
                "form_id": "outcome_data",
                "form_version": 1,
                "values": {},
            },
            {
                "study_id": 1,
                "short_citation": "A 2020",
                "form_id": "outcome_data",
                "form_version": 1,
                "values": {},
            },
        ]
    )
    with pytest.raises(ValueError, match="more than one 'outcome_data'"):
        mech.effect_directions(twice)
    with pytest.raises(ValueError, match="extraction record 0: missing form_version"):
        mech.extractions_frame(
            [{"study_key": "a", "short_citation": "A", "form_id": "x", "values": {}}]
        )


def test_cmo_table_lists_each_configuration_under_each_type_it_supports(extractions, codebook):
    table = mech.cmo_table(extractions, codebook)
    # s1: 2 rows; s2: component row + type-less row under both types; s3: 2; s4: 1.
    assert len(table) == 8
    assert list(table.columns) == list(mech.CMO_COLUMNS)
    mentoring = mech.cmo_table(extractions, codebook, intervention_type="mentoring")
    assert list(mentoring["Study"]) == ["Jones 2020", "Smith 2019a", "Smith 2019a"]
    assert "Trust-building" in mentoring["Mechanisms (coded)"].iloc[0]
    per_type = mech.cmo_tables(extractions, codebook)
    assert list(per_type) == ["Mentoring", "Peer support", "Family support"]
    assert len(per_type["Peer support"]) == 4


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {
                "direction_of_benefit": "Lower is better",
                "effect": {
                    "kind": "continuous",
                    "intervention": {"n": 9, "mean": 2.0, "sd": 1.0},
                    "comparator": {"n": 9, "mean": 3.0, "sd": 1.0},
                },
            },
            "benefit",
        ),
        (
            {
                "direction_of_benefit": "Higher is better",
                "effect": {
                    "kind": "continuous",
                    "intervention": {"n": 9, "mean": 2.0, "sd": 1.0},
                    "comparator": {"n": 9, "mean": 3.0, "sd": 1.0},
                },
            },
            "harm",
        ),
        (
            {
                "direction_of_benefit": "Higher is better",
                "effect": {"kind": "effect_size", "measure": "RR", "estimate": 1.4, "se": 0.1},
            },
            "benefit",
        ),
        (
            {
                "direction_of_benefit": "Lower is better",
                "effect": {"kind": "effect_size", "measure": "MD", "estimate": 0.0, "se": 0.1},
            },
            None,
        ),
        (
            {"direction_of_benefit": "Lower is better", "reported_direction": "Favours comparator"},
            "harm",
        ),
        ({"direction_of_benefit": "Lower is better"}, None),
    ],
)
def test_result_direction_reads_effect_data_with_the_direction_of_benefit(result, expected):
    assert mech.result_direction(result) == expected


def test_domain_direction_uses_the_seventy_percent_rule():
    assert mech.domain_direction(["benefit"] * 7 + ["harm"] * 3) == "benefit"
    assert mech.domain_direction(["benefit"] * 2 + ["harm"]) == "mixed"
    assert mech.domain_direction(["harm", "harm", "harm", None]) == "harm"
    assert mech.domain_direction([None]) == "mixed"
    assert mech.domain_direction([]) is None


def test_effect_directions_per_study_and_domain(extractions, codebook):
    tidy = mech.effect_directions(extractions, codebook)
    got = {(r.study, r.outcome): r.direction for r in tidy.itertuples(index=False)}
    assert got == {
        ("Smith 2019a", "loneliness"): "mixed",  # post benefit, 12 months harm
        ("Smith 2019a", "wellbeing"): "benefit",
        ("Jones 2020", "loneliness"): "mixed",  # 2 of 3 benefit < 70%
        ("Jones 2020", "self_esteem"): "harm",
        ("Jones 2020", "social_support"): "harm",  # OR 0.8, more support is better
        ("Brown 2021", "loneliness"): "benefit",  # 3 of 4, subgroup row left out
    }
    brown = tidy[tidy["study"] == "Brown 2021"].iloc[0]
    assert (brown.n_results, brown.n_benefit, brown.n_no_difference) == (4, 3, 1)
    assert brown.size_class == "large" and brown.rob_overall == "Serious risk of bias"
    assert tidy[tidy["study"] == "Jones 2020"].iloc[0].size_class == "small"


def test_effect_direction_table_has_symbols_per_domain(extractions, codebook):
    table = mech.effect_direction_table(extractions, codebook).set_index("Study")
    assert table.loc["Smith 2019a", "Loneliness"] == "◄►"
    assert table.loc["Smith 2019a", "Wellbeing"] == "▲"
    assert table.loc["Jones 2020", "Social support"] == "▼"
    assert table.loc["Brown 2021", "Wellbeing"] == ""
    assert table.loc["Smith 2019a", "Risk of bias"] == "High"
    assert table.loc["Brown 2021", "Risk of bias"] == "Serious"
    assert list(table.columns[4:]) == ["Loneliness", "Social support", "Self-esteem", "Wellbeing"]


def test_size_classes_follow_the_swim_cut_points():
    assert [mech.size_class(n) for n in (49, 50, 300, 301, None)] == [
        "small",
        "medium",
        "medium",
        "large",
        None,
    ]


def _direction_study(i: int, direction: str) -> list[dict]:
    return [
        {
            "study_id": f"d{i}",
            "short_citation": f"Study {i}",
            "form_id": "outcome_data",
            "form_version": 1,
            "values": {
                "outcomes": [
                    {
                        "outcome": "loneliness",
                        "measure": "UCLA",
                        "time_point": "post",
                        "direction_of_benefit": "Lower is better",
                        "reported_direction": direction,
                    }
                ]
            },
        }
    ]


def test_direction_summary_sign_test_matches_the_binomial_by_hand():
    records = []
    for i in range(9):
        records += _direction_study(i, "Favours intervention")
    records += _direction_study(9, "Favours comparator")
    records += _direction_study(10, "No difference")
    summary = mech.direction_summary(mech.extractions_frame(records)).iloc[0]
    assert (summary["Studies"], summary["Benefit"], summary["Harm"]) == (11, 9, 1)
    assert summary["Mixed or no change"] == 1
    assert summary["Share benefit"] == pytest.approx(0.9)
    # Two-sided sign test: 2 * P(X >= 9 | n = 10, p = 1/2) = 2 * (10 + 1) / 1024.
    assert summary["Sign test p"] == pytest.approx(22 / 1024)
    # Wilson interval for 9/10 (z = 1.95996): centre and half-width by hand.
    z = 1.959963984540054
    centre = (0.9 + z * z / 20) / (1 + z * z / 10)
    half = z / (1 + z * z / 10) * ((0.9 * 0.1 / 10 + z * z / 400) ** 0.5)
    assert summary["95% CI low"] == pytest.approx(centre - half, abs=1e-9)
    assert summary["95% CI high"] == pytest.approx(centre + half, abs=1e-9)


def test_for_whom_breaks_outcomes_down_by_targeted_group(extractions, codebook):
    tidy = mech.for_whom(extractions, codebook)
    got = {
        (r.population, r.outcome): (r.n_studies, r.n_benefit, r.n_harm, r.n_mixed)
        for r in tidy.itertuples(index=False)
    }
    assert got == {
        ("gender", "loneliness"): (1, 0, 1, 0),  # s3's subgroup result
        ("care_experience", "loneliness"): (1, 0, 0, 1),
        ("care_experience", "wellbeing"): (1, 1, 0, 0),
        ("refugee_migrant", "loneliness"): (1, 0, 0, 1),
        ("refugee_migrant", "social_support"): (1, 0, 1, 0),
        ("refugee_migrant", "self_esteem"): (1, 0, 1, 0),
        ("universal", "loneliness"): (1, 1, 0, 0),
    }
    assert list(dict.fromkeys(tidy["population_label"])) == [
        "Gender",
        "Care experience",
        "Refugee or migrant",
        "Universal (no targeted group)",
    ]
    wide = mech.for_whom_table(extractions, codebook).set_index("Population")
    assert wide.loc["Care experience", "Loneliness"] == "◄►1"
    assert wide.loc["Universal (no targeted group)", "Loneliness"] == "▲1"
    assert wide.loc["Gender", "Wellbeing"] == ""


def test_risk_of_bias_table_per_tool_with_weights(extractions):
    rob2 = mech.risk_of_bias_table(extractions, "RoB 2")
    assert list(rob2.columns) == [
        "study_id",
        "Study",
        "D1",
        "D2",
        "D3",
        "D4",
        "D5",
        "Overall",
        "Weight",
    ]
    assert rob2.iloc[0][["Study", "D4", "Overall", "Weight"]].tolist() == [
        "Smith 2019a",
        "High risk of bias",
        "High risk of bias",
        120.0,
    ]
    robins = mech.risk_of_bias_table(extractions, "ROBINS-I", weights={"s3": 0.25})
    assert robins["D5"].tolist() == ["No information"]
    assert robins["Weight"].tolist() == [0.25]
    with pytest.raises(ValueError, match="unknown risk-of-bias tool"):
        mech.risk_of_bias_table(extractions, "QUADAS-2")


def test_tool_definitions_match_the_shipped_risk_of_bias_form():
    form = load_forms(ROOT / "extraction_forms").get("risk_of_bias")
    for tool in mech.ROB_TOOLS.values():
        for i, domain in enumerate(tool.domains, start=1):
            field = form.field(f"{tool.prefix}_d{i}")
            assert field.label == f"D{i}. {domain}"
            assert field.choice_values() == tool.scale
        assert form.field(f"{tool.prefix}_overall").choice_values() == tool.scale


def test_choice_words_the_synthesis_reads_exist_in_the_forms():
    library = load_forms(ROOT / "extraction_forms")
    rows = library.get("outcome_data").field("outcomes")
    assert "Higher is better" in rows.subfield("direction_of_benefit").choice_values()
    assert set(rows.subfield("reported_direction").choice_values()) == {
        "Favours intervention",
        "Favours comparator",
        "No difference",
    }
    assert "Universal" in library.get("study_characteristics").field("targeting").choice_values()
