"""The bundled demo extractions: valid, keyed to the included studies, reproducible."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from review.extraction.forms import load_forms

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="module")
def records():
    path = DEMO / "extractions.json"
    assert path.is_file(), f"the committed demo extractions are missing: {path}"
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_included_study_has_every_form_and_nothing_else(records):
    included = pd.read_csv(DEMO / "included.csv")
    forms = {f.id for f in load_forms(ROOT / "extraction_forms").current()}
    keys = {(r["study_key"], r["form_id"]) for r in records}
    assert keys == {(k, f) for k in included["key"] for f in forms}
    assert len(keys) == len(records)  # one extraction per study per form


def test_every_demo_extraction_validates_against_its_form_version(records):
    library = load_forms(ROOT / "extraction_forms")
    for r in records:
        problems = library.validate(r["form_id"], r["form_version"], r["values"])
        assert problems == [], (r["study_key"], r["form_id"], problems)


def test_citations_come_from_included_csv(records):
    included = pd.read_csv(DEMO / "included.csv").set_index("key")
    for r in records:
        row = included.loc[r["study_key"]]
        assert r["short_citation"] == f"{row['first_author']} {row['year']}"


def test_generator_reproduces_the_bundled_file_byte_for_byte(tmp_path, records):
    spec = importlib.util.spec_from_file_location("make_extractions", DEMO / "make_extractions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "extractions.json"
    assert module.main(["--out", str(out)]) == 0
    assert out.read_bytes() == (DEMO / "extractions.json").read_bytes()
