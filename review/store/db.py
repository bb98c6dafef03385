"""Opening a review's database: where it is, how it is tuned, and bringing its schema up to date.

A review is one SQLite file by default (WAL, so the app can read while a
reviewer writes) or a PostgreSQL database for a team server; the same code
serves both. The schema is versioned with Alembic and upgraded on open, so a
review made with an older release opens with a newer one.

Three rules keep somebody's data safe on open:

* **Only a review is touched.** A database that already holds tables but no
  review schema (somebody else's file, a typo in ``--db``) is refused before
  anything is written to it: no table, no journal-mode switch. A review made by
  a newer release is refused too, rather than half-understood.
* **An upgrade is all or nothing.** On SQLite the migrations run with foreign
  keys off (a table copy, as ``batch_alter_table`` does, must be able to drop the
  old table) inside one transaction, followed by ``PRAGMA foreign_key_check``;
  a failure rolls everything back. A copy of the file is kept beside it first
  (``<name>.before-<revision>.bak``), to roll back to by hand. PostgreSQL runs
  the migrations in one transaction under an advisory lock.
* **Durable by default.** ``synchronous=FULL`` with WAL: a commit reported to a
  reviewer survives a power cut (NORMAL could lose the last ones).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from review.store.visibility import hide_unfinished_imports

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_DB = "review.db"
_PG_MIGRATION_LOCK = 74_204_619  # arbitrary advisory-lock key: one migrator at a time
#: How long one SQLite statement waits for another writer before SQLite says "busy".
BUSY_TIMEOUT_S = 30
#: SQLite's synchronous level for a review file; FULL: a reported commit survives power loss.
SQLITE_SYNCHRONOUS = "FULL"
T = TypeVar("T")


class StoreError(Exception):
    """The database cannot be opened or is not a review."""


class StoreBusyError(StoreError):
    """The review stayed busy (another writer held it) through every retry."""


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """``--db`` value → SQLAlchemy URL: the value, else $REVIEW_DATABASE_URL, else ./review.db."""
    value = str(db) if db else os.environ.get("REVIEW_DATABASE_URL") or DEFAULT_DB
    if "://" in value:
        url = make_url(value)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///"))
    return None


def make_engine(url: str) -> Engine:
    """An engine tuned per backend: WAL, foreign keys, durable commits, a busy timeout on SQLite."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S,
                                                  "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised via open
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(url: str, extra_versions: Sequence[Path] = ()) -> Config:
    """Alembic's configuration; ``extra_versions`` adds revision folders (tests keep one)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if extra_versions:
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", os.pathsep.join(
            [str(MIGRATIONS / "versions"), *(str(p) for p in extra_versions)]))
    return cfg


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(extra_versions: Sequence[Path] = ()) -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://", extra_versions)
                                       ).get_current_head()


def known_revisions(extra_versions: Sequence[Path] = ()) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://", extra_versions))
    return {r.revision for r in script.walk_revisions()}


# --- what is in the database before we touch it ----------------------------------------------

def _sqlite_tables_readonly(path: Path) -> tuple[set[str], str | None]:
    """Tables and Alembic revision of a SQLite file, read without writing a byte to it."""
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as con:
            names = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
            rev = None
            if "alembic_version" in names:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                rev = row[0] if row else None
            return names, rev
    except sqlite3.DatabaseError as exc:  # "file is not a database", encrypted, damaged...
        raise StoreError(f"{path} is not a SQLite database ({exc}); it was left unchanged"
                         ) from exc


def _server_tables(engine: Engine) -> tuple[set[str], str | None]:
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        rev = MigrationContext.configure(conn).get_current_revision() if (
            "alembic_version" in names) else None
    return names, rev


def refuse_if_not_review(where: str, names: set[str], rev: str | None,
                         extra_versions: Sequence[Path] = ()) -> None:
    """Raise unless the database is empty or is a review this release can open.

    Why before anything else: opening runs migrations and sets SQLite's
    journal mode, which would change a database that belongs to something else.
    """
    if not names:
        return
    if rev is None:
        shown = ", ".join(sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
        raise StoreError(f"{where} holds {len(names)} tables ({shown}) but is not a review; "
                         "it was left unchanged: pick another --db")
    if rev not in known_revisions(extra_versions):
        raise StoreError(f"{where} is a review at schema revision {rev!r}, which this release "
                         "does not know (made by a newer release?); it was left unchanged")


# --- upgrading --------------------------------------------------------------------------------

def _run_migrations(conn: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def sqlite_copy(path: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite review (the backup API, WAL content included)."""
    with closing(sqlite3.connect(path)) as src, closing(sqlite3.connect(dest)) as dst:
        src.backup(dst)


