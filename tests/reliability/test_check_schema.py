"""``review check`` looks at the schema itself: a dropped table or column is a problem (issue 17).

Before, ``review check`` read only the rows it knew and passed a review whose
``ranking`` table had been dropped by hand.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from review.cli import app
from review.integrity import check_review
from review.store import open_store, repo
from review.store.db import resolve_url


def _review(db_url: str) -> None:
    store = open_store(db_url)
    repo.add_source(store, name="PubMed", kind="database", file_name="p.nbib",
                    file_format="nbib", sha256="a" * 64,
                    records=[{"title": "Peer support and loneliness", "year": 2020}])
    assert check_review(store) == []
    store.close()


def _execute(db_url: str, sql: str) -> None:
    engine = create_engine(resolve_url(db_url))
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def test_check_reports_a_dropped_table(db_url: str) -> None:
    _review(db_url)
    _execute(db_url, "DROP TABLE ranking")
    r = CliRunner().invoke(app, ["check", "--db", db_url])
    assert r.exit_code == 1
    assert "missing_table" in r.output and "ranking" in r.output


def test_check_reports_a_dropped_column(db_url: str) -> None:
    _review(db_url)
    _execute(db_url, "ALTER TABLE record DROP COLUMN url")
    store = open_store(db_url)
    problems = check_review(store)
    store.close()
    assert [(p.check, "url" in p.message) for p in problems] == [("missing_column", True)]
