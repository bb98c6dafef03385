"""`review check` and :mod:`review.integrity`: a clean review passes; each broken rule is named.

The broken reviews are made the way a crash or a hand edit would make them:
rows written with plain SQL past the repository's rules.
"""

from __future__ import annotations

import pandas as pd
from reliability_helpers import make_records
from sqlalchemy import delete, insert, update
from typer.testing import CliRunner

import review.cli.check  # noqa: F401  (registers `review check`)
from review.cli import app as cli
from review.integrity import check_review, find_problems, read_tables
from review.store import Store, open_store, repo
from review.store.models import DuplicateLink, Record, Source, utcnow

TA = "title_abstract"


def _review(store: Store, n: int = 6) -> tuple[list[int], list[int]]:
    repo.add_source(store, name="PubMed", kind="database", file_name="p.nbib", file_format="nbib",
                    sha256="a" * 64, records=make_records(n, seed=2))
    people = [repo.add_reviewer(store, u) for u in ("ana", "ben", "cleo")]
    ids = repo.records_frame(store)["record_id"].astype(int).tolist()
    return ids, people


def _checks(store: Store) -> set[str]:
    return {p.check for p in check_review(store)}


def test_a_clean_review_has_no_problems(store: Store) -> None:
    ids, people = _review(store)
    repo.link_duplicate(store, ids[1], ids[0])
    repo.add_decision(store, record_id=ids[0], reviewer_id=people[0], stage=TA, label="include",
                      request_id="r1")
    repo.add_resolution(store, record_id=ids[0], stage=TA, label="include",
                        resolved_by=people[2])
    assert check_review(store) == []


def test_half_import_is_found(store: Store) -> None:
    ids, _ = _review(store)
    with store.session() as s:
        s.execute(delete(Record).where(Record.id == ids[-1]))
    problems = check_review(store)
    assert [p.check for p in problems] == ["half_import"]
    assert "says 6 records but 5 are stored" in problems[0].message


def test_chained_links_are_found(store: Store) -> None:
    ids, _ = _review(store)
    repo.link_duplicate(store, ids[2], ids[1])
    with store.session() as s:  # a→b→c, past the rules
        s.execute(insert(DuplicateLink).values(record_id=ids[1], canonical_id=ids[0],
                                               method="manual", created_at=utcnow()))
    problems = check_review(store)
    assert [p.check for p in problems] == ["link_chain"]
    assert problems[0].rows == (ids[2],)


def test_an_undone_link_does_not_count(store: Store) -> None:
    ids, _ = _review(store)
    first = repo.link_duplicate(store, ids[1], ids[0])
    repo.unlink_duplicate(store, first)
    repo.link_duplicate(store, ids[0], ids[1])  # the other way round, after the undo
    assert check_review(store) == []


def test_too_many_reviewers_and_wrong_counts_are_found(store: Store) -> None:
    ids, people = _review(store)
    repo.set_setting(store, "reviewers_per_record", 2)
    for p in people:  # three people on one record of a dual-screening review
        repo.add_decision(store, record_id=ids[0], reviewer_id=p, stage=TA, label="exclude")
    with store.session() as s:
        s.execute(update(Source).values(record_count=7))
    assert _checks(store) == {"too_many_reviewers", "half_import"}


def test_repeated_request_ids_are_found(store: Store) -> None:
    # The unique constraint forbids this on a live database, so the pure check is fed the
    # rows a restored or hand-merged database could hold.
    ids, people = _review(store)
    first = repo.add_decision(store, record_id=ids[0], reviewer_id=people[0], stage=TA,
                              label="include", request_id="same")
    tables = read_tables(store)
    assert find_problems(tables) == []
    copy = tables.decisions.iloc[[0]].assign(id=first + 1)
    tables.decisions = pd.concat([tables.decisions, copy], ignore_index=True)
    problems = find_problems(tables)
    assert [p.check for p in problems] == ["repeated_request"]
    assert problems[0].rows == (first, first + 1)


def test_review_check_command(tmp_path) -> None:
    path = tmp_path / "review.db"
    store = open_store(path)
    ids, _ = _review(store)
    ok = CliRunner().invoke(cli, ["check", "--db", str(path)])
    assert ok.exit_code == 0 and "No problems" in ok.output
    with store.session() as s:
        s.execute(delete(Record).where(Record.id == ids[0]))
    store.close()
    bad = CliRunner().invoke(cli, ["check", "--db", str(path)])
    assert bad.exit_code == 1
    assert "half_import" in bad.output
