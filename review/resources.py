"""Where the files that ship with review are: the extraction forms, the demo review's data.

In a source checkout they live at the top of the repository (``extraction_forms/`` and
``data/demo/``, where contributors edit them); a wheel carries the same files inside the
package as ``review/bundled_forms/`` and ``review/bundled_demo/`` (``pyproject.toml`` maps
the folders in, so there is one copy of each file). Every caller asks here, so the CLI, the
app and the report read the same files whether review runs from a checkout, an editable
install or a wheel.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _first_dir(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "review's bundled files are missing (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall the package")


def forms_dir() -> Path:
    """The extraction forms and codebook that ship with review."""
    return _first_dir(_PACKAGE / "bundled_forms", _CHECKOUT / "extraction_forms")


def demo_dir() -> Path:
    """The demo review's search exports, answer key and extractions."""
    return _first_dir(_PACKAGE / "bundled_demo", _CHECKOUT / "data" / "demo")


def app_script() -> Path:
    """The Streamlit script ``review app`` and ``review demo --serve`` run."""
    return _PACKAGE / "app" / "shell.py"
