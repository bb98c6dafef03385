"""Comparing two reviewers' extractions of a study and building the consensus."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from review.extraction.consensus import (
    ConsensusError,
    Pick,
    agreement_by_field,
    build_consensus,
    compare_extractions,
)
from review.extraction.forms import load_forms, validate_values

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def library():
    return load_forms(ROOT / "extraction_forms")


@pytest.fixture()
def valid():
    data = json.loads(
        (ROOT / "tests" / "fixtures" / "extraction" / "valid_values.json").read_text()
    )
    data.pop("_comment")
    return data


def test_identical_extractions_agree_completely(library, valid):
    form = library.get("outcome_data")
    result = compare_extractions(form, valid["outcome_data"], copy.deepcopy(valid["outcome_data"]))
    assert result.differences == ()
    assert result.agreement == 1.0
    assert result.n_compared > 10  # every number inside the effect data was compared


def test_whitespace_order_of_choices_and_int_vs_float_are_not_disagreements(library, valid):
    form = library.get("study_characteristics")
    a = {**valid["study_characteristics"], "settings": ["school", "community"], "age_min": 11}
    b = {
        **a,
        "settings": ["community", "school"],
        "population": "  Year 7 pupils   referred by pastoral staff ",
        "age_min": 11.0,
    }
    assert compare_extractions(form, a, b).differences == ()


def test_differences_are_listed_with_paths_and_both_values(library, valid):
    form = library.get("study_characteristics")
    a = valid["study_characteristics"]
    b = {**a, "design": "Cluster randomised trial", "sample_size": 112}
    b.pop("age_max")
    result = compare_extractions(form, a, b)
    by_path = {d.path: (d.a, d.b) for d in result.differences}
    assert by_path == {
        "design": ("Randomised controlled trial", "Cluster randomised trial"),
        "sample_size": (120, 112),
        "age_max": (12, None),
    }
    assert result.n_compared - result.n_agreed == 3


def test_outcome_rows_are_paired_by_outcome_measure_and_time_not_position(library, valid):
    form = library.get("outcome_data")
    a = valid["outcome_data"]
    b = copy.deepcopy(a)
    b["outcomes"].reverse()
    b["outcomes"][0]["effect"]["ci_upper"] = 0.48  # wellbeing row, now first in B
    result = compare_extractions(form, a, b)
    assert [d.path for d in result.differences] == ["outcomes[2].effect.ci_upper"]


def test_numbers_inside_effect_data_are_compared_one_by_one(library, valid):
    form = library.get("outcome_data")
    a = valid["outcome_data"]
    b = copy.deepcopy(a)
    b["outcomes"][0]["effect"]["intervention"]["sd"] = 9.7
    result = compare_extractions(form, a, b)
    assert [(d.path, d.a, d.b) for d in result.differences] == [
        ("outcomes[0].effect.intervention.sd", 9.1, 9.7)
    ]


def test_a_row_only_one_reviewer_entered_is_kept_or_dropped_by_resolution(library, valid):
    form = library.get("outcome_data")
    a = valid["outcome_data"]
    b = copy.deepcopy(a)
    extra = {
        "outcome": "hope",
        "measure": "Children's Hope Scale",
        "time_point": "post-intervention",
        "direction_of_benefit": "Higher is better",
        "reported_direction": "No difference",
    }
    b["outcomes"].append(extra)
    result = compare_extractions(form, a, b)
    assert [(d.path, d.a, d.b) for d in result.differences] == [("outcomes[3]", None, extra)]
    kept = build_consensus(form, a, b, {"outcomes[3]": Pick.B})
    assert len(kept["outcomes"]) == 4 and kept["outcomes"][3] == extra
    dropped = build_consensus(form, a, b, {"outcomes[3]": None})
    assert dropped["outcomes"] == a["outcomes"]


def test_consensus_takes_agreed_values_and_each_resolution(library, valid):
    form = library.get("study_characteristics")
    a = valid["study_characteristics"]
    b = {**a, "design": "Cluster randomised trial", "sample_size": 112, "country": "England"}
    consensus = build_consensus(
        form, a, b, {"design": Pick.B, "sample_size": Pick.A, "country": "England; Wales"}
    )
    assert consensus["design"] == "Cluster randomised trial"
    assert consensus["sample_size"] == 120
    assert consensus["country"] == "England; Wales"
    assert consensus["population"] == a["population"]
    assert validate_values(form, consensus) == []


def test_consensus_is_refused_while_differences_are_unresolved(library, valid):
    form = library.get("study_characteristics")
    a = valid["study_characteristics"]
    b = {**a, "design": "Cluster randomised trial", "sample_size": 112}
    with pytest.raises(ConsensusError) as err:
        build_consensus(form, a, b, {"design": Pick.A})
    assert err.value.unresolved == ("sample_size",)


def test_consensus_refuses_stale_resolutions_and_invalid_results(library, valid):
    form = library.get("study_characteristics")
    a = valid["study_characteristics"]
    b = {**a, "sample_size": 112}
    with pytest.raises(ConsensusError, match="not differences: design"):
        build_consensus(form, a, b, {"sample_size": Pick.A, "design": Pick.B})
    with pytest.raises(ConsensusError) as err:
        build_consensus(form, a, b, {"sample_size": "about 115"})
    assert [p.path for p in err.value.problems] == ["sample_size"]


def test_agreement_by_field_counts_studies(library, valid):
    form = library.get("study_characteristics")
    a = valid["study_characteristics"]
    pairs = [
        (a, {**a, "design": "Cohort study"}),
        (a, dict(a)),
        ({**a, "funding": "Council grant"}, dict(a)),
    ]
    table = agreement_by_field(form, pairs).set_index("field")
    assert table.loc["design", "n_studies"] == 3 and table.loc["design", "n_agreed"] == 2
    assert table.loc["country", "agreement"] == 1.0
    assert table.loc["funding", "n_studies"] == 1 and table.loc["funding", "n_agreed"] == 0
    assert table.loc["comparator_description", "n_studies"] == 0
