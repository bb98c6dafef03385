"""The codebook: shipped vocabularies, extending it as a lead, saving and reloading."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.extraction.codebook import (
    CodebookError,
    Term,
    extend_codebook,
    load_codebook,
    save_codebook,
)
from review.extraction.forms import load_form, validate_values

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "extraction_forms"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(FORMS / "codebook.yaml")


def test_shipped_codebook_has_the_vocabularies_the_synthesis_counts_by(codebook):
    assert {"intervention_types", "mechanisms", "outcomes", "populations", "settings"} <= set(
        codebook.vocabularies
    )
    types = {t.label for t in codebook["intervention_types"].terms}
    assert {
        "Mentoring",
        "Peer support",
        "Family support",
        "School linkage",
        "Community capacity building",
        "Service integration",
    } <= types
    mechanisms = {t.label for t in codebook["mechanisms"].terms}
    assert {
        "Reciprocity",
        "Trust-building",
        "Repeated practice of social skills",
        "Changing attitudes to social support",
        "Motivation to engage",
        "Building parents' networks",
        "Sense of belonging",
        "Being heard and validated",
        "Consistency and stability of a relationship",
    } <= mechanisms
    outcomes = set(codebook["outcomes"].codes())
    assert {
        "loneliness",
        "social_support",
        "self_esteem",
        "hope",
        "depression",
        "anxiety",
        "wellbeing",
        "school_attendance",
    } <= outcomes
    assert all(t.definition for t in codebook["mechanisms"].terms)


def test_extend_returns_a_new_codebook_and_leaves_the_old_one_alone(codebook):
    before = codebook["mechanisms"].codes()
    extended = extend_codebook(
        codebook,
        "mechanisms",
        ["Feeling useful", {"code": "hope_for_future", "label": "Hope for the future"}],
    )
    assert codebook["mechanisms"].codes() == before
    assert extended["mechanisms"].codes() == (*before, "feeling_useful", "hope_for_future")
    assert extended.version == codebook.version + 1
    assert extended.label("mechanisms", "feeling_useful") == "Feeling useful"


def test_extend_can_open_a_new_vocabulary(codebook):
    extended = extend_codebook(
        codebook,
        "delivery_roles",
        [Term("volunteer", "Volunteer"), Term("teacher", "Teacher")],
        label="Delivery roles",
    )
    assert extended["delivery_roles"].label == "Delivery roles"
    assert "delivery_roles" not in codebook


@pytest.mark.parametrize(
    ("terms", "fragment"),
    [
        (["Reciprocity"], "has code 'reciprocity' twice"),
        ([{"code": "reciprocity_2", "label": "reciprocity"}], "has label 'reciprocity' twice"),
        ([{"code": "Bad Code", "label": "X"}], "code 'Bad Code' must be"),
        ([], "no terms given"),
    ],
)
def test_extend_refuses_terms_that_would_blur_existing_codes(codebook, terms, fragment):
    with pytest.raises(CodebookError, match=fragment):
        extend_codebook(codebook, "mechanisms", terms)


def test_saved_extension_round_trips_and_new_terms_validate(codebook, tmp_path):
    extended = extend_codebook(codebook, "outcomes", ["Peer relationships"])
    path = save_codebook(extended, tmp_path / "project" / "codebook.yaml")
    reloaded = load_codebook(path)
    assert reloaded == extended
    form = load_form(FORMS / "outcome_data.yaml", codebook=reloaded)
    row = {
        "outcome": "peer_relationships",
        "measure": "SDQ peer problems",
        "time_point": "post",
        "direction_of_benefit": "Lower is better",
    }
    assert validate_values(form, {"outcomes": [row]}) == []
    shipped = load_form(FORMS / "outcome_data.yaml")
    assert validate_values(shipped, {"outcomes": [row]})[0].path == "outcomes[0].outcome"


def test_broken_codebook_file_is_refused_naming_file_vocabulary_and_line(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(
        "version: 1\nvocabularies:\n  mechanisms:\n    label: M\n    terms:\n"
        "      - code: trust\n        label: Trust\n"
        "      - code: trust\n        label: Trust again\n"
    )
    with pytest.raises(CodebookError) as err:
        load_codebook(path)
    message = str(err.value)
    assert message.startswith("codebook.yaml: vocabulary 'mechanisms' (line 4)")
    assert "code 'trust' twice" in message
