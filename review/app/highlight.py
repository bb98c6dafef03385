"""Keyword highlighting as escaped HTML: no gaps around a mark, and never by colour alone.

The one highlighter every page uses (Screening, Conflicts, Duplicates, Full
text, Records). Streamlit's ``:green-background[...]`` Markdown, used before,
drew each match as a padded chip, so "placebo-controlled" read as
"placebo -controlled" and "Children's" as "Children 's", and told include from
exclude terms by colour alone. Here a match is a ``<mark>`` with no padding or
margin, inside the very text it belongs to, and each kind differs by more than
colour: include terms bold and underlined, exclude terms struck through with a
wavy line, the reviewer's own terms dotted-underlined, each with a ``title``
that names the kind (read by screen readers and on hover).

Everything from the record is passed through :func:`html.escape`, so a title
holding ``<script>`` reads as those characters; the only markup is ours.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

KINDS = ("include", "exclude", "personal")
WORDS = {"include": "include keyword", "exclude": "exclude keyword",
         "personal": "your highlight term"}
#: Above this many characters a field is shown in parts: the highlighted head, then the rest
#: as plain text on demand (a browser stalls on megabytes of marked-up text; nothing is lost).
LONG_TEXT = 20_000
STYLE = """<style>
.rv-text { line-height: 1.6; white-space: pre-wrap; overflow-wrap: anywhere; }
.rv-text mark { padding: 0; margin: 0; border-radius: 0; color: inherit; }
.rv-text mark.rv-include { background: rgba(33, 195, 84, .25); font-weight: 700;
  text-decoration: underline solid; }
.rv-text mark.rv-exclude { background: rgba(255, 75, 75, .22);
  text-decoration: underline wavy; text-decoration-skip-ink: none; }
.rv-text mark.rv-personal { background: rgba(255, 189, 69, .30);
  text-decoration: underline dotted 2px; }
</style>"""


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    kind: str  # "include", "exclude" or "personal"


#: A match as :func:`find_marks` returns it (start, end, kind).
Mark = Match


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
    found: list[Match] = []
    for kind, words in zip(KINDS, (include, exclude, personal), strict=True):
        pat = keyword_pattern(list(words))
        if pat is None:
            continue
        found.extend(Match(m.start(), m.end(), kind) for m in pat.finditer(text))
    found.sort(key=lambda m: (m.start, -(m.end - m.start), KINDS.index(m.kind)))
    out: list[Match] = []
    end = -1
    for m in found:
        if m.start >= end:
            out.append(m)
            end = m.end
    return out


find_marks = find_keywords


def split_long(text: Any, limit: int = LONG_TEXT) -> tuple[str, str]:
    """``(head, rest)``: the first ``limit`` characters (cut at a nearby space), and the rest."""
    s = "" if text is None else str(text)
    if len(s) <= limit:
        return s, ""
    cut = s.rfind(" ", int(limit * 0.9), limit)
    cut = cut if cut > 0 else limit
    return s[:cut], s[cut:]


def highlight_html(text: Any, include: Sequence[str] = (), exclude: Sequence[str] = (),
                   personal: Sequence[str] = ()) -> str:
    """``text`` as escaped HTML with each match wrapped in a ``<mark>``, nothing added around it."""
    s = "" if text is None else str(text).replace("\r\n", "\n").replace("\r", "\n")
    s = s.replace("\x00", "")
    out: list[str] = []
    pos = 0
    for m in find_keywords(s, include, exclude, personal):
        out.append(html.escape(s[pos:m.start]))
        out.append(f'<mark class="rv-{m.kind}" title="{WORDS[m.kind]}">'
                   f"{html.escape(s[m.start:m.end])}</mark>")
        pos = m.end
    out.append(html.escape(s[pos:]))
    return "".join(out)


def legend_html() -> str:
    """A line naming each kind of mark, drawn as that mark (what the styles mean)."""
    return ('<span class="rv-text">Highlights: '
            + " · ".join(f'<mark class="rv-{k}" title="{WORDS[k]}">{WORDS[k]}</mark>'
                         for k in KINDS) + "</span>")


def show_highlighted(text: Any, include: Sequence[str] = (), exclude: Sequence[str] = (),
                     personal: Sequence[str] = (), *, heading: bool = False,
                     legend: bool = False) -> None:
    """Record text with its highlights (see the module's docstring); very long text is split,
    the rest shown as plain text on demand."""
    head, rest = split_long(text)
    body = highlight_html(head, include, exclude, personal) or "<em>(none)</em>"
    tag = "h4" if heading else "div"
    extra = f"<div>{legend_html()}</div>" if legend else ""
    st.html(f'{STYLE}<{tag} class="rv-text">{body}</{tag}>{extra}')
    if rest:
        with st.expander(f"{len(rest):,} more characters"):
            st.text(rest)
