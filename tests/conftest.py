"""Shared fixtures: a fresh review database on SQLite and, where configured, PostgreSQL.

``REVIEW_TEST_POSTGRES_URL`` (set by ``.ci/run`` to the machine's server) makes
every ``store`` test run twice, once per backend; each PostgreSQL test gets a
database of its own, created and dropped around it, so tests never see each
other's rows.

Under ``CI=true`` (``.ci/run`` sets it) a missing PostgreSQL server, Chromium,
Playwright or shared labelled data set is a **failure**, not a skip: a run
that silently skipped a backend would pass without testing it. On a
developer's machine the same tests skip and say why.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from review.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
#: The shared labelled sets: $REVIEW_SHARED_DATA (set by .ci/run), else beside the checkout.
SHARED_DATA = Path(os.environ.get("REVIEW_SHARED_DATA") or ROOT.parent / "shared" / "data")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ENV = "REVIEW_TEST_POSTGRES_URL"
#: True in continuous integration, where every backend must be there.
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# Sentence vectors are cached per user (review/screening/embedding.py); the tests keep theirs
# in a file of their own, so a run neither reads nor fills the user's cache.
os.environ["REVIEW_EMBEDDING_CACHE"] = str(
    Path(tempfile.mkdtemp(prefix="review-test-embeddings-")) / "embeddings.sqlite3")
#: Words in a skip's reason that mean "a backend, the browser or shared data is missing".
_REQUIRED_IN_CI = ("postgresql", "chromium", "playwright", "shared data", "shared labelled")


def _missing(reason: str) -> None:
    """Skip on a developer's machine; fail in CI."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """In CI, turn a skip for a missing backend, browser or shared data set into a failure.

    Covers skips raised anywhere (``skipif`` markers, ``importorskip``, a test's
    own ``pytest.skip``), so a new test cannot quietly opt out.
    """
    outcome = yield
    report = outcome.get_result()
    if not (IN_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    needs = any(item.get_closest_marker(m) for m in ("browser", "postgres"))
    if needs or any(w in reason.lower() for w in _REQUIRED_IN_CI):
        report.outcome = "failed"
        report.longrepr = (f"CI=true: this test was skipped ({reason}); a missing backend, "
                           "browser or shared data set fails CI instead of skipping")


def backend_missing(what: str) -> None:
    """A test backend that is not there fails in CI and skips on a contributor's machine."""
    _missing(what)


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
        _missing(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    name = f"review_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down: say so rather than fail obscurely
        engine.dispose()
        _missing(f"PostgreSQL at {PG_ENV} is not reachable: {exc}")
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


def _pdf_with_text(*lines: str) -> bytes:
    """A real one-page PDF with these lines of extractable text (drawn by matplotlib, so
    nothing is downloaded)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.5, 11))
        for i, line in enumerate(lines):
            fig.text(0.05, 0.9 - 0.05 * i, line)
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf")
        plt.close(fig)
    return buf.getvalue()


@pytest.fixture
def make_pdf():
    """``make_pdf(*lines) -> bytes``: a real PDF for full-text and PDF-import tests."""
    return _pdf_with_text
