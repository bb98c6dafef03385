"""`review backup` / `review restore`: a whole review survives the round trip, across backends."""

from __future__ import annotations

import zipfile

import pytest
from typer.testing import CliRunner

from review.cli import app
from review.store import open_store, repo
from review.store.backup import BackupError, backup, restore


def _fill(store):
    recs = [{"title": f"Peer support for young carers {i}", "authors": ["Ó Súilleabháin, C."],
             "year": 2020, "doi": f"10.5555/yc.{i}", "original": {"N1": "note ü"}}
            for i in range(4)]
    repo.add_source(store, name="PsycINFO", kind="database", file_name="p.ris",
                    file_format="ris", sha256="b" * 64, records=recs)
    ana = repo.add_reviewer(store, "ana", password="pw")
    for rid in repo.records_frame(store)["record_id"]:
        repo.add_decision(store, record_id=int(rid), reviewer_id=ana, stage="title_abstract",
                          label="include", reason=None, note="looks relevant")
    return ana


def _snapshot(store):
    recs = repo.records_frame(store).drop(columns=["source_id"])
    dec = repo.decisions_frame(store, "title_abstract").drop(columns=["created_at"])
    return recs.to_dict("records"), dec.to_dict("records"), repo.reviewers_frame(store).to_dict(
        "records")


def test_round_trip_sqlite_to_target_backend(tmp_path, db_url):
    src = open_store(tmp_path / "origin.db")
    _fill(src)
    files = tmp_path / "origin-files"
    files.mkdir()
    (files / "report-1.pdf").write_bytes(b"%PDF-1.4 demo")
    archive = tmp_path / "review-backup.zip"
    counts = backup(src, archive, files)
    assert counts["record"] == 4 and counts["decision"] == 4

    dst = open_store(db_url)
    restored_files = tmp_path / "restored-files"
    restore(dst, archive, restored_files)
    assert _snapshot(dst) == _snapshot(src)
    assert (restored_files / "report-1.pdf").read_bytes() == b"%PDF-1.4 demo"
    # the restored review keeps working: new rows get fresh ids, logins still verify
    assert repo.authenticate(dst, "ana", "pw") is not None
    new = repo.add_reviewer(dst, "ben", password="pw")
    assert new > max(r["reviewer_id"] for r in _snapshot(src)[2])
    src.close()
    dst.close()


def test_restore_refuses_non_empty_target_and_damaged_archive(tmp_path):
    src = open_store(tmp_path / "a.db")
    _fill(src)
    archive = tmp_path / "b.zip"
    backup(src, archive)
    with pytest.raises(BackupError, match="not empty"):
        restore(src, archive)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as zin, zipfile.ZipFile(damaged, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "tables/decision.jsonl":
                data = data.replace(b"include", b"exclude")
            zout.writestr(item, data)
    empty = open_store(tmp_path / "c.db")
    with pytest.raises(BackupError, match="decision is damaged"):
        restore(empty, damaged)
    assert repo.count_records(empty) == 0  # nothing half-restored


def test_backup_and_restore_commands(tmp_path):
    src = open_store(tmp_path / "a.db")
    _fill(src)
    runner = CliRunner()
    out = tmp_path / "bk.zip"
    r = runner.invoke(app, ["backup", str(out), "--db", str(tmp_path / "a.db")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["restore", str(out), "--db", str(tmp_path / "new.db")])
    assert r.exit_code == 0, r.output
    assert repo.count_records(open_store(tmp_path / "new.db")) == 4
    r = runner.invoke(app, ["restore", str(tmp_path / "a.db"), "--db", str(tmp_path / "x.db")])
    assert r.exit_code == 1 and "not a review backup" in r.output
