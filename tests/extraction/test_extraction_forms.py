"""Loading, checking and versioning extraction forms, and validating extracted values."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from review.extraction.codebook import load_codebook
from review.extraction.forms import (
    FIELD_TYPES,
    FormError,
    carry_over,
    default_values,
    form_from_mapping,
    load_form,
    load_forms,
    validate_values,
)

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "extraction_forms"
FIXTURES = ROOT / "tests" / "fixtures" / "extraction"
SHIPPED = {
    "intervention_description",
    "context_mechanism_outcome",
    "study_characteristics",
    "outcome_data",
    "risk_of_bias",
}


@pytest.fixture(scope="module")
def library():
    return load_forms(FORMS)


@pytest.fixture(scope="module")
def valid():
    data = json.loads((FIXTURES / "valid_values.json").read_text())
    data.pop("_comment")
    return data


def _walk(fields):
    for f in fields:
        yield f
        yield from _walk(f.fields)


# ---------------------------------------------------------------- shipped forms


def test_every_shipped_form_loads_with_usable_fields(library):
    assert {f.id for f in library.current()} == SHIPPED
    for form in library.current():
        assert form.version >= 1 and form.title
        for f in _walk(form.fields):
            assert f.type in FIELD_TYPES
            assert f.label
            if f.type in ("single_choice", "multiple_choice"):
                assert f.choices, f"{form.id}.{f.id} has no choices"
            if f.type == "group":
                assert f.fields


def test_each_yaml_file_in_forms_folder_loads_on_its_own():
    for path in FORMS.glob("*.yaml"):
        if path.name == "codebook.yaml":
            continue
        assert load_form(path).id == path.stem


def test_tidier_form_covers_all_twelve_items(library):
    form = library.get("intervention_description")
    items = {int(m.group(1)) for f in form.fields if (m := re.match(r"(\d+)\.", f.label))}
    assert items == set(range(1, 13))


def test_cmo_rows_carry_every_part_of_a_configuration(library):
    rows = library.get("context_mechanism_outcome").field("configurations")
    assert rows.type == "group"
    ids = {f.id for f in rows.fields}
    assert {
        "context",
        "mechanism_resource",
        "mechanism_reasoning",
        "outcome",
        "outcome_type",
        "quote",
        "page",
        "if_then",
        "mechanism_codes",
    } <= ids
    assert rows.subfield("mechanism_codes").codebook == "mechanisms"
    assert rows.subfield("outcome_type").choice_values() == ("Intended", "Unintended")


def test_study_characteristics_offers_the_eight_targeted_groups(library):
    groups = library.get("study_characteristics").field("targeted_groups")
    labels = {c.label for c in groups.choices}
    assert {
        "Socio-economic disadvantage",
        "Gender",
        "Sexual orientation",
        "Ethnicity",
        "Physical or mental ill-health",
        "SEND or neurodivergence",
        "Care experience",
        "Refugee or migrant",
    } <= labels
    addresses = library.get("study_characteristics").field("addresses").choice_values()
    assert addresses == ("Child or young person", "Parent or carer", "School", "Community")


def test_risk_of_bias_form_has_each_tools_domains_and_scale(library):
    form = library.get("risk_of_bias")
    rob2 = [f for f in form.fields if re.fullmatch(r"rob2_d\d", f.id)]
    robins = [f for f in form.fields if re.fullmatch(r"robins_d\d", f.id)]
    assert len(rob2) == 5 and len(robins) == 7
    assert form.field("rob2_overall").choice_values() == (
        "Low risk of bias",
        "Some concerns",
        "High risk of bias",
    )
    assert "Critical risk of bias" in form.field("robins_overall").choice_values()
    assert "No information" in form.field("robins_d1").choice_values()
    assert form.field("tool_version").required


def test_outcome_data_rows_hold_effect_data(library):
    rows = library.get("outcome_data").field("outcomes")
    assert rows.subfield("effect").type == "effect_data"
    assert rows.subfield("outcome").codebook == "outcomes"


def test_hand_written_values_pass_each_shipped_form(library, valid):
    for form_id, values in valid.items():
        assert validate_values(library.get(form_id), values) == [], form_id


# --------------------------------------------------------------- invalid forms


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    shutil.copy(FORMS / "codebook.yaml", tmp_path / "codebook.yaml")
    return path


HEADER = "id: study_characteristics\ntitle: T\nversion: 1\nfields:\n"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            "  - id: design\n    label: Design\n    type: single_choice\n",
            "study_characteristics.yaml: field 'design': single_choice needs choices",
        ),
        (
            "  - id: n\n    label: N\n    type: intger\n",
            "field 'n': type 'intger' is not one of",
        ),
        (
            "  - id: a\n    label: A\n    type: text\n  - id: a\n    label: B\n    type: text\n",
            "field 'a': field id used twice",
        ),
        (
            "  - id: who\n    label: Who\n    type: multiple_choice\n    codebook: people\n",
            "field 'who': codebook has no vocabulary 'people'",
        ),
        (
            "  - id: age\n    label: Age\n    type: number\n    min: 20\n    max: 3\n",
            "field 'age': 'min' is greater than 'max'",
        ),
        (
            "  - id: rows\n    label: Rows\n    type: group\n",
            "field 'rows': 'fields' must be a non-empty list",
        ),
        (
            "  - id: rows\n    label: Rows\n    type: group\n    fields:\n"
            "      - id: effect\n        label: E\n        type: effect_data\n"
            "        kinds: [continuous, survival]\n",
            "field 'rows.effect': 'kinds' has 'survival'",
        ),
        (
            "  - id: note\n    label: Note\n    type: text\n    requird: true\n",
            "field 'note': unknown key(s) requird",
        ),
        (
            "  - id: groups\n    label: G\n    type: text\n"
            "    when: {field: targeting, equals: x}\n",
            "field 'groups': 'when' refers to 'targeting'",
        ),
        (
            "  - id: t\n    label: T\n    type: single_choice\n    choices: [A, B]\n"
            "  - id: u\n    label: U\n    type: text\n    when: {field: t, equals: C}\n",
            "field 'u': 'when' value 'C' is not a possible value of 't'",
        ),
        (
            "  - id: ok\n    label: OK\n    type: yes_no\n    choices: [Yes, No]\n",
            "field 'ok': yes_no takes no choices",
        ),
        (
            "  - id: n\n    label: N\n    type: integer\n    default: many\n",
            "field 'n': default 'many' is not valid",
        ),
        (
            "  - id: Bad-Id\n    label: B\n    type: text\n",
            "field 'Bad-Id': id must be lower-case",
        ),
    ],
)
def test_invalid_form_is_refused_naming_file_and_field(tmp_path, fields, expected):
    path = _write(tmp_path, "study_characteristics.yaml", HEADER + fields)
    with pytest.raises(FormError) as err:
        load_form(path)
    assert expected in str(err.value)


def test_error_gives_the_line_of_the_offending_field(tmp_path):
    text = HEADER + (
        "  - id: country\n    label: Country\n    type: text\n"
        "  - id: design\n    label: Design\n    type: single_choice\n"
    )
    path = _write(tmp_path, "study_characteristics.yaml", text)
    with pytest.raises(FormError, match=r"field 'design'.*\(line 8\)"):
        load_form(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: x\ntitle: T\nfields:\n  - {id: a, label: A, type: text}\n", "'version' must be"),
        ("id: x\ntitle: T\nversion: 1\nfields: []\n", "'fields' must be a non-empty list"),
        ("id: x\ntitle: T\nversion: 1\nfields:\n  - id: a\n   label: A\n", "not valid YAML"),
        ("id: x\nid: y\ntitle: T\nversion: 1\n", "duplicate key 'id'"),
    ],
)
def test_malformed_form_file_is_refused_with_the_file_name(tmp_path, text, expected):
    path = _write(tmp_path, "x.yaml", text)
    with pytest.raises(FormError) as err:
        load_form(path)
    assert str(err.value).startswith("x.yaml")
    assert expected in str(err.value)


def test_codebook_reference_without_a_codebook_is_refused(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(HEADER + "  - id: m\n    label: M\n    type: single_choice\n    codebook: x\n")
    with pytest.raises(FormError, match="field 'm': refers to codebook vocabulary 'x'"):
        load_form(path)


def test_form_file_name_must_match_its_id(tmp_path):
    _write(tmp_path, "other_name.yaml", HEADER + "  - {id: a, label: A, type: text}\n")
    with pytest.raises(FormError, match="must match the file name"):
        load_forms(tmp_path)


# ------------------------------------------------------------- value validation


def _paths(problems):
    return {p.path for p in problems}


def test_missing_required_values_are_named(library):
    problems = validate_values(library.get("study_characteristics"), {"country": "UK"})
    assert {"design", "settings", "population", "targeting", "sample_size"} <= _paths(problems)
    assert "country" not in _paths(problems)
    assert all("required" in p.message for p in problems)


def test_blank_text_counts_as_missing(library, valid):
    values = dict(valid["study_characteristics"], country="   ")
    problems = validate_values(library.get("study_characteristics"), values)
    assert _paths(problems) == {"country"}


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"sample_size": "120"}, "sample_size", "expected a whole number"),
        ({"sample_size": 12.5}, "sample_size", "expected a whole number"),
        ({"sample_size": True}, "sample_size", "expected a whole number"),
        ({"sample_size": 0}, "sample_size", "below the minimum 1"),
        ({"age_min": "eleven"}, "age_min", "expected a number"),
        ({"age_max": 45}, "age_max", "above the maximum 30"),
        ({"age_mean": float("nan")}, "age_mean", "expected a number"),
        ({"design": "RCT"}, "design", "'RCT' is not one of the choices"),
        ({"settings": ["school", "moon"]}, "settings", "'moon' is not one of the choices"),
        ({"settings": ["school", "school"]}, "settings", "chosen twice"),
        ({"settings": "school"}, "settings", "expected a list of choices"),
        ({"country": 44}, "country", "expected text"),
        ({"desing": "Cohort study"}, "desing", "not a field of this form"),
    ],
)
def test_bad_values_are_reported_at_their_path(library, valid, change, path, fragment):
    values = {**valid["study_characteristics"], **change}
    problems = validate_values(library.get("study_characteristics"), values)
    assert [p.path for p in problems] == [path]
    assert fragment in problems[0].message


def test_conditional_field_is_required_only_when_its_condition_holds(library, valid):
    form = library.get("study_characteristics")
    universal = {**valid["study_characteristics"], "targeting": "Universal"}
    del universal["targeted_groups"]
    assert validate_values(form, universal) == []
    targeted = {**universal, "targeting": "Targeted"}
    assert _paths(validate_values(form, targeted)) == {"targeted_groups"}
    stale = {**universal, "targeted_groups": ["gender"]}
    problems = validate_values(form, stale)
    assert _paths(problems) == {"targeted_groups"}
    assert "only applies when targeting is 'Targeted'" in problems[0].message


def test_risk_of_bias_requires_the_chosen_tools_domains_only(library, valid):
    form = library.get("risk_of_bias")
    switched = {**valid["risk_of_bias"], "tool": "ROBINS-I"}
    paths = _paths(validate_values(form, switched))
    assert {f"robins_d{i}" for i in range(1, 8)} <= paths
    assert "rob2_d1" in paths  # RoB 2 judgements left behind must be cleared
    wrong_scale = {**valid["risk_of_bias"], "rob2_d2": "Moderate risk of bias"}
    problems = validate_values(form, wrong_scale)
    assert [p.path for p in problems] == ["rob2_d2"]


def test_group_rows_are_checked_one_by_one(library, valid):
    values = copy.deepcopy(valid["context_mechanism_outcome"])
    second = dict(values["configurations"][0])
    second["mechanism_codes"] = ["telepathy"]
    del second["context"]
    values["configurations"].append(second)
    values["configurations"].append("not a row")
    problems = validate_values(library.get("context_mechanism_outcome"), values)
    assert _paths(problems) == {
        "configurations[1].mechanism_codes",
        "configurations[1].context",
        "configurations[2]",
    }


def test_group_needs_its_minimum_rows(library):
    problems = validate_values(
        library.get("context_mechanism_outcome"),
        {"intervention_types": ["mentoring"], "configurations": []},
    )
    assert _paths(problems) == {"configurations"}


@pytest.mark.parametrize(
    ("effect", "path", "fragment"),
    [
        (
            {
                "kind": "dichotomous",
                "intervention": {"events": 9, "total": 8},
                "comparator": {"events": 1, "total": 8},
            },
            "outcomes[0].effect.intervention.events",
            "more events than participants",
        ),
        (
            {
                "kind": "continuous",
                "intervention": {"n": 10, "mean": 1.0, "sd": 0},
                "comparator": {"n": 10, "mean": 1.0, "sd": 1.0},
            },
            "outcomes[0].effect.intervention.sd",
            "standard deviation of 0",
        ),
        (
            {
                "kind": "continuous",
                "intervention": {"n": 10, "mean": 1.0},
                "comparator": {"n": 10, "mean": 1.0, "sd": 1.0},
            },
            "outcomes[0].effect.intervention.sd",
            "required",
        ),
        (
            {
                "kind": "continuous",
                "intervention": {"n": 10.5, "mean": 1.0, "sd": 2.0},
                "comparator": {"n": 10, "mean": 1.0, "sd": 1.0},
            },
            "outcomes[0].effect.intervention.n",
            "whole number",
        ),
        (
            {"kind": "effect_size", "measure": "SMD", "estimate": 0.5},
            "outcomes[0].effect",
            "standard error (se) or a confidence interval",
        ),
        (
            {
                "kind": "effect_size",
                "measure": "SMD",
                "estimate": 0.5,
                "ci_lower": 0.6,
                "ci_upper": 0.9,
            },
            "outcomes[0].effect",
            "not inside its confidence interval",
        ),
        (
            {"kind": "effect_size", "measure": "OR", "estimate": -0.4, "se": 0.2},
            "outcomes[0].effect.estimate",
            "natural scale",
        ),
        (
            {"kind": "effect_size", "measure": "d", "estimate": 0.4, "se": 0.2},
            "outcomes[0].effect.measure",
            "'d' is not one of",
        ),
        (
            {"kind": "survival"},
            "outcomes[0].effect.kind",
            "'survival' is not one of",
        ),
    ],
)
def test_effect_data_problems_are_caught(library, valid, effect, path, fragment):
    values = copy.deepcopy(valid["outcome_data"])
    values["outcomes"][0]["effect"] = effect
    problems = validate_values(library.get("outcome_data"), values)
    assert path in _paths(problems)
    assert any(fragment in p.message for p in problems if p.path == path)


def test_values_must_be_a_mapping(library):
    problems = validate_values(library.get("outcome_data"), ["loneliness"])
    assert len(problems) == 1 and "must be a mapping" in problems[0].message


def test_date_fields_and_bounds():
    form = form_from_mapping(
        {
            "id": "d",
            "title": "Dates",
            "version": 1,
            "fields": [
                {"id": "searched", "label": "Searched", "type": "date", "min": "2000-01-01"},
                {"id": "flag", "label": "Flag", "type": "yes_no", "default": False},
            ],
        }
    )
    assert validate_values(form, {"searched": "2021-03-04", "flag": True}) == []
    assert "YYYY-MM-DD" in validate_values(form, {"searched": "04/03/2021"})[0].message
    assert "below the minimum" in validate_values(form, {"searched": "1999-12-31"})[0].message
    assert "yes or no" in validate_values(form, {"flag": "yes"})[0].message
    assert default_values(form) == {"flag": False}


# ------------------------------------------------------------------- versioning


def test_old_extractions_are_checked_against_the_version_they_were_made_with():
    library = load_forms(FIXTURES / "versioned")
    assert library.versions("school_setting") == [1, 2]
    assert library.get("school_setting").version == 2  # current by default
    old_values = {"setting": "Clinic", "pupils": 40}
    # Valid under the version it was extracted with...
    assert library.validate("school_setting", 1, old_values) == []
    # ...even though version 2 renamed the choice and added a required field.
    under_v2 = library.validate("school_setting", 2, old_values)
    assert {p.path for p in under_v2} == {"setting", "country", "pupils"}


def test_carry_over_copies_what_fits_and_names_what_does_not():
    library = load_forms(FIXTURES / "versioned")
    old, new = library.get("school_setting", 1), library.get("school_setting", 2)
    draft, problems = carry_over({"setting": "School", "pupils": 40}, old, new)
    assert draft == {"setting": "School"}
    assert {p.path for p in problems} == {"pupils", "country"}


def test_unknown_version_is_refused_with_the_versions_kept():
    library = load_forms(FIXTURES / "versioned")
    with pytest.raises(FormError, match=r"version 3 \(versions kept: 1, 2\)"):
        library.get("school_setting", 3)


def test_editing_a_form_without_bumping_its_version_is_caught(tmp_path):
    shutil.copytree(FIXTURES / "versioned", tmp_path / "forms")
    current = tmp_path / "forms" / "school_setting.yaml"
    current.write_text(current.read_text().replace("version: 2", "version: 1"))
    with pytest.raises(FormError, match="version 1 is also defined in"):
        load_forms(tmp_path / "forms")


def test_kept_version_newer_than_current_is_refused(tmp_path):
    shutil.copytree(FIXTURES / "versioned", tmp_path / "forms")
    kept = tmp_path / "forms" / "history" / "school_setting-v1.yaml"
    kept.write_text(kept.read_text().replace("version: 1", "version: 3"))
    kept.rename(kept.with_name("school_setting-v3.yaml"))
    with pytest.raises(FormError, match="newer than the current"):
        load_forms(tmp_path / "forms")


def test_misnamed_kept_version_is_refused(tmp_path):
    shutil.copytree(FIXTURES / "versioned", tmp_path / "forms")
    kept = tmp_path / "forms" / "history" / "school_setting-v1.yaml"
    kept.rename(kept.with_name("school_setting_old.yaml"))
    with pytest.raises(FormError, match="must be named school_setting-v1.yaml"):
        load_forms(tmp_path / "forms")


def test_fingerprint_changes_with_the_definition_only(tmp_path):
    path = _write(
        tmp_path,
        "x.yaml",
        "id: x\ntitle: T\nversion: 1\nfields:\n  - {id: a, label: A, type: text}\n",
    )
    first = load_form(path).fingerprint
    path.write_text(
        "# a comment\nid: x\ntitle: T\nversion: 1\nfields:\n  - {id: a, type: text, label: A}\n"
    )
    assert load_form(path).fingerprint == first
    path.write_text("id: x\ntitle: T\nversion: 1\nfields:\n  - {id: a, label: B, type: text}\n")
    assert load_form(path).fingerprint != first


def test_forms_resolve_codebook_choices_from_the_given_codebook(tmp_path):
    from review.extraction.codebook import extend_codebook

    codebook = extend_codebook(
        load_codebook(FORMS / "codebook.yaml"), "mechanisms", ["Feeling useful"]
    )
    form = load_form(FORMS / "context_mechanism_outcome.yaml", codebook=codebook)
    assert (
        "feeling_useful" in form.field("configurations").subfield("mechanism_codes").choice_values()
    )
    shipped = load_form(FORMS / "context_mechanism_outcome.yaml")
    assert (
        "feeling_useful"
        not in shipped.field("configurations").subfield("mechanism_codes").choice_values()
    )
