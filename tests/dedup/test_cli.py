"""``review dedup --input ... --output ...``: the stand-alone command and its messages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from review.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dedup"
runner = CliRunner()


def test_csv_in_clusters_out(tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    pairs = tmp_path / "pairs.csv"
    res = runner.invoke(
        app,
        [
            "dedup",
            "--input",
            str(FIXTURES / "records.csv"),
            "--output",
            str(out),
            "--pairs",
            str(pairs),
        ],
    )
    assert res.exit_code == 0, res.output
    clusters = pd.read_csv(out, dtype={"ID": str})
    assert list(clusters.columns) == ["ID", "cluster_id"]
    assert len(clusters) == len(pd.read_csv(FIXTURES / "records.csv"))
    by_id = dict(zip(clusters["ID"], clusters["cluster_id"], strict=True))
    assert by_id["m01"] == by_id["m02"] == by_id["m03"] != by_id["e01"]
    assert set(pd.read_csv(pairs)["decision"]) == {"duplicate", "maybe"}
    assert "clusters" in res.output


def test_ris_input(tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    res = runner.invoke(app, ["dedup", "-i", str(FIXTURES / "records.ris"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    clusters = pd.read_csv(out, dtype={"ID": str})
    assert len(clusters) == 4
    assert clusters["cluster_id"].nunique() == 3  # two exports of one article, two others


def test_missing_file_and_repeated_ids_are_named(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["dedup", "-i", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]
    )
    assert res.exit_code != 0 and "nope.csv" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,title\na,One\nb,Two\na,Three\n")
    out = tmp_path / "o.csv"
    res = runner.invoke(app, ["dedup", "-i", str(bad), "-o", str(out)])
    assert res.exit_code != 0 and "line 4" in res.output and "'a'" in res.output
    assert not out.exists()  # nothing half-written


def test_output_without_input_is_refused(tmp_path: Path) -> None:
    res = runner.invoke(app, ["dedup", "--output", str(tmp_path / "o.csv")])
    assert res.exit_code != 0 and "--input" in res.output
