"""Restore is all or nothing, checks every file, and never carries a live sign-in (issue 17).

Before: an archive whose PDF entry was named ``files/../x.txt`` was refused
only after every row had been committed, so the target was left with rows and
no PDFs and a retry said "the target review is not empty"; file contents had no
checksum; and ``login_session`` rows travelled, so a browser signed in to the
original was signed in to the copy too.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from review.cli import app
from review.integrity import check_review
from review.store import accounts as auth
from review.store import open_store, repo
from review.store.backup import BackupError, backup, restore
from review.store.instance import session_cookie_name
from review.store.models import Report

PDF = b"%PDF-1.4 peer mentoring trial\n" + bytes(range(256)) * 8


def _fill(store, files: Path) -> None:
    recs = [{"title": f"Peer mentoring for lonely adolescents {i}", "authors": ["Ng, A."],
             "year": 2021, "doi": f"10.5555/pm.{i}"} for i in range(5)]
    repo.add_source(store, name="PubMed", kind="database", file_name="p.nbib",
                    file_format="nbib", sha256="a" * 64, records=recs)
    repo.add_reviewer(store, "ana", password="pw-ana-1")
    sha = hashlib.sha256(PDF).hexdigest()
    rel = f"pdf/{sha[:2]}/{sha}.pdf"
    (files / rel).parent.mkdir(parents=True)
    (files / rel).write_bytes(PDF)
    rid = int(repo.records_frame(store)["record_id"].iloc[0])
    with store.session() as s:
        s.add(Report(record_id=rid, retrieval="retrieved", pdf_path=rel, pdf_sha256=sha))


@pytest.fixture
def origin(tmp_path: Path):
    store = open_store(tmp_path / "origin.db")
    _fill(store, tmp_path / "origin-files")
    yield store
    store.close()


def _rewrite(archive: Path, out: Path, change) -> Path:
    """A copy of ``archive`` with entries changed by ``change(name, data) -> [(name, data)]``."""
    with zipfile.ZipFile(archive) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            for name, data in change(item.filename, zin.read(item.filename)):
                zout.writestr(name, data)
    return out


def _empty(store) -> bool:
    return repo.count_records(store) == 0 and repo.reviewers_frame(store).empty


def test_unsafe_file_name_is_refused_before_anything_is_written(origin, tmp_path: Path,
                                                                 db_url: str) -> None:
    archive = tmp_path / "good.zip"
    backup(origin, archive, tmp_path / "origin-files")

    def add_escape(name, data):
        yield name, data
        if name == "manifest.json":
            yield "files/../x.txt", b"outside the files folder"

    bad = _rewrite(archive, tmp_path / "bad.zip", add_escape)
    target = open_store(db_url)
    files = tmp_path / "target-files"
    with pytest.raises(BackupError, match="unsafe file name"):
        restore(target, bad, files)
    assert _empty(target)
    assert not files.exists() and not (tmp_path / "x.txt").exists()
    counts = restore(target, archive, files)  # a retry with a good archive is accepted
    assert counts["record"] == 5
    assert check_review(target, files) == []
    target.close()


def test_changed_pdf_in_the_archive_is_refused(origin, tmp_path: Path) -> None:
    archive = tmp_path / "good.zip"
    backup(origin, archive, tmp_path / "origin-files")
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    assert manifest["files"] and all(len(v) == 64 for v in manifest["files"].values())

    def flip(name, data):
        yield name, (data[:-1] + b"!" if name.startswith("files/") else data)

    bad = _rewrite(archive, tmp_path / "bad.zip", flip)
    target = open_store(tmp_path / "target.db")
    with pytest.raises(BackupError, match="stored file .* is damaged"):
        restore(target, bad, tmp_path / "target-files")
    assert _empty(target) and not (tmp_path / "target-files").exists()

    def drop_files(name, data):
        if not name.startswith("files/"):
            yield name, data

    short = _rewrite(archive, tmp_path / "short.zip", drop_files)
    with pytest.raises(BackupError, match="missing from the archive"):
        restore(target, short, tmp_path / "target-files")
    assert _empty(target)
    target.close()


def test_backup_carries_no_login_session(origin, tmp_path: Path) -> None:
    session_cookie_name(origin)  # the original has been served (its id exists)
    signed = auth.sign_in(origin, "ana", "pw-ana-1")
    assert signed is not None
    token = signed[0]
    assert auth.resume(origin, token) is not None
    archive = tmp_path / "b.zip"
    backup(origin, archive, tmp_path / "origin-files")
    assert "tables/login_session.jsonl" not in zipfile.ZipFile(archive).namelist()
    copy = open_store(tmp_path / "copy.db")
    restore(copy, archive, tmp_path / "copy-files")
    assert auth.resume(copy, token) is None  # the original's browser is not signed in here
    assert auth.sign_in(copy, "ana", "pw-ana-1") is not None  # the password still works
    # the sign-in cookie is named per copy, so the browser does not even send the original's
    assert session_cookie_name(copy) != session_cookie_name(origin)
    assert session_cookie_name(copy) == session_cookie_name(copy)
    again = open_store(tmp_path / "again.db")  # a copy of a copy: the id never travels
    backup(copy, tmp_path / "c.zip", tmp_path / "copy-files")
    restore(again, tmp_path / "c.zip", tmp_path / "again-files")
    assert session_cookie_name(again) not in (session_cookie_name(copy),
                                              session_cookie_name(origin))
    again.close()
    copy.close()


def test_check_finds_a_missing_or_changed_pdf(origin, tmp_path: Path) -> None:
    files = tmp_path / "origin-files"
    assert check_review(origin, files) == []
    pdf = next(files.rglob("*.pdf"))
    pdf.write_bytes(PDF + b"edited")
    assert [p.check for p in check_review(origin, files)] == ["changed_file"]
    pdf.unlink()
    assert [p.check for p in check_review(origin, files)] == ["missing_file"]
    r = CliRunner().invoke(app, ["check", "--db", str(tmp_path / "origin.db")])
    assert r.exit_code == 1 and "missing" in r.output
