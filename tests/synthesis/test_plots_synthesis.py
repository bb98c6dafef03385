"""The synthesis figures draw what the tables say, and save as PNG + SVG."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Circle, Rectangle

from review.extraction.codebook import load_codebook
from review.synthesis import mechanisms as mech
from review.synthesis import plots

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "extraction" / "mechanism_studies.json"


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(ROOT / "extraction_forms" / "codebook.yaml")


@pytest.fixture(scope="module")
def extractions():
    records = [r for r in json.loads(FIXTURE.read_text()) if "_comment" not in r]
    return mech.extractions_frame(records)


def _texts(fig):
    out = []
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    out += [t.get_text() for t in fig.texts]
    return out


def test_heatmap_shows_each_count_and_the_studies_per_type(extractions, codebook):
    table = mech.mechanism_table(extractions, codebook)
    fig = plots.mechanism_heatmap(table)
    ax = fig.axes[0]
    image = ax.images[0].get_array()
    # Mechanisms are rows, intervention types columns: the transpose of the table.
    assert np.array_equal(np.asarray(image), table.counts.T.to_numpy())
    cell_numbers = sorted(int(t.get_text()) for t in ax.texts)
    assert cell_numbers == sorted(v for v in table.counts.to_numpy().ravel() if v)
    headers = [t.get_text() for t in ax.get_xticklabels()]
    assert headers == ["Mentoring (n = 2)", "Peer support (n = 2)", "Family support (n = 1)"]
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH + 1e-9


def test_effect_direction_plot_draws_one_arrow_per_study_and_domain(extractions, codebook):
    directions = mech.effect_directions(extractions, codebook)
    fig = plots.effect_direction_plot(directions)
    ax = fig.axes[0]
    markers = [c for c in ax.collections if len(c.get_offsets())]
    # Mixed cells are drawn as two half-arrows (◄ ►); each RoB dot is one more marker.
    n_mixed = int((directions["direction"] == "mixed").sum())
    n_rob = directions.drop_duplicates("study_id")["rob_overall"].notna().sum()
    assert len(markers) == len(directions) + n_mixed + n_rob
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # Jones 2020 (mentoring + peer support) sits under its first type.
    assert labels == ["Mentoring", "Jones 2020", "Smith 2019a", "Peer support", "Brown 2021"]
    # Arrow size follows sample size: Brown (400) large, Jones (40) small.
    sizes = {}
    for c in markers:
        x, y = c.get_offsets()[0]
        sizes[(round(float(x), 2), int(round(float(y))))] = c.get_sizes()[0]
    loneliness_x = 2
    assert sizes[(loneliness_x, 4)] == plots.ARROW_SIZES["large"]  # Brown 2021, ▲
    assert sizes[(loneliness_x - 0.16, 1)] < plots.ARROW_SIZES["small"]  # Jones 2020, ◄►


def test_traffic_light_colours_every_judgement(extractions):
    rob = mech.risk_of_bias_table(extractions, "RoB 2")
    fig = plots.rob_traffic_light(rob, "RoB 2")
    ax = fig.axes[0]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    # One study × (5 domains + overall), plus one key circle per judgement.
    assert len(circles) == 6 + 3
    grid = [to_hex(c.get_facecolor()) for c in circles[:6]]
    expected = [
        plots.ROB_COLOURS[j].lower() for j in rob.iloc[0][["D1", "D2", "D3", "D4", "D5", "Overall"]]
    ]
    assert grid == expected
    texts = _texts(fig)
    assert "D1: Bias arising from the randomisation process" in texts
    assert "Smith 2019a" in texts


def test_weighted_summary_bars_give_each_judgements_share():
    rob = pd.DataFrame(
        {
            "Study": ["A", "B", "C"],
            **{f"D{i}": ["Low risk of bias"] * 3 for i in range(1, 8)},
            "Overall": ["Low risk of bias", "Serious risk of bias", "Critical risk of bias"],
            "Weight": [100.0, 300.0, 600.0],
        }
    )
    rob.loc[2, "D1"] = "No information"
    fig = plots.rob_summary(rob, "ROBINS-I")
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    by_row: dict[float, list[tuple[str, float]]] = {}
    for bar in bars:
        by_row.setdefault(round(bar.get_y() + bar.get_height() / 2, 3), []).append(
            (to_hex(bar.get_facecolor()), bar.get_width())
        )
    rows = [by_row[k] for k in sorted(by_row)]
    assert len(rows) == 8
    for row in rows:
        assert sum(w for _, w in row) == pytest.approx(100)
    overall = dict(rows[-1])
    assert overall[plots.ROB_COLOURS["Low risk of bias"].lower()] == pytest.approx(10)
    assert overall[plots.ROB_COLOURS["Serious risk of bias"].lower()] == pytest.approx(30)
    assert overall[plots.ROB_COLOURS["Critical risk of bias"].lower()] == pytest.approx(60)
    assert dict(rows[0])[plots.ROB_COLOURS["No information"].lower()] == pytest.approx(60)
    unweighted = plots.rob_summary(rob, "ROBINS-I", weighted=False)
    widths = sorted(b.get_width() for b in unweighted.axes[0].patches[-3:])
    assert widths == pytest.approx([100 / 3] * 3)


def test_save_figure_writes_png_and_svg(tmp_path, extractions, codebook):
    fig = plots.mechanism_heatmap(mech.mechanism_table(extractions, codebook))
    written = plots.save_figure(fig, tmp_path / "figs" / "mechanisms.png")
    assert [p.name for p in written] == ["mechanisms.png", "mechanisms.svg"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = written[1].read_text()
    assert "<svg" in svg and "Trust-building" in svg  # text kept as text in the SVG
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == [
        "mechanisms.png",
        "mechanisms.svg",
    ]
    # Readable by others like any file the user creates (not the 0600 of a temp file).
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o666 & ~umask


def test_empty_inputs_give_a_figure_that_says_so():
    empty = mech.mechanism_table(mech.extractions_frame([]))
    assert "No coded mechanisms" in " ".join(_texts(plots.mechanism_heatmap(empty)))
    no_results = mech.effect_directions(mech.extractions_frame([]))
    assert "No results" in " ".join(_texts(plots.effect_direction_plot(no_results)))
