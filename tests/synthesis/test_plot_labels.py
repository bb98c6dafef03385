"""Long study labels on every figure that prints them (issue 17, item 10): a 127-character
label crashed the effect-direction plot with a negative width; now it is shortened and
the full text is given in a note."""

from __future__ import annotations

import pandas as pd

from review.synthesis import plots
from review.synthesis.mechanisms import BENEFIT, HARM
from review.synthesis.plot_labels import MAX_LABEL_CHARS, fit_labels

LONG = ("Peer mentoring for first-year students at risk of loneliness: a cluster randomised "
        "trial in three universities with twelve-month follow-up")


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_fit_labels_keeps_short_labels_and_notes_long_ones():
    assert len(LONG) > 127  # the crash needed 127 characters
    shown, notes = fit_labels(["Smith 2020", LONG, LONG, "x" * 90])
    assert shown[0] == "Smith 2020"
    assert shown[1] == shown[2] and shown[1].endswith("[1]")
    assert all(len(s) <= MAX_LABEL_CHARS for s in shown)
    assert notes == [f"[1] {LONG}", f"[2] {'x' * 90}"]
    assert shown[3].endswith("\u2026 [2]")


def test_effect_direction_plot_with_a_long_label(tmp_path):
    directions = pd.DataFrame({
        "study_id": [1, 2, 2], "study": ["Short 2020", LONG, LONG],
        "intervention_type": ["Mentoring"] * 3,
        "outcome_label": ["Loneliness", "Loneliness", "Wellbeing"],
        "sample_size": [120, 40, 40], "rob_overall": ["Low risk of bias", None, None],
        "direction": [BENEFIT, HARM, BENEFIT], "size_class": ["medium", "small", "small"],
    })
    fig = plots.effect_direction_plot(directions)
    texts = _texts(fig)
    assert any(t.startswith("[1] Peer mentoring") for t in texts)
    assert all(w > 0 for w in fig.get_size_inches())
    plots.save_figure(fig, tmp_path / "directions")
    assert (tmp_path / "directions.png").stat().st_size > 0


def test_traffic_light_with_a_long_label():
    rob = pd.DataFrame({"Study": ["Short 2020", LONG], "D1": ["Low", "High"],
                        "D2": ["Low", "Some concerns"], "D3": ["Low", "Low"],
                        "D4": ["Low", "Low"], "D5": ["Low", "Low"],
                        "Overall": ["Low", "High"]})
    fig = plots.rob_traffic_light(rob, "RoB 2")
    texts = _texts(fig)
    assert any(t.endswith("[1]") for t in texts)
    assert any(t.startswith("[1] Peer mentoring") for t in texts)
