"""RIS (EndNote, Scopus, Zotero, Ovid, EBSCO, PubMed citation manager) via rispy.

rispy does the tokenising; this module adds what real exports need and rispy
leaves to the caller (checked against rispy 0.10's source):

* **Every tag kept under its own name.** rispy maps tags to long names and
  pools unknown tags in one ``unknown_tag`` dict. We pass a mapping that maps
  each tag to itself, so a parsed reference *is* the record's ``original``
  dict (``{"TY": "JOUR", "AU": [...], "C7": "e0123"}``) and nothing is lost.
* **Repeated tags are not dropped.** With ``enforce_list_tags=True`` rispy
  keeps only the first of a repeated single-value tag; we use ``False`` so a
  second ``T2`` or ``DO`` becomes a list (the first one is used).
* **Continuation lines** (EndNote/Scopus keyword lists, wrapped abstracts):
  rispy appends an untagged line to the last tag -- a new item for list tags
  (``AU``, ``KW``, ``UR``...), joined with a space otherwise; blank lines
  inside a record are skipped. Two rispy quirks are fixed here: rispy carries
  the previous record's last tag across ``ER``, so a blank or untagged line
  right after ``TY`` made it raise ``KeyError`` when that tag was
  single-valued (we keep such text under ``_untagged``; after a list tag
  rispy files it under that tag, a rare misfiling we accept rather than slow
  every line down), and a continuation of a tag that had already repeated
  made it raise ``TypeError``.
* **Truncation.** rispy silently drops a last record that has no ``ER`` and
  silently skips tagged lines between ``ER`` and the next ``TY``; both lose
  records, so both raise :class:`ImportFormatError` with the line number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import rispy

from review.io.errors import ImportFormatError
from review.io.fields import (
    as_list,
    clean,
    clean_long,
    doi_from_text,
    join_pages,
    make_record,
    normalise_doi,
    parse_year,
    pick,
    pmid_from_text,
    ris_type,
    split_keywords,
)
from review.io.progress import STEP, Advance, tracked
from review.records import Record

#: RIS types whose ``BT`` (book title) is the title of the record itself.
_BOOK_TYPES = frozenset({"BOOK", "EBOOK", "EDBOOK"})


class _TagToItself(dict):
    """A rispy ``mapping`` under which every tag, known or not, keeps its name.

    Known tags are stored (a plain dict hit); only unknown ones reach
    ``__missing__``, a Python call -- worth avoiding two million times.
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__((tag, tag) for tag in known)

    def __missing__(self, key: str) -> str:
        return key


