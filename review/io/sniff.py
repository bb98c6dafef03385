"""Tell which export format a file holds, from its content first.

Extensions lie: PubMed saves MEDLINE as ``pubmed-xyz.txt``, Web of Science
saves both tagged and tab-delimited exports as ``savedrecs.txt``, and people
rename files. So the content decides; the extension only breaks ties and is
checked against the content so that a mismatch is reported rather than
parsed into garbage.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from review.io.tabular import table_header_has_title

#: The formats :func:`review.io.read_records` understands.
FORMATS: tuple[str, ...] = ("ris", "nbib", "wos", "bibtex", "csv", "xlsx")

FORMAT_NAMES: dict[str, str] = {
    "ris": "RIS",
    "nbib": "PubMed MEDLINE/nbib",
    "wos": "Web of Science tagged text",
    "bibtex": "BibTeX",
    "csv": "CSV/TSV",
    "xlsx": "Excel XLSX",
}

#: Extensions that promise one format.
EXTENSIONS: dict[str, str] = {
    ".ris": "ris",
    ".nbib": "nbib",
    ".medline": "nbib",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ciw": "wos",
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}

_RIS_START = re.compile(r"^TY  -", re.MULTILINE)
_RIS_TAG = re.compile(r"^[A-Z][A-Z0-9]  -( |$)", re.MULTILINE)
_MEDLINE_TAG = re.compile(r"^(?:PMID|[A-Z][A-Z0-9]{1,3} {0,2})- ", re.MULTILINE)
#: Tags that MEDLINE has and RIS does not, so a MEDLINE file is not taken for RIS.
_MEDLINE_ONLY = re.compile(
    r"^(?:PMID|FAU |OWN |STAT|DCOM|LR  |VI  |IP  |PG  |LID |AID |JT  |TA  |PHST|SO  |MH  |"
    r"EDAT|MHDA|CRDT|PST )- ",
    re.MULTILINE,
)
_WOS_HEAD = re.compile(r"^(?:FN |VR |PT [A-Z]\s*$)", re.MULTILINE)
_BIBTEX = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)


def extension_format(filename: str) -> str | None:
    """Format an extension promises, ``None`` for ``.txt`` and other neutral names."""
    return EXTENSIONS.get(PurePath(filename).suffix.lower())


def sniff_text(text: str) -> str | None:
    """Format of a decoded text file, or ``None`` when it is none we know.

    Only the head of the file is examined: exports put their signature on
    the first record.
    """
    head = text[:20000]
    lines = [line for line in head.splitlines() if line.strip()]
    if not lines:
        return None
    first = lines[0].lstrip("\ufeff")
    if _RIS_START.search(head) and len(_RIS_TAG.findall(head)) >= 2:
        return "ris"
    if _MEDLINE_ONLY.search(head) and len(_MEDLINE_TAG.findall(head)) >= 2:
        return "nbib"
    if _WOS_HEAD.match(first) and re.search(r"^(?:PT [A-Z]|ER)\s*$", head, re.MULTILINE):
        return "wos"
    meaningful = next((ln for ln in lines if not ln.lstrip().startswith("%")), "")
    if meaningful.lstrip().startswith("@") and _BIBTEX.search(head):
        return "bibtex"
    if table_header_has_title(first):
        return "csv"
    return None
