"""SIGKILL in the middle of an import, a deduplication run, decision writes and a restore.

Each test runs a scenario of ``fault_scenarios.py`` on SQLite and PostgreSQL:
real work in a real child process, killed (SIGKILL: no ``finally``, no
rollback, no flush runs in it) once it is provably mid-way, then the review
is opened again as a restarted app would open it. What a reviewer relies on:

* no half import: a source is there with all its records, or not at all;
* no orphan or chained duplicate links, no record with two live links;
* every decision the child saw committed is stored exactly once, and a
  retried submit of one it never heard back about lands exactly once;
* at most two reviewers per record still holds, the PRISMA counts compute
  and agree with the decisions, and the interrupted work can simply be run again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_scenarios import (
    FaultOutcome,
    cli_import_killed,
    deciders_killed,
    decision_killed_at,
    dedup_killed,
    import_killed_before_commit,
    restore_killed,
)

#: Each test spawns and kills real processes: seconds each, a couple of minutes in all.
pytestmark = pytest.mark.slow


def no_problems(out: FaultOutcome) -> None:
    assert out.problems == [], "\n".join(f"{p.check}: {p.message}" for p in out.problems)


def test_import_killed_mid_transaction_through_the_cli(db_url: str, tmp_path: Path) -> None:
    out = cli_import_killed(db_url, tmp_path)
    # All or nothing (the kill may, rarely, land after the COMMIT went out).
    assert (out.sources, out.records) in ((0, 0), (1, out.expected_records))
    no_problems(out)
    assert out.restart_ok in (True, None) and (out.restart_ok or out.sources == 1)


def test_import_killed_just_before_commit_leaves_nothing(db_url: str, tmp_path: Path) -> None:
    out = import_killed_before_commit(db_url, tmp_path)
    assert out.visible_before_kill == 0  # written inside the child's transaction only
    assert (out.sources, out.records, out.audit_rows) == (0, 0, 0)
    no_problems(out)
    assert out.restart_ok


@pytest.mark.parametrize("kill_point", ["link:5", "commit"])
def test_dedup_run_killed_mid_way_links_nothing(db_url: str, tmp_path: Path,
                                                kill_point: str) -> None:
    out = dedup_killed(db_url, tmp_path, kill_point)
    assert out.visible_before_kill == 0
    assert (out.links, out.candidates, out.audit_rows) == (0, 0, 0)
    assert out.records == 0  # no canonical record was left half-merged
    no_problems(out)
    assert out.restart_ok  # run again: it completes, with straight links only


def test_two_deciding_processes_killed_one_after_the_other(db_url: str, tmp_path: Path) -> None:
    out = deciders_killed(db_url, tmp_path)
    assert out.confirmed >= 70
    assert (out.lost, out.duplicated) == (0, 0)
    assert out.in_flight <= 2 and out.retried_once == out.in_flight
    no_problems(out)  # includes: no record held by more than 2 reviewers
    prisma, derived = out.prisma_excluded
    assert prisma == derived


@pytest.mark.parametrize("kill_point", ["decision-commit:7", "after-commit:7"])
def test_decision_killed_around_its_commit_lands_once_on_retry(db_url: str, tmp_path: Path,
                                                               kill_point: str) -> None:
    out = decision_killed_at(db_url, tmp_path, kill_point)
    committed = kill_point.startswith("after-commit")
    assert (out.confirmed, out.found, out.lost, out.duplicated) == (6, 6, 0, 0)
    assert out.in_flight == 1 and out.in_flight_stored == (1 if committed else 0)
    assert out.retried_once == 1
    if not committed:
        assert out.resumed_same_record
    no_problems(out)
    prisma, derived = out.prisma_excluded
    assert prisma == derived


def test_restore_killed_mid_way_leaves_the_target_empty(db_url: str, tmp_path: Path) -> None:
    out = restore_killed(db_url, tmp_path)
    assert (out.sources, out.records) in ((0, 0), (1, out.expected_records))
    no_problems(out)
    assert out.restart_ok in (True, None) and (out.restart_ok or out.records)
