"""Study labels that fit a figure: long ones shortened, the full text kept in a note.

A reviewer can type a 127-character study label on the Full text page; laid out at full
length it pushed the plotting area of the effect-direction plot to a negative width
(``ValueError: Width and height specified must be non-negative``) and ran off the forest
plot. Every figure that prints study labels goes through :func:`fit_labels`: a label over
``max_chars`` is cut at a word boundary, marked with a footnote number, and the note under
the figure gives the full text — nothing typed is lost, nothing overflows.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

#: Longest study label printed in full on a figure.
MAX_LABEL_CHARS = 40


def fit_labels(labels: Sequence[object], max_chars: int = MAX_LABEL_CHARS
               ) -> tuple[list[str], list[str]]:
    """(labels to print, notes with the full text of each shortened one)."""
    shown: list[str] = []
    notes: list[str] = []
    full_to_mark: dict[str, int] = {}
    for lab in labels:
        text = " ".join(str(lab).split())  # newlines and tabs would break the row layout
        if len(text) <= max_chars:
            shown.append(text)
            continue
        if text not in full_to_mark:
            full_to_mark[text] = len(full_to_mark) + 1
            notes.append(f"[{full_to_mark[text]}] {text}")
        mark = f" [{full_to_mark[text]}]"
        cut = textwrap.shorten(text, width=max_chars - len(mark), placeholder="\u2026")
        if cut == "\u2026":  # one very long word: cut it hard
            cut = text[: max_chars - len(mark) - 1] + "\u2026"
        shown.append(cut + mark)
    return shown, notes


def wrap_notes(notes: Sequence[str], width: int = 120) -> list[str]:
    """Notes wrapped to lines of at most ``width`` characters, for a figure footer."""
    lines: list[str] = []
    for note in notes:
        lines.extend(textwrap.wrap(note, width) or [""])
    return lines
