"""What a wheel carries: every subpackage, the forms, the codebook, the demo data, the app.

Building a wheel needs the network (setuptools >= 77 in an isolated build), so CI proves
the install itself (``python -m build`` + ``pip install dist/*.whl`` + ``review demo`` in a
fresh venv, see the closing note of issue 13); these tests keep ``pyproject.toml``'s
package list and data globs in step with the tree, which is how that install breaks.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from review import resources

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"]


def _folder(package: str) -> Path:
    mapped = SETUPTOOLS.get("package-dir", {})
    return ROOT / mapped.get(package, package.replace(".", "/"))


def test_every_subpackage_of_review_is_listed():
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "review").rglob("__init__.py")
               if "migrations" not in p.parts}
    missing = on_disk - set(SETUPTOOLS["packages"])
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_the_bundled_folders_are_the_top_level_ones():
    assert _folder("review.bundled_forms") == ROOT / "extraction_forms"
    assert _folder("review.bundled_demo") == ROOT / "data" / "demo"
    assert resources.forms_dir() == ROOT / "extraction_forms"
    assert resources.demo_dir() == ROOT / "data" / "demo"
    assert resources.app_script().is_file()


def _shipped(package: str) -> set[str]:
    folder = _folder(package)
    return {str(p.relative_to(folder)) for pattern in SETUPTOOLS["package-data"][package]
            for p in folder.glob(pattern) if p.is_file()}


def test_the_wheel_carries_every_form_and_the_codebook():
    shipped = _shipped("review.bundled_forms")
    forms = {p.name for p in (ROOT / "extraction_forms").glob("*.yaml")}
    assert "codebook.yaml" in forms and len(forms) >= 5
    assert forms <= shipped
    history = {str(p.relative_to(ROOT / "extraction_forms"))
               for p in (ROOT / "extraction_forms" / "history").iterdir() if p.is_file()}
    assert history <= shipped


def test_the_wheel_carries_every_file_the_demo_reads():
    shipped = _shipped("review.bundled_demo")
    source = (ROOT / "review" / "demo.py").read_text(encoding="utf-8")
    read = {p.name for p in (ROOT / "data" / "demo").iterdir()
            if p.is_file() and p.suffix != ".py" and f'"{p.name}"' in source}
    assert {"truth.csv", "included.csv", "searches.csv"} <= read
    searches = (ROOT / "data" / "demo" / "searches.csv").read_text(encoding="utf-8")
    exports = {p.name for p in (ROOT / "data" / "demo").iterdir() if p.name in searches}
    assert exports, "searches.csv names the search exports the demo imports"
    assert read | exports | {"extractions.json"} <= shipped
