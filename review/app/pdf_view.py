"""A stored full-text PDF shown in the page, the same way wherever a decision or form needs it.

Records (beside the full-text decision) and Extraction (beside the form)
both call :func:`show_stored_pdf`: the file is read from the review's files
folder and checked against the SHA-256 recorded when it was attached, then
drawn with Streamlit's ``st.pdf`` viewer. A missing or changed file is a
warning in the page, never an exception: the form beside it stays usable.
"""

from __future__ import annotations

import streamlit as st

from review.app.widgets import escape_markdown
from review.store import Store
from review.store.files import read_stored

#: Height of the viewer in pixels (a page of an article at a readable size).
PDF_HEIGHT = 900


def stored_pdf(store: Store, path: str | None, sha256: str | None) -> bytes | None:
    """The PDF's bytes, checked against its recorded hash, or None with a warning shown."""
    if not path:
        return None
    try:
        return read_stored(store, path, sha256 or None)
    except (OSError, ValueError, RuntimeError) as exc:  # missing, changed, no files folder
        st.warning(f"The PDF could not be read: {escape_markdown(exc)}")
        return None


def show_stored_pdf(store: Store, path: str | None, sha256: str | None, key: str) -> bool:
    """Draw the PDF in the page; False when there is none to draw (a warning says why)."""
    data = stored_pdf(store, path, sha256)
    if data is None:
        return False
    st.pdf(data, height=PDF_HEIGHT, key=key)
    return True
