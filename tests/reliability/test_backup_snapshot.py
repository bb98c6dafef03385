"""A backup taken while the team works must restore: it is one moment of the review, not several.

The lead runs ``review backup`` on a live team server. If a reviewer's
decision (or an import) commits while the backup is between two tables, the
archive can hold a decision whose record it does not hold, and ``review
restore`` then refuses the whole archive: the backup is useless exactly when
it is needed. The test commits a new source and a decision on one of its
records from a second connection at that moment.
"""

from __future__ import annotations

from pathlib import Path

from reliability_helpers import make_records
from sqlalchemy import event

from review.store import Store, open_store, repo
from review.store.backup import backup, restore

TA = "title_abstract"


def test_backup_during_writes_restores(store: Store, db_url: str, tmp_path: Path) -> None:
    repo.add_source(store, name="PubMed", kind="database", file_name="p.nbib", file_format="nbib",
                    sha256="1" * 64, records=make_records(3, seed=1))
    ana = repo.add_reviewer(store, "ana")
    colleague = open_store(db_url)  # another app process, its own connections
    fired = []

    def meanwhile(conn, cursor, statement, params, context, executemany):
        if not fired and statement.startswith("SELECT") and "FROM decision" in statement:
            fired.append(True)  # the backup has read the records; now the team writes
            repo.add_source(colleague, name="Scopus", kind="database", file_name="s.ris",
                            file_format="ris", sha256="2" * 64, records=make_records(2, seed=2))
            newest = int(repo.records_frame(colleague)["record_id"].max())
            repo.add_decision(colleague, record_id=newest, reviewer_id=ana, stage=TA,
                              label="include")

    event.listen(store.engine, "before_cursor_execute", meanwhile)
    try:
        archive = tmp_path / "backup.zip"
        counts = backup(store, archive)
    finally:
        event.remove(store.engine, "before_cursor_execute", meanwhile)
        colleague.close()
    assert fired
    target = open_store(tmp_path / "restored.db")
    restored = restore(target, archive)  # the archive must be restorable
    assert restored == counts
    decided = set(repo.decisions_frame(target, TA)["record_id"])
    assert decided <= set(repo.records_frame(target)["record_id"])
    target.close()
