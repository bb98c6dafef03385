"""Helpers for the reliability tests: records in bulk, child processes to kill, waiting, checking.

The fault tests run the work in a real child process (``fault_child.py``) and
SIGKILL it; these helpers start it, wait until it is provably in the middle of
its work, kill it, wait until the database has let go of it, and derive the
expected PRISMA numbers from the raw decision rows independently of
:mod:`review.stages`.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
CHILD = HERE / "fault_child.py"
#: PostgreSQL application_name the children connect with, so the parent can find their backends.
CHILD_APP = "review-fault-child"

_TOPICS = ["mentoring", "peer support", "family support", "school linkage",
           "community capacity building", "service integration"]
_WORDS = ("loneliness belonging social support young people adolescents children wellbeing "
          "isolation friendship resilience school family community trial cohort outcomes "
          "programme evaluation connectedness anxiety depression").split()


def make_records(n: int, seed: int = 0, tag: str = "") -> list[dict]:
    """``n`` distinct, plausible records with the gaps real exports have (no DOI, no abstract)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        topic = _TOPICS[i % len(_TOPICS)]
        words = " ".join(rng.choices(_WORDS, k=60))
        out.append({
            "title": f"{topic.capitalize()} and loneliness in young people {tag}{seed}-{i}",
            "authors": [f"Author{i}, A.", f"Second{rng.randrange(999)}, B."],
            "year": 2000 + rng.randrange(25),
            "journal": rng.choice(["J Youth Ment Health", "Child Dev", None]),
            "volume": str(rng.randrange(1, 60)),
            "issue": rng.choice([str(rng.randrange(1, 12)), None]),
            "pages": f"{rng.randrange(1, 900)}-{rng.randrange(900, 999)}",
            "doi": rng.choice([f"10.5555/{tag}{seed}.{i}", None]),
            "abstract": rng.choice([f"We studied {topic}. {words}.", None]),
            "keywords": ["loneliness", topic],
            "type": "article",
        })
    return out


def duplicate_records(n: int, seed: int = 0) -> list[dict]:
    """Records with known duplicates among them (the dedup stage's synthetic generator)."""
    from review.dedup.synthetic import generate

    df, _groups = generate(n, seed=seed)
    recs = []
    for r in df.to_dict("records"):
        recs.append({
            "title": r["title"] or None,
            "authors": [a.strip() for a in str(r["author"] or "").split(" and ") if a.strip()],
            "year": int(r["year"]) if r["year"] else None,
            "journal": r["journal"] or None, "volume": r["volume"] or None,
            "issue": r["number"] or None, "pages": r["pages"] or None,
            "doi": r["doi"] or None, "abstract": r["abstract"] or None, "type": "article",
        })
    return recs


def with_app_name(url: str) -> str:
    """The same database URL, tagged so the child's PostgreSQL backends can be found."""
    if "://" not in url or url.startswith("sqlite"):
        return url
    return make_url(url).update_query_dict({"application_name": CHILD_APP}).render_as_string(
        hide_password=False)


def start_child(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    """``python fault_child.py ARGS`` in a new process (its own interpreter: a real crash)."""
    return subprocess.Popen([sys.executable, str(CHILD), *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def review_command() -> str:
    """The installed ``review`` command of this interpreter's environment."""
    return str(Path(sys.executable).with_name("review"))


def wait_until(predicate: Callable[[], bool], what: str, proc: subprocess.Popen | None = None,
               timeout: float = 30.0, every: float = 0.01) -> None:
    """Poll until ``predicate()``; fail naming ``what`` (and the child's output) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the child ended (rc {proc.returncode}) before {what}:\n"
                                 f"{out}\n{err}")
        time.sleep(every)
    if proc is not None:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"timed out waiting for {what}; child said:\n{out}\n{err}")
    raise AssertionError(f"timed out waiting for {what}")


def sigkill(proc: subprocess.Popen) -> None:
    """SIGKILL the child and reap it (no cleanup of any kind runs in it)."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()


def _pg_backends(url: str, where: str) -> list[tuple]:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT pid, state, left(query, 60) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND " + where)))
    finally:
        engine.dispose()


def pg_child_in_transaction(url: str, statement_prefix: str | None = None) -> bool:
    """Whether a child's backend is in a transaction (optionally running ``statement_prefix``)."""
    cond = f"application_name = '{CHILD_APP}' AND xact_start IS NOT NULL"
    if statement_prefix:
        cond += f" AND query ILIKE '{statement_prefix}%'"
    return bool(_pg_backends(url, cond))


def wait_for_server_to_drop_child(url: str) -> None:
    """After a SIGKILL the server notices the closed socket and rolls back; wait for that."""
    if not url.startswith("postgresql"):
        return
    wait_until(lambda: not _pg_backends(url, f"application_name = '{CHILD_APP}'"),
               "the server to end the killed child's session", timeout=20)


def sqlite_write_locked(url_or_path: str) -> bool:
    """Whether some connection holds SQLite's write lock (is inside a write transaction)."""
    path = url_or_path.removeprefix("sqlite:///")
    con = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


def read_log(path: Path) -> tuple[dict[str, tuple], dict[str, int]]:
    """A deciding child's log: attempts (request id → record, reviewer, label, reason) and
    done (request id → decision id, as returned after the commit)."""
    attempts: dict[str, tuple] = {}
    done: dict[str, int] = {}
    if not path.exists():
        return attempts, done
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if parts[0] == "attempt" and len(parts) == 6:
            attempts[parts[1]] = (int(parts[2]), int(parts[3]), parts[4], parts[5] or None)
        elif parts[0] == "done" and len(parts) == 3:
            done[parts[1]] = int(parts[2])
    return attempts, done


def expected_excluded(rows: list[tuple[int, int, int, str]], per_record: int) -> int:
    """Records a review counts as excluded at title/abstract, from raw (id, record, reviewer,
    label) rows: each reviewer's latest label (``retracted`` = none), and then exclusion when
    ``per_record`` reviewers all said exclude. Written without :mod:`review.stages`."""
    latest: dict[tuple[int, int], tuple[int, str]] = {}
    for did, rec, rev, label in rows:
        key = (rec, rev)
        if key not in latest or did > latest[key][0]:
            latest[key] = (did, label)
    labels: dict[int, list[str]] = {}
    for (rec, _rev), (_did, label) in latest.items():
        if label != "retracted":
            labels.setdefault(rec, []).append(label)
    return sum(1 for got in labels.values() if len(got) >= per_record and set(got) == {"exclude"})
