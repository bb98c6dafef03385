"""Keyword highlighting as escaped HTML: no gaps around a mark, and never by colour alone.

Streamlit's ``:green-background[...]`` Markdown draws each match as a padded
chip, so "placebo-controlled" read as "placebo -controlled" and "Children's"
as "Children 's". Here a match is a ``<mark>`` with no padding or margin,
inside the very text it belongs to, and each kind differs by more than
colour: include terms bold and underlined, exclude terms struck through with
a wavy line, the reviewer's own terms dotted-underlined, each with a ``title``
that names the kind (read by screen readers and on hover).

Everything from the record is passed through :func:`html.escape`, so a title
holding ``<script>`` reads as those characters; the only markup is ours.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import streamlit as st

from review.app.widgets import Match, find_keywords

KINDS = ("include", "exclude", "personal")
WORDS = {"include": "include keyword", "exclude": "exclude keyword",
         "personal": "your highlight term"}
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


#: A match as :func:`find_marks` returns it (start, end, kind).
Mark = Match


def find_marks(text: str, include: Sequence[str] = (), exclude: Sequence[str] = (),
               personal: Sequence[str] = ()) -> list[Mark]:
    """Non-overlapping matches left to right (:func:`review.app.widgets.find_keywords`)."""
    return find_keywords(text, include, exclude, personal)


def highlight_html(text: Any, include: Sequence[str] = (), exclude: Sequence[str] = (),
                   personal: Sequence[str] = ()) -> str:
    """``text`` as escaped HTML with each match wrapped in a ``<mark>``, nothing added around it."""
    s = "" if text is None else str(text).replace("\r\n", "\n").replace("\r", "\n")
    s = s.replace("\x00", "")
    out: list[str] = []
    pos = 0
    for m in find_marks(s, include, exclude, personal):
        out.append(html.escape(s[pos:m.start]))
        out.append(f'<mark class="rv-{m.kind}" title="{WORDS[m.kind]}">'
                   f"{html.escape(s[m.start:m.end])}</mark>")
        pos = m.end
    out.append(html.escape(s[pos:]))
    return "".join(out)


def legend_html() -> str:
    return ('<span class="rv-text">Highlights: '
            + " · ".join(f'<mark class="rv-{k}" title="{WORDS[k]}">{WORDS[k]}</mark>'
                         for k in KINDS) + "</span>")


def show_highlighted(text: Any, include: Sequence[str] = (), exclude: Sequence[str] = (),
                     personal: Sequence[str] = (), *, heading: bool = False,
                     legend: bool = False) -> None:
    """Record text with its highlights (see the module's docstring)."""
    body = highlight_html(text, include, exclude, personal) or "<em>(none)</em>"
    tag = "h4" if heading else "div"
    extra = f"<div>{legend_html()}</div>" if legend else ""
    st.html(f'{STYLE}<{tag} class="rv-text">{body}</{tag}>{extra}')
