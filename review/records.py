"""The shape of one bibliographic record as every stage sees it.

Importers turn each file format into plain dicts with these keys, so the
deduplication engine, the ranker, the store and the exporters never need to
know which database a record came from. Keys an exporter did not provide are
simply absent or ``None``; the untouched tags of the original file travel in
``original`` so nothing a reviewer might later need is lost.
"""

from __future__ import annotations

from typing import Any, TypedDict

#: Scalar text fields, in the order exports show them.
TEXT_FIELDS: tuple[str, ...] = (
    "title",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "abstract",
    "type",
    "url",
    "language",
    "publisher",
    "issn",
)
#: Every normalised field a record may carry (``year`` is an int).
FIELDS: tuple[str, ...] = ("title", "authors", "year", *TEXT_FIELDS[1:], "keywords")


class ImportedRecord(TypedDict, total=False):
    """One imported reference, fields normalised, original tags kept.

    Named apart from :class:`review.store.models.Record` (the stored row, with an id, a
    source and links) so that a reader always knows which of the two a function takes."""

    title: str | None
    authors: list[str]
    year: int | None
    journal: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    pmid: str | None
    abstract: str | None
    keywords: list[str]
    type: str | None
    url: str | None
    language: str | None
    publisher: str | None
    issn: str | None
    original: dict[str, Any]


KEY_FIELDS: tuple[str, ...] = ("title", "authors", "year", "abstract", "doi")


def missing_fields(record: ImportedRecord, fields: tuple[str, ...] = KEY_FIELDS) -> list[str]:
    """Names of the key fields a record lacks, for the import summary."""
    return [f for f in fields if not record.get(f)]
