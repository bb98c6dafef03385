"""Showing record text safely, with the review's keywords highlighted.

Titles and abstracts come from database exports written by strangers, so they
can hold ``<script>``, HTML, Markdown links and images, LaTeX (``$...$``) or
Streamlit's own directives (``:red[...]``, ``:material/home:``). Streamlit
never runs HTML from ``st.markdown`` unless asked, but it would still *format*
everything else. CommonMark defines a backslash before any ASCII punctuation
as "this character, literally", so escaping every punctuation character makes
the reviewer see exactly the characters the record holds. Highlighting is
then added *around* escaped pieces with ``:color-background[...]``: the only
Markdown the page ever renders is the markup this module writes itself.

The pure functions (:func:`escape_markdown`, :func:`find_keywords`,
:func:`highlight_markdown`) carry the logic and are tested on their own; the
``show_*`` helpers are the thin Streamlit shell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_BLANK_LINES = re.compile(r"\n\s*\n")
_PLACEHOLDER_CHARS = re.compile("[\ue000\ue001]")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
#: Above this many characters a field is shown in parts: the highlighted head, then the rest
#: as plain text on demand (a browser stalls on megabytes of Markdown; the text is still there).
LONG_TEXT = 20_000
#: Streamlit colours for the two kinds of keyword: include terms and exclude terms.
COLOURS = {"include": "green", "exclude": "red"}


def escape_markdown(text: Any) -> str:
    """``text`` made inert for ``st.markdown``: punctuation escaped, line breaks kept as breaks."""
    if text is None:
        return ""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    paragraphs = _BLANK_LINES.split(s)
    out = []
    for para in paragraphs:
        lines = [_PUNCT.sub(r"\\\1", line.strip()) for line in para.split("\n")]
        out.append("  \n".join(line for line in lines if line))
    return "\n\n".join(p for p in out if p)


def _escape_inline(text: str) -> str:
    return _PUNCT.sub(r"\\\1", " ".join(text.split()))


def unescape_markdown(md: str) -> str:
    """The inverse of :func:`escape_markdown` up to whitespace (used by tests and exports)."""
    s = md.replace("  \n", "\n")
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", s)


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    kind: str  # "include", "exclude" or "personal"


def clean_keywords(values: Iterable[Any]) -> list[str]:
    """Lead-entered keywords, trimmed and de-duplicated (case-insensitively), blanks dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for v in values or []:
        k = str(v).strip()
        if k and k.lower() not in seen:
            seen.add(k.lower())
            out.append(k)
    return out


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for whole-word matches; a trailing ``*`` is a stem wildcard.

    ``lonel*`` matches "lonely" and "loneliness"; longer keywords are tried
    first so "peer support" wins over "peer".
    """
    parts = []
    for k in sorted(clean_keywords(keywords), key=len, reverse=True):
        stem = k.endswith("*")
        body = re.escape(k.rstrip("*").strip())
        if not body:
            continue
        body = body.replace(r"\ ", r"\s+")
        parts.append(rf"{body}\w*" if stem else body)
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def find_keywords(text: str, include: Sequence[str] = (), exclude: Sequence[str] = (),
                  personal: Sequence[str] = ()) -> list[Match]:
    """Non-overlapping keyword matches in ``text``, left to right: a longer match wins, then
    include over exclude over a reviewer's own terms (the one matcher every page uses)."""
    kinds = ("include", "exclude", "personal")
    found: list[Match] = []
    for kind, words in zip(kinds, (include, exclude, personal), strict=True):
        pat = keyword_pattern(list(words))
        if pat is None:
            continue
        found.extend(Match(m.start(), m.end(), kind) for m in pat.finditer(text))
    found.sort(key=lambda m: (m.start, -(m.end - m.start), kinds.index(m.kind)))
    out: list[Match] = []
    end = -1
    for m in found:
        if m.start >= end:
            out.append(m)
            end = m.end
    return out


def highlight_markdown(text: Any, include: Sequence[str] = (), exclude: Sequence[str] = ()
                       ) -> str:
    """Escaped Markdown for ``text`` with keyword matches wrapped in a coloured background.

    Matches never span a line break, so each highlighted piece is escaped on
    its own and the directive wraps inert text only.
    """
    if text is None:
        return ""
    # Placeholders are private-use characters (none of them punctuation, so escaping keeps
    # them); any the record itself holds are replaced first so they cannot be forged.
    s = _PLACEHOLDER_CHARS.sub("\ufffd", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    matches = find_keywords(s, include, exclude)
    if not matches:
        return escape_markdown(s)
    pieces: list[str] = []
    marks: list[str] = []
    pos = 0
    for m in matches:
        pieces.append(s[pos:m.start])
        marks.append(f":{COLOURS[m.kind]}-background[{_escape_inline(s[m.start:m.end])}]")
        pieces.append(f"\ue000{len(marks) - 1}\ue001")
        pos = m.end
    pieces.append(s[pos:])
    escaped = escape_markdown("".join(pieces))
    return _PLACEHOLDER.sub(lambda g: marks[int(g.group(1))], escaped)


def split_long(text: Any, limit: int = LONG_TEXT) -> tuple[str, str]:
    """``(head, rest)``: the first ``limit`` characters (cut at a nearby space), and the rest."""
    s = "" if text is None else str(text)
    if len(s) <= limit:
        return s, ""
    cut = s.rfind(" ", int(limit * 0.9), limit)
    cut = cut if cut > 0 else limit
    return s[:cut], s[cut:]


def shorten(text: Any, limit: int = 90) -> str:
    """One line of at most ``limit`` characters, for lists and select boxes (plain text)."""
    s = " ".join(("" if text is None else str(text)).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --- Streamlit shell ---------------------------------------------------------------------------

def show_text(text: Any, include: Sequence[str] = (), exclude: Sequence[str] = (),
              *, heading: bool = False) -> None:
    """Record text as text, keywords highlighted; very long text split with the rest on demand."""
    head, rest = split_long(text)
    body = highlight_markdown(head, include, exclude)
    if heading:
        body = f"**{body}**" if body else body
    st.markdown(body or "*(none)*")
    if rest:
        with st.expander(f"{len(rest):,} more characters"):
            st.text(rest)


def show_keywords(keywords: Sequence[Any] | None) -> None:
    """A record's own keywords as plain text (no highlighting needed, no Markdown)."""
    words = [str(k) for k in (keywords or []) if str(k).strip()]
    if words:
        st.caption("Keywords: " + escape_markdown("; ".join(words)))
