"""``review`` starts with only what the command needs (issue #14, item 8).

Start-up time itself is measured in benchmarks/dedup.py, never asserted; what is
tested here is the cause: which heavy packages a run imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer.main

import review.cli
from review.cli import COMMANDS, app

ROOT = Path(__file__).resolve().parents[2]
#: Packages that only some commands need; each costs a large share of a second to import.
HEAVY = ("scipy", "statsmodels", "sqlalchemy", "alembic", "sklearn", "streamlit", "review.app")

PROBE = """
import json, sys
from review.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(args: list[str], cwd: Path) -> tuple[set[str], str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    return set(json.loads(proc.stderr.strip().splitlines()[-1])), proc.stdout


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}


def test_command_table_matches_the_registered_commands() -> None:
    """Every command is in the table with its module and its own help line, and vice versa."""
    review.cli.load_all()
    group = typer.main.get_group(app)
    real = {
        name: (
            group.get_command(None, name).callback.__module__,
            group.get_command(None, name).get_short_help_str(limit=300),
        )
        for name in group.list_commands(None)
    }
    assert real == COMMANDS


def test_help_lists_every_command_without_importing_them(tmp_path: Path) -> None:
    modules, out = _modules_after(["--help"], tmp_path)
    for name in COMMANDS:
        assert name in out
    assert not _heavy(modules)
    assert "pandas" not in modules
    assert not {m for m in modules if m.startswith("review.cli.") and m != "review.cli.app"}


def test_dedup_on_a_file_imports_no_statistics_database_or_app_code(tmp_path: Path) -> None:
    src = ROOT / "tests" / "fixtures" / "dedup" / "records.csv"
    out_csv = tmp_path / "clusters.csv"
    modules, _ = _modules_after(["dedup", "--input", str(src), "--output", str(out_csv)], tmp_path)
    assert out_csv.exists()
    assert not _heavy(modules), _heavy(modules)


#: Array and table libraries: half a second of CPU to import, more than a small dedup run.
TABLES = ("pandas", "numpy", "pyarrow")


def _tables(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in TABLES}


def test_dedup_on_a_csv_file_imports_no_pandas_or_numpy(tmp_path: Path) -> None:
    src = ROOT / "tests" / "fixtures" / "dedup" / "records.csv"
    out_csv, pairs_csv = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    modules, out = _modules_after(
        ["dedup", "--input", str(src), "--output", str(out_csv), "--pairs", str(pairs_csv)],
        tmp_path,
    )
    assert "clusters" in out and out_csv.exists() and pairs_csv.exists()
    assert not _tables(modules), _tables(modules)


def test_dedup_on_a_ris_file_imports_no_pandas_or_numpy(tmp_path: Path) -> None:
    """The RIS importer and its list-valued fields (authors) take the same light path."""
    src = ROOT / "tests" / "fixtures" / "dedup" / "records.ris"
    out_csv = tmp_path / "clusters.csv"
    modules, _ = _modules_after(["dedup", "--input", str(src), "--output", str(out_csv)], tmp_path)
    assert out_csv.read_text().splitlines()[0] == "ID,cluster_id"
    assert not _tables(modules), _tables(modules)
