"""A large SQLite import is written in short transactions, and nobody sees half of it.

Issue 17, item 7: the import used to copy every record into the review in one
transaction, holding SQLite's only write lock for as long as the disk needed
(over 100 s for 100,000 records under load), so reviewers' clicks waited. Now it
copies a chunk per transaction. These tests pin what that must not cost:

* between two chunks the review is not locked, and every reader (record list,
  counts, PRISMA, sources, backups) sees the review as it was before the import;
* a failure mid-copy deletes what was copied;
* a process killed between chunks leaves rows that stay hidden and are swept at
  the next open, while a live import's rows are never swept by another process;
* the same file can be imported again afterwards.

SQLite only: PostgreSQL locks rows, so there the import stays one transaction.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from reliability_helpers import make_records, sigkill, start_child, wait_until

from review.report import counts_from_store
from review.screening import record_list as rl
from review.store import db as store_db
from review.store import open_store, repo
from review.store.backup import backup, restore
from review.store.staging import COPY_CHUNK, RecordStage

TA = "title_abstract"
SETTINGS = dict(repo.DEFAULT_SETTINGS)
N_NEW = 2 * COPY_CHUNK + 500  # three chunks


@dataclass
class Lead:
    reviewer_id: int
    role: str = "lead"
    username: str = "lead"


def raw_count(path: Path, table: str = "record") -> int:
    """Rows physically in the file, behind every reader's back."""
    with sqlite3.connect(path) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def what_readers_see(store, lead: Lead) -> dict[str, object]:
    prisma = counts_from_store(store)
    return {
        "count": repo.count_records(store),
        "records": len(repo.records_frame(store)),
        "sources": repo.sources_frame(store)["name"].tolist(),
        "record list": rl.count_records(store, lead, rl.RecordQuery(), SETTINGS),
        "search": rl.count_records(store, lead, rl.RecordQuery(text="quokkas"), SETTINGS),
        "prisma identified": prisma.values["database_results"],
    }


def marked_records(n: int, seed: int) -> list[dict]:
    recs = make_records(n, seed=seed, tag="new")
    for r in recs:
        r["title"] = f"Quokkas: {r['title']}"
    return recs


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 1)  # a held lock fails fast, not in 30 s
    path = tmp_path / "review.db"
    store = open_store(path)
    repo.add_source(store, name="PubMed", kind="database", file_name="a.nbib",
                    file_format="nbib", sha256="1" * 64, records=make_records(20, seed=1))
    lead = Lead(repo.add_reviewer(store, "lead", role="lead"))
    yield path, store, lead
    store.close()


def test_between_chunks_the_review_is_unlocked_and_shows_nothing_of_the_import(
        review, monkeypatch: pytest.MonkeyPatch) -> None:
    path, store, lead = review
    before = what_readers_see(store, lead)
    first = int(repo.records_frame(store)["record_id"].iloc[0])
    original = RecordStage.copy_chunk
    seen: list[tuple[int, dict[str, object], int]] = []

    def copy_chunk(self, conn, source_id, after, size):
        if after > 0:  # a chunk is committed, the next not begun: look from elsewhere
            other = open_store(path)
            try:
                # A click lands at once (a held lock would fail after 1 s and 4 retries).
                decision = repo.add_decision(other, record_id=first, reviewer_id=lead.reviewer_id,
                                             stage=TA, label="include" if after % 2 else "maybe")
                seen.append((raw_count(path), what_readers_see(other, lead), decision))
            finally:
                other.close()
        return original(self, conn, source_id, after, size)

    monkeypatch.setattr(RecordStage, "copy_chunk", copy_chunk)
    repo.add_source_streaming(store, name="Scopus", kind="database", file_name="big.ris",
                              file_format="ris", sha256="2" * 64,
                              chunks=iter([marked_records(N_NEW, seed=2)]))
    assert [raw for raw, _, _ in seen] == [20 + COPY_CHUNK, 20 + 2 * COPY_CHUNK]
    for _, readers, decision in seen:
        assert readers == before  # half a file is in the review; nobody can see it
        assert decision > 0
    after = what_readers_see(store, lead)
    assert after["count"] == after["records"] == after["record list"] == 20 + N_NEW
    assert after["search"] == N_NEW
    assert after["sources"] == ["PubMed", "Scopus"]
    assert after["prisma identified"] == 20 + N_NEW
    assert not list(path.parent.glob(f".{path.name}-import-*"))  # stage folder removed


