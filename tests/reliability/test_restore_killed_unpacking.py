"""`review restore` killed while it unpacks the stored PDFs leaves an empty review to retry.

Before (issue 17): the rows were committed first and the files written after,
so a kill during file extraction left rows without their PDFs, and a retry
failed with "the target review is not empty". Now the files are unpacked into
a private folder before the rows are written, and moved into place with the
commit.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from reliability_helpers import make_records, review_command, sigkill, wait_until
from typer.testing import CliRunner

from review.cli import app
from review.integrity import check_review
from review.store import open_store, repo
from review.store.backup import backup

N_FILES = 1500


def _unpacking(tmp_path: Path) -> bool:
    """Some stored file has been written somewhere under the target's folder."""
    for folder in [tmp_path / "target-files", *tmp_path.glob(".restoring-*")]:
        if folder.is_dir() and any(p.is_file() for p in folder.rglob("*.pdf")):
            return True
    return False


def test_restore_killed_while_unpacking_files(tmp_path: Path) -> None:
    origin = open_store(tmp_path / "origin.db")
    repo.add_source(origin, name="PubMed", kind="database", file_name="p.nbib",
                    file_format="nbib", sha256="9" * 64, records=make_records(50, seed=4))
    files = tmp_path / "origin-files" / "pdf"
    files.mkdir(parents=True)
    for i in range(N_FILES):  # incompressible, so unpacking takes a while
        (files / f"{i:05d}.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(24_000))
    archive = tmp_path / "backup.zip"
    backup(origin, archive, tmp_path / "origin-files")
    origin.close()

    target_db = tmp_path / "target.db"
    open_store(target_db).close()
    proc = subprocess.Popen([review_command(), "restore", str(archive), "--db", str(target_db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: _unpacking(tmp_path), "`review restore` to be unpacking files", proc,
               timeout=120, every=0.005)
    sigkill(proc)

    target = open_store(target_db)
    assert repo.count_records(target) == 0  # no row without its files
    assert not (tmp_path / "target-files").exists()
    target.close()
    again = CliRunner().invoke(app, ["restore", str(archive), "--db", str(target_db)])
    assert again.exit_code == 0, again.output
    target = open_store(target_db)
    assert repo.count_records(target) == 50
    assert len(list((tmp_path / "target-files" / "pdf").glob("*.pdf"))) == N_FILES
    assert check_review(target) == []
    target.close()