class TrackedParserMixin:
    """Line numbers, truncation checks and the continuation-line fixes for rispy parsers.

    Mixed in front of a rispy parser class. rispy's ``parse_lines`` loop calls
    ``_iter_till_start`` at the start and after every end tag, and
    ``_add_single_value`` for every single-value tag and its continuations;
    those are the hooks we use. Line numbers cost nothing per line: rispy
    pulls lines from a list iterator, whose remaining length tells us where
    it is when we need to know (a record start, an error).
    """

    START_TAG: str
    END_TAG: str
    FORMAT_NAME: ClassVar[str] = "RIS"
    #: Tags that may appear between records (end markers, file headers).
    ALLOWED_OUTSIDE: ClassVar[frozenset[str]] = frozenset({"ER"})

    def track(self, filename: str, advance: Advance) -> None:
        self.filename = filename
        self.advance = advance
        self.open_line: int | None = None
        self.starts: list[int] = []
        self.untagged = 0
        self._pending = 0
        self._lines: Any = iter(())
        self._total = 0

    def feed(self, lines: list[str]):
        """The iterator rispy will read; remembered so we can tell the line number."""
        self._total = len(lines)
        self._lines = iter(lines)
        return self._lines

    @property
    def lineno(self) -> int:
        """1-based number of the line rispy read last."""
        return self._total - self._lines.__length_hint__()

    def _iter_till_start(self, lines) -> dict:
        if self.open_line is not None:  # rispy calls us right after an end tag
            self.open_line = None
            self._pending += 1
            if self._pending == STEP:
                self.advance(self._pending * 0.5)  # parsing is half the work
                self._pending = 0
        while True:
            line = next(lines)
            tag, content = self.parse_line(line)  # type: ignore[attr-defined]
            if tag == self.START_TAG:
                self.open_line = self.lineno
                self.starts.append(self.open_line)
                return {self.START_TAG: content}
            if tag is not None and tag not in self.ALLOWED_OUTSIDE:
                after = (
                    f" (the previous record, from line {self.starts[-1]}, has already ended)"
                    if self.starts
                    else ""
                )
                raise ImportFormatError(
                    self.filename,
                    f"'{tag}' tag outside a record{after}: every {self.FORMAT_NAME} record "
                    f"must start with '{self.START_TAG}' and end with '{self.END_TAG}'",
                    line=self.lineno,
                    record=len(self.starts) + 1,
                )

    def _add_single_value(self, record: dict, name: Any, value: Any, is_multi: bool = False):
        """rispy's single-value hook, rewritten so that continuation lines cannot crash.

        rispy carries the last tag across ``ER``: an untagged or blank line
        right after ``TY`` continued a tag the new record does not have
        (``KeyError``), and a continuation of a repeated tag met a list
        (``TypeError``).
        """
        if is_multi:
            if not value:  # blank line inside a record
                return
            current = record.get(name)
            if current is None:  # untagged text before the record's first tag
                self.untagged += 1
                record.setdefault("_untagged", []).append(value)
            elif current.__class__ is list:
                current[-1] = f"{current[-1]} {value}"
            else:
                record[name] = f"{current} {value}"
            return
        if not name:  # the Web of Science parser reports a blank line as an empty tag
            return
        current = record.get(name)
        if current is None:
            record[name] = value
        elif current.__class__ is list:  # enforce_list_tags=False: a repeated tag
            current.append(value)
        else:
            record[name] = [current, value]

    def flush_progress(self) -> None:
        if self._pending:
            self.advance(self._pending * 0.5)
            self._pending = 0


class _RisParser(TrackedParserMixin, rispy.RisParser):
    START_TAG = "TY"
    END_TAG = "ER"


