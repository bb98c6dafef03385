"""PubMed MEDLINE (.nbib / pubmed-*.txt) exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.io import ImportFormatError, read_bytes, read_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"


def test_medline_fields_and_continuation_lines():
    imported = read_records(FIXTURES / "pubmed.nbib")
    assert imported.fmt == "nbib"
    review, translated, ahead = imported.records

    # TI and AB continue on lines indented by six spaces.
    assert review["title"] == (
        "Peer support interventions for loneliness in adolescents: a systematic review and "
        "meta-analysis."
    )
    assert review["abstract"] == (
        "BACKGROUND: Loneliness in adolescence is associated with later depression. "
        "METHODS: We searched five databases for randomised trials of peer support. "
        "RESULTS: Twelve trials (n = 3,410) were included."
    )
    # Full author names (FAU) rather than initials (AU).
    assert review["authors"] == ["Eccles, Alice M", "Qualter, Pamela", "van der Berg, Joost"]
    assert review["pmid"] == "34567890"
    assert review["year"] == 2022
    assert review["journal"] == "Journal of adolescence"  # JT over the TA abbreviation
    assert (review["volume"], review["issue"]) == ("94", "3")
    assert review["pages"] == "1021-1029"  # MEDLINE's "1021-9" expanded
    assert review["doi"] == "10.5555/jado.2022.0194"
    assert review["issn"] == "1095-9254"  # first IS, "(Electronic)" dropped
    assert review["language"] == "eng"
    assert review["type"] == "article"
    # Author keywords first, then MeSH headings without the major-topic star.
    assert review["keywords"] == [
        "loneliness",
        "peer support",
        "adolescents",
        "Adolescent",
        "Humans",
        "Loneliness/psychology",
        "Peer Group",
    ]
    assert review["original"]["PT"] == ["Journal Article", "Systematic Review", "Meta-Analysis"]
    assert review["original"]["AID"] == [
        "S0140-1971(22)00001-0 [pii]",
        "10.5555/jado.2022.0194 [doi]",
    ]

    # Translated titles lose PubMed's brackets; corporate authors (CN) count;
    # "English Abstract" is skipped when choosing the type; a DP range gives its first year.
    assert translated["title"] == (
        "Mentoring programmes and social connectedness among children in care."
    )
    assert translated["authors"] == ["Müller, Jürgen", "Youth Mentoring Evaluation Consortium"]
    assert translated["type"] == "article"
    assert translated["year"] == 2019
    assert translated["doi"] is None
    assert translated["keywords"] == ["Child", "Mentoring"]

    assert ahead["abstract"] is None
    assert imported.missing == {"title": 0, "authors": 0, "year": 0, "abstract": 1, "doi": 2}


def test_crlf_nbib_reads_the_same():
    data = (FIXTURES / "pubmed.nbib").read_bytes()
    lf = read_bytes(data, "a.nbib").records
    crlf = read_bytes(data.replace(b"\n", b"\r\n"), "b.nbib").records
    assert [r["title"] for r in crlf] == [r["title"] for r in lf]
    assert crlf[0]["abstract"] == lf[0]["abstract"]


def test_pubmed_txt_name_is_sniffed_from_content():
    data = (FIXTURES / "pubmed.nbib").read_bytes()
    imported = read_bytes(data, "pubmed-lonelinessc-set.txt")
    assert imported.fmt == "nbib" and imported.warnings == []


def test_records_without_blank_line_between_them_still_split_on_pmid():
    data = b"PMID- 1\nTI  - One\nSO  - J. 2020\nPMID- 2\nTI  - Two\nSO  - J. 2021\n"
    assert [r["title"] for r in read_bytes(data, "x.nbib").records] == ["One", "Two"]


def test_truncated_last_record_is_reported():
    text = (FIXTURES / "pubmed.nbib").read_text()
    cut = text[: text.rindex("SO  - ")]  # cut inside the last record
    last_start = cut.count("\n", 0, cut.rindex("PMID- ")) + 1
    with pytest.raises(ImportFormatError) as info:
        read_bytes(cut.encode(), "pubmed.nbib")
    assert (info.value.line, info.value.record) == (last_start, 3)
    assert str(info.value).startswith(f"pubmed.nbib, line {last_start} (record 3):")


def test_a_line_that_is_not_medline_is_reported_with_its_line():
    data = b"PMID- 1\nTI  - One\nSO  - J. 2020\n\nPMID- 2\nTI  - Two\nGarbage here\n"
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data, "bad.nbib")
    assert (info.value.line, info.value.record) == (7, 2)
    assert "Garbage here" in str(info.value)
