"""A record's short citation line ("Smith J, Jones K et al. (2019). Journal") as plain text.

Pages show it through :func:`review.app.widgets.escape_markdown`, never raw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd


def citation(authors: Sequence[str] | None, year: Any, journal: Any = None,
             max_authors: int = 3) -> str:
    """Up to ``max_authors`` names, "et al." beyond, the year in brackets, then the journal."""
    names = [str(a) for a in (authors or []) if a]
    who = ", ".join(names[:max_authors]) + (" et al." if len(names) > max_authors else "")
    yr = "" if year is None or pd.isna(year) else f" ({int(year)})"
    out = (who or "Anonymous") + yr
    if isinstance(journal, str) and journal.strip():
        out += f". {journal.strip()}"
    return out
