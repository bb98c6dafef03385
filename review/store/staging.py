"""A scratch SQLite file that holds an import's records until they are checked, then one copy.

Why: SQLite has one writer at a time. An import that parsed and inserted a
400,000-record file inside one write transaction held the review's lock for
the whole parse, and reviewers' decisions failed with "database is locked".
Here the file is parsed, validated and serialised into a private scratch
database (no lock on the review at all); the review is then written in one
transaction, ``INSERT INTO record ... SELECT ... FROM stage``, which SQLite runs
without a round trip per row. The whole file still lands or nothing does.

What this does not fix: that last transaction still writes every record, so
it holds the lock for as long as the disk takes to write them (measured on a
shared machine: 10-20 s per 100,000 records of ~5 KB each when the disk was
quiet, far longer under load; see ``benchmarks/decision_wait.py``). Decisions
wait and are retried (:func:`review.store.db.retry_busy`) rather than fail.
Short transactions with all-or-nothing visibility would need every reader of
``record`` to hide unfinished imports, which is a change across stages.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, create_engine, event, insert

from review.store.models import Record

#: Record columns the stage holds (everything but the ids the review assigns).
STAGED = [c for c in Record.__table__.columns if c.name not in ("id", "source_id")]


class RecordStage:
    """Rows of one import, serialised exactly as the review stores them, in a scratch file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "stage.db"
        self.engine = create_engine(f"sqlite:///{self.path}")

        @event.listens_for(self.engine, "connect")
        def _fast(dbapi_conn, _record):  # a scratch file: durability is not needed
            dbapi_conn.execute("PRAGMA journal_mode=OFF")
            dbapi_conn.execute("PRAGMA synchronous=OFF")

        self.table = Table("record_stage", MetaData(),
                           *[Column(c.name, c.type) for c in STAGED])
        self.table.create(self.engine)
        self.count = 0

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Serialise a chunk (JSON columns as the review's own type would) into the stage."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(insert(self.table).execution_options(render_nulls=True),
                         [{c.name: r.get(c.name) for c in STAGED} for r in rows])
        self.count += len(rows)

    def copy_into(self, conn: Connection, source_id: int) -> int:
        """Copy every staged row into the review's ``record`` table, in ``conn``'s transaction.

        Rows were staged in file order, so rowid order is file order (ordering by
        ``position``, which has no index, made SQLite sort the whole stage).
        """
        cols = ", ".join(f'"{c.name}"' for c in STAGED)
        return conn.exec_driver_sql(
            f"INSERT INTO main.record (source_id, {cols}) "
            f"SELECT ?, {cols} FROM stage.record_stage ORDER BY rowid", (source_id,)).rowcount

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def record_stage(near: Path) -> Iterator[RecordStage]:
    """A stage in a private folder beside the review (same disk), removed afterwards."""
    with tempfile.TemporaryDirectory(dir=near.parent, prefix=f".{near.name}-import-") as tmp:
        stage = RecordStage(Path(tmp))
        try:
            yield stage
        finally:
            stage.close()


@contextmanager
def attached(conn: Connection, stage: RecordStage) -> Iterator[Connection]:
    """``conn`` with the stage attached as ``stage`` (ATTACH must run outside a transaction)."""
    conn.exec_driver_sql("ATTACH DATABASE ? AS stage", (str(stage.path),))
    conn.commit()
    try:
        yield conn
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql("DETACH DATABASE stage")
        conn.commit()
