"""Opening a review's database: where it is, how it is tuned, and bringing its schema up to date.

A review is one SQLite file by default (WAL, so the app can read while a
reviewer writes) or a PostgreSQL database for a team server; the same code
serves both. The schema is versioned with Alembic and upgraded on open, so a
review made with an older release opens with a newer one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_DB = "review.db"
_PG_MIGRATION_LOCK = 74_204_619  # arbitrary advisory-lock key: one migrator at a time


class StoreError(Exception):
    """The database cannot be opened or is not a review."""


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """``--db`` value → SQLAlchemy URL: the value, else $REVIEW_DATABASE_URL, else ./review.db."""
    value = str(db) if db else os.environ.get("REVIEW_DATABASE_URL") or DEFAULT_DB
    if "://" in value:
        url = make_url(value)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def make_engine(url: str) -> Engine:
    """An engine tuned per backend: WAL, foreign keys and a busy timeout on SQLite."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised via open
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; on PostgreSQL one process at a time."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


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


def open_store(db: str | os.PathLike[str] | None = None, *, create: bool = True) -> Store:
    """Open (and migrate) a review. ``create=False`` refuses a SQLite file that does not exist."""
    url = resolve_url(db)
    if url.startswith("sqlite:///") and not create:
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise StoreError(f"no review at {path}: create one with `review init --db {path}`")
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception as exc:  # a file that is not a review, a server that is down...
        engine.dispose()
        raise StoreError(f"cannot open review database {make_url(url)!r}: {exc}") from exc
    return Store(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
