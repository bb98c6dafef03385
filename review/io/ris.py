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
  right after ``TY`` made it raise ``KeyError`` (or, after a list tag, filed
  the text under a tag the record does not have) -- each record now goes
  through rispy on its own and such text is kept under ``_untagged``; and a
  continuation of a tag that had already repeated made it raise ``TypeError``.
* **Truncation.** rispy silently drops a last record that has no ``ER`` and
  silently skips tagged lines between ``ER`` and the next ``TY``; both lose
  records, so both raise :class:`ImportFormatError` with the line number.
* **Streaming.** :func:`iter_records` reads text arriving in pieces and yields
  records one by one, so a 1 GB export is read in bounded memory; the
  whole-file :func:`parse` is the same code over one text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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
from review.io.progress import Advance, counted
from review.records import ImportedRecord

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
    """Line numbers, record counts and the continuation-line fixes for rispy parsers.

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

    def track(self, filename: str) -> None:
        self.filename = filename
        #: Line of the record being read, ``None`` between records.
        self.open_line: int | None = None
        self.last_start: int | None = None
        self.n_started = 0
        self.untagged = 0
        self._lines: Any = iter(())
        self._total = 0
        self._base = 0
        #: Number of the first line not yet handed to rispy.
        self.next_line = 1

    def feed(self, lines: list[str]):
        """The iterator rispy will read, remembered so we can tell the line number.

        ``lines`` continue the file from :attr:`next_line` on.
        """
        self._total = len(lines)
        self._base = self.next_line - 1
        self.next_line += len(lines) - 1  # the last "line" runs on into the next block
        self._lines = iter(lines)
        return self._lines

    @property
    def lineno(self) -> int:
        """1-based number (in the whole file) of the line rispy read last."""
        return self._base + self._total - self._lines.__length_hint__()

    def _iter_till_start(self, lines) -> dict:
        self.open_line = None  # rispy calls us at the start and right after an end tag
        while True:
            line = next(lines)
            tag, content = self.parse_line(line)  # type: ignore[attr-defined]
            if tag == self.START_TAG:
                self.open_line = self.last_start = self.lineno
                self.n_started += 1
                return {self.START_TAG: content}
            if tag is not None and tag not in self.ALLOWED_OUTSIDE:
                after = (
                    f" (the previous record, from line {self.last_start}, has already ended)"
                    if self.last_start is not None
                    else ""
                )
                raise ImportFormatError(
                    self.filename,
                    f"'{tag}' tag outside a record{after}: every {self.FORMAT_NAME} record "
                    f"must start with '{self.START_TAG}' and end with '{self.END_TAG}'",
                    line=self.lineno,
                    record=self.n_started + 1,
                )

    def _add_single_value(self, record: dict, name: Any, value: Any, is_multi: bool = False):
        """rispy's single-value hook, rewritten so that continuation lines cannot crash.

        A continuation of a repeated tag met a list (rispy: ``TypeError``);
        untagged text before a record's first tag continued no tag at all.
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


class _RisParser(TrackedParserMixin, rispy.RisParser):
    START_TAG = "TY"
    END_TAG = "ER"


#: A record longer than this (in characters) is refused rather than buffered:
#: real references are a few kilobytes, and a streamed import must stay
#: within bounded memory even when a file has lost its end tags.
MAX_RECORD_CHARS = 64 * 2**20


