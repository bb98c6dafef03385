"""Public names of a stage package, imported when first used.

``from review.screening import simulate`` should not cost scikit-learn's import time to a
command that only opens the database, and ``review --help`` should stay fast, so the stage
packages list their entry points here as ``name -> "module:attribute"`` and each is
imported the first time someone asks for it. ``dir()`` and ``__all__`` still show them.
"""

from __future__ import annotations

import importlib
import sys
import types


class _StagePackage(types.ModuleType):
    """A package whose public names are imported on first access."""

    def __getattr__(self, name: str) -> object:
        target = self.__dict__.get("_exports", {}).get(name)
        if target is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, _, attribute = target.partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: object) -> None:
        # Importing a submodule sets it on its package. Where a public function has the
        # submodule's name (review.screening.simulate), the function stays the package's.
        if isinstance(value, types.ModuleType) and name in self.__dict__.get("_exports", {}):
            return
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_exports", {})))


def export_lazily(package: str, exports: dict[str, str]) -> list[str]:
    """Make ``exports`` (``name -> "module"`` or ``"module:attribute"``) the lazy public
    names of ``package``; returns them sorted, for ``__all__``."""
    module = sys.modules[package]
    module.__dict__["_exports"] = dict(exports)
    module.__class__ = _StagePackage
    return sorted(exports)
