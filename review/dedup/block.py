"""Blocking: pick the record pairs worth scoring, so cost grows with records, not their square.

A duplicate pair almost always agrees *exactly* on at least one cheap key: the
DOI, the PubMed id, the first or last words of the title, its two rarest
words, the first author with the year, or the year, volume and first page.
Each key groups records; pairs are taken inside groups only. A group that
grows too large (a common surname in a busy year) is not compared all-pairs
but by a sliding window over its titles in sorted order (the sorted-
neighbourhood method), which keeps every group linear.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from review.dedup.prepare import Prepared

#: Groups up to this size are compared all-pairs; larger ones by a window over sorted titles.
#: Identifiers and citations make small, sure groups; title words and author + year are weak
#: keys whose groups grow with the review, so they get a smaller all-pairs limit.
MAX_BLOCK = {"doi": 48, "pmid": 48, "citation": 48, "title_start": 32, "abstract_start": 32}
MAX_WEAK_BLOCK = 16
#: Window of the sorted-neighbourhood pass inside oversized groups: a key shared by that
#: many records is a weak key, and the other keys carry the load.
WINDOW = 4

_SHORT = frozenset(
    "the a an of in on and or for to with by from at as is are be its into than that this "
    "was were after before during among between versus vs via using use study".split()
)


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs (positions ``a < b``, sorted) and how many each blocking key proposed."""

    a: list[int]
    b: list[int]
    per_key: dict[str, int]

    def __len__(self) -> int:
        return len(self.a)


def _content_words(title: str) -> list[str]:
    return [w for w in title.split() if w not in _SHORT and len(w) > 2]


def abstract_start(abstract: str) -> str:
    """The first ten words of a long abstract: two records sharing them share the abstract."""
    if len(abstract) < 300:
        return ""
    return " ".join(abstract.split()[:10])


def blocking_keys(p: Prepared) -> dict[str, list[str]]:
    """The blocking keys of every record ('' where a record has no value for a key)."""
    n = len(p)
    words = [_content_words(t) for t in p.title]
    alt_words = [_content_words(t) if t else [] for t in p.title_alt]
    df = Counter(w for ws in words for w in set(ws))

    def rare_pair(ws: list[str]) -> str:
        shared = sorted({w for w in ws if df[w] >= 2 and len(w) > 3}, key=lambda w: (df[w], w))
        return " ".join(sorted(shared[:2])) if len(shared) >= 2 else ""

    # surname, first initial and year: a common surname alone makes blocks of thousands
    first_author = [
        f"{au[0].surname[:8]} {au[0].initials[:1]}" if au and not au[0].organisation else ""
        for au in p.authors
    ]
    keys: dict[str, list[str]] = {
        "doi": [d.split(" ", 1)[0] for d in p.doi],
        "pmid": p.pmid,
        "title_start": [
            " ".join(ws[:3]) if len(ws) >= 2 else (t[:16] if len(t) >= 8 else "")
            for ws, t in zip(words, p.title, strict=True)
        ],
        "title_end": [" ".join(ws[-4:]) if len(ws) >= 6 else "" for ws in words],
        "title_rare": [rare_pair(ws) for ws in words],
        "alt_title_start": [" ".join(ws[:3]) if len(ws) >= 2 else "" for ws in alt_words],
        "author_year": [
            f"{fa}|{y}" if fa and y >= 0 else "" for fa, y in zip(first_author, p.year, strict=True)
        ],
        "abstract_start": [abstract_start(ab) for ab in p.abstract],
        "citation": [
            f"{y}|{v}|{pg.starts[0] if pg.starts else pg.locator}"
            if y >= 0 and v and (pg.starts or pg.locator)
            else ""
            for y, v, pg in zip(p.year, p.volume, p.pages, strict=True)
        ],
    }
    assert all(len(v) == n for v in keys.values())
    return keys


def _pairs_in_groups(
    values: list[str], sort_key: Callable[[int], tuple], max_block: int
) -> list[tuple[int, int]]:
    """All pairs inside each group of equal non-empty ``values``; windowed inside large groups.

    A group of up to ``max_block`` records gives all its pairs; a larger one only
    the pairs at most :data:`WINDOW` apart in ``sort_key`` order (by title, so the
    window meets similar titles).
    """
    groups: dict[str, list[int]] = {}
    for k, v in enumerate(values):
        if v:
            groups.setdefault(v, []).append(k)
    out: list[tuple[int, int]] = []
    for members in groups.values():
        size = len(members)
        if size < 2:
            continue
        if size <= max_block:
            out.extend(combinations(members, 2))
            continue
        members.sort(key=sort_key)
        for offset in range(1, WINDOW + 1):
            out.extend(zip(members, members[offset:], strict=False))
    return out


def candidate_pairs(p: Prepared) -> Candidates:
    """Union of the pairs proposed by every blocking key, each pair once, ``a < b``."""
    n = len(p)
    if n < 2:
        return Candidates([], [], {})
    title = p.title

    def by_title(k: int) -> tuple[str, int]:
        return title[k], k

    per_key: dict[str, int] = {}
    codes: set[int] = set()
    keys = blocking_keys(p)
    for name, values in keys.items():
        pairs = _pairs_in_groups(values, by_title, MAX_BLOCK.get(name, MAX_WEAK_BLOCK))
        per_key[name] = len(pairs)
        codes.update(x * n + y if x < y else y * n + x for x, y in pairs)
    # pair the alternative title with the main title of other records too
    alt = keys["alt_title_start"]
    if any(alt):

        def by_record_title(e: int) -> tuple[str, int, int]:
            return title[e % n], e % n, e

        pairs = _pairs_in_groups(keys["title_start"] + alt, by_record_title, MAX_WEAK_BLOCK)
        cross = [(x % n, y % n) for x, y in pairs if x % n != y % n]
        per_key["alt_vs_title"] = len(cross)
        codes.update(x * n + y if x < y else y * n + x for x, y in cross)
    ordered = sorted(codes)
    return Candidates([c // n for c in ordered], [c % n for c in ordered], per_key)
