"""The app's pages, in the order the navigation shows them.

Each page is a module with ``TITLE``, ``ICON``, ``URL``, ``ROLES`` and
``render(ctx)`` (see :mod:`review.app.context`). A page whose module is not
installed yet is left out rather than breaking the app, so pages can be added
one at a time; a page that exists but fails to import is an error worth
seeing, so that is not hidden.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

#: Page module names, in navigation order. ``login`` is the account page once signed in.
PAGE_NAMES: tuple[str, ...] = (
    "screening",
    "records",
    "conflicts",
    "lead",
    "team",
    "fulltext",
    "duplicates",
    "data",
    "extraction",
    "synthesis",
    "report",
    "login",
)
#: The page a signed-in reviewer lands on.
DEFAULT_PAGE = "screening"


def _load(name: str) -> ModuleType | None:
    full = f"{__name__}.{name}"
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def load_pages() -> dict[str, ModuleType]:
    """Name → page module for every page that exists, in navigation order."""
    pages = {}
    for name in PAGE_NAMES:
        module = _load(name)
        if module is not None:
            pages[name] = module
    return pages


PAGES: dict[str, ModuleType] = load_pages()


def pages_for(role: str) -> dict[str, ModuleType]:
    """The pages a reviewer with ``role`` may open (navigation hides the others)."""
    return {name: m for name, m in PAGES.items() if role in getattr(m, "ROLES", ())}
