"""Turn a table of records into the normalised columns the blocker and the scorer read.

Input tables come from CSV benchmarks (``author``, ``number``, ``ENTRYTYPE``)
and from the project's importers (``authors`` as a list, ``issue``, ``type``);
both spellings are accepted so one engine serves the command line, the
benchmarks and the review store.

The engine reads plain Python columns (:class:`RecordTable`), not a DataFrame:
``review dedup --input`` on a small file must start in a fraction of a second,
and importing pandas and numpy alone costs half a second of CPU. A DataFrame
is still accepted (:func:`record_table` reads its columns without importing
pandas), so the library API and the review store pass theirs unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from review.dedup.normalise import (
    Author,
    Journal,
    Pages,
    Title,
    abstract_key,
    is_supplement,
    normalise_authors,
    normalise_doi,
    normalise_journal,
    normalise_number,
    normalise_pages,
    normalise_pmid,
    normalise_title,
    normalise_year,
    text_of,
    texts,
)
from review.dedup.traps import (
    TitleMarks,
    cited_errata,
    is_conference,
    record_kinds,
    strip_kind_label,
    title_marks,
)

#: Accepted column names per field, first match wins (case-insensitive).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("ID", "id", "record_id", "key"),
    "title": ("title", "primary_title", "TI"),
    "authors": ("authors", "author", "AU", "first_authors"),
    "year": ("year", "publication_year", "date", "PY"),
    "journal": (
        "journal",
        "journal_name",
        "container_title",
        "secondary_title",
        "booktitle",
        "JO",
        "T2",
    ),
    "volume": ("volume", "VL"),
    "issue": ("issue", "number", "IS"),
    "pages": ("pages", "page", "start_page", "SP"),
    "doi": ("doi", "DO"),
    "pmid": ("pmid", "pubmed_id", "PMID"),
    "abstract": ("abstract", "AB"),
    "type": ("type", "ENTRYTYPE", "entrytype", "type_of_reference", "TY"),
}

#: 'abstract no. 1234', 'Poster P-12': a meeting abstract's number where pages would be.
_ABSTRACT_PAGES_RE = re.compile(r"abstr|poster", re.IGNORECASE)

#: Title words that carry no identity: a title made only of these cannot identify a work.
_UNINFORMATIVE = frozenset(
    "the a an of in on and or for to with by from at as is are be editorial introduction reply "
    "response letter comment commentary correction erratum abstracts abstract news preface "
    "foreword index contents review update summary meeting report proceedings conference "
    "discussion author authors editor editors note notes book reviews case untitled".split()
)


#: Words of titles that name a kind of item, not its subject: a title made only of these
#: (and short words) is generic ("Editorial", "From the editor", "President's message").
_GENERIC = _UNINFORMATIVE | frozenset(
    "editorials comments letters responses replies reviews updates reports highlights column "
    "columns perspective perspectives viewpoint viewpoints message president presidents corner "
    "issue this month year journal welcome announcement announcements obituary memoriam "
    "acknowledgement acknowledgements acknowledgment reviewers thanks our your new notice "
    "notices correspondence editorial board masthead cover image images quiz answer answers "
    "question questions challenge highlights abstracts".split()
)


@dataclass
class Prepared:
    """Normalised fields of n records, as parallel lists/arrays indexed by position."""

    ids: list[str]
    title: list[str]
    title_alt: list[str]
    translated: list[bool]
    informative: list[bool]
    generic: list[bool]  #: the title names a kind of item only ('Editorial'): no subject
    marks: list[TitleMarks]
    kinds: list[frozenset[str]]
    conference: list[bool]
    authors: list[tuple[Author, ...]]
    year: list[int]  #: -1 when unknown
    journal: list[Journal]
    volume: list[str]
    issue: list[str]
    pages: list[Pages]
    doi: list[str]
    pmid: list[str]
    abstract: list[str]

    def __len__(self) -> int:
        return len(self.ids)


def _informative(title: str) -> bool:
    """Enough words to identify a work: three content words, or (in scripts written without
    spaces, such as Chinese or Japanese) eight characters."""
    words = title.split()
    if sum(1 for w in words if w not in _UNINFORMATIVE and len(w) > 1) >= 3:
        return True
    return len(title.replace(" ", "")) >= 8 and any(ord(ch) >= 0x2E80 for ch in title)


def _generic(title: str) -> bool:
    """No word of the title names a subject: it says what kind of item it is, nothing more."""
    return not any(w not in _GENERIC and len(w) > 1 for w in title.split())


def resolve_columns(columns: list[str]) -> dict[str, str]:
    """Map engine field → input column, from the aliases above."""
    lower = {c.lower(): c for c in columns}
    out: dict[str, str] = {}
    for field, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in columns:
                out[field] = alias
                break
            if alias.lower() in lower:
                out[field] = lower[alias.lower()]
                break
    return out


@dataclass(frozen=True)
class RecordTable:
    """Records as plain columns: column name → one value per record, all of length ``n``."""

    columns: dict[str, list[Any]]
    n: int
    index: list[str] | None = None  #: ids to use when no column holds them (a frame's index)

    def column(self, name: str | None) -> list[Any]:
        """The values of a column, or ``None`` for every record when it is absent."""
        if name is None or name not in self.columns:
            return [None] * self.n
        return self.columns[name]


def record_table(data: Any) -> RecordTable:
    """Read records given as a :class:`RecordTable`, a DataFrame, a mapping of columns or an
    iterable of dicts (one per record), without importing pandas for the plain forms."""
    if isinstance(data, RecordTable):
        return data
    if hasattr(data, "columns") and hasattr(data, "index") and hasattr(data, "iloc"):
        # a pandas DataFrame (duck-typed: the plain path never imports pandas)
        return RecordTable(
            {c: data[c].tolist() for c in data.columns},
            len(data),
            [str(i) for i in data.index],
        )
    if isinstance(data, Mapping):
        columns = {c: list(v) for c, v in data.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: {sorted(lengths)}")
        return RecordTable(columns, lengths.pop() if lengths else 0)
    rows = list(data) if isinstance(data, Iterable) else []
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return RecordTable({c: [row.get(c) for row in rows] for c in names}, len(rows))


def record_ids(table: RecordTable, id_column: str | None) -> list[str]:
    """Record ids as strings: the ID column if present (must be unique), else the row index."""
    if id_column is None:
        return list(table.index) if table.index is not None else [str(i) for i in range(table.n)]
    ids = [text_of(v) for v in table.columns[id_column]]
    missing = [i for i, v in enumerate(ids) if not v]
    if missing:
        raise ValueError(f"records without an id in column {id_column!r}: rows {missing[:5]}")
    seen: set[str] = set()
    dupes = [v for v in ids if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"ids must be unique; repeated in column {id_column!r}: {dupes[:5]}")
    return ids


def _years(table: RecordTable, cols: dict[str, str]) -> list[int]:
    """Publication years, -1 where unknown."""
    return [
        y if (y := normalise_year(v)) is not None else -1
        for v in texts(table.column(cols.get("year")))
    ]


def prepare(records: Any, tick: Callable[[int], None] | None = None) -> Prepared:
    """Normalise every field of every record (see :mod:`review.dedup.normalise`).

    ``records``: anything :func:`record_table` reads (plain columns, rows, a DataFrame).
    """
    df = record_table(records)  # the records' columns
    cols = resolve_columns(list(df.columns))
    ids = record_ids(df, cols.get("id"))
    n = df.n
    year = _years(df, cols)
    raw_title = texts(df.column(cols.get("title")))
    raw_type = texts(df.column(cols.get("type")))
    raw_journal = texts(df.column(cols.get("journal")))
    raw_volume = texts(df.column(cols.get("volume")))
    raw_issue = texts(df.column(cols.get("issue")))
    raw_pages = texts(df.column(cols.get("pages")))

    titles: list[Title] = [normalise_title(t) for t in raw_title]
    title = [t.key for t in titles]
    marks = [title_marks(t) for t in title]
    kinds = [
        record_kinds(t.key, t.notes, t.wos_correction, ty)
        for t, ty in zip(titles, raw_type, strict=True)
    ]
    title = [strip_kind_label(t) if k else t for t, k in zip(title, kinds, strict=True)]
    volume = [normalise_number(v) for v in raw_volume]
    # a year in the volume field (some exports do that) says nothing about the volume
    volume = [
        "" if len(v) == 4 and v.isdigit() and int(v) == y else v
        for v, y in zip(volume, year, strict=True)
    ]
    pages = [normalise_pages(p) for p in raw_pages]
    # a record sitting exactly where another record's note says its erratum appeared
    cited = {c for t in titles if t.notes for c in cited_errata(t.key, t.notes)}
    if cited:
        for k, (t, v, pg) in enumerate(zip(title, volume, pages, strict=True)):
            if v and pg.starts and (t[:40], v, pg.starts[0]) in cited:
                kinds[k] = kinds[k] | {"erratum"}
    journal = [normalise_journal(j) for j in raw_journal]
    supplement = [is_supplement(v, i) for v, i in zip(raw_volume, raw_issue, strict=True)]
    conference = [
        is_conference(ty, j.conference, t.notes, bool(s or _ABSTRACT_PAGES_RE.search(pg)))
        for ty, j, t, s, pg in zip(raw_type, journal, titles, supplement, raw_pages, strict=True)
    ]
    informative = [_informative(t) for t in title]
    if tick:
        tick(n // 2)
    authors = [normalise_authors(v) for v in df.column(cols.get("authors"))]
    prepared = Prepared(
        ids=ids,
        title=title,
        title_alt=[t.alt for t in titles],
        translated=[t.translated for t in titles],
        informative=informative,
        generic=[_generic(t) for t in title],
        marks=marks,
        kinds=kinds,
        conference=conference,
        authors=authors,
        year=year,
        journal=journal,
        volume=volume,
        issue=[normalise_number(v) for v in raw_issue],
        pages=pages,
        doi=[normalise_doi(v) for v in texts(df.column(cols.get("doi")))],
        pmid=[normalise_pmid(v) for v in texts(df.column(cols.get("pmid")))],
        abstract=[abstract_key(v) for v in texts(df.column(cols.get("abstract")))],
    )
    if tick:
        tick(n - n // 2)
    return prepared