def test_a_failure_mid_copy_leaves_nothing_and_the_file_imports_again(
        review, monkeypatch: pytest.MonkeyPatch) -> None:
    path, store, lead = review
    before = what_readers_see(store, lead)
    original = RecordStage.copy_chunk

    def failing(self, conn, source_id, after, size):
        if after >= 2 * COPY_CHUNK:
            raise OSError("disk full")
        return original(self, conn, source_id, after, size)

    monkeypatch.setattr(RecordStage, "copy_chunk", failing)
    chunks = [marked_records(N_NEW, seed=3)]
    with pytest.raises(OSError, match="disk full"):
        repo.add_source_streaming(store, name="Scopus", kind="database", file_name="big.ris",
                                  file_format="ris", sha256="3" * 64, chunks=iter(chunks))
    assert raw_count(path) == 20 and raw_count(path, "source") == 1
    assert what_readers_see(store, lead) == before
    monkeypatch.setattr(RecordStage, "copy_chunk", original)
    repo.add_source_streaming(store, name="Scopus", kind="database", file_name="big.ris",
                              file_format="ris", sha256="3" * 64, chunks=iter(chunks))
    assert repo.count_records(store) == 20 + N_NEW


def test_an_import_killed_between_chunks_is_hidden_then_swept(review, tmp_path: Path) -> None:
    path, store, lead = review
    before = what_readers_see(store, lead)
    work = tmp_path / "child"
    work.mkdir()
    child = start_child("import", str(path), str(work), "--records", str(N_NEW), "--seed", "9",
                        "--hang", "copied:2")
    try:
        wait_until(lambda: (work / "marker").exists(), "the import to park between chunks",
                   child, timeout=120)
        assert raw_count(path) == 20 + 2 * COPY_CHUNK
        # Another process opening the review while the import lives sweeps nothing...
        other = open_store(path)
        assert raw_count(path) == 20 + 2 * COPY_CHUNK
        assert what_readers_see(other, lead) == before
        # ...and a backup taken now holds the review without the unfinished import.
        archive = tmp_path / "mid-import.zip"
        backup(other, archive)
        other.close()
        copy = open_store(tmp_path / "copy.db")
        restore(copy, archive)
        assert repo.count_records(copy) == 20
        assert repo.sources_frame(copy)["name"].tolist() == ["PubMed"]
        copy.close()
    finally:
        sigkill(child)
    assert list(path.parent.glob(f".{path.name}-import-*"))  # the dead import's folder
    reopened = open_store(path)  # the restart: what the killed import left goes
    assert raw_count(path) == 20 and raw_count(path, "source") == 1
    assert not list(path.parent.glob(f".{path.name}-import-*"))
    assert what_readers_see(reopened, lead) == before
    again = tmp_path / "again"
    again.mkdir()
    rerun = start_child("import", str(path), str(again), "--records", str(N_NEW), "--seed", "9",
                        "--hang", "copied:99")
    assert rerun.wait(timeout=180) == 0, rerun.communicate()
    assert repo.count_records(reopened) == 20 + N_NEW
    reopened.close()


def test_queries_over_two_copies_of_record_hide_the_unfinished_import_in_each(review) -> None:
    """Pairs of records (duplicates, conflicts) join ``record`` to itself under aliases."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from review.store.models import Record, Source

    path, store, _ = review
    hidden = repo.add_source(store, name="Scopus", kind="database", file_name="b.ris",
                             file_format="ris", sha256="4" * 64, records=make_records(5, seed=4))
    with store.session() as s:
        s.get(Source, hidden).importing = str(path.parent / ".unfinished")
    with store.session() as s:
        a, b = aliased(Record), aliased(Record)
        pairs = s.execute(select(a.id, b.id).join(b, a.id < b.id)).all()
        seen = {i for pair in pairs for i in pair}
    assert len(pairs) == 20 * 19 // 2 and len(seen) == 20
