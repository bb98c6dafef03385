"""Regressions for what ``benchmarks/fuzz_importers.py`` found, one test per finding.

1. A NUL character after the first 64 KB of a file with a byte-order mark was
   accepted into records (only the head was checked); PostgreSQL refuses NUL
   in text, so the import would crash at insert time instead of naming the line.
2. A BibTeX field of 10 MB took minutes (pylatexenc decodes about 60,000
   characters a second): a hang for the user. Plain values and values whose
   only LaTeX is balanced braces now skip pylatexenc (ten times faster on
   ordinary files), and values over 100,000 characters are kept as written.
3. A Web of Science tab export whose rows end in a lone CR was refused by the
   whole-file reader ("Expected 4 fields, saw 5": the trailing tab of such a
   row was not removed) and read by the streamed one; both now end rows at
   LF, CRLF or CR.
4. A workbook whose ZIP directory asks for an unsupported ZIP version let
   ``NotImplementedError`` escape (``zipfile`` raises it, not ``BadZipFile``).

Plus a quick differential property: the streamed reader gives exactly what
the whole-file reader gives (records, warnings or the same error).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import review.io.stream as stream_module
from review.io import ImportFormatError, open_stream, read_bytes
from review.io.bibtex import LATEX_DECODE_LIMIT, _LatexDecodingExceptVerbatim
from review.io.limits import MAX_FIELD_CHARS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"


def _both(data: bytes, name: str, tmp_path: Path):
    """Outcome of the whole-file and the streamed reader on the same bytes."""
    path = tmp_path / name
    path.write_bytes(data)
    outcomes = []
    for read in (lambda: read_bytes(data, name),
                 lambda: _streamed(path)):
        try:
            outcomes.append(read())
        except ImportFormatError as err:
            outcomes.append(err)
    return outcomes


def _streamed(path: Path):
    stream = open_stream(path)
    records = [r for chunk in stream for r in chunk]
    return records, stream.warnings


# ---- 1. NUL characters late in a file with a BOM -------------------------------------------


@pytest.mark.parametrize("bom_codec", ["utf-8-sig", "utf-16"])
def test_nul_character_after_the_first_64_kb_is_refused_with_its_line(
    bom_codec: str, tmp_path: Path
):
    rows = [f'"Record {i}: peer support and loneliness",{2000 + i % 20}' for i in range(3000)]
    assert sum(len(r) + 1 for r in rows) > 65536
    rows[2500] = '"Record 2500: a NUL \x00 pasted in",2020'
    text = "Title,Year\n" + "\n".join(rows) + "\n"
    data = text.encode(bom_codec)
    assert data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    whole, streamed = _both(data, "export.csv", tmp_path)
    for err in (whole, streamed):
        assert isinstance(err, ImportFormatError)
        assert err.line == 2502  # header, then rows 0..2500
        assert "NUL" in str(err)


def test_nul_late_in_a_medline_file_with_bom(tmp_path: Path):
    record = (FIXTURES / "pubmed.nbib").read_text(encoding="utf-8-sig")
    text = record * 40
    assert len(text) > 65536
    cut = text.rindex("RESULTS:")
    text = text[:cut] + "\x00" + text[cut:]
    whole, streamed = _both(text.encode("utf-8-sig"), "pubmed.nbib", tmp_path)
    assert isinstance(whole, ImportFormatError) and isinstance(streamed, ImportFormatError)
    assert whole.line == streamed.line == text.count("\n", 0, cut) + 1


# ---- 2. huge BibTeX fields -------------------------------------------------------------


def test_a_10_mb_bibtex_title_is_refused_naming_the_limit(tmp_path: Path):
    """Issue 17: a field is limited in characters, whatever the file's size on disk."""
    huge = "Loneliness " * (10 * 2**20 // 11)
    data = (FIXTURES / "zotero.bib").read_text(encoding="utf-8")
    data = data.replace("title = {", "title = {" + huge, 1)
    with pytest.raises(ImportFormatError, match=r"refs\.bib, record 1: field 'title' is "
                       r"[\d,]+ characters long; the limit is 1,000,000"):
        read_bytes(data.encode(), "refs.bib")


def test_a_title_just_under_the_field_limit_is_read_whole(tmp_path: Path):
    huge = ("Loneliness " * (MAX_FIELD_CHARS // 11))[:MAX_FIELD_CHARS - 1000]
    data = (FIXTURES / "zotero.bib").read_text(encoding="utf-8")
    data = data.replace("title = {", "title = {" + huge, 1)
    imported = read_bytes(data.encode(), "refs.bib")
    assert imported.records[0]["title"].startswith("Loneliness Loneliness")
    assert len(imported.records[0]["title"]) > MAX_FIELD_CHARS - 1000
    assert imported.records[1]["title"]  # the other entries are unaffected


def test_an_over_long_value_with_latex_is_kept_as_written_with_a_warning():
    value = "{\\'e}" * (LATEX_DECODE_LIMIT // 5 + 1)
    data = "@article{k,\n  title = {Short},\n  abstract = {" + value + "},\n}\n"
    imported = read_bytes(data.encode(), "refs.bib")
    record = imported.records[0]
    assert record["title"] == "Short"
    assert record["abstract"] == value  # not decoded: decoding it would take minutes
    assert any("kept as written" in w for w in imported.warnings)


def test_short_latex_is_still_decoded():
    data = (b"@article{k,\n  title = {Caf{\\'e} culture -- belonging},\n"
            b"  author = {M{\\\"u}ller, J},\n}\n")
    record = read_bytes(data, "refs.bib").records[0]
    assert record["title"] == "Café culture – belonging"
    assert record["authors"] == ["Müller, J"]


PLAIN = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\\{}%&~$`'-!?"),
    max_size=60,
) | st.text(alphabet="ab -'`!?", max_size=12)


BRACED = st.lists(PLAIN, min_size=1, max_size=4).map(
    lambda parts: parts[0] + "".join("{" + p + "}" for p in parts[1:])
) | st.recursive(PLAIN, lambda inner: st.builds(lambda a, b: a + "{" + b + "}", PLAIN, inner),
                 max_leaves=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=PLAIN | BRACED)
def test_skipping_plain_values_changes_nothing(value: str):
    # The fast paths (no LaTeX at all; only balanced braces, as in "{COVID}-19")
    # must give what pylatexenc itself gives.
    ours = _LatexDecodingExceptVerbatim()._transform_python_value_string(value)
    theirs = LatexDecodingMiddleware()._transform_python_value_string(value)
    assert ours == theirs


def test_brace_protected_capitals_lose_their_braces():
    data = b"@article{k,\n  title = {Mentoring and {COVID}-19 in {UK} schools},\n}\n"
    title = read_bytes(data, "refs.bib").records[0]["title"]
    assert title == "Mentoring and COVID-19 in UK schools"


# ---- 4. a ZIP container the ZIP reader cannot open -----------------------------------------


def test_workbook_with_an_unsupported_zip_version_is_refused_clearly(tmp_path: Path):
    import io

    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"Title": ["Peer support and loneliness"]}).to_excel(buffer, index=False)
    data = bytearray(buffer.getvalue())
    central = data.index(b"PK\x01\x02")  # first central-directory entry
    data[central + 6 : central + 8] = (234).to_bytes(2, "little")  # "needs ZIP version 23.4"
    whole, streamed = _both(bytes(data), "rayyan.xlsx", tmp_path)
    for err in (whole, streamed):
        assert isinstance(err, ImportFormatError)
        assert "damaged ZIP container" in str(err)
        assert str(err).startswith("rayyan.xlsx, line 1: ")


# ---- 3. Web of Science tab export with lone CR row ends ------------------------------------


def test_wos_tab_rows_ending_in_a_lone_cr_read_the_same_streamed_or_whole(tmp_path: Path):
    # Each row ends with a tab (Web of Science does that); the second with a lone CR.
    data = (b"PT\tAU\tTI\tPY\n"
            b"J\tLee, A\tPeer mentoring and belonging\t2020\t\n"
            b"J\tKim, B\tSchool linkage for lonely pupils\t2021\t\r"
            b"J\tOsei, K\tFamily support and belonging\t2022\t\n")
    whole, streamed = _both(data, "savedrecs.txt", tmp_path)
    assert [r["title"] for r in whole.records] == [
        "Peer mentoring and belonging",
        "School linkage for lonely pupils",
        "Family support and belonging",
    ]
    assert [r["year"] for r in whole.records] == [2020, 2021, 2022]
    assert streamed == (whole.records, whole.warnings)


# ---- the differential property ---------------------------------------------------------------

FIXTURE_BYTES = {p.name: p.read_bytes() for p in sorted(FIXTURES.iterdir())}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(FIXTURE_BYTES)),
    cut=st.floats(0, 1),
    newline=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    junk=st.binary(max_size=8),
    junk_at=st.floats(0, 1),
)
def test_streamed_and_whole_file_reads_agree(name, cut, newline, junk, junk_at, tmp_path_factory):
    data = FIXTURE_BYTES[name].replace(b"\r\n", b"\n").replace(b"\n", newline)
    data = data[: int(len(data) * cut)] if cut < 0.97 else data
    at = int(len(data) * junk_at)
    data = data[:at] + junk + data[at:]
    stream_module_piece = stream_module.PIECE_CHARS
    stream_module.PIECE_CHARS = 5  # put piece boundaries everywhere
    try:
        whole, streamed = _both(data, name, tmp_path_factory.mktemp("agree"))
    finally:
        stream_module.PIECE_CHARS = stream_module_piece
    if isinstance(whole, ImportFormatError):
        assert isinstance(streamed, ImportFormatError)
        assert str(streamed) == str(whole)
    else:
        assert streamed == (whole.records, whole.warnings)
