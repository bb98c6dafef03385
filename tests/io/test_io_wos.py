"""Web of Science exports: tagged "Plain text" and "Tab-delimited"."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.io import ImportFormatError, read_bytes, read_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"


def test_wos_plain_text():
    imported = read_records(FIXTURES / "wos_plain.txt")
    assert imported.fmt == "wos"
    article, paper = imported.records
    # Authors one per indented line; a title wrapped over two lines.
    assert article["authors"] == ["Smith, J", "Jones, AB"]
    assert article["title"] == (
        "Social support from teachers and loneliness in primary school children: a multilevel study"
    )
    assert article["journal"] == "JOURNAL OF SCHOOL PSYCHOLOGY"
    assert (article["year"], article["volume"], article["pages"]) == (2020, "80", "52-66")
    assert article["doi"] == "10.5555/jsp.2020.0052"
    assert article["pmid"] == "32540001"
    assert article["issn"] == "0022-4405"
    # Author keywords (a DE list wrapped mid-keyword) then Keywords Plus.
    assert article["keywords"] == [
        "loneliness",
        "teacher support",
        "belonging",
        "primary school",
        "PEER",
        "ADOLESCENCE",
        "VICTIMIZATION",
    ]
    assert article["original"]["UT"] == "WOS:000540000000001"
    assert article["original"]["AF"] == ["Smith, John", "Jones, Anna B."]
    assert paper["type"] == "inproceedings"
    assert paper["pages"] == "104"  # article number when there are no page numbers


def test_wos_plain_text_truncated():
    text = (FIXTURES / "wos_plain.txt").read_text()
    cut = text[: text.index("ER\n\nPT C")]
    with pytest.raises(ImportFormatError) as info:
        read_bytes(cut.encode(), "savedrecs.txt")
    assert (info.value.line, info.value.record) == (3, 1)


def test_wos_tab_delimited_utf8():
    imported = read_records(FIXTURES / "wos_tab.txt")
    assert imported.fmt == "csv"
    carers, rural = imported.records
    # WoS does not quote cells: a title that starts with a quote stays intact.
    assert carers["title"] == (
        '"Nobody to talk to": loneliness among young carers and the role of school support'
    )
    assert carers["authors"] == ["Banerjee, R", "Okonkwo, E", "Hughes, T"]
    assert carers["journal"] == "CHILD CARE HEALTH AND DEVELOPMENT"
    assert (carers["year"], carers["volume"], carers["issue"]) == (2023, "49", "2")
    assert carers["pages"] == "301-312"
    assert carers["doi"] == "10.5555/cch.2023.301"
    assert carers["pmid"] == "36000001"
    assert carers["keywords"] == [
        "young carers",
        "loneliness",
        "school support",
        "ADOLESCENTS",
        "HEALTH",
    ]
    # Early-access records have no PY; the year comes from the early-access date.
    assert rural["year"] == 2024
    assert rural["pages"] == "e12988"
    assert rural["doi"] is None


def test_wos_tab_delimited_utf16_with_bom():
    text = (FIXTURES / "wos_tab.txt").read_bytes().decode("utf-8-sig")
    imported = read_bytes(text.encode("utf-16"), "savedrecs.txt")
    assert imported.encoding == "utf-16"
    assert [r["title"] for r in imported.records] == [
        r["title"] for r in read_records(FIXTURES / "wos_tab.txt").records
    ]
