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

from review.io.errors import ImportFormatError
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


_EXPECTED_START = {
    "ris": "'TY  - ' lines",
    "nbib": "'PMID- ' lines",
    "wos": "'PT J' lines",
    "bibtex": "entries such as '@article{key,'",
    "csv": "a header row naming a title column",
    "xlsx": "an Excel workbook (a ZIP container)",
}
_RECORD_START = {"ris": "TY  -", "nbib": "PMID-", "wos": "PT ", "bibtex": "@"}
#: How much of the text the format decision and the first-record search look at.
HEAD_CHARS = 1_000_000


def choose_format(
    name: str, declared: str | None, forced: bool, text: str, warnings: list[str]
) -> str:
    """The format to read ``text`` (the file, or at least its first megabyte) as.

    The content decides (:func:`sniff_text`); a disagreeing extension or
    forced format adds a warning. Content we do not recognise is only read as
    a table when the extension or ``fmt`` says CSV; otherwise the error says
    what was expected and quotes the first line.
    """
    content = sniff_text(text)
    if content is not None:
        _note_mismatch(name, declared, content, forced, warnings)
        return content
    return _fallback_format(name, declared, text[:HEAD_CHARS])


def note_mismatch(
    name: str, declared: str | None, content: str, forced: bool, warnings: list[str]
) -> None:
    """Warn when the extension (or a forced format) promised another format than the content."""
    _note_mismatch(name, declared, content, forced, warnings)


def _note_mismatch(
    name: str, declared: str | None, content: str, forced: bool, warnings: list[str]
) -> None:
    if declared is None or declared == content:
        return
    how = (
        f"format {declared!r} was requested"
        if forced
        else f"the extension says {FORMAT_NAMES[declared]}"
    )
    warnings.append(
        f"{name}: {how} but the content is {FORMAT_NAMES[content]}; read as {FORMAT_NAMES[content]}"
    )


def _fallback_format(name: str, declared: str | None, text: str) -> str:
    """When the content matches no format: only a plain table may still be read."""
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "").strip()
    shown = first_line[:60] + ("..." if len(first_line) > 60 else "")
    line = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()), 1)
    if declared == "csv":
        return "csv"
    if declared is not None:
        raise ImportFormatError(
            name,
            f"this is not {FORMAT_NAMES[declared]} as the extension says: expected "
            f"{_EXPECTED_START[declared]}, found '{shown}'",
            line=line,
        )
    raise ImportFormatError(
        name,
        "not a format we can read: expected RIS ('TY  - '), PubMed MEDLINE ('PMID- '), "
        "Web of Science ('PT J'), BibTeX ('@article{'), or a CSV/TSV/XLSX table whose "
        f"header names a title column; found '{shown}'",
        line=line,
    )


def first_record_line(text: str, fmt: str) -> int | None:
    """Line where the first record starts, to point at in whole-file errors."""
    if fmt == "csv":
        return 2
    marker = _RECORD_START.get(fmt)
    for number, line in enumerate(text[:HEAD_CHARS].split("\n"), 1):
        if marker and line.lstrip("\ufeff").startswith(marker):
            return number
    return None
