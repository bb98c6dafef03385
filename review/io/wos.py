"""Web of Science "Plain text" (tagged) exports, via rispy's WokParser.

The format is RIS-like -- two-letter tags, ``PT`` starts a record, ``ER``
ends it, ``EF`` ends the file -- but tags are followed by one space and
continuation lines are indented by three spaces (authors one per line,
titles wrapped). The same line tracking and truncation checks as for RIS
apply (:class:`review.io.ris.TrackedParserMixin`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import rispy
from rispy.config import WOK_LIST_TYPE_TAGS, WOK_TAG_KEY_MAPPING

from review.io.fields import (
    as_list,
    clean,
    clean_long,
    first,
    join_pages,
    make_record,
    normalise_doi,
    parse_year,
    split_keywords,
    word_type,
)
from review.io.progress import Advance, counted
from review.io.ris import (
    TrackedParserMixin,
    _TagToItself,
    iter_tags,
    pieces_of,
    unify_newlines,
)
from review.records import ImportedRecord


class _WosParser(TrackedParserMixin, rispy.WokParser):
    START_TAG = "PT"
    END_TAG = "ER"
    FORMAT_NAME: ClassVar[str] = "Web of Science"
    ALLOWED_OUTSIDE: ClassVar[frozenset[str]] = frozenset({"", "ER", "EF", "FN", "VR"})


def count_records(text: str) -> int:
    """Cheap estimate of the number of records, for the progress bar."""
    return text.count("\nPT ")


def new_parser(filename: str) -> _WosParser:
    parser = _WosParser(
        mapping=_TagToItself(WOK_TAG_KEY_MAPPING),
        list_tags=frozenset(WOK_LIST_TYPE_TAGS),  # type: ignore[arg-type]
        enforce_list_tags=False,
        skip_unknown_tags=False,
    )
    parser.track(filename)
    return parser


def iter_records(pieces: Iterable[str], filename: str, warnings: list[str]
                 ) -> Iterator[ImportedRecord]:
    """Records of a Web of Science tagged export arriving as text pieces (LF line ends)."""
    # rispy's WokParser takes any line starting with "ER" for the end tag.
    for tags in iter_tags(pieces, new_parser(filename), "ER"):
        yield to_record(tags)


def parse(text: str, filename: str, advance: Advance) -> tuple[list[ImportedRecord], list[str]]:
    """Records of a whole Web of Science tagged export."""
    warnings: list[str] = []
    pieces = pieces_of(unify_newlines(text))
    return list(counted(iter_records(pieces, filename, warnings), advance)), warnings


def to_record(tags: dict[str, Any]) -> ImportedRecord:
    """Map one Web of Science record's tags to the shared record shape."""
    get = tags.get
    authors = [a for a in (clean(x) for x in as_list(get("AU") or get("AF"))) if a]
    if not authors:
        authors = [a for a in (clean(x) for x in as_list(get("CA") or get("GP"))) if a]
    return make_record(
        tags,
        title=clean(first(get("TI"))),
        authors=authors,
        year=parse_year(get("PY"), get("PD"), get("EY"), get("EA")),
        journal=clean(first(get("SO"), get("JI"), get("J9"))),
        volume=clean(first(get("VL"))),
        issue=clean(first(get("IS"))),
        pages=join_pages(get("BP"), get("EP")) or clean(first(get("AR"))),
        doi=normalise_doi(get("DI")),
        pmid=clean(first(get("PM"))),
        abstract=clean_long(get("AB")),
        keywords=split_keywords(as_list(get("DE")) + as_list(get("ID"))),
        type=word_type(get("DT"), get("PT")),
        url=None,
        language=clean(first(get("LA"))),
        publisher=clean(first(get("PU"))),
        issn=clean(first(get("SN"), get("EI"))),
    )
