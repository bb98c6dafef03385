"""Showing record text safely as Markdown: captions, messages, keyword lists.

Titles and abstracts come from database exports written by strangers, so they
can hold ``<script>``, HTML, Markdown links and images, LaTeX (``$...$``) or
Streamlit's own directives (``:red[...]``, ``:material/home:``). Streamlit
never runs HTML from ``st.markdown`` unless asked, but it would still *format*
everything else. CommonMark defines a backslash before any ASCII punctuation
as "this character, literally", so escaping every punctuation character makes
the reviewer see exactly the characters the record holds.

Highlighted record text (titles and abstracts with the review's keywords) is
not Markdown: it is escaped HTML from :mod:`review.app.highlight`, the one
highlighter every page uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import streamlit as st

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_BLANK_LINES = re.compile(r"\n\s*\n")


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


def unescape_markdown(md: str) -> str:
    """The inverse of :func:`escape_markdown` up to whitespace (used by tests and exports)."""
    s = md.replace("  \n", "\n")
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", s)


def shorten(text: Any, limit: int = 90) -> str:
    """One line of at most ``limit`` characters, for lists and select boxes (plain text)."""
    s = " ".join(("" if text is None else str(text)).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --- Streamlit shell ---------------------------------------------------------------------------

def show_keywords(keywords: Sequence[Any] | None) -> None:
    """A record's own keywords as plain text (no highlighting needed, no Markdown)."""
    words = [str(k) for k in (keywords or []) if str(k).strip()]
    if words:
        st.caption("Keywords: " + escape_markdown("; ".join(words)))
