"""Opening and upgrading a review never harms data: races, upgrades, other people's databases.

Each test here reproduces a way the store broke under a careless or hostile
user (issue 17) and checks what the user sees afterwards, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from review.demo import build_demo
from review.store import StoreError, open_store, repo
from review.store.db import head_revision, schema_revision
from review.store.models import Decision, DuplicateLink, Record, Report, Source

HERE = Path(__file__).resolve().parent
COPY_REVISION = HERE / "migrations_copy"
BROKEN_REVISION = HERE / "migrations_broken"


def _records(n: int, tag: str = "") -> list[dict]:
    return [{"title": f"Peer mentoring and loneliness {tag}{i}", "authors": ["Ng, A."],
             "year": 2020, "doi": f"10.5555/race.{tag}{i}"} for i in range(n)]


# --- 1. the same file imported twice at once lands once -----------------------------------

def test_same_file_imported_twice_at_once_lands_once(db_url: str) -> None:
    """Two imports of one file, both past the "imported before?" check: exactly one lands."""
    open_store(db_url).close()
    both_checked = threading.Barrier(2, timeout=5)
    outcomes: list[object] = []

    def chunks():
        try:  # wait until the other import has also passed its duplicate check
            both_checked.wait()
        except threading.BrokenBarrierError:
            pass  # the other import is blocked on this one: carry on
        yield _records(50)

    def run() -> None:
        store = open_store(db_url)  # its own engine, as a second `review import` process has
        try:
            outcomes.append(repo.add_source_streaming(
                store, name="PubMed", kind="database", file_name="mid.ris",
                file_format="ris", sha256="c" * 64, chunks=chunks()))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    refused = [o for o in outcomes if isinstance(o, repo.DuplicateImportError)]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    # Whichever moment the second one looked: the first already landed, or is being written.
    assert ("already imported" in str(refused[0])
            or "is being imported right now" in str(refused[0])), refused[0]
    store = open_store(db_url)
    assert len(repo.sources_frame(store)) == 1
    assert repo.count_records(store) == 50
    store.close()


def test_forced_repeat_import_still_lands(store) -> None:
    """``--force`` (import the same file again on purpose) keeps working beside the unique rule."""
    for force in (False, True):
        repo.add_source(store, name="PubMed", kind="database", file_name="a.ris",
                        file_format="ris", sha256="d" * 64, records=_records(2), force=force)
    with pytest.raises(repo.DuplicateImportError):
        repo.add_source(store, name="PubMed", kind="database", file_name="a.ris",
                        file_format="ris", sha256="d" * 64, records=_records(2))
    frame = repo.sources_frame(store)
    assert len(frame) == 2 and repo.count_records(store) == 4


# --- 3. an upgrade that copies a table, on a populated review -----------------------------

def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url if "://" in url else f"sqlite:///{url}")
    with engine.connect() as conn:
        out = {m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
               for m in (Source, Record, DuplicateLink, Decision, Report)}
    engine.dispose()
    return out


def _tables(url: str) -> set[str]:
    engine = create_engine(url if "://" in url else f"sqlite:///{url}")
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    engine.dispose()
    return names


@pytest.fixture
def demo_url(db_url: str) -> str:
    build_demo(db_url, say=lambda _m: None).close()
    return db_url


def test_upgrade_that_copies_record_keeps_a_populated_review(demo_url: str) -> None:
    before = _counts(demo_url)
    assert before["decision"] and before["duplicate_link"] and before["report"]
    store = open_store(demo_url, extra_versions=[COPY_REVISION])
    assert schema_revision(store.engine) == "9001_test_copy_record"
    assert "test_note" in {c["name"] for c in inspect(store.engine).get_columns("record")}
    store.close()
    assert _counts(demo_url) == before
    assert not [t for t in _tables(demo_url) if t.startswith("_alembic_tmp")]
    if "://" not in demo_url:  # SQLite: foreign keys hold, and a copy to roll back to exists
        path = Path(demo_url)
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        copy = path.with_name(f"{path.name}.before-{head_revision()}.bak")
        assert copy.is_file()
        again = open_store(copy)  # the copy is the review as it was, at the released schema
        assert repo.count_records(again) == before["record"]
        again.close()


def test_upgrade_that_fails_half_way_changes_nothing(db_url: str) -> None:
    store = open_store(db_url)
    repo.add_source(store, name="PubMed", kind="database", file_name="a.ris",
                    file_format="ris", sha256="e" * 64, records=_records(20))
    ana = repo.add_reviewer(store, "ana")
    for rid in repo.records_frame(store)["record_id"][:5]:
        repo.add_decision(store, record_id=int(rid), reviewer_id=ana, stage="title_abstract",
                          label="include")
    store.close()
    before, tables = _counts(db_url), _tables(db_url)
    with pytest.raises(StoreError, match="simulated failure"):
        open_store(db_url, extra_versions=[BROKEN_REVISION])
    assert _counts(db_url) == before and _tables(db_url) == tables
    again = open_store(db_url)  # the release that made it opens it as before
    assert schema_revision(again.engine) == head_revision()
    assert "test_note" not in {c["name"] for c in inspect(again.engine).get_columns("record")}
    again.close()


# --- 4. a database that is not a review is refused and left alone -------------------------

def test_sqlite_file_that_is_not_a_review_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("INSERT INTO patients (name) VALUES ('somebody')")
    con.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a review"):
        open_store(other)
    assert other.read_bytes() == before  # no table added, journal mode not switched
    assert not Path(f"{other}-wal").exists()


def test_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    other.write_text("these are my notes, not a database\n" * 20)
    before = other.read_bytes()
    with pytest.raises(StoreError, match="not a SQLite database"):
        open_store(other)
    assert other.read_bytes() == before


def test_postgres_database_that_is_not_a_review_is_refused_untouched(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id serial PRIMARY KEY, total numeric)"))
    with pytest.raises(StoreError, match="not a review"):
        open_store(pg_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"invoices"}
    engine.dispose()


def test_review_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    open_store(path).close()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="does not know"):
        open_store(path)
    assert path.read_bytes() == before
