"""Bulk full-text import: a folder or a zip of PDFs matched to the review's reports.

Each PDF is matched to a report (a record that reached full text) by, in
order: a DOI (in the file name, else on its first pages), a PMID in the file
name ("PMID12345678.pdf", "12345678.pdf"), then the record's title (the file
name, or the first page's text, holding the whole normalised title) -- the
one rule of :mod:`review.screening.matching`, which seeding the ranking model
from a file of key papers uses too. A file
that matches no report, or more than one, or whose report already has a PDF,
is listed with the reason and left alone. Matched files are attached with
:func:`review.screening.fulltext.attach_pdf` (checked as a PDF, stored under
their hash, audited), exactly as a single upload is.

A zip is read defensively: at most :data:`MAX_FILES` entries, each at most
:data:`~review.store.files.MAX_PDF_BYTES` *after* decompression (counted
while reading, not taken from the header), at most :data:`MAX_TOTAL_BYTES`
in all, no entry compressed more than :data:`MAX_RATIO` to one, nested
archives not opened. Names inside the archive are only shown, never used as
paths.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from review.screening.fulltext import FullTextError, attach_pdf
from review.screening.matching import Candidate, Matcher, candidate, clean_doi, dois_in
from review.store import Store
from review.store.files import MAX_PDF_BYTES, FileRejected, check_pdf
from review.store.models import Record, Report

MAX_FILES = 2000
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 100
#: Only this many pages are read for a DOI or title (a reference list would mislead).
PAGES_READ = 2
_PMID_NAME = re.compile(r"^(?:pmid[\s_-]*)?(\d{6,9})$", re.IGNORECASE)


class ImportRejected(ValueError):
    """The archive as a whole is refused (too many files, too large, not a zip)."""


@dataclass
class ImportResult:
    matched: list[dict] = field(default_factory=list)    # file, record_id, report_id, by
    unmatched: list[dict] = field(default_factory=list)  # file, why


def doi_from_name(name: str) -> str | None:
    """A DOI written into a file name ("/" is often saved as "_" or "%2F")."""
    stem = Path(name).stem.replace("%2F", "/").replace("%2f", "/")
    m = re.search(r"10\.\d{4,9}[/_][^\s]+", stem)
    if not m:
        return None
    raw = m.group(0)
    if "/" not in raw:
        raw = raw.replace("_", "/", 1)
    return clean_doi(raw)


# --- reading the input ------------------------------------------------------------------------

def read_zip(data: bytes) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(name, bytes or None, why refused) for each file entry of a zip, within the limits."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportRejected(f"not a zip archive: {exc}") from exc
    entries = [i for i in zf.infolist() if not i.is_dir()]
    if len(entries) > MAX_FILES:
        raise ImportRejected(f"the archive holds {len(entries):,} files; at most {MAX_FILES:,}")
    total = 0
    with zf:
        for info in entries:
            name = info.filename
            if not name.lower().endswith(".pdf"):
                yield name, None, "not a .pdf file"
                continue
            if info.file_size > MAX_PDF_BYTES:
                yield name, None, f"larger than {MAX_PDF_BYTES // 1_048_576} MB"
                continue
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                yield name, None, "compressed suspiciously well (a zip bomb?)"
                continue
            chunks: list[bytes] = []
            size = 0
            too_big = False
            with zf.open(info) as fh:  # count what really comes out, not what the header says
                while chunk := fh.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_PDF_BYTES:
                        too_big = True
                        break
                    chunks.append(chunk)
            if too_big:
                yield name, None, f"larger than {MAX_PDF_BYTES // 1_048_576} MB when unpacked"
                continue
            total += size
            if total > MAX_TOTAL_BYTES:
                raise ImportRejected(f"the archive unpacks to more than "
                                     f"{MAX_TOTAL_BYTES // 1_073_741_824} GB")
            yield name, b"".join(chunks), None


def read_folder(folder: Path) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(name, bytes or None, why refused) for each PDF in a folder (not its subfolders)."""
    files = sorted(p for p in Path(folder).iterdir() if p.is_file())
    if len(files) > MAX_FILES:
        raise ImportRejected(f"the folder holds {len(files):,} files; at most {MAX_FILES:,}")
    for p in files:
        if p.suffix.lower() != ".pdf":
            continue
        if p.stat().st_size > MAX_PDF_BYTES:
            yield p.name, None, f"larger than {MAX_PDF_BYTES // 1_048_576} MB"
            continue
        yield p.name, p.read_bytes(), None


def first_pages_text(data: bytes, pages: int = PAGES_READ) -> str:
    """The text of a PDF's first pages ('' if it has none or cannot be read)."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        return "\n".join((reader.pages[i].extract_text() or "")
                         for i in range(min(pages, len(reader.pages))))
    except Exception:  # a damaged or encrypted PDF: match by its name only
        return ""


# --- matching ---------------------------------------------------------------------------------

def candidates(store: Store) -> list[Candidate]:
    """Every report (``key``) with its record's identifiers."""
    with store.session() as s:
        rows = s.execute(select(Report.id, Record.id, Record.doi, Record.pmid, Record.title,
                                Report.pdf_path).join(Record, Record.id == Report.record_id))
        return [candidate(*r) for r in rows]


def match(name: str, text: str, reports: Matcher) -> tuple[list[Candidate], str]:
    """The reports a file matches and by what (:mod:`review.screening.matching`'s one rule,
    fed the file's name and its first pages); stops at the first kind that finds any."""
    m = _PMID_NAME.match(Path(name).stem.strip())
    hits, how = reports.match([
        ("doi", "doi (file name)", doi_from_name(name)),
        ("dois", "doi (first pages)", dois_in(text)),
        ("pmid", "pmid (file name)", m.group(1) if m else None),
        ("title_in", "title (file name)", Path(name).stem),
        ("title_in", "title (first pages)", text),
    ])
    return hits, how or "title (first pages)"


def import_pdfs(store: Store, files: Iterator[tuple[str, bytes | None, str | None]],
                actor: str | None, *, replace: bool = False) -> ImportResult:
    """Attach each PDF to the one report it matches; list the rest with the reason."""
    reports = Matcher(candidates(store))
    result = ImportResult()
    taken: dict[int, str] = {}
    for name, data, refused in files:
        shown = name[-200:]
        if refused or data is None:
            result.unmatched.append({"file": shown, "why": refused or "unreadable"})
            continue
        try:
            check_pdf(data, shown)
        except FileRejected as exc:
            result.unmatched.append({"file": shown, "why": str(exc)})
            continue
        hits, how = match(name, first_pages_text(data), reports)
        if not hits:
            result.unmatched.append({"file": shown, "why": "matches no report (DOI, PMID "
                                     "or title)"})
            continue
        if len(hits) > 1:
            result.unmatched.append({"file": shown, "why": "matches records " + ", ".join(
                f"#{c.record_id}" for c in hits[:5]) + f" by {how}: attach it by hand"})
            continue
        c = hits[0]
        if c.key in taken:
            result.unmatched.append({"file": shown, "why": f"record #{c.record_id} already got "
                                     f"{taken[c.key]} in this import"})
            continue
        if c.has_pdf and not replace:
            result.unmatched.append({"file": shown, "why": f"record #{c.record_id} already "
                                     "has a PDF"})
            continue
        try:
            attach_pdf(store, c.key, data, shown, actor)
        except (FileRejected, FullTextError) as exc:
            result.unmatched.append({"file": shown, "why": str(exc)})
            continue
        taken[c.key] = shown
        result.matched.append({"file": shown, "record_id": c.record_id,
                               "report_id": c.key, "by": how})
    return result
