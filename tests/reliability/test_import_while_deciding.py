"""Reviewers keep deciding while a large file is imported into a SQLite review.

Before: the import parsed the file inside its write transaction, so SQLite's
one write lock was held from the first chunk to the last; a reviewer's click
waited 30 s and failed with "database is locked". Now the file is parsed into a
scratch file and the review is written in one short transaction at the end;
a decision that still meets a busy file is retried, and past the last retry
the reviewer gets a sentence, not a traceback.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from reliability_helpers import make_records

from review.store import db as store_db
from review.store import open_store, repo
from review.store.db import StoreBusyError

TA = "title_abstract"


def test_decision_lands_while_an_import_is_half_way(tmp_path: Path) -> None:
    path = tmp_path / "review.db"
    store = open_store(path)
    repo.add_source(store, name="PubMed", kind="database", file_name="a.nbib",
                    file_format="nbib", sha256="1" * 64, records=make_records(5, seed=1))
    ana = repo.add_reviewer(store, "ana")
    first = int(repo.records_frame(store)["record_id"].iloc[0])
    half_way, decided = threading.Event(), threading.Event()
    outcome: list[object] = []

    def chunks():
        yield make_records(400, seed=2)
        half_way.set()
        decided.wait(60)  # the import stays half-way until the reviewer's click is answered
        yield make_records(400, seed=3)

    def run_import() -> None:
        importer = open_store(path)
        try:
            outcome.append(repo.add_source_streaming(
                importer, name="Scopus", kind="database", file_name="big.csv",
                file_format="csv", sha256="2" * 64, chunks=chunks()))
        except Exception as exc:  # noqa: BLE001
            outcome.append(exc)
        finally:
            importer.close()

    worker = threading.Thread(target=run_import)
    worker.start()
    assert half_way.wait(60)
    try:
        decision = repo.add_decision(store, record_id=first, reviewer_id=ana, stage=TA,
                                     label="include")
    finally:
        decided.set()
        worker.join(120)
    assert decision > 0
    assert isinstance(outcome[0], int), outcome
    assert repo.count_records(store) == 805
    assert len(repo.decisions_frame(store, TA)) == 1
    store.close()


def _hold_write_lock(path: Path, seconds: float,
                     release: threading.Event | None = None) -> threading.Thread:
    """Another process's writer: holds SQLite's write lock for ``seconds`` (or until released)."""
    locked = threading.Event()

    def hold() -> None:
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        locked.set()
        (release or threading.Event()).wait(seconds)
        con.execute("ROLLBACK")
        con.close()

    t = threading.Thread(target=hold)
    t.start()
    locked.wait(10)
    return t


@pytest.fixture
def short_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 1)


def test_decision_that_meets_a_busy_review_is_retried(tmp_path: Path, short_busy) -> None:
    path = tmp_path / "review.db"
    store = open_store(path)
    repo.add_source(store, name="PubMed", kind="database", file_name="a.nbib",
                    file_format="nbib", sha256="1" * 64, records=make_records(2, seed=1))
    ana = repo.add_reviewer(store, "ana")
    rid = int(repo.records_frame(store)["record_id"].iloc[0])
    holder = _hold_write_lock(path, 2.5)  # longer than one try's busy timeout
    repo.add_decision(store, record_id=rid, reviewer_id=ana, stage=TA, label="exclude")
    holder.join()
    assert repo.decisions_frame(store, TA)["label"].tolist() == ["exclude"]
    store.close()


def test_decision_on_a_review_busy_throughout_says_so(tmp_path: Path, short_busy) -> None:
    path = tmp_path / "review.db"
    store = open_store(path)
    repo.add_source(store, name="PubMed", kind="database", file_name="a.nbib",
                    file_format="nbib", sha256="1" * 64, records=make_records(2, seed=1))
    ana = repo.add_reviewer(store, "ana")
    rid = int(repo.records_frame(store)["record_id"].iloc[0])
    release = threading.Event()
    holder = _hold_write_lock(path, 60, release)
    try:
        with pytest.raises(StoreBusyError, match="busy.*nothing was saved"):
            repo.add_decision(store, record_id=rid, reviewer_id=ana, stage=TA, label="exclude")
    finally:
        release.set()
        holder.join()
    assert repo.decisions_frame(store, TA).empty
    store.close()
