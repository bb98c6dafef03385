"""A hand-spoilt form names its file and line, in `review forms` and on the pages (issue 17).

Before: a form saved as Latin-1 gave a raw UnicodeDecodeError and a form with
300 nested groups a RecursionError, on the command line and on the Extraction
and Synthesis pages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from review.cli import app
from review.extraction import FormError, load_forms
from review.resources import forms_dir as default_forms_dir

STUDY_FORM = "study_characteristics.yaml"


@pytest.fixture
def forms(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    shutil.copytree(default_forms_dir(), folder)
    return folder


def _latin1(forms: Path) -> Path:
    path = forms / STUDY_FORM
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[1] = "title: Caractéristiques de l'étude"  # line 2, saved in Latin-1
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path


def _deep(forms: Path, levels: int = 300) -> Path:
    path = forms / STUDY_FORM
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    nested = ""
    for depth in range(levels):
        pad = "  " * (depth + 1)
        nested += f"{pad}- id: g{depth}\n{pad}  label: Group {depth}\n{pad}  type: group\n"
        nested += f"{pad}  fields:\n"
    path.write_text(text + nested, encoding="utf-8")
    return path


@pytest.mark.parametrize(("spoil", "expected"), [
    (_latin1, r"study_characteristics\.yaml: line 2: not UTF-8 \(byte 0xE9"),
    (_deep, r"study_characteristics\.yaml: line \d+: nested more than \d+ levels"),
])
def test_bad_form_names_file_and_line(forms: Path, spoil, expected: str) -> None:
    spoil(forms)
    with pytest.raises(FormError, match=expected):
        load_forms(forms)
    r = CliRunner().invoke(app, ["forms", str(forms)])
    assert r.exit_code == 1
    assert "Traceback" not in r.output and "study_characteristics.yaml" in r.output
    assert "line" in r.output


def test_bad_codebook_names_file_and_line(forms: Path) -> None:
    path = forms / "codebook.yaml"
    path.write_bytes(path.read_bytes().replace(b"Mentoring", "Tutorat é".encode("latin-1"), 1))
    with pytest.raises(FormError, match=r"codebook\.yaml: line \d+: not UTF-8"):
        load_forms(forms)


def _page(db: str, name: str) -> None:
    import importlib

    from review.app.context import AppContext, SignedIn
    from review.store import open_store, repo

    page = importlib.import_module(f"review.app.pages.{name}")
    store = open_store(db)
    lead = int(repo.reviewers_frame(store).query("role == 'lead'")["reviewer_id"].iloc[0])
    page.render(AppContext(store=store, user=SignedIn(lead, "lead", "Lead", "lead"),
                           settings=repo.get_settings(store)))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from review.demo import build_demo

    db = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(db, say=lambda _m: None).close()
    return db


@pytest.mark.parametrize("page", ["extraction", "synthesis"])
@pytest.mark.parametrize("spoil", [_latin1, _deep])
def test_pages_show_the_bad_form_file_and_line(forms: Path, demo_db: Path, tmp_path: Path,
                                               monkeypatch, page: str, spoil) -> None:
    from streamlit.testing.v1 import AppTest

    from review.store.db import sqlite_copy

    db = tmp_path / "review.db"
    sqlite_copy(demo_db, db)
    spoil(forms)
    monkeypatch.setenv("REVIEW_FORMS_DIR", str(forms))
    at = AppTest.from_function(_page, args=(str(db), page), default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = " ".join(e.value for e in at.error).replace("\\", "")  # markdown escapes
    assert "study_characteristics.yaml: line" in shown