def _upgrade_sqlite(engine: Engine, cfg: Config, current: str | None) -> None:
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if current is not None and path is not None:
        copy = path.with_name(f"{path.name}.before-{current}.bak")
        if not copy.exists():
            sqlite_copy(path, copy)
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        # Outside any transaction (SQLite ignores the pragma inside one); restored below.
        dbapi.execute("PRAGMA foreign_keys=OFF")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # DDL too: pysqlite would autocommit it
            try:
                _run_migrations(conn, cfg)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    tables = sorted({r[0] for r in broken})
                    raise StoreError(f"the upgrade would leave {len(broken)} rows pointing at "
                                     f"rows that do not exist (tables {', '.join(tables)}); "
                                     "nothing was changed")
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        finally:
            dbapi.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, extra_versions: Sequence[Path] = ()) -> None:
    """Bring the schema to the newest revision, in one transaction; refuses a non-review."""
    url = engine.url.render_as_string(hide_password=False)
    cfg = alembic_config(url, extra_versions)
    if engine.dialect.name == "sqlite":
        path = sqlite_path(url)
        names, current = (_sqlite_tables_readonly(path) if path is not None and path.exists()
                          and path.stat().st_size else (set(), None))
        refuse_if_not_review(str(path), names, current, extra_versions)
        if current is not None and current == head_revision(extra_versions):
            return
        _upgrade_sqlite(engine, cfg, current)
        return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        names = set(inspect(conn).get_table_names())
        rev = MigrationContext.configure(conn).get_current_revision() if (
            "alembic_version" in names) else None
        refuse_if_not_review(engine.url.render_as_string(hide_password=True), names, rev,
                             extra_versions)
        _run_migrations(conn, cfg)


# --- retrying a write that meets a busy database ----------------------------------------------

def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked/busy" (another writer held the file past the timeout)."""
    return isinstance(exc, OperationalError) and any(
        w in str(exc.orig).lower() for w in ("database is locked", "database is busy"))


def retry_busy(fn: Callable[[], T], *, attempts: int = 4, pause_s: float = 0.5) -> T:
    """Run a write transaction, again if SQLite stayed busy; a clear error after the last try.

    Each try already waits up to :data:`BUSY_TIMEOUT_S` for the other writer,
    so this covers a long import or a backup holding the file; the caller's
    transaction was rolled back whole each time, so running it again is safe.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            if attempt == attempts:
                raise StoreBusyError("the review is busy (another process is writing to it); "
                                     "nothing was saved: please try again in a moment") from exc
            time.sleep(pause_s * attempt)
    raise AssertionError("unreachable")


@dataclass
class Store:
    """A connection to one review: an engine plus a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed if the block succeeds, rolled back whole if not."""
        s = self.sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def close(self) -> None:
        self.engine.dispose()


def open_store(db: str | os.PathLike[str] | None = None, *, create: bool = True,
               extra_versions: Sequence[Path] = ()) -> Store:
    """Open (and migrate) a review. ``create=False`` refuses a SQLite file that does not exist."""
    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise StoreError(f"no review at {path}: create one with `review init --db {path}`")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        upgrade(engine, extra_versions)
    except StoreError:
        engine.dispose()
        raise
    except Exception as exc:  # a server that is down, a migration that failed...
        engine.dispose()
        raise StoreError(f"cannot open review database {make_url(url)!r}: {exc}") from exc
    sessions = sessionmaker(engine, expire_on_commit=False)
    hide_unfinished_imports(sessions)
    store = Store(url=url, engine=engine, sessions=sessions)
    # What a killed import left (hidden rows) goes at the next open, as SQLite rolls its own
    # journal back. Local import: the staging module is built on this one.
    from review.store.staging import sweep_abandoned

    sweep_abandoned(store)
    return store
