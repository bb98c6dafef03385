"""A scratch SQLite file that holds an import's records until they are checked, then short copies.

Why: SQLite has one writer at a time. An import that parsed and inserted a
400,000-record file inside one write transaction held the review's lock for
the whole parse, and reviewers' decisions failed with "database is locked".
A later version staged the file first and copied it in one transaction: that
still held the lock for as long as the disk took to write every record (10-20 s
per 100,000 records on a quiet disk, over 100 s under load).

Now:

1. the file is parsed, validated and serialised into a private scratch
   database (no lock on the review at all);
2. one short transaction adds the source row, marked ``importing`` with this
   stage's folder (:mod:`review.store.visibility` hides such a source and its
   records from every reader);
3. the staged rows are copied in chunks of :data:`COPY_CHUNK` records, one
   short transaction each (``INSERT INTO record ... SELECT ... FROM stage``,
   no round trip per row), so a decision waits for one chunk at most;
4. the last transaction clears the mark: the whole file appears at once.

All or nothing still holds for what a reviewer sees. If the import fails, its
rows are deleted; if the process dies, they stay hidden, and the next import
(or ``review check``) finds the mark whose folder lock nobody holds and
deletes them (:func:`sweep_abandoned`). The folder lock (``flock`` on POSIX)
is what tells a live import from a dead one; a process id could be reused.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    Table,
    create_engine,
    delete,
    event,
    insert,
    select,
)

from review.store.db import Store, retry_busy, sqlite_path
from review.store.models import Record, Source
from review.store.visibility import INCLUDE_UNFINISHED

try:  # POSIX; elsewhere a stage folder that exists counts as a live import
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Record columns the stage holds (everything but the ids the review assigns).
STAGED = [c for c in Record.__table__.columns if c.name not in ("id", "source_id")]
#: Records per copy transaction: small enough that a reviewer's click waits well under a
#: second for one chunk, large enough that the per-commit flush is not the import's cost.
COPY_CHUNK = 2_000
#: The lock file inside a stage folder; held (exclusively) by the importing process.
LOCK_NAME = "importing.lock"


class RecordStage:
    """Rows of one import, serialised exactly as the review stores them, in a scratch file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "stage.db"
        self.engine = create_engine(f"sqlite:///{self.path}")
        self._lock: IO[bytes] | None = _hold_lock(folder / LOCK_NAME)

        @event.listens_for(self.engine, "connect")
        def _fast(dbapi_conn, _record):  # a scratch file: durability is not needed
            dbapi_conn.execute("PRAGMA journal_mode=OFF")
            dbapi_conn.execute("PRAGMA synchronous=OFF")

        self.table = Table("record_stage", MetaData(),
                           *[Column(c.name, c.type) for c in STAGED])
        self.table.create(self.engine)
        self.count = 0

    @property
    def marker(self) -> str:
        """What ``source.importing`` holds while this stage is copied: its folder."""
        return str(self.folder.resolve())

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Serialise a chunk (JSON columns as the review's own type would) into the stage."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(insert(self.table).execution_options(render_nulls=True),
                         [{c.name: r.get(c.name) for c in STAGED} for r in rows])
        self.count += len(rows)

    def copy_chunk(self, conn: Connection, source_id: int, after: int, size: int) -> int:
        """Copy staged rows ``after < rowid <= after + size`` into ``record``, in ``conn``'s
        transaction; returns how many.

        Rows were staged in file order, so rowid order is file order and a rowid
        range is a cheap seek (ordering by ``position``, unindexed, would sort).
        """
        cols = ", ".join(f'"{c.name}"' for c in STAGED)
        return conn.exec_driver_sql(
            f"INSERT INTO main.record (source_id, {cols}) "
            f"SELECT ?, {cols} FROM stage.record_stage WHERE rowid > ? AND rowid <= ? "
            "ORDER BY rowid", (source_id, after, after + size)).rowcount

    def close(self) -> None:
        self.engine.dispose()
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None


def _hold_lock(path: Path) -> IO[bytes]:
    """Open and lock the stage folder's lock file; the open file is the lock.

    Held for the stage's life so :func:`import_alive` can tell a live import
    from a folder a killed process left behind (the kernel drops its lock).
    """
    fh = open(path, "wb")  # noqa: SIM115 - held open for the stage's life
    if fcntl is not None:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fh


def import_alive(marker: str) -> bool:
    """Is the process that wrote ``source.importing = marker`` still importing?

    Its stage folder exists and somebody holds the folder's lock. A folder left
    by a killed process has a lock nobody holds (the kernel drops it with the
    process), so it is free to take.
    """
    lock = Path(marker) / LOCK_NAME
    if not lock.exists():
        return False
    if fcntl is None:  # pragma: no cover - Windows: trust the folder
        return True
    try:
        with open(lock, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fh, fcntl.LOCK_UN)
    except OSError:
        return True
    return False


def _stage_prefix(review_file: Path) -> str:
    return f".{review_file.name}-import-"


@contextmanager
def record_stage(near: Path) -> Iterator[RecordStage]:
    """A stage in a private folder beside the review (same disk), removed afterwards."""
    with tempfile.TemporaryDirectory(dir=near.parent, prefix=_stage_prefix(near)) as tmp:
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


def delete_source_rows(store: Store, source_id: int, chunk: int = COPY_CHUNK) -> None:
    """Delete one (hidden) source and its records, a chunk per short transaction."""
    t = Record.__table__

    def one_chunk() -> int:
        with store.engine.begin() as conn:
            ids = select(t.c.id).where(t.c.source_id == source_id).limit(chunk).scalar_subquery()
            return conn.execute(delete(t).where(t.c.id.in_(ids))).rowcount

    while retry_busy(one_chunk):
        pass

    def source_row() -> None:
        with store.engine.begin() as conn:
            conn.execute(delete(Source.__table__).where(Source.__table__.c.id == source_id))

    retry_busy(source_row)


def abandoned_imports(store: Store) -> list[tuple[int, str]]:
    """(source id, folder) of every unfinished import whose process is gone."""
    with store.session() as s:
        rows = s.execute(select(Source.id, Source.importing)
                         .where(Source.importing.is_not(None))
                         .execution_options(**{INCLUDE_UNFINISHED: True})).all()
    return [(sid, marker) for sid, marker in rows if not import_alive(marker)]


def sweep_abandoned(store: Store) -> int:
    """Remove what killed imports left (hidden rows, stage folders); returns how many imports."""
    gone = abandoned_imports(store)
    for source_id, marker in gone:
        delete_source_rows(store, source_id)
        folder = Path(marker)
        # Only a stage folder this module made beside this review, never any path a
        # database row names.
        path = sqlite_path(store.url)
        if (path is not None and folder.parent == path.parent.resolve()
                and folder.name.startswith(_stage_prefix(path)) and folder.is_dir()):
            shutil.rmtree(folder, ignore_errors=True)
    return len(gone)