def unify_newlines(text: str) -> str:
    """CRLF (Windows) and bare CR (classic Mac) to LF, which rispy splits on."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def pieces_of(text: str, size: int = 1 << 20) -> Iterator[str]:
    """A whole text as the pieces :func:`iter_tags` reads (so it never copies it whole)."""
    for start in range(0, len(text), size):
        yield text[start : start + size]


def iter_tags(
    pieces: Iterable[str],
    parser: TrackedParserMixin,
    end_prefix: str,
    *,
    max_record_chars: int = MAX_RECORD_CHARS,
) -> Iterator[dict[str, Any]]:
    """Each record's tags, in file order, from text arriving in pieces (LF line ends).

    Why split before parsing: rispy's ``parse_lines`` returns a list of the
    whole file's records. Every line that starts with the end tag ends a
    record in rispy (or is ignored between records), so the text can be cut
    after such a line without changing what rispy reads; each record's lines
    then go through rispy on their own, and only one piece plus one record
    is ever held. rispy also no longer carries the previous record's last tag
    into the next one (text right after ``TY`` went to that tag).

    Raises :class:`ImportFormatError` naming the line for lines rispy cannot
    place, a last record without end tag, a file without records and a
    "record" longer than ``max_record_chars`` (a file whose end tags are lost).
    """
    carry = ""
    n_records = 0
    for piece in pieces:
        buf = carry + piece if carry else piece
        cut = _after_last_end_line(buf, end_prefix)
        if cut == -1:
            if len(buf) > max_record_chars:
                raise ImportFormatError(
                    parser.filename,
                    f"no '{parser.END_TAG}' end tag in the {max_record_chars // 2**20} MB of "
                    f"text from this line on: no real {parser.FORMAT_NAME} record is that long; "
                    "the file is damaged or its end tags are missing",
                    line=parser.next_line,
                    record=parser.n_started + 1,
                )
            carry = buf
            continue
        region, carry = buf[:cut], buf[cut:]
        del buf
        for tags in _records_in(region, parser, end_prefix):
            n_records += 1
            yield tags
    for tags in _records_in(carry, parser, end_prefix):
        n_records += 1
        yield tags
    if parser.open_line is not None:
        raise ImportFormatError(
            parser.filename,
            f"the record starting here has no end tag '{parser.END_TAG}' before the end of "
            f"the file (line {parser.next_line}); the file looks truncated",
            line=parser.open_line,
            record=parser.n_started,
        )
    if not n_records:
        raise ImportFormatError(
            parser.filename,
            f"no {parser.FORMAT_NAME} records: no line starts a record with '{parser.START_TAG}'",
            line=1,
        )


def _after_last_end_line(buf: str, end_prefix: str) -> int:
    """Offset just past the last complete line of ``buf`` that starts with ``end_prefix``."""
    stop = len(buf)
    while True:
        at = buf.rfind("\n" + end_prefix, 0, stop)
        start = at + 1
        if at == -1:
            if not buf.startswith(end_prefix):
                return -1
            start = 0
        newline = buf.find("\n", start)
        if newline != -1:
            return newline + 1
        if start == 0:  # the only end line is still being written: wait for the next piece
            return -1
        stop = at


def _records_in(
    region: str, parser: TrackedParserMixin, end_prefix: str
) -> Iterator[dict[str, Any]]:
    """Records of a stretch of text that ends after an end line (or at the end of the file)."""
    start = 0
    for end in _end_line_ends(region, end_prefix):
        block = region[start:end]
        start = end
        tags = _parse_block(parser, block)
        if tags is not None:
            yield tags
    if start < len(region):
        tags = _parse_block(parser, region[start:])
        if tags is not None:  # a tail without end line holds no finished record
            yield tags


def _end_line_ends(text: str, end_prefix: str) -> Iterator[int]:
    """Offsets just past each line of ``text`` that starts with ``end_prefix``.

    Plain ``str.find`` rather than a multi-line regex: the regex engine tries
    every position of a gigabyte of text, ``find`` jumps between candidates.
    """
    needle = "\n" + end_prefix
    at = 0 if text.startswith(end_prefix) else text.find(needle)
    while at != -1:
        newline = text.find("\n", at + 1 if text[at] == "\n" else at)
        if newline == -1:
            yield len(text)
            return
        yield newline + 1
        at = text.find(needle, newline)


def _parse_block(parser: TrackedParserMixin, block: str) -> dict | None:
    """rispy over one record's lines; every failure becomes an ImportFormatError."""
    try:
        raw = parser.parse_lines(parser.feed(block.split("\n")))  # type: ignore[attr-defined]
    except ImportFormatError:
        raise
    except Exception as err:  # rispy has no error type of its own
        raise ImportFormatError(
            parser.filename,
            f"could not parse this {parser.FORMAT_NAME} line ({type(err).__name__}: {err})",
            line=parser.lineno or None,
            record=parser.n_started or None,
        ) from err
    return raw[0] if raw else None


def count_records(text: str) -> int:
    """Cheap estimate of the number of records, for the progress bar."""
    return text.count("\nTY  -") + text.startswith("TY  -")


def new_parser(filename: str) -> _RisParser:
    """A rispy RIS parser that keeps every tag, repeated ones too, under its own name."""
    parser = _RisParser(
        mapping=_TagToItself([*rispy.TAG_KEY_MAPPING, "BT", "CT", "L3", "CP"]),
        # rispy only ever asks "tag in list_tags"; a set answers that faster.
        list_tags=frozenset(rispy.LIST_TYPE_TAGS),  # type: ignore[arg-type]
        enforce_list_tags=False,
        skip_unknown_tags=False,
    )
    parser.track(filename)
    return parser


def iter_records(pieces: Iterable[str], filename: str, warnings: list[str]
                 ) -> Iterator[ImportedRecord]:
    """Records of a RIS export arriving as text pieces (LF line ends), in file order.

    Warnings for the import summary are appended to ``warnings`` once the
    last record has been read.
    """
    parser = new_parser(filename)
    for tags in iter_tags(pieces, parser, "ER  -"):
        yield to_record(tags)
    if parser.untagged:
        warnings.append(
            f"{filename}: {parser.untagged} untagged line(s) directly after 'TY' kept "
            "in the original fields under '_untagged'"
        )


def parse(text: str, filename: str, advance: Advance) -> tuple[list[ImportedRecord], list[str]]:
    """Records of a whole RIS export, plus warnings for the import summary."""
    warnings: list[str] = []
    pieces = pieces_of(unify_newlines(text))
    records = list(counted(iter_records(pieces, filename, warnings), advance))
    return records, warnings


_TITLE_TAGS = ("TI", "T1", "CT", "ST")
_BOOK_TITLE_TAGS = ("TI", "T1", "BT", "CT", "ST")
_JOURNAL_TAGS = ("T2", "JF", "JO", "JA", "J2", "BT")
_BOOK_JOURNAL_TAGS = ("T2", "JF", "JO", "JA", "J2")
#: Where exporters put a DOI when ``DO`` is empty (EndNote: M3, L3; notes; links).
_DOI_ELSEWHERE = ("UR", "M3", "N1", "L3", "DI")
_PMID_ELSEWHERE = ("AN", "N1", "UR", "M1")


def to_record(tags: dict[str, Any]) -> ImportedRecord:
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
