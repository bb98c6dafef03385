"""The reference list of included studies: RIS for reference managers, APA-style text for the paper.

A review's appendix lists every report of every included study, grouped under the
study's short citation ("Okafor 2019") so a reader can go from a row of the
characteristics table to the papers behind it. Two forms are written:

* **RIS** through :func:`review.io.export.write_ris`, with the study's citation in a
  note, so the list imports into EndNote or Zotero with its grouping kept;
* a **formatted list** in the APA 7 shape journals ask for ("Surname, A. B., &
  Surname, C. (2019). Title. *Journal*, *12*(3), 45–67. https://doi.org/…"), as
  DOCX (italics, hanging indent), Markdown and plain text.

Names arrive in every shape search exports use: "Okafor, Chidi N", "Okafor CN"
(MEDLINE), "Ó Súilleabháin M.K." (Scopus), "Chidi Okafor" and corporate authors.
:func:`parse_name` reads them all into surname + initials, because that is the
part of a reference where hand-typed lists go wrong most often.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

#: APA 7 lists up to 20 authors; beyond that the first 19, an ellipsis, and the last.
MAX_AUTHORS = 20
#: Record types whose title APA italicises (works that stand alone).
STANDALONE_TYPES = frozenset({"book", "techreport", "phdthesis", "unpublished", "misc"})
#: Lower-case words that start a surname ("van der Berg", "de la Cruz").
PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la",
     "le", "ter", "ten", "zu", "bin", "ibn", "al", "el", "st", "y"}
)
_SUFFIX = re.compile(r"^(?:jr|sr|ii|iii|iv|v)\.?$", re.IGNORECASE)
#: "CN", "C.N.", "M.K.", "J.-P.", "A" — a run of capitals, each optionally dotted or hyphened.
_INITIALS = re.compile(r"^(?:[A-Z\u00C0-\u00DE]\.?-?){1,4}$")
_CORPORATE = re.compile(
    r"\b(?:group|consortium|collaborat\w*|committee|network|team|organi[sz]ation|institute|"
    r"association|council|society|trust|foundation|department|ministry|university|centre|"
    r"center|agency|office|board|investigators|commission|service|services)\b",
    re.IGNORECASE,
)
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


@dataclass(frozen=True)
class Name:
    """One author as a reference list prints it."""

    family: str
    initials: str = ""
    suffix: str = ""
    corporate: bool = False

    def apa(self) -> str:
        """ "Okafor, C. N." (or "Okafor, C. N., Jr."; a group's name as it is)."""
        if self.corporate or not self.initials:
            text = self.family
        else:
            text = f"{self.family}, {self.initials}"
        return f"{text}, {self.suffix}" if self.suffix else text


def _initials_of(given: str) -> str:
    """ "Chidi Nnamdi" → "C. N."; "CN" and "C.N." → "C. N."; "Jean-Paul" → "J.-P."."""
    tokens = given.split()
    if not tokens:
        return ""
    if all(_INITIALS.match(t) for t in tokens) and not re.search(r"[a-z]", given):
        out = ""
        for letter, hyphen in re.findall(r"([A-Z\u00C0-\u00DE])\.?\s*(-)?", given):
            out += f"{letter}.{'-' if hyphen else ' '}"
        return out.strip()
    words = []
    for token in tokens:
        if token.casefold() in PARTICLES:
            continue
        parts = [p for p in re.split(r"-", token) if p and p[0].isalpha()]
        if parts:
            words.append("-".join(f"{p[0].upper()}." for p in parts))
    return " ".join(words)


def parse_name(raw: str) -> Name:
    """Read an author as exported by any database into surname, initials and suffix."""
    text = " ".join(str(raw).split()).strip(" ;")
    if text.startswith("{") and text.endswith("}"):
        return Name(text[1:-1].strip(), corporate=True)  # BibTeX's braced corporate author
    if "," in text:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        family, rest = parts[0], parts[1:]
        suffixes = [p for p in rest if _SUFFIX.match(p)]
        suffix = suffixes[0] if suffixes else ""
        given = " ".join(p for p in rest if not _SUFFIX.match(p))
        if _CORPORATE.search(family) and not given:
            return Name(family, corporate=True)
        return Name(family, _initials_of(given), suffix)
    tokens = text.split()
    if not tokens:
        return Name("")
    suffix = ""
    if len(tokens) > 2 and _SUFFIX.match(tokens[-1]):
        suffix, tokens = tokens[-1], tokens[:-1]
    if _CORPORATE.search(text) or len(tokens) > 4:
        return Name(text, corporate=True)
    if len(tokens) >= 2 and _INITIALS.match(tokens[-1]):
        # MEDLINE "Okafor CN", Scopus "Ó Súilleabháin M.K.": surname first, initials last.
        return Name(" ".join(tokens[:-1]), _initials_of(tokens[-1]), suffix)
    if len(tokens) == 1:
        return Name(tokens[0])
    # "Chidi N. Okafor", "Ludwig van Beethoven": given names first, surname (with particles) last.
    start = len(tokens) - 1
    for i in range(1, len(tokens) - 1):
        if tokens[i].casefold() in PARTICLES:
            start = i
            break
    return Name(" ".join(tokens[start:]), _initials_of(" ".join(tokens[:start])), suffix)


def apa_authors(names: Sequence[str]) -> str:
    """The author part of an APA reference: "A, B, & C"; 21+ authors as 19 … last."""
    shown = [parse_name(n).apa() for n in names if str(n).strip()]
    shown = [s for s in shown if s]
    if not shown:
        return ""
    if len(shown) > MAX_AUTHORS:
        return ", ".join(shown[: MAX_AUTHORS - 1]) + ", . . . " + shown[-1]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + ", & " + shown[-1]


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return " ".join(str(value).split())


def _year(value: Any) -> str:
    text = _text(value)
    if not text:
        return ""
    try:
        return str(int(float(text)))
    except ValueError:
        return text


def short_citation(authors: Sequence[str] | None, year: Any) -> str:
    """ "Surname Year" from the first author, as evidence tables name a study or report."""
    first = next((a for a in authors or [] if str(a).strip()), None)
    surname = parse_name(first).family if first else "Anonymous"
    return f"{surname or 'Anonymous'} {_year(year) or 'n.d.'}"


def doi_url(doi: Any) -> str:
    """A DOI as the https://doi.org/ link APA 7 asks for."""
    text = _text(doi)
    return f"https://doi.org/{_DOI_PREFIX.sub('', text)}" if text else ""


def _sentence(text: str) -> str:
    """End a title or element with a full stop unless it already ends with punctuation."""
    text = text.rstrip()
    return text if not text or text[-1] in ".?!" else text + "."


def reference_parts(record: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """An APA 7 reference as (text, italic) pieces, so DOCX and Markdown can both style it.

    Journal articles italicise the journal and volume; works that stand alone (reports,
    books, theses) italicise the title. A record without authors starts with its
    title, as APA asks; a record without a year gets "(n.d.)".
    """
    authors = apa_authors(list(record.get("authors") or []))
    year = _year(record.get("year")) or "n.d."
    title = _text(record.get("title")).rstrip(".")
    journal = _text(record.get("journal"))
    kind = _text(record.get("type")).casefold() or "article"
    standalone = not journal and (kind in STANDALONE_TYPES or kind == "article")
    parts: list[tuple[str, bool]] = []
    title_part = (_sentence(title), standalone) if title else None
    if authors:
        parts.append((_sentence(authors) + f" ({year}). ", False))
        if title_part:
            parts.append(title_part)
            parts.append((" ", False))
    else:
        if title_part:
            parts.append(title_part)
        parts.append((f" ({year}). ", False))
    if journal:
        volume, issue = _text(record.get("volume")), _text(record.get("issue"))
        pages = _text(record.get("pages")).replace("--", "–").replace("-", "–")
        parts.append((journal, True))
        if volume:
            parts.append((", ", False))
            parts.append((volume, True))
        if issue:
            parts.append((f"({issue})", False))
        parts.append(((f", {pages}" if pages else "") + ". ", False))
    else:
        publisher = _text(record.get("publisher"))
        if publisher:
            parts.append((_sentence(publisher) + " ", False))
    link = doi_url(record.get("doi")) or _text(record.get("url"))
    if link:
        parts.append((link, False))
    return _merge([(t, i) for t, i in parts if t])


def _merge(parts: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Join neighbouring pieces of the same style and trim the end."""
    out: list[tuple[str, bool]] = []
    for text, italic in parts:
        if out and out[-1][1] == italic:
            out[-1] = (out[-1][0] + text, italic)
        else:
            out.append((text, italic))
    if out:
        out[-1] = (out[-1][0].rstrip(), out[-1][1])
    return out


def format_reference(record: Mapping[str, Any], markup: str = "text") -> str:
    """One APA 7 reference as plain text (``markup="text"``) or Markdown (``"markdown"``)."""
    if markup not in ("text", "markdown"):
        raise ValueError(f"markup must be 'text' or 'markdown', not {markup!r}")
    out = []
    for text, italic in reference_parts(record):
        if markup == "markdown":
            body = _MD_SPECIAL.sub(r"\\\1", text)
            stripped = body.strip()
            if italic and stripped:
                lead, trail = body[: len(body) - len(body.lstrip())], body[len(body.rstrip()):]
                body = f"{lead}*{stripped}*{trail}"
            out.append(body)
        else:
            out.append(text)
    return "".join(out)


# --------------------------------------------------------------------------- the list


def _sort_reports(reports: pd.DataFrame) -> pd.DataFrame:
    """Studies in citation order (as the tables show them), a study's reports oldest first."""
    from review.synthesis.mechanisms import citation_sort_key

    if reports.empty:
        return reports
    key = pd.DataFrame({
        "study": reports["short_citation"].map(citation_sort_key),
        "year": pd.to_numeric(reports["year"], errors="coerce").fillna(9999),
        "title": reports["title"].map(lambda t: _text(t).casefold()),
    }, index=reports.index)
    order = key.sort_values(["study", "year", "title"], kind="stable").index
    return reports.loc[order].reset_index(drop=True)


def grouped_references(reports: pd.DataFrame) -> list[tuple[str, list[dict[str, Any]]]]:
    """(study citation, its reports as record dicts) in the order the list prints them.

    ``reports`` is :func:`review.report.inputs.included_studies` (one row per report).
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in _sort_reports(reports).to_dict("records"):
        groups.setdefault(str(row["short_citation"]), []).append(row)
    return list(groups.items())


def _ris_records(reports: pd.DataFrame) -> list[dict[str, Any]]:
    from review.records import FIELDS

    records = []
    for citation, rows in grouped_references(reports):
        for row in rows:
            rec = {f: row.get(f) for f in FIELDS if f in row}
            rec["authors"] = list(row.get("authors") or [])
            rec["keywords"] = list(row.get("keywords") or [])
            for f, value in list(rec.items()):
                if not isinstance(value, list) and _text(value) == "":
                    rec[f] = None
            rec["study"] = citation  # becomes the note "study: Okafor 2019"
            records.append(rec)
    return records


def write_ris(reports: pd.DataFrame, path: str | Path) -> Path:
    """Every report of the included studies as RIS, each with its study in a note."""
    from review.io.export import write_ris as _write_ris

    return _write_ris(_ris_records(reports), path)


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write via a temporary file beside ``path``: no half-written list replaces a good one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _lines(groups: Iterable[tuple[str, list[dict[str, Any]]]], markup: str) -> list[str]:
    lines: list[str] = []
    for citation, rows in groups:
        if markup == "markdown":
            lines.append("**" + _MD_SPECIAL.sub(r"\\\1", citation) + "**")
        else:
            lines.append(citation)
        lines.append("")
        for row in rows:
            lines.append(format_reference(row, markup))
            lines.append("")
    return lines


def write_text(reports: pd.DataFrame, path: str | Path,
               title: str = "References of included studies") -> Path:
    """The formatted list as Markdown (``.md``, italics marked) or plain text (anything else)."""
    path = Path(path)
    markup = "markdown" if path.suffix.lower() in (".md", ".markdown") else "text"
    head = [f"# {title}", ""] if markup == "markdown" else [title, "=" * len(title), ""]
    body = _lines(grouped_references(reports), markup) or ["No included studies yet."]
    text = "\n".join(head + body).rstrip() + "\n"
    return _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_docx(reports: pd.DataFrame, path: str | Path,
               title: str = "References of included studies", font_size: float = 10) -> Path:
    """The formatted list as a Word document: a heading per study, APA hanging indents."""
    from docx import Document
    from docx.shared import Cm, Pt

    groups = grouped_references(reports)

    def write(tmp: Path) -> None:
        doc = Document()
        section = doc.sections[0]
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2.0))
        doc.styles["Normal"].font.size = Pt(font_size)
        doc.add_heading(title, level=1)
        for citation, rows in groups:
            head = doc.add_paragraph()
            head.paragraph_format.space_before = Pt(6)
            head.paragraph_format.keep_with_next = True
            head.add_run(citation).bold = True
            for row in rows:
                p = doc.add_paragraph()
                p.paragraph_format.left_indent = Cm(1.27)
                p.paragraph_format.first_line_indent = Cm(-1.27)
                for text, italic in reference_parts(row):
                    p.add_run(text).italic = italic
        if not groups:
            doc.add_paragraph("No included studies yet.")
        doc.save(tmp)

    return _atomic(Path(path), write)


def write_references(reports: pd.DataFrame, out_dir: str | Path,
                     stem: str = "included_references") -> list[Path]:
    """RIS, DOCX, Markdown and plain-text lists of the included studies' reports."""
    out = Path(out_dir)
    return [
        write_ris(reports, out / f"{stem}.ris"),
        write_docx(reports, out / f"{stem}.docx"),
        write_text(reports, out / f"{stem}.md"),
        write_text(reports, out / f"{stem}.txt"),
    ]
