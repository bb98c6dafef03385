"""What kind of publication a record is, and the title words that make near-twins different works.

Most false merges in deduplication are not typos gone wrong but *related*
records: an erratum and the article it corrects, a meeting abstract and the
later paper, part 1 and part 2, the 2008 and 2012 versions of a Cochrane
review, a protocol and its results, the same experiment in men and in women.
Their titles are nearly identical, so similarity alone merges them; these
helpers name the difference so the decision can refuse (or ask a person).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Kinds that never merge with a record of another kind.
KINDS = ("erratum", "retraction", "comment", "protocol")

_ERRATUM_RE = re.compile(
    r"^(?:erratum|errata|corrigend(?:um|a)|correction|corrections|author correction|"
    r"publisher s? correction|notice of correction|correction notice)\b"
)
_RETRACTION_RE = re.compile(
    r"^(?:retraction|retracted|notice of retraction|withdrawn|withdrawal|"
    r"expression of concern|editorial expression of concern)\b|\bretraction notice\b"
)
_COMMENT_RE = re.compile(
    r"^(?:re|reply|in reply|response|authors? reply|author s reply|the authors reply|"
    r"comment|comments|commentary on|a comment on|letter|letter to the editor|"
    r"correspondence|rebuttal)\b|\b(?:reply to|comment on|comments on|authors? reply)\b|"
    r"\breply$"
)
_PROTOCOL_RE = re.compile(
    r"\b(?:study|trial|review|research|evaluation|cohort) protocol\b|"
    r"\bprotocol (?:for|of) (?:a|an|the)\b|^protocol\b|"
    r"\brationale and design\b|\bdesign and rationale\b|\bstudy design and methods\b"
)
_TYPE_KIND = {
    "erratum": "erratum",
    "correction": "erratum",
    "published erratum": "erratum",
    "corrigendum": "erratum",
    "retraction": "retraction",
    "retracted publication": "retraction",
    "retraction of publication": "retraction",
    "comment": "comment",
    "letter": "comment",
    "editorial": "comment",
}
#: Every word the kind patterns above start from: a title without one of them has no kind.
_KIND_WORDS = frozenset(
    "erratum errata corrigendum corrigenda correction corrections retraction retracted "
    "withdrawn withdrawal concern re reply response responses comment comments commentary "
    "letter correspondence rebuttal protocol rationale design author authors".split()
)
_NO_KINDS: frozenset[str] = frozenset()
_ABSTRACT_NOTE_RE = re.compile(r"[\[(]\s*(?:meeting |conference )?abstracts?\s*[\])]")
_CONFERENCE_TYPES = frozenset(
    {
        "inproceedings",
        "conference",
        "conference abstract",
        "conference paper",
        "conference proceeding",
        "meeting abstract",
        "proceedings",
        "abstract",
        "conf",
        "cpaper",
    }
)

#: Groups of title words that are mutually exclusive descriptions of a study.
_CONTRASTS: dict[str, dict[str, str]] = {
    "model": {"in vivo": "vivo", "in vitro": "vitro", "ex vivo": "exvivo", "in silico": "silico"},
    "sex": {
        "men": "male",
        "man": "male",
        "male": "male",
        "males": "male",
        "boys": "male",
        "boy": "male",
        "fathers": "male",
        "father": "male",
        "women": "female",
        "woman": "female",
        "female": "female",
        "females": "female",
        "girls": "female",
        "girl": "female",
        "mothers": "female",
        "mother": "female",
    },
    "age": {
        "children": "young",
        "child": "young",
        "childhood": "young",
        "pediatric": "young",
        "infants": "young",
        "infant": "young",
        "neonates": "young",
        "neonatal": "young",
        "adolescents": "young",
        "adolescent": "young",
        "youth": "young",
        "newborn": "young",
        "newborns": "young",
        "preterm": "young",
        "kids": "young",
        "adults": "adult",
        "adult": "adult",
        "elderly": "old",
        "older": "old",
    },
    "species": {
        "mice": "mouse",
        "mouse": "mouse",
        "murine": "mouse",
        "rats": "rat",
        "rat": "rat",
        "dogs": "dog",
        "dog": "dog",
        "canine": "dog",
        "pigs": "pig",
        "porcine": "pig",
        "rabbits": "rabbit",
        "rabbit": "rabbit",
        "monkeys": "monkey",
        "primates": "monkey",
        "sheep": "sheep",
        "ovine": "sheep",
        "cats": "cat",
        "feline": "cat",
        "horses": "horse",
        "equine": "horse",
        "bovine": "cow",
        "cattle": "cow",
        "zebrafish": "fish",
    },
    "course": {"acute": "acute", "chronic": "chronic", "subacute": "subacute"},
    "malignancy": {"benign": "benign", "malignant": "malignant"},
    "sign": {"positive": "pos", "negative": "neg"},
    "timing": {
        "preoperative": "pre",
        "postoperative": "post",
        "intraoperative": "intra",
        "prenatal": "pre",
        "postnatal": "post",
        "antenatal": "pre",
        "postpartum": "post",
        "premenopausal": "pre",
        "postmenopausal": "post",
    },
    "direction": {
        "increase": "up",
        "increased": "up",
        "increases": "up",
        "increasing": "up",
        "decrease": "down",
        "decreased": "down",
        "decreases": "down",
        "decreasing": "down",
        "higher": "up",
        "lower": "down",
    },
    "design": {"randomized": "rct", "nonrandomized": "nonrct", "non randomized": "nonrct"},
    "side": {"left": "left", "right": "right", "bilateral": "both", "unilateral": "one"},
    "result": {"efficacy": "efficacy", "safety": "safety"},
    "scope": {"systematic review": "review", "meta analysis": "review", "trial": "trial"},
}
# 'result' and 'scope' are too common together ("efficacy and safety") to be exclusive alone;
# they count only when each title has exactly one member (see contrasts()).
_SINGLE_ONLY = frozenset({"result", "scope", "direction", "sign"})
#: term → (group, value), for one dictionary look-up per title word and word pair
_TERM_INDEX: dict[str, tuple[str, str]] = {
    term: (group, value) for group, members in _CONTRASTS.items() for term, value in members.items()
}

_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "first": "1",
    "second": "2",
    "third": "3",
    "fourth": "4",
    "fifth": "5",
    "sixth": "6",
    "1st": "1",
    "2nd": "2",
    "3rd": "3",
    "4th": "4",
    "5th": "5",
    "6th": "6",
}
_ROMAN = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "v": "5",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "x": "10",
    "xi": "11",
    "xii": "12",
}
_SERIES_WORDS = frozenset(
    {
        "part",
        "phase",
        "stage",
        "type",
        "grade",
        "class",
        "section",
        "chapter",
        "paper",
        "series",
        "study",
        "trial",
        "wave",
        "cycle",
        "report",
        "no",
        "number",
        "vol",
        "volume",
        "generation",
        "round",
        "year",
        "years",
        "month",
        "months",
        "week",
        "weeks",
        "day",
        "days",
    }
)
_DIGITS_RE = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class TitleMarks:
    """The marks of a title that must agree for two records to be one work."""

    numbers: frozenset[str]  #: numbers in the title (digits, number words, roman after 'part')
    series: frozenset[str]  #: numbers that follow 'part', 'phase', 'stage', ... (the strongest)
    contrasts: tuple[tuple[str, frozenset[str]], ...]  #: contrast group → members present


_NO_MARKS = TitleMarks(frozenset(), frozenset(), ())
#: One-word contrast terms; two-word ones are found from their second word ('in vitro').
_SINGLE_TERMS = frozenset(t for t in _TERM_INDEX if " " not in t)
_PAIR_SECONDS = {t.split()[1]: t for t in _TERM_INDEX if " " in t}
_NUMBER_VOCAB = frozenset(_NUMBER_WORDS) | frozenset(_ROMAN)


def title_marks(key: str) -> TitleMarks:
    """Numbers and contrast words of a normalised title (see :func:`normalise_title`)."""
    tokens = key.split()
    tokset = set(tokens)
    has_digit = _DIGITS_RE.search(key) is not None
    found: dict[str, set[str]] = {}
    for tok in tokset & _SINGLE_TERMS:
        group, value = _TERM_INDEX[tok]
        found.setdefault(group, set()).add(value)
    for second in tokset & _PAIR_SECONDS.keys():
        paired = 0
        for i, tok in enumerate(tokens):
            if tok == second and i:
                hit = _TERM_INDEX.get(f"{tokens[i - 1]} {tok}")
                if hit is not None:
                    found.setdefault(hit[0], set()).add(hit[1])
                    paired += 1
        # 'non randomized' is not also 'randomized'
        if paired and paired == tokens.count(second) and second in _SINGLE_TERMS:
            group, value = _TERM_INDEX[second]
            found[group].discard(value)
    numbers: set[str] = set()
    series: set[str] = set()
    if has_digit or not tokset.isdisjoint(_NUMBER_VOCAB):
        last = len(tokens) - 1
        for i, tok in enumerate(tokens):
            value = None
            if tok in _NUMBER_WORDS:
                value = _NUMBER_WORDS[tok]
            elif tok in _ROMAN:
                prev = tokens[i - 1] if i else ""
                if prev in _SERIES_WORDS or (i == last and last > 2 and len(tok) > 1):
                    value = _ROMAN[tok]
            elif has_digit and not tok.isalpha():
                if tok.isdigit():
                    value = str(int(tok))
                else:
                    numbers.update(str(int(d)) for d in _DIGITS_RE.findall(tok))
            if value is not None:
                numbers.add(value)
                prev = tokens[i - 1] if i else ""
                if prev in _SERIES_WORDS:
                    series.add(f"{prev}:{value}")
    if not found and not numbers:
        return _NO_MARKS
    contrasts = tuple((g, frozenset(v)) for g, v in sorted(found.items()))
    return TitleMarks(frozenset(numbers), frozenset(series), contrasts)


def record_kinds(
    title_key: str, notes: str, wos_correction: bool, type_text: str
) -> frozenset[str]:
    """Which of erratum / retraction / comment / protocol a record is, from title and type."""
    kinds: set[str] = set()
    if wos_correction:
        kinds.add("erratum")
    if not _KIND_WORDS.isdisjoint(title_key.split()):  # most titles: no regex at all
        if _ERRATUM_RE.search(title_key):
            kinds.add("erratum")
        if _RETRACTION_RE.search(title_key):
            kinds.add("retraction")
        if _COMMENT_RE.search(title_key):
            kinds.add("comment")
        if _PROTOCOL_RE.search(title_key):
            kinds.add("protocol")
    if type_text:
        t = type_text.strip().lower()
        if t in _TYPE_KIND:
            kinds.add(_TYPE_KIND[t])
    return frozenset(kinds) if kinds else _NO_KINDS


def is_conference(type_text: str, venue_is_meeting: bool, notes: str, supplement: bool) -> bool:
    """A meeting abstract or proceedings paper rather than a regular journal article."""
    t = type_text.strip().lower()
    return (
        venue_is_meeting
        or t in _CONFERENCE_TYPES
        or (bool(notes) and _ABSTRACT_NOTE_RE.search(notes) is not None)
        or supplement
    )


def kind_conflict(a: frozenset[str], b: frozenset[str]) -> str:
    """The first kind one record has and the other lacks ('' when they agree)."""
    for kind in KINDS:
        if (kind in a) != (kind in b):
            return kind
    return ""


def marks_conflict(a: TitleMarks, b: TitleMarks, truncated: bool = False) -> str:
    """Why two titles describe different works, or '' when their marks agree.

    Numbers count when both titles have some and they differ ('phase II' vs
    'phase III', '2009 update' vs '2011 update'), or when either names a part or
    phase the other lacks. A truncated title may have lost its numbers, so only
    contrasts count then.
    """
    if not truncated:
        if a.series != b.series:
            return "different part/phase/series numbers in title"
        if a.numbers - b.numbers and b.numbers - a.numbers:
            return "different numbers in title"
    # each title must name something the other lacks: 'men' vs 'women' conflicts, while
    # 'men and women' vs 'women' is one title leaving a word out
    ca, cb = dict(a.contrasts), dict(b.contrasts)
    for group in ca.keys() & cb.keys():
        x, y = ca[group], cb[group]
        if x - y and y - x:
            if group in _SINGLE_ONLY and (len(x) > 1 or len(y) > 1):
                continue
            return f"title differs in {group}: {'/'.join(sorted(x))} vs {'/'.join(sorted(y))}"
    return ""


_CITED_ERRATUM_RE = re.compile(
    r"erratum (?:appears )?in:?\s[^\]]*?(\d+)\s*(?:\([^)]*\))?\s*:\s*([a-z]?\d+)", re.IGNORECASE
)


def cited_errata(title_key: str, notes: str) -> list[tuple[str, str, str]]:
    """(title start, volume, page) of each erratum a MEDLINE note points to.

    "[Erratum appears in Am J Transplant. 2009 Sep;9(9):2205]" says the record at
    volume 9, page 2205 with this title is a correction notice, even when that
    record's own title does not say "Erratum".
    """
    if "erratum" not in notes:
        return []
    return [(title_key[:40], str(int(v)), pg.lower()) for v, pg in _CITED_ERRATUM_RE.findall(notes)]


_KIND_LABEL_RE = re.compile(
    r"^(?:erratum|errata|corrigendum|correction|corrections|author correction|publisher correction|"
    r"retraction notice|retraction|retracted|notice of retraction|withdrawn|reply|in reply|"
    r"response|authors? reply|comment|commentary|letter)(?: to| on| of| regarding)?(?: the)?"
    r"(?: article)?\s+"
)


def strip_kind_label(title_key: str) -> str:
    """The title without a leading 'Erratum:'/'Reply to:' label, so the notice and its article
    compare as alike (their kinds, not their titles, tell them apart)."""
    return _KIND_LABEL_RE.sub("", title_key, count=1) or title_key
