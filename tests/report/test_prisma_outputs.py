"""The PRISMA outputs a lead author hands on: the diagram files and the counts as JSON/CSV.

Counts come from two hand-counted reviews: small inputs built here (pure), and the
review of ``evidence_review.py`` through ``review prisma``. For the latter, by hand:
PubMed 9 records + Scopus 1 (a duplicate of li21) = 10 from databases, 1 duplicate,
9 screened, none excluded at title/abstract, 9 reports sought, 1 not retrieved (nr14),
8 assessed, 2 excluded (Wright: Wrong comparator; Evans: Wrong study design after the
lead's resolution), pe13 still in conflict; citation searching 1 record, 1 report
sought and assessed, included (Nakamura, not grouped). Included: 5 studies (Okafor,
Lindqvist, Smith ×2, Nakamura), 6 reports (Okafor has 2).
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET

import matplotlib.text
import pandas as pd
import pytest
from evidence_review import build
from PIL import Image
from typer.testing import CliRunner

from review.cli import app
from review.report import flow_diagram, prisma_files
from review.report.prisma import FIELDS, PrismaInputs, prisma_counts

NBSP = "\u00a0"
TEXT_FIELDS = {"database_specific_results", "register_specific_results", "dbr_excluded",
               "other_excluded"}


def _n(k: int) -> str:
    return f"(n{NBSP}={NBSP}{k:,})"


def _inputs(with_other: bool) -> PrismaInputs:
    """PubMed a1 a2 a3, Embase b1 (duplicate of a1); optionally citation searching c1.

    Title/abstract: a1 include, a2 include, a3 exclude; c1 include. Full text: a1 include,
    a2 excluded (Wrong outcome); c1 include. By hand: identified 4, duplicates 1,
    screened 3, excluded 1, sought 2, assessed 2, excluded 1; other column 1 → 1 included.
    """
    records = [(1, 1, "PubMed", "database"), (2, 2, "PubMed", "database"),
               (3, 3, "PubMed", "database"), (4, 1, "Embase", "database")]
    sources = [("PubMed", "database", 3), ("Embase", "database", 1)]
    ta = [(1, "include"), (2, "include"), (3, "exclude")]
    ft = [(1, "include", None), (2, "exclude", "Wrong outcome")]
    reports = [(1, "retrieved", 10), (2, "retrieved", pd.NA)]
    if with_other:
        records.append((5, 5, "Citation searching", "citation"))
        sources.append(("Citation searching", "citation", 1))
        ta.append((5, "include"))
        ft.append((5, "include", None))
        reports.append((5, "retrieved", 11))
    return PrismaInputs(
        records=pd.DataFrame(records, columns=["record_id", "canonical_id", "source_name",
                                               "source_kind"]),
        sources=pd.DataFrame(sources, columns=["name", "kind", "records"]),
        ta=pd.DataFrame([(r, lab, "agreed", "Wrong population" if lab == "exclude" else None, 2)
                         for r, lab in ta],
                        columns=["record_id", "label", "status", "reason", "n_reviewers"]),
        ft=pd.DataFrame([(r, lab, "agreed", why, 2) for r, lab, why in ft],
                        columns=["record_id", "label", "status", "reason", "n_reviewers"]),
        reports=pd.DataFrame(reports, columns=["record_id", "retrieval", "study_id"]),
    )


def _texts(fig) -> str:
    """All text drawn in the figure, box lines joined as a reader reads them (wrap-agnostic)."""
    return " ".join(" ".join(t.get_text().split("\n"))
                    for t in fig.findobj(matplotlib.text.Text)).replace("     ", " ")


def test_diagram_shows_every_box_with_its_count():
    counts = prisma_counts(_inputs(with_other=True))
    assert counts.checks == []
    fig = flow_diagram.draw(counts)
    text = _texts(fig)
    for line in (f"Databases {_n(4)}", f"PubMed {_n(3)}", f"Embase {_n(1)}",
                 f"Duplicate records removed {_n(1)}", f"Records screened {_n(3)}",
                 f"Records excluded {_n(1)}", f"Reports sought for retrieval {_n(2)}",
                 f"Reports assessed for eligibility {_n(2)}", f"Wrong outcome {_n(1)}",
                 f"Citation searching {_n(1)}", f"Reports sought for retrieval {_n(1)}",
                 f"Studies included in review {_n(2)}", f"Reports of included studies {_n(2)}"):
        assert line in text, line
    assert "Identification of studies via other methods" in text


def test_diagram_has_one_column_without_other_methods():
    counts = prisma_counts(_inputs(with_other=False))
    text = _texts(flow_diagram.draw(counts))
    assert "Identification of studies via databases and registers" in text
    assert "Identification of studies via other methods" not in text
    assert f"Studies included in review {_n(1)}" in text
    wide = flow_diagram.draw(prisma_counts(_inputs(with_other=True)))
    narrow = flow_diagram.draw(counts)
    assert narrow.get_size_inches()[0] < wide.get_size_inches()[0]


def test_diagram_files_render_as_svg_png_and_pdf(tmp_path):
    counts = prisma_counts(_inputs(with_other=True))
    paths = flow_diagram.save(counts, tmp_path)
    assert sorted(p.suffix for p in paths) == [".pdf", ".png", ".svg"]
    root = ET.parse(tmp_path / "prisma_flow.svg").getroot()
    assert root.tag.endswith("svg") and root.get("viewBox")
    with Image.open(tmp_path / "prisma_flow.png") as png:
        assert png.format == "PNG"
        dpi = png.info.get("dpi", (0, 0))
        assert round(dpi[0]) == 300  # print resolution
        width_in = png.size[0] / dpi[0]
        assert width_in == pytest.approx(flow_diagram.draw(counts).get_size_inches()[0], rel=0.02)
    pdf = (tmp_path / "prisma_flow.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


def test_json_and_csv_use_the_prisma2020_field_names(tmp_path):
    counts = prisma_counts(_inputs(with_other=True))
    data = json.loads(prisma_files.write_json(counts, tmp_path / "c.json").read_text("utf-8"))
    assert list(data)[: len(FIELDS)] == list(FIELDS)
    for field in FIELDS:
        if field not in TEXT_FIELDS:
            assert isinstance(data[field], int), field
    assert data["database_results"] == 4 and data["duplicates"] == 1
    assert data["records_screened"] == 3 and data["records_excluded"] == 1
    assert data["database_specific_results"] == "PubMed, 3; Embase, 1"
    assert data["dbr_excluded"] == "Wrong outcome, 1"
    assert data["citations_results"] == 1 and data["other_assessed"] == 1
    assert data["new_studies"] == 2 and data["total_reports"] == 2
    assert data["consistency_checks"] == []

    with (prisma_files.write_csv(counts, tmp_path / "c.csv")).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["data", "node", "box", "description", "boxtext", "tooltips",
                             "url", "n"]
    assert [r["data"] for r in rows] == list(FIELDS)
    by_field = {r["data"]: r["n"] for r in rows}
    assert by_field == {k: str(v) for k, v in counts.as_prisma2020().items()}


@pytest.fixture
def review(sqlite_store):
    info = build(sqlite_store)
    return sqlite_store, info


def test_review_prisma_writes_the_hand_counted_boxes(review, tmp_path):
    store, info = review
    out = tmp_path / "prisma"
    result = CliRunner().invoke(app, ["prisma", "--db", store.url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("prisma_flow.svg", "prisma_flow.png", "prisma_flow.pdf", "prisma_counts.json",
                 "prisma_counts.csv"):
        assert (out / name).is_file(), name
    data = json.loads((out / "prisma_counts.json").read_text("utf-8"))
    expected = {
        "database_results": 10, "database_specific_results": "PubMed, 9; Scopus, 1",
        "citations_results": 1, "duplicates": 1, "records_screened": 9, "records_excluded": 0,
        "dbr_sought_reports": 9, "dbr_notretrieved_reports": 1, "dbr_assessed": 8,
        "other_sought_reports": 1, "other_notretrieved_reports": 0, "other_assessed": 1,
        "other_excluded": "", "new_studies": 5, "new_reports": 6, "total_studies": 5,
        "total_reports": 6,
    }
    assert {k: data[k] for k in expected} == expected
    assert set(data["dbr_excluded"].split("; ")) == {"Wrong comparator, 1",
                                                     "Wrong study design, 1"}
    # The unresolved full-text conflict is named, with its record, every time.
    pe13 = info["ids"]["pe13"]
    assert any("no final full-text decision" in c and str(pe13) in c
               for c in data["consistency_checks"])
    assert "no final full-text decision" in result.output
    strict = CliRunner().invoke(app, ["prisma", "--db", store.url, "--out", str(out),
                                      "--strict"])
    assert strict.exit_code == 2
