"""A review's settings: typed, every key with a default, bad values refused with the key's name."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from review.integrity import read_tables
from review.store import repo
from review.store.models import Setting
from review.store.settings import Settings, SettingsError, parse

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_the_code_reads_has_a_typed_default():
    """A key read somewhere but missing from :class:`Settings` would have no default."""
    known = {f.name for f in fields(Settings)}
    read = set()
    for path in [*(ROOT / "review").rglob("*.py"), ROOT / "screening_app.py"]:
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"settings\)?\.get\(\s*\"([a-z_]+)\"", text))
        read |= set(re.findall(r"set_setting\([^,]+,\s*\"([a-z_]+)\"", text))
    assert read, "the scan found no setting reads"
    assert read <= known, f"settings without a default: {sorted(read - known)}"


def test_a_new_review_reads_the_defaults(store):
    assert repo.review_settings(store) == Settings()
    assert repo.get_settings(store)["exclusion_reasons_title_abstract"][0] == "Wrong population"


def test_values_round_trip_typed(store):
    repo.set_setting(store, "reviewers_per_record", 2)
    repo.set_setting(store, "highlight_include", [" lonel* ", "peer support"])
    repo.set_setting(store, "target_recall", 0.9)
    got = repo.review_settings(store)
    assert got.reviewers_per_record == 2 and got.target_recall == 0.9
    assert got.highlight_include == ("lonel*", "peer support")
    assert repo.get_settings(store)["highlight_include"] == ["lonel*", "peer support"]


@pytest.mark.parametrize(("key", "value", "says"), [
    ("reviewers_per_record", 3, "1 to 2"),
    ("reviewers_per_record", "2", "whole number"),
    ("reviewers_per_record", True, "whole number"),
    ("blind", "no", "true or false"),
    ("target_recall", 7, "between 0.5 and 1"),
    ("target_recall", float("nan"), "not a number"),
    ("exclusion_reasons_full_text", [], "at least one exclusion reason"),
    ("exclusion_reasons_full_text", "Wrong population", "list of texts"),
    ("highlight_include", ["ok", 3], "not a text"),
    ("previous_studies", -1, "0 or more"),
    ("review_title", "   ", "not a title"),
    ("reviewers_per_recod", 2, "unknown setting 'reviewers_per_recod'"),
])
def test_a_bad_value_is_refused_naming_the_key_and_nothing_is_written(store, key, value, says):
    with pytest.raises(SettingsError, match=re.escape(says)) as err:
        repo.set_setting(store, key, value, actor="lead")
    assert key in str(err.value)
    with store.session() as s:
        assert s.get(Setting, key) is None
    assert repo.review_settings(store) == Settings()


def test_unknown_stored_keys_are_ignored_and_known_ones_checked():
    assert parse({"from_a_newer_version": 1}) == Settings()
    with pytest.raises(SettingsError, match="target_recall"):
        parse({"target_recall": "high"})


def test_the_integrity_check_reads_the_same_settings(store):
    assert read_tables(store).reviewers_per_record == 1
    repo.set_setting(store, "reviewers_per_record", 2)
    assert read_tables(store).reviewers_per_record == 2
