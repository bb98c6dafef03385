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
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    """Candidate pairs (positions ``a < b``) and how many each blocking key proposed."""

    a: np.ndarray
    b: np.ndarray
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
    codes: np.ndarray, order: np.ndarray, max_block: int
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs inside each group of equal ``codes`` (>= 0); windowed inside large groups."""
    idx = np.flatnonzero(codes >= 0)
    if len(idx) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    sort = np.lexsort((order[idx], codes[idx]))
    idx = idx[sort]
    c = codes[idx]
    # size of the group each sorted position belongs to
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    sizes = np.diff(np.r_[starts, len(c)])
    size_at = np.repeat(sizes, sizes)
    largest = int(sizes.max())
    out_a: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    for offset in range(1, min(largest, max_block)):
        same = c[offset:] == c[:-offset]
        if offset > WINDOW:
            same &= size_at[offset:] <= max_block
        if not same.any():
            continue
        k = np.flatnonzero(same)
        out_a.append(idx[k])
        out_b.append(idx[k + offset])
    if not out_a:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(out_a), np.concatenate(out_b)


def candidate_pairs(p: Prepared) -> Candidates:
    """Union of the pairs proposed by every blocking key, each pair once, ``a < b``."""
    n = len(p)
    if n < 2:
        return Candidates(np.empty(0, np.int64), np.empty(0, np.int64), {})
    # order inside groups: by title, so the sliding window meets similar titles
    order = pd.Series(p.title).rank(method="first").to_numpy(dtype=np.int64)
    all_a: list[np.ndarray] = []
    all_b: list[np.ndarray] = []
    per_key: dict[str, int] = {}
    keys = blocking_keys(p)
    for name, values in keys.items():
        codes, _ = pd.factorize(
            pd.Series(values, dtype=object).replace("", None), use_na_sentinel=True
        )
        a, b = _pairs_in_groups(codes.astype(np.int64), order, MAX_BLOCK.get(name, MAX_WEAK_BLOCK))
        per_key[name] = len(a)
        all_a.append(a)
        all_b.append(b)
    # pair the alternative title with the main title of other records too
    alt = keys["alt_title_start"]
    if any(alt):
        main = keys["title_start"]
        both = pd.Series(main + alt, dtype=object).replace("", None)
        codes, _ = pd.factorize(both, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        a, b = _pairs_in_groups(codes, np.r_[order, order], MAX_WEAK_BLOCK)
        a, b = a % n, b % n
        keep = a != b
        per_key["alt_vs_title"] = int(keep.sum())
        all_a.append(a[keep])
        all_b.append(b[keep])
    a = np.concatenate(all_a)
    b = np.concatenate(all_b)
    lo = np.minimum(a, b)
    hi = np.maximum(a, b)
    code = np.unique(lo * n + hi)
    return Candidates(code // n, code % n, per_key)
