"""Field normalisation: make two exports of one article look alike, and nothing more.

Bibliographic databases disagree on spelling, not on facts: one writes
``Zuber, J.`` where another writes ``Zuber J``, one ``1535-41`` where another
writes ``1535-1541``, one ``N Engl J Med`` where another spells the journal out.
Every function here folds such presentational differences into one form and
keeps the facts (which page, which volume, which name) intact, so that the
scorer can later treat any remaining difference as evidence.

The functions are pure and cached where the same value recurs across records
(journal names, author strings), which is what keeps 100,000 records fast.
"""

from __future__ import annotations

import html
import math
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

#: Greek letters spelled out, so ``TNF-α`` and ``TNF-alpha`` compare equal.
_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
    "µ": "mu",
}
_GREEK_RE = re.compile("|".join(map(re.escape, _GREEK)))

#: Characters NFKD does not decompose but that have an obvious Latin spelling.
_LATIN_EXTRA = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)

_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_LATEX_ACCENT_RE = re.compile(r"\\[`'^\"~=.uvHcdbk]\s*\{?\\?([a-zA-Z])\}?")
_LATEX_CMD_RE = re.compile(r"\\[a-zA-Z]+\*?\s*")
_NON_WORD_RE = re.compile(r"[\W_]+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
_HAS_DIGIT_RE = re.compile(r"\d")
_PUNCTUATION = str.maketrans({c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"})
_THOUSANDS_RE = re.compile(r"(?<![\d.,])(\d{1,3})[ \u00a0\u2009,](\d{3})(?![\d])")


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas NA and blank strings: the many ways exports say 'nothing'."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip() or value.strip().lower() in {"nan", "none", "null", "n/a", "na"}
    if isinstance(value, list | tuple | dict):
        return False
    # pandas' own markers (pd.NA, NaT) exist only where pandas is loaded: never import it here
    pd = sys.modules.get("pandas")
    if pd is None:
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def text_of(value: Any) -> str:
    """A field as plain text ('' when missing), whatever type the importer gave it."""
    if is_missing(value):
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(text_of(v) for v in value if not is_missing(v))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_MISSING_WORDS = frozenset({"nan", "none", "null", "n/a", "na"})


def texts(values: list[Any]) -> list[str]:
    """:func:`text_of` over a column, with a fast path for the usual str / NaN values."""
    out: list[str] = []
    append = out.append
    for v in values:
        if type(v) is str:
            v = v.strip()
            append("" if len(v) <= 4 and v.lower() in _MISSING_WORDS else v)
        elif v is None or (type(v) is float and v != v):
            append("")
        else:
            append(text_of(v))
    return out


def fold_text(text: str) -> str:
    """Decode markup and fold accents and case: HTML entities and tags, LaTeX, Unicode.

    Non-Latin scripts are kept as they are (only case-folded): dropping them
    would make every Chinese or Russian title equal to every other one.
    """
    if not text:
        return ""
    s = html.unescape(html.unescape(text)) if "&" in text else text
    if "<" in s:
        s = _TAG_RE.sub(" ", s)
    if "\\" in s:
        s = _LATEX_ACCENT_RE.sub(r"\1", s)
        s = _LATEX_CMD_RE.sub(" ", s)
    if "{" in s or "}" in s:
        s = s.replace("{", "").replace("}", "")
    s = _GREEK_RE.sub(lambda m: f" {_GREEK[m.group(0)]} ", s)
    s = s.translate(_LATIN_EXTRA)
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return s.casefold()


#: Cached :func:`fold_text` for short, recurring values (names, titles, journals).
fold = lru_cache(maxsize=262_144)(fold_text)


# British → American spellings, applied to both sides so either spelling compares equal.
_SPELLING = [
    (re.compile(r"\b(h|an|leuk|septic|ur|isch|hyperur|hypox|glyc|bacter|vir|tox)aem"), r"\1em"),
    (re.compile(r"\b(orthop|gyn|p)ae(d|c)"), r"\1e\2"),
    (re.compile(r"\boe(soph|dem|strog|cum)"), r"e\1"),
    (re.compile(r"\bfoet"), "fet"),
    (re.compile(r"\b(diarrh|dyspn|apn|amenorrh|gonorrh|hypopn|orthopn)oea\b"), r"\1ea"),
    (re.compile(r"([a-z]{3,})isation"), r"\1ization"),
    (
        re.compile(
            r"\b(random|organ|characte?r|util|minim|maxim|optim|standard|hospital|"
            r"immun|real|recogn|categor|summar|general|special|emphas|vapor|steril)is(e|ed|es|ing)\b"
        ),
        r"\1iz\2",
    ),
    (re.compile(r"\b(tum|behavi|col|fav|lab|hum|flav|neighb|rum|vap)our"), r"\1or"),
    (re.compile(r"\b(cent|fib|lit|met|theat)re\b"), r"\1er"),
    (re.compile(r"\banalys(e|ed|ing)\b"), r"analyz\1"),
]


_SPELLING_HINT_RE = re.compile(r"ae|oe|is|our|re\b|analys")


@lru_cache(maxsize=131_072)
def us_spelling(word: str) -> str:
    """One word in American spelling ('haemolytic' → 'hemolytic'); cached, words recur."""
    if _SPELLING_HINT_RE.search(word):
        for pattern, repl in _SPELLING:
            word = pattern.sub(repl, word)
    return word


def words_of(text: str, spelling: bool = True) -> str:
    """Folded text reduced to space-separated words: no punctuation, '&' = 'and', and
    (unless ``spelling`` is False) American spelling."""
    s = fold_text(text).replace("&", " and ")
    if _HAS_DIGIT_RE.search(s):
        s = _THOUSANDS_RE.sub(r"\1\2", s)
    tokens = _NON_WORD_RE.sub(" ", s).split()
    if spelling:
        tokens = [us_spelling(t) for t in tokens]
    return " ".join(tokens)


#: Cached :func:`words_of` for short, recurring values; abstracts bypass the cache.
words = lru_cache(maxsize=262_144)(words_of)


# ---------------------------------------------------------------------------------------------
# Titles
# ---------------------------------------------------------------------------------------------

#: Database annotations appended to titles: they say something about the record, not the work.
_TITLE_NOTE_RE = re.compile(
    r"\s*[\[(]\s*(?:review|abstract|editorial|letter|comment|news|meeting abstract|"
    r"multiple letters|\d+\s*refs?|article in [^\]\)]*|in press|english abstract|"
    r"[a-z]+ (?:abstract|translation)|(?:erratum|retraction|comment|corrected and republished|"
    r"update|summary for patients|republished|expression of concern)s? (?:in|appears in|of|for)"
    r"[^\]\)]*(?:[\])]\s*)?|note:[^\]\)]*)\s*[\])]\.?",
    re.IGNORECASE,
)
_REFERENCE_MARK_RE = re.compile(r"\s*\[\d{1,2}\]\s*$")  # "... (multiple letters) [1]"
_LANGUAGE_NOTE_RE = re.compile(
    r"\s*\[\s*(?:chinese|japanese|german|french|spanish|russian|italian|portuguese|polish|"
    r"dutch|korean|czech|hungarian|turkish|danish|swedish|norwegian|finnish|hebrew|greek|"
    r"croatian|serbian|persian|arabic)\s*\]\.?",
    re.IGNORECASE,
)
#: Bracketed notes that may hold nested brackets or be cut off by a field-length limit:
#: "...lesions.[Erratum appears in J Clin Virol. 2006 Oct;37(2):137]",
#: "... study.[Erratum appears in Int"
_NOTE_START_RE = re.compile(
    r"\.?\s*\[\s*(?=(?:erratum|errata|retraction|retracted|comment|update|corrected|republished|"
    r"summary for|expression of|see comment|note:|\d+\s*refs?\b))",
    re.IGNORECASE,
)


def _strip_bracket_notes(text: str, notes: list[str]) -> str:
    """Remove database notes in square brackets (nested brackets balanced; to the end if open)."""
    while True:
        m = _NOTE_START_RE.search(text)
        if not m:
            return text
        depth, end = 0, len(text)
        for k in range(m.end() - 1, len(text)):
            if text[k] == "[":
                depth += 1
            elif text[k] == "]":
                depth -= 1
                if depth == 0:
                    end = k + 1
                    break
        notes.append(text[m.start() : end])
        text = f"{text[: m.start()]} {text[end:]}"


#: Web of Science marks a correction as "<title> (vol 360, pg 542, 2009)"; Embase as
#: "<title> (New England Journal of Medicine (2009) 360 (542-544))".
_WOS_CORRECTION_RE = re.compile(
    r"\(\s*vol\.?\s*\d+[^)]*\bpg\.?\s*\w+[^)]*\)"
    r"|\((?:[^()]{3,200})\(\s*(?:1[89]|20)\d\d\s*\)\s*\d+[^()]*\(\s*[\w\s,.-]+\)\s*\)\s*\.?$",
    re.IGNORECASE,
)
#: "English title <ORIGINAL> Originaltitel": some exports append the original-language title.
_ORIGINAL_MARK_RE = re.compile(r"\s*<\s*original\s*>\s*", re.IGNORECASE)


#: '<original-language title> [<English title>]' (the bracketed part closes the field).
_TRAILING_TRANSLATION_RE = re.compile(r"^([^\[\]]+?)\s*\[([^\[\]]+)\]\.?$")


def _mostly_non_latin(text: str) -> bool:
    """More than half of the letters are outside the Latin script (Cyrillic, Greek, CJK ...)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    return sum(1 for ch in letters if ord(ch) > 0x024F) * 2 > len(letters)


#: Characters of a title compared (longer ones are cut: see normalise_title).
MAX_TITLE = 400


@dataclass(frozen=True, slots=True)
class Title:
    """A title folded for comparison, with what the clean-up learnt on the way."""

    key: str  #: words of the main title: what is compared
    alt: str  #: words of a second-language title carried in the same field ('' if none)
    notes: str  #: folded annotations that were stripped (e.g. 'erratum appears in ...')
    translated: bool  #: the title was a bracketed translation, as MEDLINE marks them
    wos_correction: bool  #: carried a Web of Science correction citation


@lru_cache(maxsize=262_144)
def normalise_title(raw: str) -> Title:
    """Split a raw title into the comparable main title, any original-language title and notes.

    MEDLINE puts translated titles in square brackets and some databases append
    the original-language title after the English one: both are the same work,
    so both spellings are kept for comparison, but only the first is the key.
    """
    # a title is rarely over 300 characters: a longer field is a pasted abstract or garbage,
    # and comparing it in full would cost quadratic time per pair
    text = raw[: MAX_TITLE * 2].strip().strip('"').strip()
    notes: list[str] = []
    wos = "(" in text and bool(_WOS_CORRECTION_RE.search(text))
    if wos:
        notes.extend(m.group(0) for m in _WOS_CORRECTION_RE.finditer(text))
        text = _WOS_CORRECTION_RE.sub(" ", text)
    if "[" in text:
        text = _strip_bracket_notes(text, notes)
    for pattern in (_REFERENCE_MARK_RE, _TITLE_NOTE_RE, _LANGUAGE_NOTE_RE):
        if "[" in text or "(" in text:
            found = pattern.findall(text)
            if found:
                notes.extend(found)
                text = pattern.sub(" ", text)
    alt = ""
    if "<" in text:
        parts = _ORIGINAL_MARK_RE.split(text, maxsplit=1)
        if len(parts) == 2:
            text, alt = parts
    text = text.strip().rstrip(".").strip()
    translated = False
    bracketed = _TRAILING_TRANSLATION_RE.match(text) if text.endswith("]") else None
    if bracketed and _mostly_non_latin(bracketed.group(1)) and not _mostly_non_latin(
        bracketed.group(2)
    ):
        # 'Эффективность терапии [Efficacy of therapy]': an original-language title with its
        # English translation in brackets; the English one is the key, as MEDLINE has it
        alt = alt or bracketed.group(1)
        text = f"[{bracketed.group(2)}]"
    if text.startswith("[") and "]" in text:
        close = text.rfind("]")
        rest = text[close + 1 :].strip(" .:;")
        inner = text[1:close]
        if inner.count("[") == inner.count("]"):
            translated = True
            if rest and not alt:
                alt = rest
            text = inner
    return Title(
        key=words(text)[:MAX_TITLE],
        alt=words(alt)[:MAX_TITLE],
        notes=fold(" ".join(notes)),
        translated=translated,
        wos_correction=wos,
    )


# ---------------------------------------------------------------------------------------------
# Authors
# ---------------------------------------------------------------------------------------------

_ET_AL_RE = re.compile(r"\bet\.?\s*al\b\.?|\band others\b|\[?\bet al\.?\]?", re.IGNORECASE)
_AND_RE = re.compile(r"\s+and\s+|\s*&\s*", re.IGNORECASE)
_INITIALS_RE = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_PARTICLES = frozenset(
    {
        "de",
        "da",
        "del",
        "della",
        "der",
        "den",
        "di",
        "du",
        "la",
        "le",
        "van",
        "von",
        "dos",
        "das",
        "do",
        "ten",
        "ter",
        "vande",
        "vander",
        "al",
        "el",
        "bin",
        "ibn",
        "mac",
        "st",
    }
)


_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "2nd", "3rd", "md", "phd"})
_SUFFIX_HINT_RE = re.compile(r"[JS][rR]|II|IV|MD|PhD")
_SUFFIX_RE = re.compile(r"(?<=[\s,])(?:[JS]r|JR|SR|II|III|IV|MD|PhD)\b\.?(?=\s|,|$)")
_ORGANISATION_RE = re.compile(
    r"\b(?:group|groups|study|studies|trial|trialists|consortium|collaborat\w*|committee|"
    r"investigators|network|society|association|council|foundation|institute|organi[sz]ation|"
    r"inc|ltd|llc|gmbh|pharmaceuticals?|corporation|corp|company|team|working|panel|"
    r"taskforce|task force|writing|members|university|hospital|centre|center|agency|"
    r"anonymous|anon|unknown|not stated|no authorship)\b",
    re.IGNORECASE,
)

#: Authors read per record: enough to compare, bounded for 1,000-name consortium lists.
MAX_AUTHORS = 40


@dataclass(frozen=True, slots=True)
class Author:
    """One author as ``surname`` (letters only, particles joined) and ``initials``."""

    surname: str
    initials: str
    parts: frozenset[str]  #: every name word of 3+ letters, to recognise 'Le, Quintrec M.'
    organisation: bool = False  #: a group author ('ALTS Group'): no person to compare


def _clean_name_piece(piece: str) -> str:
    return " ".join(piece.strip(" ,.;").split())


def _may_have_et_al(raw: str) -> bool:
    """Whether :data:`_ET_AL_RE` can match: its every match holds 'et' and 'al', or 'others'.

    A substring test is several times cheaper than the case-insensitive scan, and
    most author lists have neither (non-ASCII text always takes the scan).
    """
    if not raw.isascii():
        return True
    low = raw.lower()
    return ("et" in low and "al" in low) or "others" in low


def split_author_list(raw: str) -> list[str]:
    """Split an author string into names: BibTeX 'and', semicolons, PubMed 'Smith AB, Jones C'."""
    s = _ET_AL_RE.sub(" ", raw) if _may_have_et_al(raw) else raw
    s = " ".join(s.split()).strip(" ,;.")
    if not s:
        return []
    if re.search(r"\sand\s", s, re.IGNORECASE) or " & " in s:
        names = _AND_RE.split(s)
        # "Smith, J., Jones, K. and Brown, L." — the last part joined by 'and', the rest by commas
        if len(names) >= 2 and names[0].count(",") >= 3:
            names = _split_commas(names[0]) + names[1:]
    elif ";" in s:
        names = s.split(";")
    elif "\n" in s:
        names = s.splitlines()
    elif "," in s:
        names = _split_commas(s)
    else:
        names = [s]
    return [n for n in (_clean_name_piece(x) for x in names) if n]


def _split_commas(s: str) -> list[str]:
    """Tell 'Smith, John' (one name) from 'Smith J, Jones K' and 'Smith, J., Jones, K.' (lists)."""
    parts = [p.strip() for p in s.split(",") if p.strip()]
    if len(parts) <= 1:
        return parts
    # PubMed style: every part is "Surname INITIALS"
    if all(len(p.split()) >= 2 and _INITIALS_RE.match(p.split()[-1]) for p in parts):
        return parts
    # "Surname, Given, Surname, Given": pair them up
    if len(parts) % 2 == 0 and all(
        _INITIALS_RE.match(parts[i].replace(" ", "")) or len(parts[i]) <= 20
        for i in range(1, len(parts), 2)
    ):
        return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
    if len(parts) == 2:
        return [f"{parts[0]}, {parts[1]}"]
    return parts


_NOT_LETTER_RE = re.compile(r"[\W\d_]+", re.UNICODE)


def _is_initials(token: str) -> bool:
    bare = token.replace(".", "").replace("-", "")
    return bool(bare) and len(bare) <= 3 and bare.isupper() and bare.isalpha()


def _letters(s: str) -> str:
    return _NOT_LETTER_RE.sub("", fold(s))


@lru_cache(maxsize=262_144)
def parse_author(name: str) -> Author | None:
    """Read one name in any of 'Surname, A. B.', 'A B Surname', 'Surname AB', 'Given Surname'."""
    name = _clean_name_piece(name)
    if not name:
        return None
    if _ORGANISATION_RE.search(name):
        key = _letters(name)
        return Author(surname=key, initials="", parts=frozenset({key}), organisation=True)
    if _SUFFIX_HINT_RE.search(name):
        name = _clean_name_piece(_SUFFIX_RE.sub(" ", name).replace(" ,", ",")) or name
    if "," in name:
        surname, _, given = name.partition(",")
        given_tokens = given.replace(".", " ").split()
    else:
        tokens = name.replace(".", ". ").split()
        tokens = [t.strip() for t in tokens if t.strip()]
        # trailing initials: 'Smith AB', 'Smith J. A.', 'LEE JA'
        k = len(tokens)
        while k > 1 and _is_initials(tokens[k - 1]):
            k -= 1
        if k < len(tokens):
            surname, given_tokens = " ".join(tokens[:k]), tokens[k:]
        elif len(tokens) >= 2 and all(_INITIALS_RE.match(t) for t in tokens[:-1]):
            surname, given_tokens = tokens[-1], tokens[:-1]
        elif len(tokens) >= 2:
            # 'Given [Middle] Surname', with particles ('Ludwig van Beethoven') kept in the surname
            i = len(tokens) - 1
            while i > 1 and fold(tokens[i - 1]) in _PARTICLES:
                i -= 1
            surname, given_tokens = " ".join(tokens[i:]), tokens[:i]
        else:
            surname, given_tokens = tokens[0], []
    given_tokens = [t for t in given_tokens if t.strip(".").lower() not in _SUFFIXES]
    initials = ""
    for tok in given_tokens:
        tok = tok.strip("-.")
        if not tok:
            continue
        if tok.isupper() and len(tok) <= 4 and tok.isalpha():
            initials += tok.lower()  # 'AB' = two initials
        else:
            letters = _letters(tok)  # no hyphen or space is left in it: one initial
            initials += letters[:1]
    sur = _letters(surname)
    if not sur:
        sur = _letters(" ".join(given_tokens))
        initials = ""
    parts = frozenset(w for w in _NOT_LETTER_RE.split(fold(name)) if len(w) >= 3)
    return Author(surname=sur, initials=fold(initials), parts=parts)


@lru_cache(maxsize=131_072)
def _authors_from_text(raw: str) -> tuple[Author, ...]:
    names = split_author_list(raw)[:MAX_AUTHORS]
    return tuple(a for a in (parse_author(n) for n in names) if a and a.surname)


def normalise_authors(value: Any) -> tuple[Author, ...]:
    """Authors from a string (any export style) or a list of names, in order."""
    if type(value) is str:
        return _authors_from_text(value) if value.strip() else ()
    if is_missing(value):
        return ()
    if isinstance(value, list | tuple):
        out: list[Author] = []
        for item in value[:MAX_AUTHORS]:
            if is_missing(item):
                continue
            if isinstance(item, dict):
                item = ", ".join(text_of(item.get(k)) for k in ("family", "given") if item.get(k))
            a = parse_author(str(item))
            if a and a.surname and not _ET_AL_RE.fullmatch(str(item).strip()):
                out.append(a)
        return tuple(out)
    return _authors_from_text(str(value))


# ---------------------------------------------------------------------------------------------
# Journals
# ---------------------------------------------------------------------------------------------

_JOURNAL_STOP = frozenset(
    {
        "the",
        "of",
        "and",
        "for",
        "in",
        "on",
        "an",
        "de",
        "des",
        "du",
        "d",
        "la",
        "le",
        "les",
        "et",
        "der",
        "die",
        "das",
        "und",
        "fur",
        "el",
        "di",
        "del",
        "l",
    }
)
_CONFERENCE_RE = re.compile(
    r"\b(?:conference|congress|meeting|symposium|abstracts?|workshop|colloquium|convention|"
    r"poster)\b",
    re.IGNORECASE,
)
_JOURNAL_NOISE_RE = re.compile(r"\[[^\]]*\]|\([^)]*\)")


@dataclass(frozen=True, slots=True)
class Journal:
    """A journal name as token tuples, one per spelling the field carried ('A = B' gives two)."""

    variants: tuple[tuple[str, ...], ...]
    conference: bool  #: the venue is a meeting, not a journal issue
    cochrane: bool  #: Cochrane Database of Systematic Reviews (its reviews get updated)


@lru_cache(maxsize=65_536)
def normalise_journal(raw: str) -> Journal:
    """Fold a venue name and drop what is not the name ('[Electronic Resource]', meetings)."""
    if not raw:
        return Journal((), False, False)
    s = fold(raw[:400])
    conference = bool(_CONFERENCE_RE.search(s))
    # "Journal.Conference: 44th Annual Meeting ..." — the journal is the part before
    cut = re.split(r"\.?\s*conference\s*:|\.\s*(?=\d+(?:st|nd|rd|th)\b)", s, maxsplit=1)
    meeting = cut[1] if len(cut) == 2 else ""
    s = cut[0] if cut[0].strip() else s
    # "Gan to Kagaku Ryoho [Japanese Journal of Cancer & Chemotherapy]": the bracket is a
    # translated name, so it becomes a spelling of its own; "(Online)", "(1946)" are dropped
    bracketed = [m.strip() for m in re.findall(r"\[([^\]]*)\]", s) if len(m.strip()) > 12]
    s = _JOURNAL_NOISE_RE.sub(" ", s)
    pieces = [p for p in re.split(r"\s=\s|\s*:\s+", s) if p.strip()] or [s]
    pieces += bracketed
    if meeting:  # the meeting's own name, which another database may give as the venue
        pieces.append(meeting)
    variants: list[tuple[str, ...]] = []
    whole = tuple(t for t in words(s).split() if t not in _JOURNAL_STOP)
    for piece in [s, *pieces]:
        toks = tuple(t for t in words(piece).split() if t not in _JOURNAL_STOP)
        if toks and toks not in variants:
            variants.append(toks)
    cochrane = "cochrane" in whole
    return Journal(tuple(variants), conference, cochrane)


def _abbrev_of(short: str, full: str) -> bool:
    """True when ``short`` abbreviates ``full``: a prefix ('Am'→'American') or, keeping the first
    letter, a subsequence ('Natl'→'National', 'Dtsch'→'Deutsche'), as ISO 4 abbreviations are."""
    if short == full or full.startswith(short):
        return True
    if len(short) < 2 or short[0] != full[0] or len(short) >= len(full):
        return False
    it = iter(full)
    return all(ch in it for ch in short)


def _tokens_abbreviate(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Every word of ``short`` abbreviates the next words of ``full``, in order, none left over.

    A short word may also stand for two run-together words ('Neurosurg' for 'Neurological
    Surgery' does not occur, but 'Jpen' heads 'JPEN Journal of ...'), so trailing words of the
    full name may remain only when the short form is a single acronym.
    """
    if not short or len(short) > len(full):
        return False
    i = 0
    for tok in short:
        if i >= len(full) or not _abbrev_of(tok, full[i]):
            return False
        i += 1
    return i == len(full)


@lru_cache(maxsize=262_144)
def journals_compatible(a: Journal, b: Journal) -> bool | None:
    """Same venue under any spelling? ``None`` when either is unknown."""
    if not a.variants or not b.variants:
        return None
    for va in a.variants:
        for vb in b.variants:
            if va == vb:
                return True
            short, full = (va, vb) if len("".join(va)) <= len("".join(vb)) else (vb, va)
            if _tokens_abbreviate(short, full):
                return True
            # acronyms: 'BMJ' for 'British Medical Journal', 'PNAS', 'JAMA'
            if len(short) == 1 and len(full) >= 2 and short[0] == "".join(t[0] for t in full):
                return True
            # a name contained in a longer one ('Chinese journal of X' inside a bilingual name)
            if len(short) >= 3 and set(short) <= set(full):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# Locators: year, volume, issue, pages, DOI, PMID
# ---------------------------------------------------------------------------------------------

_YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
_INT_RE = re.compile(r"\d+")
_DOI_RE = re.compile(r"10\.\d{3,9}/\S+")
_SICI_RE = re.compile(r"<[^<>\s]*>[\w.]*;\d[\w-]*")
_SUPPL_RE = re.compile(
    r"(?<![a-z])sup(?:p|pl|ple|plement|plements)?(?![a-z])|^\s*s\s?\d+\s*$", re.IGNORECASE
)


def normalise_year(value: Any) -> int | None:
    """The publication year as an int: the first plausible four-digit year in the field."""
    if type(value) is str:
        if len(value) == 4 and value.isdecimal():  # not isdigit: '²' is a digit int() refuses
            v = int(value)
            return v if 1500 <= v <= 2199 else None
    elif is_missing(value):
        return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        v = int(value)
        return v if 1500 <= v <= 2199 else None
    m = _YEAR_RE.search(str(value))
    return int(m.group(1)) if m else None


def normalise_number(value: Any) -> str:
    """A volume or issue as its digits ('Vol. 12' → '12', '12 Suppl 2' → '12'); '' if none."""
    s = value if type(value) is str else text_of(value)
    if not s:
        return ""
    if s.isdecimal():  # not isdigit: '²' is a digit that int() refuses
        return str(int(s))
    if s.count("(") != s.count(")") and not s.lstrip().startswith(("(", "[")) and (
        s.lstrip()[0].isdigit() and ")" in s and "(" not in s
    ):
        # '1)': the tail of '12 (Suppl 1)' cut by an export; the number in it is not the volume
        return ""
    m = _INT_RE.search(s)
    # a month, a season or 'Suppl' in the field is no volume or issue number
    if m:
        return str(int(m.group(0)))
    w = words(s)  # other scripts' digits ('²', '١٢') fold to ASCII ones
    return w if _HAS_DIGIT_RE.search(w) else ""


def is_supplement(*values: Any) -> bool:
    """A supplement issue: meeting abstracts live there, apart from the regular papers."""
    for v in values:
        s = v if type(v) is str else text_of(v)
        if s and ("s" in s or "S" in s) and _SUPPL_RE.search(s):
            return True
    return False


def normalise_doi(value: Any) -> str:
    """DOIs without resolver prefix or trailing punctuation, lower-cased (DOIs are case-blind).

    A field may hold several DOIs (print and online, or 'doi1; doi2'); they are
    returned space-separated, the first being the one used for blocking.
    """
    s = value if type(value) is str else text_of(value)
    if not s or "10." not in s:
        return ""
    if "%" in s:
        s = unquote(s)
    found = []
    # a ';' inside a SICI DOI ('...<857::AID-SIM777>3.0.CO;2-E') is part of it, not a separator
    s = _SICI_RE.sub(lambda m: m.group(0).replace(";", "\0"), s)
    for m in _DOI_RE.finditer(re.sub(r"\s*;\s*|\s+", " ", s).replace("\0", ";")):
        doi = m.group(0).rstrip(".,;)]}>").lower()
        if doi not in found:
            found.append(doi)
    return " ".join(found)


def normalise_pmid(value: Any) -> str:
    """A PubMed id as its digits."""
    s = value if type(value) is str else text_of(value)
    if not s:
        return ""
    m = _INT_RE.search(s)
    if m:
        return str(int(m.group(0)))
    w = words(s)  # other scripts' digits ('²', '١٢') fold to ASCII ones
    return w if _HAS_DIGIT_RE.search(w) else ""


@dataclass(frozen=True, slots=True)
class Pages:
    """Where an article sits: numeric range(s), or an article number / e-locator."""

    kind: str  #: 'range' | 'single' | 'locator' | '' (unknown)
    starts: tuple[str, ...]  #: start page of each range ('s33' keeps its supplement prefix)
    spans: tuple[tuple[int, int, str], ...]  #: (first, last, prefix) per numeric range
    locator: str  #: article number or e-locator ('e12724', 'cd006828', 'a4912')

    @property
    def span_pages(self) -> int:
        """Printed length in pages (0 when unknown): one-page items are abstracts or letters."""
        return max((b - a + 1 for a, b, _ in self.spans if b >= a), default=0)


_EMPTY_PAGES = Pages("", (), (), "")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_EXCEL_DATE_RE = re.compile(rf"^\d{{1,2}}-(?:{_MONTHS})|^(?:{_MONTHS})-\d{{1,2}}$", re.IGNORECASE)
_SIMPLE_RANGE_RE = re.compile(r"^\s*(\d{1,6})(?:\s*[-–]\s*(\d{1,6}))?\s*$")
_RANGE_RE = re.compile(r"^([a-z]?)(\d+)[a-z]?(?:-+|–|—|to)([a-z]?)(\d+)[a-z]?$")
_SINGLE_RE = re.compile(r"^([a-z]{0,3})(\d+)([a-z]?)$")


@lru_cache(maxsize=262_144)
def normalise_pages(raw: str) -> Pages:
    """Read '1535-41', 'S33-38', 'L37-L48', 'e12724', 'CD006828', '230-5, 246-51'.

    Spreadsheets turn '1-6' into '01-Jun', and some exports write 'Suppl-48':
    such values are dropped as unknown rather than read as pages, because a
    wrong page is worse than none.
    """
    simple = _SIMPLE_RANGE_RE.match(raw)
    if simple:  # the common '1535-1541' / '1535-41' / '1535', without the general parser
        first, last = simple.group(1), simple.group(2) or simple.group(1)
        if len(last) < len(first):
            last = first[: len(first) - len(last)] + last
        a, b = int(first), int(last)
        return Pages("range" if b > a else "single", (str(a),), ((a, b, ""),), "")
    s = fold(raw).strip().strip('"').strip()
    if not s or _EXCEL_DATE_RE.match(s) or "sup" in s:
        return _EMPTY_PAGES
    s = re.sub(r"\[[^\]]*\]|\([^)]*\)|;?\s*author reply.*$", " ", s).strip()
    s = re.sub(r"^(?:pp?\.\s*|pp?\s+|pages?\s*)", "", s)
    s = re.sub(r"\.e\d+\b", "", s)  # '527-32.e1': the online appendix page
    spans: list[tuple[int, int, str]] = []
    locator = ""
    for piece in re.split(r"[,;+&]|\band\b", s):
        piece = re.sub(r"\s+", "", piece)
        if not piece:
            continue
        m = _RANGE_RE.match(piece)
        if m:
            prefix, first, last = m.group(1), m.group(2), m.group(4)
            if len(last) < len(first):  # '1535-41' → 1541
                last = first[: len(first) - len(last)] + last
            if m.group(3) and m.group(3) != prefix:
                continue
            spans.append((int(first), int(last), prefix))  # last < first kept: a typo to see
            continue
        m = _SINGLE_RE.match(piece)
        if m:
            prefix, num = m.group(1), m.group(2)
            if len(prefix) <= 1 and prefix != "e" and len(num) <= 5:
                spans.append((int(num), int(num), prefix))
            else:
                locator = locator or f"{prefix}{int(num)}{m.group(3)}"
            continue
        w = words(piece).replace(" ", "")
        if w and not locator:
            locator = w
    if spans:
        kind = "range" if any(b > a for a, b, _ in spans) else "single"
        starts = tuple(f"{p}{a}" for a, _, p in spans)
        return Pages(kind, starts, tuple(spans), locator)
    if locator:
        return Pages("locator", (), (), locator)
    return _EMPTY_PAGES


def compare_pages(a: Pages, b: Pages) -> str:
    """'same', 'overlap' (ranges touch but start apart), 'different', or '' (cannot tell).

    An e-locator and a printed range can both be right for one article, so that
    pairing says nothing; two ranges that do not touch are two articles. Ranges
    sharing their last page but not their first are usually a typo in one of
    them ('2297-2108' for '2097-2108'), so they count as 'overlap', not proof.
    """
    if not a.kind or not b.kind:
        return ""
    if a.locator and b.locator and a.locator == b.locator:
        return "same"
    if a.spans and b.spans:
        if set(a.starts) & set(b.starts):
            return "same"
        for x0, x1, xp in a.spans:
            for y0, y1, yp in b.spans:
                if xp != yp:
                    continue
                if (x1 == y1 and x1 != x0 and y1 != y0) or (
                    min(x0, x1) <= max(y0, y1) and min(y0, y1) <= max(x0, x1)
                ):
                    return "overlap"
        if a.kind != b.kind:
            single, ranged = (a, b) if a.kind == "single" else (b, a)
            first, last, _ = ranged.spans[0]
            if first == 1 and single.spans[0][0] > last:
                return ""  # an article number ('1044') beside its own pagination ('1-12')
        for x0, x1, xp in a.spans:
            for y0, y1, yp in b.spans:
                # 'c37-c42' and '37-42': one database dropped the section letter
                if (x0, x1) == (y0, y1) and x1 > x0 and not (xp and yp):
                    return "same"
        if {p for *_, p in a.spans} != {p for *_, p in b.spans}:
            return ""  # 'S33' against '1262': supplement and regular pagination cannot be compared
        return "different"
    if a.kind == "locator" and b.kind == "locator":
        return "same" if a.locator == b.locator else "different"
    return ""


def abstract_key(value: Any, limit: int = 1500) -> str:
    """Abstract words, capped: enough to tell two abstracts apart without paying for huge ones."""
    s = value if type(value) is str else text_of(value)
    if not s:
        return ""
    return " ".join(fold_text(s[: limit * 2]).translate(_PUNCTUATION).split())[:limit]
