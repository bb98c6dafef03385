"""The layering in ``pyproject.toml`` holds: app/CLI → stages → store, no SQL above the stages.

The contracts are import-linter's (``[tool.importlinter]``); this test runs them so that CI
fails on the first page that imports SQLAlchemy or the first stage that reaches up the
pipeline. ``lint-imports`` on the command line gives the same report with the import chains.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True, no_logo=True))")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_the_import_contracts_are_kept():
    done = _lint(ROOT / "pyproject.toml", ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout

