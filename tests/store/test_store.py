"""The project store on SQLite and PostgreSQL: schema, atomic imports, append-only decisions."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from review.store import open_store, repo
from review.store.db import head_revision, resolve_url, schema_revision
from review.store.models import AuditLog, Decision, Record, Source


def _records(n: int, title: str = "Mentoring and loneliness in adolescents") -> list[dict]:
    return [
        {"title": f"{title} {i}", "authors": ["Smith, A.", "Jones, B."], "year": 2019 + i % 3,
         "journal": "Journal of Adolescence", "doi": f"10.5555/demo.{i}",
         "keywords": ["mentoring", "loneliness"], "original": {"TY": "JOUR", "XX": "kept"}}
        for i in range(n)
    ]


def _import(store, name="PubMed", sha="a" * 64, records=None, **kw):
    recs = records if records is not None else _records(3)
    return repo.add_source(store, name=name, kind="database", file_name=f"{name}.ris",
                           file_format="ris", sha256=sha, records=recs, **kw)


def test_new_review_is_at_the_newest_schema_and_reopens(db_url):
    first = open_store(db_url)
    assert schema_revision(first.engine) == head_revision()
    _import(first)
    first.close()
    again = open_store(db_url)  # opening twice must not re-create or lose anything
    assert schema_revision(again.engine) == head_revision()
    assert repo.count_records(again) == 3
    again.close()


def test_import_keeps_fields_and_original_tags(store):
    _import(store)
    df = repo.records_frame(store)
    assert list(df["title"]) == [f"Mentoring and loneliness in adolescents {i}" for i in range(3)]
    assert df.loc[0, "authors"] == ["Smith, A.", "Jones, B."]
    assert df.loc[0, "keywords"] == ["mentoring", "loneliness"]
    assert (df["source"] == "PubMed").all()
    with store.session() as s:
        rec = s.scalars(select(Record).order_by(Record.id)).first()
        assert rec.original == {"TY": "JOUR", "XX": "kept"}
        src = s.scalars(select(Source)).one()
        assert (src.record_count, src.sha256, src.kind) == (3, "a" * 64, "database")


def test_same_file_twice_is_refused_unless_forced(store):
    _import(store)
    with pytest.raises(repo.DuplicateImportError, match="PubMed.ris was already imported"):
        _import(store)
    assert repo.count_records(store) == 3
    _import(store, force=True)
    assert repo.count_records(store) == 6


def test_failed_import_leaves_nothing_behind(store):
    bad = _records(10)
    bad[7]["year"] = "not a year"
    with pytest.raises(repo.RepoError, match="record 8: year 'not a year'"):
        _import(store, records=bad, chunk=3)  # two chunks were already written
    calls = []

    def crash(_n):  # the process dies after the first chunk reached the database
        calls.append(_n)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _import(store, records=_records(10), chunk=3, on_progress=crash)
    assert calls == [3]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 0
        assert s.scalar(select(func.count()).select_from(Source)) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_decisions_are_appended_and_undo_is_a_retraction(store):
    _import(store)
    ana = repo.add_reviewer(store, "ana", "Ana", "reviewer", "pw-ana")
    rid = int(repo.records_frame(store)["record_id"].iloc[0])
    repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                      label="exclude", reason="Wrong population")
    repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                      label="retracted")
    assert repo.outcomes(store, "title_abstract").empty  # undone: no current decision
    repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                      label="include")
    out = repo.outcomes(store, "title_abstract")
    assert out.set_index("record_id").loc[rid, "label"] == "include"
    with store.session() as s:  # all three kept, in order
        labels = list(s.scalars(select(Decision.label).order_by(Decision.id)))
    assert labels == ["exclude", "retracted", "include"]


def test_retried_decision_with_same_request_id_lands_once(store):
    _import(store)
    ana = repo.add_reviewer(store, "ana", password="pw")
    rid = int(repo.records_frame(store)["record_id"].iloc[0])
    ids = {repo.add_decision(store, record_id=rid, reviewer_id=ana, stage="title_abstract",
                             label="include", request_id="click-1") for _ in range(3)}
    assert len(ids) == 1
    assert len(repo.decisions_frame(store, "title_abstract")) == 1


def test_dual_screening_conflict_and_resolution(store):
    _import(store)
    repo.set_setting(store, "reviewers_per_record", 2)
    ana = repo.add_reviewer(store, "ana", password="pw")
    ben = repo.add_reviewer(store, "ben", password="pw")
    lead = repo.add_reviewer(store, "lead", role="lead", password="pw")
    r1, r2, r3 = (int(x) for x in repo.records_frame(store)["record_id"])
    for rec, a, b in ((r1, "include", "include"), (r2, "include", "exclude")):
        repo.add_decision(store, record_id=rec, reviewer_id=ana, stage="title_abstract", label=a)
        repo.add_decision(store, record_id=rec, reviewer_id=ben, stage="title_abstract", label=b,
                          reason="Wrong outcome" if b == "exclude" else None)
    repo.add_decision(store, record_id=r3, reviewer_id=ana, stage="title_abstract",
                      label="exclude")
    out = repo.outcomes(store, "title_abstract").set_index("record_id")
    assert out.loc[r1, "status"] == "agreed" and out.loc[r1, "label"] == "include"
    assert out.loc[r2, "status"] == "conflict" and pd.isna(out.loc[r2, "label"])
    assert out.loc[r3, "status"] == "pending"
    repo.add_resolution(store, record_id=r2, stage="title_abstract", label="exclude",
                        resolved_by=lead, reason="Wrong outcome")
    out = repo.outcomes(store, "title_abstract").set_index("record_id")
    assert (out.loc[r2, "status"], out.loc[r2, "label"]) == ("resolved", "exclude")
    assert len(repo.decisions_frame(store, "title_abstract")) == 5  # decisions untouched
    assert repo.ensure_reports(store) == 1  # r1 is now sought for retrieval
    assert repo.ensure_reports(store) == 0


def test_blind_query_returns_only_own_labels(store):
    _import(store)
    ana = repo.add_reviewer(store, "ana", password="pw")
    ben = repo.add_reviewer(store, "ben", password="pw")
    rid = int(repo.records_frame(store)["record_id"].iloc[0])
    repo.add_decision(store, record_id=rid, reviewer_id=ben, stage="title_abstract",
                      label="exclude")
    assert repo.decisions_frame(store, "title_abstract", reviewer_id=ana).empty


def test_passwords_are_hashed_and_checked(store):
    repo.add_reviewer(store, "ana", password="correct horse")
    with store.session() as s:
        from review.store.models import Reviewer

        stored = s.scalars(select(Reviewer.password_hash)).one()
    assert "correct horse" not in stored and stored.startswith("$argon2")
    assert repo.authenticate(store, "ana", "correct horse") is not None
    assert repo.authenticate(store, "ana", "wrong") is None
    assert repo.authenticate(store, "nobody", "correct horse") is None


def test_database_url_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("REVIEW_DATABASE_URL", raising=False)
    assert resolve_url(tmp_path / "x.db") == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("REVIEW_DATABASE_URL", "postgresql://u@h/db")
    assert resolve_url(None) == "postgresql+psycopg://u@h/db"
    assert resolve_url(str(tmp_path / "y.db")).endswith("y.db")  # explicit --db wins


def test_sqlite_review_uses_wal(sqlite_store):
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
