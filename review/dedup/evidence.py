"""What the fields of *this* file are worth as evidence, learnt from the file itself.

Exports differ: in one file the issue number is the issue, in another it is a
record counter; in one the DOI is the article's, in another a whole supplement
shares one. A rule written for one export misleads on the next, so each run
measures, Fellegi–Sunter style, how often each locator agrees on pairs that are
surely one work (*m*) and on records at random (*u*), and reads a field as
contradiction only where the file shows it to be reliable.

Three things are learnt per run:

- **m/u rates** for issue, volume, DOI and the full page range, from *confident
  pairs*: candidate pairs whose long, informative titles are identical and whose
  first authors and years agree (they never depend on the fields measured).
  A Beta prior keeps a small file at sensible defaults.
- **Venue-level DOIs**: a DOI carried by records with unlike titles identifies
  an issue or a supplement, not an item, so it is no item evidence.
- **Weak titles**: generic titles ("Editorial", "From the editor"), and titles
  that recur within one year in ways one item cannot (under two item DOIs, two
  reliable issues or two page ranges of one volume): such a title needs a
  positive item identifier.
- **Journal aliases**: two journal names that the file shows to be one venue
  (the same item DOI, or the same title, year, volume and full page range).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from review.dedup.normalise import Journal, compare_pages, journals_compatible
from review.dedup.prepare import Prepared

# ---------------------------------------------------------------------------------------------
# Named thresholds of the file-level evidence
# ---------------------------------------------------------------------------------------------

#: Prior agreement rate on true duplicates per field, and its weight in pseudo-pairs: with no
#: confident pairs the prior decides, with many the file does.
PRIOR_M: dict[str, float] = {"issue": 0.96, "volume": 0.97, "doi": 0.97, "range_end": 0.97}
PRIOR_PAIRS = 4.0
#: A field whose estimated agreement on duplicates reaches this counts as a contradiction
#: when it disagrees: it then sends fewer than 1 in 20 true duplicates to the maybe list.
RELIABLE_M = 0.95
#: Title similarity (0–100) of the pairs used to learn m; shorter titles are too generic.
CONFIDENT_TITLE = 99.0
CONFIDENT_TITLE_CHARS = 40
#: Titles within one DOI group less similar than this are different items.
VENUE_DOI_TITLE = 80.0
#: Records sharing one title beyond which the title recurs (more copies than databases).
RECURRING_COPIES = 8

FIELDS = ("issue", "volume", "doi", "range_end")


@dataclass(frozen=True)
class FieldRate:
    """Agreement of one field on confident duplicates (m) and at random (u)."""

    m: float
    u: float
    pairs: int  #: confident pairs where both records had the field

    @property
    def reliable(self) -> bool:
        """Disagreement on this field is evidence of two items in this file."""
        return self.m >= RELIABLE_M

    @property
    def agree_bits(self) -> float:
        """Fellegi–Sunter weight of agreement: log2(m/u)."""
        return math.log2(max(self.m, 1e-6) / max(self.u, 1e-6))

    @property
    def disagree_bits(self) -> float:
        """Fellegi–Sunter weight of disagreement: log2((1-m)/(1-u))."""
        return math.log2(max(1 - self.m, 1e-6) / max(1 - self.u, 1e-6))


@dataclass
class FileEvidence:
    """Per-run evidence: field rates, item DOIs, weak titles and journal aliases."""

    rates: dict[str, FieldRate]
    item_doi: list[str]  #: each record's DOIs less the venue-level ones
    venue_doi: frozenset[str]
    weak_title: list[bool]  #: per record: the title alone does not identify an item
    recurring: list[bool]  #: per record: the title recurs in the file as several items
    aliases: set[frozenset[tuple[str, ...]]] = field(default_factory=set)

    def reliable(self, name: str) -> bool:
        return self.rates[name].reliable

    def same_venue(self, a: Journal, b: Journal) -> bool | None:
        """Journals compatible by name, or shown to be one venue by this file."""
        jc = journals_compatible(a, b)
        if jc is False and self.aliases and a.variants and b.variants:
            if frozenset((a.variants[0], b.variants[0])) in self.aliases:
                return True
        return jc


def _u_rate(values: list[str]) -> float:
    """Chance that two records drawn at random agree on a field: Σ p_v² over known values."""
    known = [v for v in values if v]
    if len(known) < 2:
        return 0.01
    counts = defaultdict(int)
    for v in known:
        counts[v] += 1
    n = len(known)
    return max(sum(c * c for c in counts.values()) / (n * n), 1e-4)


def venue_dois(p: Prepared) -> frozenset[str]:
    """DOIs carried by records whose titles are unlike each other: an issue's or supplement's."""
    holders: dict[str, list[int]] = defaultdict(list)
    for i, dois in enumerate(p.doi):
        for d in dois.split():
            holders[d].append(i)
    venue = set()
    for d, idx in holders.items():
        if len(idx) < 2:
            continue
        titles = list(dict.fromkeys(p.title[i] for i in idx if p.title[i]))
        if len(titles) < 2:
            continue
        base = titles[0]
        # token sets: a dropped subtitle or moved words leave one title, not two
        if any(fuzz.token_set_ratio(base, t) < VENUE_DOI_TITLE for t in titles[1:]):
            venue.add(d)
    return frozenset(venue)


def _recurring_titles(p: Prepared, item_doi: list[str], issue_reliable: bool) -> list[bool]:
    """Records whose exact title is carried, within one year, by what must be several items.

    Within a year and a volume, one item has one item DOI, one issue and one first
    page: a title seen with two of any of them is a column, an editorial, a
    recurring heading. (Across years the year itself tells items apart.)
    """
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, t in enumerate(p.title):
        # an erratum or a reply under the article's title is another kind, kept apart anyway
        if t and not p.kinds[i]:
            groups[(t, p.year[i])].append(i)
    out = [False] * len(p)
    for idx in groups.values():
        if len(idx) < 2:
            continue
        dois = {item_doi[i].split(" ", 1)[0] for i in idx if item_doi[i]}
        per_volume: dict[str, list[int]] = defaultdict(list)
        for i in idx:
            if p.volume[i]:
                per_volume[p.volume[i]].append(i)
        recurs = len(dois) >= 2 or len(idx) > RECURRING_COPIES
        for members in per_volume.values():
            if issue_reliable and len({p.issue[i] for i in members if p.issue[i]}) >= 2:
                recurs = True
            # meeting abstracts' 'pages' are often abstract numbers: they say nothing here
            paged = [i for i in members if not p.conference[i]]
            for x, i in enumerate(paged):
                for j in paged[x + 1 :]:
                    if compare_pages(p.pages[i], p.pages[j]) == "different":
                        recurs = True
        if recurs:
            for i in idx:
                out[i] = True
    return out


def _full_range(p: Prepared, i: int) -> tuple[int, int, str] | None:
    pg = p.pages[i]
    if pg.span_pages >= 2 and len(pg.spans) == 1:
        return pg.spans[0]
    return None


def learn(
    p: Prepared, a: Sequence[int], b: Sequence[int], sim: Sequence[float]
) -> FileEvidence:
    """Estimate the file's field evidence from its candidate pairs (positions a, b; title sim,
    NaN where a title is missing)."""
    venue = venue_dois(p)
    item_doi = [
        " ".join(d for d in dois.split() if d not in venue) if dois else "" for dois in p.doi
    ]
    counts = {f: [0, 0] for f in FIELDS}  # both known, agree
    aliases: set[frozenset[tuple[str, ...]]] = set()
    for x, y, s in zip(a, b, sim, strict=True):
        if not s >= CONFIDENT_TITLE:  # NaN too
            continue
        i, j = int(x), int(y)
        if not (p.informative[i] and p.informative[j]):
            continue
        if min(len(p.title[i]), len(p.title[j])) < CONFIDENT_TITLE_CHARS:
            continue
        if p.kinds[i] != p.kinds[j] or p.conference[i] != p.conference[j]:
            continue
        ai, aj = p.authors[i], p.authors[j]
        if not ai or not aj or ai[0].surname != aj[0].surname:
            continue
        if p.year[i] < 0 or p.year[i] != p.year[j]:
            continue
        pairs = {
            "issue": (p.issue[i], p.issue[j]),
            "volume": (p.volume[i], p.volume[j]),
            "doi": (item_doi[i], item_doi[j]),
        }
        for name, (x, y) in pairs.items():
            if x and y:
                counts[name][0] += 1
                counts[name][1] += (x == y) or bool(set(x.split()) & set(y.split()))
        ri, rj = _full_range(p, i), _full_range(p, j)
        if ri and rj and ri[0] == rj[0] and ri[2] == rj[2]:
            counts["range_end"][0] += 1
            counts["range_end"][1] += ri[1] == rj[1]
        # one venue under two names: the same title, year, volume and full page range
        if (
            ri
            and ri == rj
            and p.volume[i]
            and p.volume[i] == p.volume[j]
            and p.journal[i].variants
            and p.journal[j].variants
            and journals_compatible(p.journal[i], p.journal[j]) is False
        ):
            aliases.add(frozenset((p.journal[i].variants[0], p.journal[j].variants[0])))
    u = {
        "issue": _u_rate(p.issue),
        "volume": _u_rate(p.volume),
        "doi": _u_rate([d.split(" ", 1)[0] for d in item_doi]),
        "range_end": _u_rate(
            [f"{r[0]}-{r[1]}" if (r := _full_range(p, i)) else "" for i in range(len(p))]
        ),
    }
    rates = {
        f: FieldRate(
            m=(counts[f][1] + PRIOR_M[f] * PRIOR_PAIRS) / (counts[f][0] + PRIOR_PAIRS),
            u=u[f],
            pairs=counts[f][0],
        )
        for f in FIELDS
    }
    recurring = _recurring_titles(p, item_doi, rates["issue"].reliable)
    weak = [r or g for r, g in zip(recurring, p.generic, strict=True)]
    return FileEvidence(
        rates=rates,
        item_doi=item_doi,
        venue_doi=venue,
        weak_title=weak,
        recurring=recurring,
        aliases=aliases,
    )
