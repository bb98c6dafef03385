"""A big import is a bulk insert: a handful of statements, whatever gaps the records have.

Why it matters to a user: a 50,000-record import holds the review's write lock
(SQLite) or one long transaction (PostgreSQL) for as long as it runs, and every
reviewer's click waits behind it on SQLite. Counting statements (not seconds)
keeps this test free of timing.
"""

from __future__ import annotations

from reliability_helpers import make_records
from sqlalchemy import event

from review.store import Store, repo


def insert_statements(store: Store, records: list[dict]) -> int:
    seen = {"n": 0}

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO RECORD"):
            seen["n"] += 1

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        repo.add_source(store, name="PsycINFO", kind="database", file_name="p.ris",
                        file_format="ris", sha256="c" * 64, records=records)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return seen["n"]


def test_records_without_gaps_go_in_a_few_statements(store: Store) -> None:
    full = [{**r, "doi": r["doi"] or "10.1/x", "abstract": r["abstract"] or "text",
             "journal": r["journal"] or "J", "issue": r["issue"] or "1"}
            for r in make_records(2000, seed=4)]
    assert insert_statements(store, full) <= 10
    assert repo.count_records(store) == 2000


def test_records_with_mixed_gaps_still_go_in_a_few_statements(store: Store) -> None:
    records = make_records(2000, seed=4)  # DOI, abstract, journal, issue missing at random
    assert insert_statements(store, records) <= 10
    assert repo.count_records(store) == 2000
