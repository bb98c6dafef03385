"""Streaming import: any file size in bounded memory, same records as a whole-file read.

What a user would notice: a 1 GB export imports without exhausting memory;
the records are exactly those ``read_records`` gives; a fault near the end of
the file names its line and leaves the review as it was; a file imported
before is refused before it is parsed.
"""

from __future__ import annotations

import gc
import textwrap
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import review.io.stream as stream_module
from review.cli import app as cli
from review.io import (
    ImportFormatError,
    iter_records,
    open_stream,
    read_bytes,
    read_records,
)
from review.store import Store, repo
from review.store.models import AuditLog, Record, Source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"
ABSTRACT = (
    "Loneliness in childhood and adolescence predicts later depression; peer mentoring, "
    "family support and school linkage programmes aim to strengthen belonging. "
) * 12  # about 1,900 characters, wrapped over lines below as EndNote does


def write_ris(path: Path, n: int, *, tail: str = "") -> list[int]:
    """``n`` RIS records titled "Record i"; returns the line each record starts on."""
    starts: list[int] = []
    line = 1
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(n):
            wrapped = textwrap.wrap(ABSTRACT, 300)
            lines = [
                "TY  - JOUR",
                f"TI  - Record {i}: mentoring and belonging in Ærø schools",
                f"AU  - Nørgaard, Ida {i}",
                "AU  - Okafor, Emeka",
                f"PY  - {1990 + i % 35}///",
                "AB  - " + wrapped[0],
                *wrapped[1:],
                "KW  - loneliness",
                "peer support",
                f"DO  - 10.5555/stream.{i}",
                "ER  - ",
                "",
            ]
            starts.append(line)
            line += len(lines)
            out.write("\n".join(lines) + "\n")
        out.write(tail)
    return starts


def write_nbib(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(n):
            wrapped = textwrap.wrap(ABSTRACT, 80)
            out.write(
                f"PMID- {30000000 + i}\nOWN - NLM\nTI  - Record {i}: peer support\n"
                f"AB  - {wrapped[0]}\n" + "".join(f"      {w}\n" for w in wrapped[1:])
                + f"FAU - Smith, Anna {i}\nAU  - Smith A\nDP  - {2000 + i % 20}\n"
                f"SO  - J Adolesc. {2000 + i % 20};{i}:1-9.\n\n"
            )


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Title,Authors,Year,Abstract\r\n")
        for i in range(n):
            out.write(f'"Record {i}, a ""quoted"" title","Li, W; Park, S",{2000 + i % 20},'
                      f'"{ABSTRACT}"\r\n')


def streamed(path: Path, **kw) -> list[dict]:
    return [record for chunk in iter_records(path, **kw) for record in chunk]


# ---- same records as a whole-file read ------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir()))
def test_streaming_gives_exactly_the_whole_file_records(fixture: str, monkeypatch):
    # Tiny text pieces and one-record chunks put every boundary in awkward places.
    monkeypatch.setattr(stream_module, "PIECE_CHARS", 7)
    whole = read_records(FIXTURES / fixture)
    stream = open_stream(FIXTURES / fixture, chunk_size=1)
    records = [r for chunk in stream for r in chunk]
    assert records == whole.records
    assert (stream.fmt, stream.sha256, stream.encoding) == (whole.fmt, whole.sha256, whole.encoding)
    assert stream.n_records == len(whole.records)
    assert stream.missing == whole.missing
    assert stream.warnings == whole.warnings


def test_chunks_hold_at_most_chunk_size_records_in_file_order(tmp_path: Path):
    path = tmp_path / "search.ris"
    write_ris(path, 25)
    chunks = list(iter_records(path, chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    titles = [r["title"] for c in chunks for r in c]
    assert titles == [f"Record {i}: mentoring and belonging in Ærø schools" for i in range(25)]
    assert chunks[0][3]["authors"] == ["Nørgaard, Ida 3", "Okafor, Emeka"]
    assert chunks[0][3]["abstract"] == " ".join(ABSTRACT.split())


# ---- bounded memory -------------------------------------------------------------------


def _peak_traced(path: Path) -> tuple[int, int]:
    """Records and peak Python memory (bytes) of streaming ``path`` without keeping records."""
    gc.collect()
    tracemalloc.start()
    try:
        n = 0
        for chunk in iter_records(path, chunk_size=200):
            n += len(chunk)
        return n, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_streaming_memory_does_not_grow_with_the_file(tmp_path: Path):
    small, big = tmp_path / "small.ris", tmp_path / "big.ris"
    write_ris(small, 2_000)
    write_ris(big, 12_000)  # about 30 MB
    n_small, peak_small = _peak_traced(small)
    n_big, peak_big = _peak_traced(big)
    assert (n_small, n_big) == (2_000, 12_000)
    size = big.stat().st_size
    assert size > 25e6
    assert peak_big < size / 4, f"peak {peak_big / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"
    assert peak_big < 1.5 * peak_small  # six times the records, about the same memory


@pytest.mark.slow
@pytest.mark.parametrize(("writer", "name", "n"), [(write_nbib, "pubmed.nbib", 8_000),
                                                    (write_csv, "scopus.csv", 8_000)])
def test_medline_and_csv_stream_in_bounded_memory(tmp_path: Path, writer, name: str, n: int):
    path = tmp_path / name
    writer(path, n)
    got, peak = _peak_traced(path)
    assert got == n
    size = path.stat().st_size
    assert size > 15e6
    assert peak < size / 3, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"


# ---- faults late in the file ----------------------------------------------------------


def test_malformed_record_near_the_end_names_its_line(tmp_path: Path):
    path = tmp_path / "search.ris"
    starts = write_ris(path, 3_000, tail="TY  - JOUR\nTI  - Cut off mid-record\nAU  - Lee, J\n")
    with pytest.raises(ImportFormatError) as info:
        for _ in iter_records(path):
            pass
    last = starts[-1] + (starts[1] - starts[0])  # the record after the 3,000 whole ones
    assert (info.value.file, info.value.line, info.value.record) == ("search.ris", last, 3_001)
    assert "truncated" in str(info.value)


def test_tagged_line_between_records_late_in_the_file(tmp_path: Path):
    path = tmp_path / "lost.ris"
    starts = write_ris(path, 2_500, tail="TI  - An orphan title\n")
    with pytest.raises(ImportFormatError) as info:
        streamed(path)
    assert info.value.line == starts[-1] + (starts[1] - starts[0])
    assert "'TI' tag outside a record" in str(info.value)


def test_csv_row_with_too_many_cells_near_the_end(tmp_path: Path):
    path = tmp_path / "export.csv"
    write_csv(path, 4_000)
    with path.open("a", encoding="utf-8", newline="") as out:
        out.write('"A stray row",x,2020,abstract,extra cell\r\n')
    with pytest.raises(ImportFormatError) as info:
        streamed(path)
    assert info.value.line == 4_002  # header, 4,000 rows, then the bad one
    assert "malformed table" in str(info.value)


def test_a_file_that_changes_between_the_two_reads_is_refused(tmp_path: Path):
    path = tmp_path / "search.ris"
    write_ris(path, 20)
    stream = open_stream(path)
    write_ris(path, 21)  # the export is overwritten while the import runs
    with pytest.raises(ImportFormatError, match="changed while it was being imported"):
        list(stream)


def _counts(store: Store) -> tuple[int, int, int]:
    with store.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Source)),
            s.scalar(select(func.count()).select_from(Record)),
            s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "import")),
        )


def test_cli_import_of_a_file_broken_at_the_end_leaves_the_review_unchanged(
    tmp_path: Path, store: Store
):
    good = FIXTURES / "scopus.ris"
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(good), "--source", "Scopus", "--db", store.url]
                         ).exit_code == 0
    before = _counts(store)
    path = tmp_path / "psycinfo.ris"
    starts = write_ris(path, 2_500, tail="TY  - JOUR\nTI  - Cut off\n")  # a chunk gets written
    done = runner.invoke(cli, ["import", str(path), "--source", "PsycINFO", "--db", store.url])
    assert done.exit_code == 1
    last = starts[-1] + (starts[1] - starts[0])
    assert f"psycinfo.ris, line {last} (record 2501)" in done.output
    assert _counts(store) == before == (1, 2, 1)


