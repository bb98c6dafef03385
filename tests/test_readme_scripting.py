"""Every Python example in the README's "Scripting" section runs, in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _examples() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Scripting\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_examples_for_each_stage():
    code = "\n".join(_examples())
    for entry in ("read_records", "find_duplicates", "simulate", "meta_analyse",
                  "counts_from_store"):
        assert f"import {entry}" in code or f", {entry}" in code, entry


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_examples())))
def test_example_runs(index, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("REVIEW_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", _examples()[index]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip(), "each example prints what it found"
