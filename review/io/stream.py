"""Read a search export of any size in bounded memory, records a chunk at a time.

Why: a broad search can export a gigabyte, and reading it whole takes many
times its size in memory (bytes, text, lines, tag dicts, records). A stream
reads the file twice, a block at a time: first to hash it and settle its
encoding (:func:`review.io.charset.scan` -- the encoding policy needs the
whole file), then to parse it through the same readers ``read_records`` uses,
fed text in pieces, handing records over ``chunk_size`` at a time. Only a
piece of text, the record being parsed and one chunk of records are held at
once, whatever the file's size.

The summary (record count, missing fields, warnings) is complete once the
last chunk has been handed over. Faults found late -- a truncated last
record, a malformed row near the end, no title in any record, the file
changing between the two reads -- are raised from the iteration itself, so a
consumer that writes the chunks inside one transaction
(:func:`review.store.repo.add_source_streaming`) rolls the whole file back.

RIS, PubMed MEDLINE, Web of Science tagged text and CSV/TSV are streamed.
BibTeX (bibtexparser parses a whole string) and XLSX (a ZIP container, read
whole by openpyxl) are read whole and refused above :data:`WHOLE_FILE_LIMITS`
with a message saying what to do instead.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from review.io import bibtex, limits, pubmed, ris, tabular, wos
from review.io.charset import ZIP_MAGIC, file_blocks, scan
from review.io.errors import ImportFormatError
from review.io.sniff import (
    FORMAT_NAMES,
    FORMATS,
    choose_format,
    extension_format,
    first_record_line,
    note_mismatch,
)
from review.records import KEY_FIELDS, ImportedRecord, missing_fields

MB = 1_000_000
#: Formats read whole, and the largest file of each we agree to read. Measured:
#: a 10 MB BibTeX file of 5,000 entries takes about 190 MiB and 3 s to read
#: (bibtexparser keeps every block, field and raw string), an 18 MB workbook of
#: 20,000 records with abstracts a few hundred MiB; these limits keep either
#: near a gigabyte.
WHOLE_FILE_LIMITS: dict[str, int] = {"bibtex": 50 * MB, "xlsx": 50 * MB}
#: Characters of text handed to a reader at a time (a reader holds two or
#: three pieces at once; a quarter of a million keeps that to about a megabyte).
PIECE_CHARS = 1 << 18
#: Characters of the start of the text that decide the format (and a table's delimiter).
HEAD_CHARS = 1 << 18
#: Records per chunk by default: large enough for efficient bulk inserts,
#: small enough (a few MB) not to matter for memory.
CHUNK_RECORDS = 2000
#: Files larger than this get a progress bar in ``review import`` (about the
#: size of an export of a few thousand records with abstracts).
PROGRESS_BYTES = 5 * MB

_StreamedReader = Callable[[Iterable[str], str, list[str]], Iterator[ImportedRecord]]
_STREAMED_READERS: dict[str, _StreamedReader] = {
    "ris": ris.iter_records,
    "nbib": pubmed.iter_records,
    "wos": wos.iter_records,
}


def refuse_whole_file_over_limit(name: str, fmt: str, size: int) -> None:
    """Refuse a BibTeX or XLSX file too large to read whole (other formats stream)."""
    limit = WHOLE_FILE_LIMITS.get(fmt)
    if limit is None or size <= limit:
        return
    instead = (
        "split it into smaller files, or save it as CSV, which is read in chunks"
        if fmt == "xlsx"
        else "split it into smaller files, or export the records as RIS, which is read in chunks"
    )
    raise ImportFormatError(
        name,
        f"{FORMAT_NAMES[fmt]} files are read whole, and this one is {size / MB:,.0f} MB "
        f"(the limit is {limit // MB} MB): {instead}",
    )


@dataclass
class RecordStream:
    """One search export being read; iterate it for lists of records.

    ``path``, ``fmt``, ``sha256``, ``encoding`` and ``size`` are known as soon
    as the stream is opened (before any record is parsed), so a caller can
    refuse a file imported before without parsing it. ``n_records``,
    ``missing`` and ``warnings`` grow as chunks are handed over and are
    final after the last one; ``bytes_read`` tells a progress bar how far the
    parse has got. A stream can be iterated once.
    """

    path: Path
    fmt: str
    sha256: str
    encoding: str | None
    size: int
    chunk_size: int = CHUNK_RECORDS
    warnings: list[str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KEY_FIELDS, 0))
    n_records: int = 0
    bytes_read: int = 0
    _codec: str | None = None
    _head: str = ""
    _first_line: int | None = None
    _started: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def __iter__(self) -> Iterator[list[ImportedRecord]]:
        if self._started:
            raise RuntimeError(f"{self.name}: a record stream can be read only once")
        self._started = True
        return self._chunks()

    def _chunks(self) -> Iterator[list[ImportedRecord]]:
        chunk: list[ImportedRecord] = []
        missing = self.missing
        for record in self._records():
            number = self.n_records + len(chunk) + 1
            if number > limits.MAX_RECORDS:
                raise limits.too_many_records(self.name, number)
            limits.check_record(self.name, record, number)
            for key in missing_fields(record, KEY_FIELDS):
                missing[key] += 1
            chunk.append(record)
            if len(chunk) >= self.chunk_size:
                self.n_records += len(chunk)
                yield chunk
                chunk = []
        self.n_records += len(chunk)
        self._check_titles()
        if chunk:
            yield chunk

    def _check_titles(self) -> None:
        untitled = self.missing["title"]
        if self.n_records and untitled == self.n_records:
            raise ImportFormatError(
                self.name,
                f"none of the {self.n_records} records has a title; is this the right file "
                f"(or, for a table, is the title column empty)?",
                line=self._first_line,
                record=1,
            )
        if untitled:
            self.warnings.append(f"{self.name}: {untitled} record(s) have no title")

    def _records(self) -> Iterator[ImportedRecord]:
        if self.fmt == "xlsx":
            yield from self._whole_workbook()
        elif self.fmt == "bibtex":
            yield from self._whole_bibtex()
        else:
            yield from self._streamed()

    def _streamed(self) -> Iterator[ImportedRecord]:
        assert self._codec is not None
        hashing = _HashingReader(self.path)
        # CSV keeps its line ends: pandas handles CRLF, and a CR quoted in a cell is data.
        newline = "" if self.fmt == "csv" else None
        with io.TextIOWrapper(
            io.BufferedReader(hashing, buffer_size=1 << 18),
            encoding=self._codec,
            errors="strict",
            newline=newline,
        ) as text:
            try:
                if self.fmt == "csv":
                    yield from self._table_rows(text, hashing)
                else:
                    reader = _STREAMED_READERS[self.fmt]
                    yield from reader(self._pieces(text, hashing), self.name, self.warnings)
            except UnicodeDecodeError as err:  # the first read found the file decodable
                raise self._changed() from err
            if hashing.hexdigest() != self.sha256:
                raise self._changed()

    def _pieces(self, text: io.TextIOWrapper, hashing: _HashingReader) -> Iterator[str]:
        while piece := text.read(PIECE_CHARS):
            self.bytes_read = hashing.count
            yield piece
        self.bytes_read = hashing.count

    def _table_rows(self, text: io.TextIOWrapper, hashing: _HashingReader
                    ) -> Iterator[ImportedRecord]:
        matched: dict[str, list[str]] | None = None
        skipped = 0
        n_rows = 0
        for frame in tabular.iter_csv_frames(text, self._head, self.name, self.chunk_size):
            self.bytes_read = hashing.count
            if matched is None:
                matched = tabular.title_columns(list(frame.columns), self.name, header_line=1)
            records, empty = tabular.frame_records(frame, matched)
            skipped += empty
            n_rows += len(records)
            yield from records
        if not n_rows:
            raise ImportFormatError(self.name, "the table has a header but no rows", line=1)
        if skipped:
            self.warnings.append(f"{self.name}: {skipped} empty row(s) skipped")

    def _whole_bibtex(self) -> Iterator[ImportedRecord]:
        assert self._codec is not None
        data = _read_whole(self.path)
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise self._changed()
        text = data.decode(self._codec)
        del data
        records, warnings = bibtex.parse(ris.unify_newlines(text), self.name, _no_progress)
        del text
        self.warnings += warnings
        self.bytes_read = self.size
        yield from records

    def _whole_workbook(self) -> Iterator[ImportedRecord]:
        data = _read_whole(self.path)
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise self._changed()
        frame, notes = tabular.read_xlsx_frame(data, self.name)
        del data
        self.warnings += notes
        records, more = tabular.parse_frame(frame, self.name, _no_progress, header_line=1)
        del frame
        self.warnings += more
        self.bytes_read = self.size
        yield from records

    def _changed(self) -> ImportFormatError:
        return ImportFormatError(
            self.name,
            "the file changed while it was being imported (its SHA-256 differs between the "
            "first and the second read); wait until it is completely written, then import it "
            "again",
        )


def open_stream(
    path: Path | str,
    *,
    fmt: str | None = None,
    chunk_size: int = CHUNK_RECORDS,
    on_bytes: Callable[[int], None] | None = None,
) -> RecordStream:
    """Check a search export and get ready to stream its records.

    Reads the file once, a block at a time: its SHA-256, its encoding (or a
    clear refusal) and its format (``fmt`` forces one; content wins over the
    extension, as in :func:`review.io.read_bytes`). ``on_bytes(n)`` is called
    as blocks are read, for a progress bar. Raises :class:`ImportFormatError`
    for a file that cannot be read; later faults come from iterating.
    """
    path = Path(path)
    name = path.name
    if fmt is not None and fmt not in FORMATS:
        raise ImportFormatError(name, f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    declared = fmt or extension_format(name)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(len(ZIP_MAGIC))
    except OSError as err:
        raise ImportFormatError(name, f"cannot read the file ({err.strerror or err})") from err
    warnings: list[str] = []

    if magic == ZIP_MAGIC and tabular.is_workbook(path, name):
        refuse_whole_file_over_limit(name, "xlsx", size)
        note_mismatch(name, declared, "xlsx", fmt is not None, warnings)
        digest = hashlib.sha256()
        for block in file_blocks(path):
            digest.update(block)
            if on_bytes is not None:
                on_bytes(len(block))
        return RecordStream(
            path, "xlsx", digest.hexdigest(), None, size, chunk_size, warnings, _first_line=2
        )

    try:
        scanned = scan(lambda: file_blocks(path), name, digest=True, on_bytes=on_bytes)
    except OSError as err:
        raise ImportFormatError(name, f"cannot read the file ({err.strerror or err})") from err
    assert scanned.sha256 is not None
    warnings += scanned.warnings
    with path.open("r", encoding=scanned.codec, errors="replace", newline=None) as handle:
        head = handle.read(HEAD_CHARS)
    chosen = choose_format(name, declared, fmt is not None, head, warnings)
    refuse_whole_file_over_limit(name, chosen, size)
    return RecordStream(
        path,
        chosen,
        scanned.sha256,
        scanned.encoding,
        size,
        chunk_size,
        warnings,
        _codec=scanned.codec,
        _head=head,
        _first_line=first_record_line(head, chosen),
    )


def iter_records(
    path: Path | str, fmt: str | None = None, *, chunk_size: int = CHUNK_RECORDS
) -> Iterator[list[ImportedRecord]]:
    """The records of a search export, ``chunk_size`` at a time, in bounded memory.

    A shorthand for iterating :func:`open_stream`; use that to see the
    summary (sha256, format, missing fields, warnings) as well.
    """
    yield from open_stream(path, fmt=fmt, chunk_size=chunk_size)


class _HashingReader(io.RawIOBase):
    """A file read for the second time, hashed on the way, so a change in between is caught."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = path.open("rb", buffering=0)
        self._hash = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer)
        if n:
            self._hash.update(memoryview(buffer)[:n])
            self.count += n
        return n or 0

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()
        super().close()


def _read_whole(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ImportFormatError(path.name, f"cannot read the file ({err.strerror or err})") from err


def _no_progress(_: float) -> None:
    return None
