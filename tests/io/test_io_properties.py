"""Whatever a user uploads, the importer either reads it or raises ImportFormatError.

A crash with a ``KeyError`` from deep inside a parser is what these guard
against: the app and the CLI show ``ImportFormatError`` messages to people,
anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.io import ImportFormatError, read_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"
NAMES = st.sampled_from(
    ["a.ris", "a.nbib", "a.bib", "a.csv", "a.tsv", "a.txt", "a.xlsx", "a.ciw", "upload"]
)
QUICK = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_refuse(data: bytes, name: str) -> None:
    try:
        imported = read_bytes(data, name)
    except ImportFormatError as err:
        assert err.file == name
        assert str(err).startswith(name)
        return
    assert imported.records  # success always means at least one record...
    assert any(r["title"] for r in imported.records)  # ...and at least one title


@QUICK
@given(data=st.binary(max_size=2000), name=NAMES)
def test_random_bytes(data: bytes, name: str):
    _read_or_refuse(data, name)


def _lines(fragments: list[str]) -> st.SearchStrategy[str]:
    line = st.one_of(
        st.sampled_from(fragments),
        st.text(max_size=30),
        st.builds(lambda a, b: a + b, st.sampled_from(fragments), st.text(max_size=20)),
    )
    return st.builds(
        lambda lines, sep: sep.join(lines),
        st.lists(line, max_size=40),
        st.sampled_from(["\n", "\r\n", "\r"]),
    )


RIS_BITS = [
    "TY  - JOUR",
    "ER  - ",
    "ER  -",
    "TI  - ",
    "AU  - ",
    "KW  - ",
    "AB  - ",
    "T2  - ",
    "PY  - 2016///",
    "DO  - ",
    "UR  - ",
    "XX  - ",
    "",
    "  ",
    "1.",
]
MEDLINE_BITS = [
    "PMID- 1",
    "TI  - ",
    "      more",
    "FAU - ",
    "AU  - ",
    "SO  - ",
    "AID - x [doi]",
    "MH  - *A",
    "DP  - 2020",
    "",
    "PG  - 1-9",
]
BIBTEX_BITS = [
    "@article{k,",
    "@book{",
    "}",
    "title = {",
    "author = {A and B}",
    '"',
    "{",
    "\\",
    "@string{x = ",
    "year = 2020,",
    "%",
    "@comment{",
]
CSV_BITS = [
    "Title,Authors,Year",
    'x,"a; b",2020',
    '"',
    ",,,",
    "Title\tAU\tPY",
    "PT\tAU\tTI",
    "a\tb",
    ";",
    "Title;Year",
]
WOS_BITS = ["FN Clarivate", "VR 1.0", "PT J", "AU X", "   Y", "TI T", "ER", "EF", ""]


@QUICK
@given(text=_lines(RIS_BITS))
def test_ris_like_text(text: str):
    _read_or_refuse(text.encode("utf-8"), "search.ris")


@QUICK
@given(text=_lines(MEDLINE_BITS))
def test_medline_like_text(text: str):
    _read_or_refuse(text.encode("utf-8"), "pubmed.nbib")


@QUICK
@given(text=_lines(BIBTEX_BITS))
def test_bibtex_like_text(text: str):
    _read_or_refuse(text.encode("utf-8"), "refs.bib")


@QUICK
@given(text=_lines(CSV_BITS))
def test_table_like_text(text: str):
    _read_or_refuse(text.encode("utf-8"), "export.csv")


@QUICK
@given(text=_lines(WOS_BITS))
def test_wos_like_text(text: str):
    _read_or_refuse(text.encode("utf-8"), "savedrecs.txt")


FIXTURE_BYTES = {p.name: p.read_bytes() for p in sorted(FIXTURES.iterdir()) if p.is_file()}


@QUICK
@given(name=st.sampled_from(sorted(FIXTURE_BYTES)), cut=st.floats(0, 1))
def test_real_exports_cut_anywhere(name: str, cut: float):
    data = FIXTURE_BYTES[name]
    _read_or_refuse(data[: int(len(data) * cut)], name)