def test_cli_streams_a_good_file_and_reports_as_before(tmp_path: Path, store: Store):
    path = tmp_path / "pubmed.nbib"
    write_nbib(path, 3_000)
    runner = CliRunner()
    done = runner.invoke(cli, ["import", str(path), "--source", "PubMed", "--db", store.url])
    assert done.exit_code == 0, done.output
    assert "Imported 3000 records from pubmed.nbib as source PubMed" in done.output
    assert "Records missing a field: doi 3000" in done.output
    sources = repo.sources_frame(store)
    assert sources["records"].tolist() == [3_000]
    assert sources["missing"].iloc[0]["doi"] == 3_000
    frame = repo.records_frame(store)
    assert frame["title"].iloc[2_999] == "Record 2999: peer support"
    assert frame["pmid"].iloc[0] == "30000000"
    again = runner.invoke(cli, ["import", str(path), "--source", "PubMed", "--db", store.url])
    assert again.exit_code == 1
    assert "already imported as source 'PubMed'" in again.output


# ---- the store side -------------------------------------------------------------------


def _add(store: Store, chunks, sha: str = "d" * 64, **kw) -> int:
    return repo.add_source_streaming(store, name="PsycINFO", kind="database", file_name="p.ris",
                                     file_format="ris", sha256=sha, chunks=chunks, **kw)


def test_a_failing_chunk_rolls_back_the_whole_file(store: Store):
    def chunks():
        yield [{"title": f"A {i}"} for i in range(50)]
        yield [{"title": f"B {i}"} for i in range(50)]
        raise ImportFormatError("p.ris", "broken record", line=999, record=101)

    with pytest.raises(ImportFormatError, match="line 999"):
        _add(store, chunks())
    assert _counts(store) == (0, 0, 0)


def test_summary_is_written_after_the_last_chunk(store: Store):
    missing = {"doi": 0}

    def chunks():
        for k in range(3):
            missing["doi"] += 4  # a streaming reader fills the summary as it goes
            yield [{"title": f"{k}-{i}", "year": 2020} for i in range(4)]

    source_id = _add(store, chunks(), missing=missing)
    sources = repo.sources_frame(store)
    assert sources["source_id"].tolist() == [source_id]
    assert sources["records"].tolist() == [12]
    assert sources["missing"].iloc[0] == {"doi": 12}
    assert repo.records_frame(store)["title"].tolist() == [f"{k}-{i}" for k in range(3)
                                                            for i in range(4)]


def test_a_repeated_file_is_refused_before_any_record_is_read(store: Store, tmp_path: Path):
    path = tmp_path / "search.ris"
    write_ris(path, 30)
    first = open_stream(path)
    _add(store, first, sha=first.sha256)
    second = open_stream(path)
    with pytest.raises(repo.DuplicateImportError):
        _add(store, second, sha=second.sha256)
    assert second.n_records == 0 and second.bytes_read == 0  # never parsed
    assert _counts(store) == (1, 30, 1)


# ---- formats read whole ---------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "fmt"), [("zotero.bib", "BibTeX")])
def test_whole_file_formats_over_their_limit_are_refused(fixture: str, fmt: str, monkeypatch):
    monkeypatch.setitem(stream_module.WHOLE_FILE_LIMITS, "bibtex", 1_000)
    path = FIXTURES / fixture
    assert path.stat().st_size > 1_000
    for read in (lambda: open_stream(path), lambda: read_bytes(path.read_bytes(), fixture)):
        with pytest.raises(ImportFormatError) as info:
            read()
        assert str(info.value).startswith(f"{fixture}: {fmt} files are read whole")
        assert "export the records as RIS" in str(info.value)


def test_xlsx_over_its_limit_is_refused(tmp_path: Path, monkeypatch):
    import pandas as pd

    path = tmp_path / "rayyan.xlsx"
    pd.DataFrame({"Title": [f"Record {i}" for i in range(200)]}).to_excel(path, index=False)
    assert [r["title"] for c in iter_records(path) for r in c][-1] == "Record 199"
    monkeypatch.setitem(stream_module.WHOLE_FILE_LIMITS, "xlsx", 1_000)
    with pytest.raises(ImportFormatError, match="save it as CSV, which is read in chunks"):
        open_stream(path)
