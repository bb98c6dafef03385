"""Shared fixtures: a fresh review database on SQLite and, where configured, PostgreSQL.

``REVIEW_TEST_POSTGRES_URL`` (set by ``.ci/run`` to the machine's server) makes
every ``store`` test run twice, once per backend; each PostgreSQL test gets a
database of its own, created and dropped around it, so tests never see each
other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from review.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ENV = "REVIEW_TEST_POSTGRES_URL"


def backend_missing(what: str) -> None:
    """A test backend that is not there fails in CI (``$CI`` set, as ``.ci/run`` does) and
    skips on a contributor's machine, so CI can never pass by skipping."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must run these tests)")
    pytest.skip(what)


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for one test (dropped afterwards)."""
    admin = _pg_admin_url()
    if admin is None:
        backend_missing(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    name = f"review_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down: say so rather than fail obscurely
        engine.dispose()
        backend_missing(f"PostgreSQL at {PG_ENV} is not reachable: {exc}")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh review database URL on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "review.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An opened (migrated) empty review on each backend."""
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """An opened empty review in a SQLite file, for tests that need only one backend."""
    s = open_store(tmp_path / "review.db")
    try:
        yield s
    finally:
        s.close()