def unify_newlines(text: str) -> str:
    """CRLF (Windows) and bare CR (classic Mac) to LF, which rispy splits on."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_lines(text: str) -> list[str]:
    """The lines rispy reads (LF, CRLF and CR all end a line)."""
    return unify_newlines(text).split("\n")


def run_parser(parser: TrackedParserMixin, lines: list[str]) -> list[dict]:
    """Run a tracked rispy parser over ``lines``; every failure becomes an ImportFormatError."""
    try:
        raw = parser.parse_lines(parser.feed(lines))  # type: ignore[attr-defined]
    except ImportFormatError:
        raise
    except Exception as err:  # rispy has no error type of its own
        raise ImportFormatError(
            parser.filename,
            f"could not parse this {parser.FORMAT_NAME} line ({type(err).__name__}: {err})",
            line=parser.lineno or None,
            record=len(parser.starts) or None,
        ) from err
    if parser.open_line is not None:
        raise ImportFormatError(
            parser.filename,
            f"the record starting here has no end tag '{parser.END_TAG}' before the end of "
            f"the file (line {len(lines)}); the file looks truncated",
            line=parser.open_line,
            record=len(parser.starts),
        )
    parser.flush_progress()
    if not raw:
        raise ImportFormatError(
            parser.filename,
            f"no {parser.FORMAT_NAME} records: no line starts a record with '{parser.START_TAG}'",
            line=1,
        )
    return raw


def count_records(text: str) -> int:
    """Cheap estimate of the number of records, for the progress bar."""
    return text.count("\nTY  -") + text.startswith("TY  -")


def new_parser(filename: str, advance: Advance) -> _RisParser:
    """A rispy RIS parser that keeps every tag, repeated ones too, under its own name."""
    parser = _RisParser(
        mapping=_TagToItself([*rispy.TAG_KEY_MAPPING, "BT", "CT", "L3", "CP"]),
        # rispy only ever asks "tag in list_tags"; a set answers that faster.
        list_tags=frozenset(rispy.LIST_TYPE_TAGS),  # type: ignore[arg-type]
        enforce_list_tags=False,
        skip_unknown_tags=False,
    )
    parser.track(filename, advance)
    return parser


def parse(text: str, filename: str, advance: Advance) -> tuple[list[Record], list[str]]:
    """Records of a RIS export, plus warnings for the import summary."""
    parser = new_parser(filename, advance)
    lines = split_lines(text)
    del text  # the lines hold the same characters; let the text go (large files)
    raw = run_parser(parser, lines)
    del lines
    warnings: list[str] = []
    if parser.untagged:
        warnings.append(
            f"{filename}: {parser.untagged} untagged line(s) directly after 'TY' kept "
            "in the original fields under '_untagged'"
        )
    return [to_record(tags) for tags in tracked(raw, advance, 0.5)], warnings


_TITLE_TAGS = ("TI", "T1", "CT", "ST")
_BOOK_TITLE_TAGS = ("TI", "T1", "BT", "CT", "ST")
_JOURNAL_TAGS = ("T2", "JF", "JO", "JA", "J2", "BT")
_BOOK_JOURNAL_TAGS = ("T2", "JF", "JO", "JA", "J2")
#: Where exporters put a DOI when ``DO`` is empty (EndNote: M3, L3; notes; links).
_DOI_ELSEWHERE = ("UR", "M3", "N1", "L3", "DI")
_PMID_ELSEWHERE = ("AN", "N1", "UR", "M1")


def to_record(tags: dict[str, Any]) -> Record:
    """Map one reference's RIS tags to the shared record shape.

    Titles: ``TI``, then ``T1``, then ``BT`` for whole books, ``CT``, and the
    short title ``ST`` as a last resort. Source: ``T2`` (EndNote, Scopus,
    Zotero), then the journal tags in order of completeness -- ``JF`` full
    name, ``JO``, ``JA``, ``J2`` abbreviations -- then ``BT`` (a chapter's book).
    """
    get = tags.get
    kind = pick(tags, ("TY",))
    is_book = kind in _BOOK_TYPES
    authors = [a for a in map(clean, as_list(get("AU"))) if a]
    if "A1" in tags:
        seen = {a.casefold() for a in authors}
        authors += [a for a in map(clean, as_list(get("A1"))) if a and a.casefold() not in seen]
    doi = normalise_doi(get("DO"))
    if doi is None and any(key in tags for key in _DOI_ELSEWHERE):
        doi = doi_from_text([v for key in _DOI_ELSEWHERE for v in as_list(get(key))])
    return make_record(
        tags,
        title=pick(tags, _BOOK_TITLE_TAGS if is_book else _TITLE_TAGS),
        authors=authors,
        year=parse_year(get("PY"), get("Y1"), get("DA")),
        journal=pick(tags, _BOOK_JOURNAL_TAGS if is_book else _JOURNAL_TAGS),
        volume=pick(tags, ("VL",)),
        issue=pick(tags, ("IS", "CP")),
        pages=join_pages(get("SP"), get("EP")),
        doi=doi,
        pmid=_pmid(tags) if any(key in tags for key in _PMID_ELSEWHERE) else None,
        abstract=clean_long(get("AB")) or clean_long(get("N2")),
        keywords=split_keywords(get("KW")),
        type=ris_type(kind),
        url=pick(tags, ("UR",)),
        language=pick(tags, ("LA",)),
        publisher=pick(tags, ("PB",)),
        issn=pick(tags, ("SN",)),
    )


def _pmid(tags: dict[str, Any]) -> str | None:
    """PubMed id: ``AN`` of a PubMed/MEDLINE-sourced record, or a ``PMID:`` note/URL."""
    accession = pick(tags, ("AN",))
    if accession and accession.isdigit():
        database = " ".join(as_list(tags.get("DB")) + as_list(tags.get("DP"))).casefold()
        if any(name in database for name in ("pubmed", "medline", "nlm")):
            return accession
    return pmid_from_text([v for key in _PMID_ELSEWHERE for v in as_list(tags.get(key))])
