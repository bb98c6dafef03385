"""One default database: ``--db``, else $REVIEW_DATABASE_URL, else ./review.db, for every
command, ``review demo`` and ``review app`` included."""

from __future__ import annotations

from typer.testing import CliRunner

from review.cli import app
from review.store import open_store, repo, resolve_url


def test_without_db_or_variable_it_is_review_db_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEW_DATABASE_URL", raising=False)
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'review.db'}"
    monkeypatch.setenv("REVIEW_DATABASE_URL", str(tmp_path / "team.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'team.db'}"
    assert resolve_url(tmp_path / "mine.db") == f"sqlite:///{tmp_path / 'mine.db'}"


def test_demo_leaves_a_review_that_is_not_the_demo_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEW_DATABASE_URL", raising=False)
    store = open_store(tmp_path / "review.db")
    repo.set_setting(store, "review_title", "My own review")
    store.close()
    for args in (["demo"], ["demo", "--rebuild"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1
        assert "not the demo" in result.output
    store = open_store(tmp_path / "review.db", create=False)
    assert repo.get_settings(store)["review_title"] == "My own review"


def test_app_refuses_a_file_that_is_not_a_review(tmp_path):
    not_a_review = tmp_path / "notes.db"
    not_a_review.write_bytes(b"these are not the records you are looking for")
    result = CliRunner().invoke(app, ["app", "--db", str(not_a_review)])
    assert result.exit_code == 1
    assert "notes.db" in result.output
