"""Read search exports into records, and write records back out.

``read_records`` (a file) and ``read_bytes`` (an upload in the app) read a
whole export: they decide the encoding (:mod:`review.io.charset`) and the
format (:mod:`review.io.sniff`), hand the text to the format's reader and
return plain records in the :mod:`review.records` shape with a summary of what
is missing. ``open_stream`` / ``iter_records`` (:mod:`review.io.stream`) read
a file of any size in bounded memory, records in chunks, through the same
readers; ``review import`` uses them. Nothing here touches a database: the
store decides what to do with the records, so an import that fails here
leaves the review unchanged.

Formats: ``ris``, ``nbib`` (PubMed MEDLINE), ``wos`` (Web of Science tagged
plain text), ``bibtex``, ``csv`` (also TSV and Web of Science tab-delimited)
and ``xlsx``.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from review.io import bibtex, limits, pubmed, ris, tabular, wos
from review.io.charset import ZIP_MAGIC, decode
from review.io.errors import ImportFormatError
from review.io.progress import record_progress
from review.io.sniff import (
    FORMATS,
    choose_format,
    extension_format,
    first_record_line,
    note_mismatch,
)
from review.io.stream import (
    WHOLE_FILE_LIMITS,
    RecordStream,
    iter_records,
    open_stream,
    refuse_whole_file_over_limit,
)
from review.records import KEY_FIELDS, ImportedRecord, missing_fields

__all__ = [
    "FORMATS",
    "WHOLE_FILE_LIMITS",
    "ImportFormatError",
    "ImportedFile",
    "RecordStream",
    "iter_records",
    "open_stream",
    "read_bytes",
    "read_records",
]

#: Key fields the import summary counts as missing (see ``records.missing_fields``).
SUMMARY_FIELDS: tuple[str, ...] = KEY_FIELDS

_TEXT_READERS: dict[str, tuple[Callable[[str], int], Callable[..., tuple[list, list]]]] = {
    "ris": (ris.count_records, ris.parse),
    "nbib": (pubmed.count_records, pubmed.parse),
    "wos": (wos.count_records, wos.parse),
    "bibtex": (bibtex.count_records, bibtex.parse),
}
@dataclass
class ImportedFile:
    """What one search export holds, ready for the store.

    ``missing`` counts, for each key field, the records that lack it
    (records with gaps import fine; the summary tells the reviewer how many).
    ``warnings`` are things the reviewer should know but that did not stop the
    import (a guessed encoding, a renamed file, skipped empty rows).
    """

    path: Path
    fmt: str
    sha256: str
    records: list[ImportedRecord]
    missing: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None

    @property
    def n_records(self) -> int:
        return len(self.records)


def read_records(
    path: Path | str, *, fmt: str | None = None, progress: bool = False
) -> ImportedFile:
    """Read a search export from disk. See :func:`read_bytes`."""
    path = Path(path)
    # No local name for the bytes: read_bytes can then drop them once decoded,
    # which keeps a large import's peak memory down.
    imported = read_bytes(_file_bytes(path), path.name, fmt=fmt, progress=progress)
    imported.path = path
    return imported


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ImportFormatError(path.name, f"cannot read the file ({err.strerror or err})") from err


def read_bytes(
    data: bytes, filename: str, *, fmt: str | None = None, progress: bool = False
) -> ImportedFile:
    """Read a search export held in memory (an upload in the app).

    ``fmt`` forces a format; otherwise the content decides and the extension
    breaks ties. When content and extension (or ``fmt``) disagree, the content
    wins -- a MEDLINE file named ``.ris`` is read as MEDLINE -- and the import
    carries a warning; when the content is no format we know, the error says
    what the extension promised and what line 1 actually holds.

    Raises :class:`ImportFormatError` (naming the file and the line or record)
    for anything it cannot read; never another exception for bad input.
    """
    name = Path(filename).name or filename
    if fmt is not None and fmt not in FORMATS:
        raise ImportFormatError(name, f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    declared = fmt or extension_format(name)
    digest = hashlib.sha256(data).hexdigest()
    warnings: list[str] = []

    if data.startswith(ZIP_MAGIC) and tabular.is_workbook(data, name):
        refuse_whole_file_over_limit(name, "xlsx", len(data))
        note_mismatch(name, declared, "xlsx", fmt is not None, warnings)
        frame, notes = tabular.read_xlsx_frame(data, name)
        warnings += notes
        records, more = _parse_table(frame, name, progress, header_line=1)
        return _finish(name, "xlsx", digest, records, warnings + more, None, first_line=2)
    size = len(data)
    decoded = decode(data, name)
    del data  # from here on the text is what counts (halves peak memory on big files)
    warnings += decoded.warnings
    encoding, raw_text = decoded.encoding, decoded.text
    del decoded
    text = ris.unify_newlines(raw_text)
    chosen = choose_format(name, declared, fmt is not None, text, warnings)
    refuse_whole_file_over_limit(name, chosen, size)
    first_line = first_record_line(text, chosen)

    if chosen == "csv":
        del text
        # pandas handles CRLF itself, and a CR quoted inside a cell is data.
        frame = tabular.read_csv_frame(raw_text, name)
        del raw_text
        records, more = _parse_table(frame, name, progress, header_line=1)
    else:
        del raw_text
        count, parse = _TEXT_READERS[chosen]
        total = count(text)
        # Hand the reader the only reference to the text, so that the text is
        # freed as soon as the reader has gone through it.
        box = [text]
        del text
        with record_progress(total, f"Reading {name}", progress) as advance, _gc_paused():
            records, more = parse(box.pop(), name, advance)
    return _finish(name, chosen, digest, records, warnings + more, encoding, first_line=first_line)


def _parse_table(frame, name: str, progress: bool, header_line: int) -> tuple[list, list]:
    with record_progress(len(frame), f"Reading {name}", progress) as advance, _gc_paused():
        return tabular.parse_frame(frame, name, advance, header_line=header_line)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while records are built.

    A large import allocates millions of small dicts, lists and strings and
    none of them is garbage yet; CPython would otherwise run full collections
    over the growing heap again and again (a quarter of the parse time at
    100,000 records). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _finish(
    name: str,
    fmt: str,
    digest: str,
    records: list[ImportedRecord],
    warnings: list[str],
    encoding: str | None,
    *,
    first_line: int | None,
) -> ImportedFile:
    missing = dict.fromkeys(SUMMARY_FIELDS, 0)
    if len(records) > limits.MAX_RECORDS:
        raise limits.too_many_records(name, len(records))
    for number, record in enumerate(records, 1):
        limits.check_record(name, record, number)
        for key in missing_fields(record, SUMMARY_FIELDS):
            missing[key] += 1
    if records and missing["title"] == len(records):
        raise ImportFormatError(
            name,
            f"none of the {len(records)} records has a title; is this the right file "
            f"(or, for a table, is the title column empty)?",
            line=first_line,
            record=1,
        )
    if 0 < missing["title"]:
        warnings.append(f"{name}: {missing['title']} record(s) have no title")
    return ImportedFile(
        path=Path(name),
        fmt=fmt,
        sha256=digest,
        records=records,
        missing=missing,
        warnings=warnings,
        encoding=encoding,
    )
