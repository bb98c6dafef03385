"""Evidence tables of a review, built from its extractions and full-text decisions.

Lead authors retype these tables by hand and they drift from the data; here every
cell is read from the forms reviewers filled in, every time:

1. **Characteristics of included studies** — citation, design, country, setting,
   population and targeted groups, sample size, age, intervention (type and TIDieR
   name and dose), comparator, outcomes with their measures, overall risk of bias;
   from the ``study_characteristics``, ``intervention_description``,
   ``outcome_data`` and ``risk_of_bias`` forms.
2. **Characteristics of excluded reports** — each report excluded at full text, with
   the final reason (after any conflict was resolved).
3. **Mechanisms by intervention type** and 4. **Context–mechanism–outcome
   configurations** — from :mod:`review.synthesis.mechanisms`, unchanged.

The builders are pure (DataFrames in, DataFrames out); :func:`write_tables` reads
the review and writes CSV (one per table), one XLSX workbook (a sheet per table,
formatted by :mod:`review.synthesis.exports`) and one landscape DOCX with numbered
captions and a note under each table.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from review.extraction.codebook import Codebook
from review.synthesis import mechanisms as mech
from review.synthesis.exports import to_csv, to_docx, to_xlsx

CHARACTERISTICS_COLUMNS = (
    "Study", "Design", "Country", "Setting", "Population", "Sample size", "Age (years)",
    "Intervention", "Comparator", "Outcomes (measures)", "Risk of bias (overall)",
)
EXCLUDED_COLUMNS = ("Report", "Title", "Reason for exclusion")
INTERVENTION_FORM = "intervention_description"
#: DOCX column sizing at 8 pt: cm per character, cell padding, and caps in characters.
#: A column whose cells average more than _PROSE characters is prose: it wraps anyway, so
#: only its words up to _MAX_PROSE_WORD characters are kept whole; others keep words to
#: _MAX_WORD ("Súilleabháin", "Randomised").
_CHAR_CM, _PAD_CM, _MAX_WORD, _MAX_PROSE_WORD, _PROSE = 0.145, 0.35, 16, 10, 40.0
_WORD_BREAKS = re.compile(r"[\s/]+|(?<=[-–])")


@dataclass(frozen=True)
class TableSpec:
    """How one table is named in files and captioned in the document."""

    key: str  # file stem
    sheet: str  # XLSX sheet name (at most 31 characters)
    caption: str
    note: str
    printed: Callable[[pd.DataFrame], pd.DataFrame] | None = None  # DOCX-only layout


SPECS: tuple[TableSpec, ...] = (
    TableSpec("characteristics_of_included_studies", "Included studies",
              "Characteristics of included studies",
              "Age: range (mean) in years. Intervention: type(s), then the name and dose "
              "reported under TIDieR. Outcomes: outcome domain (measure). Risk of bias: "
              "overall judgement for the result assessed, with the tool used (RoB 2 for "
              "randomised trials, ROBINS-I for non-randomised studies)."),
    TableSpec("characteristics_of_excluded_reports", "Excluded reports",
              "Characteristics of excluded reports (full text), with reasons",
              "Reports assessed in full text and excluded, with the final reason for exclusion."),
    TableSpec("mechanisms_by_intervention_type", "Mechanisms",
              "Mechanisms by intervention type",
              "Each cell: number of studies with at least one context–mechanism–outcome "
              "configuration coding the mechanism for that intervention type (the studies in "
              "brackets). n: studies of the intervention type with any coded configuration.",
              printed=lambda df: df.rename(columns=_keep_n_together)),
    TableSpec("cmo_configurations", "CMO configurations",
              "Context–mechanism–outcome configurations by intervention type",
              "One row per configuration. A configuration of a multi-component intervention "
              "without a named component is listed under each of its intervention types. "
              "If–then statements are in the CSV and XLSX versions of this table.",
              printed=lambda df: cmo_print_table(df)),
)


@dataclass
class EvidenceTables:
    """The tables (keyed as in :data:`SPECS`) and notes for the lead on gaps in the data."""

    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    title: str | None = None

    def numbered(self) -> list[tuple[int, TableSpec, pd.DataFrame]]:
        """The tables in document order, numbered as their captions are."""
        return [(i, spec, self.tables[spec.key])
                for i, spec in enumerate((s for s in SPECS if s.key in self.tables), start=1)]


# ------------------------------------------------------------------- cell formatting


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | dict | set):
        return bool(value)
    return not (isinstance(value, float) and value != value)


def _number(value: Any) -> str:
    """14.0 → "14", 18.94 → "18.9"."""
    if not _present(value):
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{x:.0f}" if x == int(x) else f"{x:.1f}"


def _labels(codebook: Codebook | None, vocabulary: str, codes: Any) -> str:
    if not _present(codes):
        return ""
    codes = [codes] if isinstance(codes, str) else list(codes)
    return "; ".join(codebook.label(vocabulary, c) if codebook else str(c) for c in codes)


def age_text(values: Mapping[str, Any]) -> str:
    """ "14–21 (mean 18.9)", "14–21", "mean 12.3" or ""."""
    low, high, mean = (_number(values.get(k)) for k in ("age_min", "age_max", "age_mean"))
    span = f"{low}–{high}" if low and high else (f"≥{low}" if low else (f"≤{high}" if high
                                                                           else ""))
    if mean:
        return f"{span} (mean {mean})" if span else f"mean {mean}"
    return span


def population_text(values: Mapping[str, Any], codebook: Codebook | None) -> str:
    """The population in the authors' words, then who the offer targeted."""
    parts = [str(values.get("population") or "").strip()]
    if values.get("targeting") == "Universal":
        parts.append("Universal")
    elif values.get("targeted_groups"):
        parts.append("Targeted: " + _labels(codebook, "populations", values["targeted_groups"]))
    return "\n".join(p for p in parts if p)


def dose_text(values: Mapping[str, Any]) -> str:
    """TIDieR item 8 as a phrase: "12 sessions of 60 min over 12 weeks"."""
    sessions, minutes, weeks = (values.get(k) for k in ("sessions", "session_minutes",
                                                         "duration_weeks"))
    bits = []
    if _present(sessions):
        n = _number(sessions)
        bits.append(f"{n} session{'' if n == '1' else 's'}")
        if _present(minutes):
            bits[-1] += f" of {_number(minutes)} min"
    elif _present(minutes):
        bits.append(f"{_number(minutes)}-min sessions")
    if _present(weeks):
        w = _number(weeks)
        bits.append(f"over {w} week{'' if w == '1' else 's'}")
    if bits:
        return " ".join(bits)
    return str(values.get("when_how_much") or "").strip()


def intervention_text(chars: Mapping[str, Any], cmo: Mapping[str, Any],
                      tidier: Mapping[str, Any], codebook: Codebook | None) -> str:
    """Intervention type(s), then the TIDieR brief name and dose."""
    types = chars.get("intervention_types") or cmo.get("intervention_types") or []
    lines = [_labels(codebook, "intervention_types", types)]
    name = str(tidier.get("name") or "").strip()
    dose = dose_text(tidier) if tidier else ""
    if name and dose:
        lines.append(f"{name}; {dose}")
    elif name or dose:
        lines.append(name or dose)
    return "\n".join(line for line in lines if line)


def comparator_text(values: Mapping[str, Any]) -> str:
    comparator = str(values.get("comparator") or "").strip()
    described = str(values.get("comparator_description") or "").strip()
    if comparator and described:
        return f"{comparator}: {described}"
    return comparator or described


def outcomes_text(values: Mapping[str, Any], codebook: Codebook | None) -> str:
    """Each outcome domain reported, with its measures: "Loneliness (UCLA-3; LACA)"."""
    measures: dict[str, list[str]] = {}
    for result in values.get("outcomes") or []:
        domain = result.get("outcome")
        if not domain:
            continue
        got = measures.setdefault(domain, [])
        measure = str(result.get("measure") or "").strip()
        if measure and measure not in got:
            got.append(measure)
    known = [c for c in codebook.order("outcomes") if c in measures] if codebook else []
    order = known + [c for c in measures if c not in known]
    out = []
    for code in order:
        label = codebook.label("outcomes", code) if codebook else code
        out.append(f"{label} ({'; '.join(measures[code])})" if measures[code] else label)
    return "; ".join(out)


def rob_text(values: Mapping[str, Any]) -> str:
    """ "High (RoB 2)", "Moderate (ROBINS-I)", or "" when not assessed."""
    tool = mech.ROB_TOOLS.get(values.get("tool"))
    if tool is None:
        return ""
    overall = values.get(f"{tool.prefix}_overall")
    if not overall:
        return f"Not judged ({tool.name})"
    return f"{tool.short.get(overall, overall)} ({tool.name})"


# --------------------------------------------------------------------------- tables


def _forms_by_study(extractions: pd.DataFrame) -> dict[Any, dict[str, Mapping[str, Any]]]:
    forms: dict[Any, dict[str, Mapping[str, Any]]] = {}
    for row in extractions.itertuples(index=False):
        forms.setdefault(row.study_id, {})[row.form_id] = row.values or {}
    return forms


def _studies(studies: pd.DataFrame) -> list[tuple[Any, str]]:
    """(study_id or None, citation) per included study, in citation order."""
    seen: dict[str, tuple[Any, str]] = {}
    for row in studies.itertuples(index=False):
        sid = int(row.study_id) if pd.notna(row.study_id) else None
        seen.setdefault(row.study_key, (sid, str(row.short_citation)))
    return sorted(seen.values(), key=lambda s: (mech.citation_sort_key(s[1]), str(s[0])))


def characteristics_table(
    studies: pd.DataFrame, extractions: pd.DataFrame, codebook: Codebook | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Table 1, one row per included study, and notes naming studies with missing forms.

    ``studies`` is :func:`review.report.inputs.included_studies` (one row per report);
    ``extractions`` the synthesis input shape (one row per study per form). An
    included study without extractions still gets its row, so the table's length
    always equals the PRISMA box "new studies included".
    """
    forms = _forms_by_study(extractions)
    rows, missing = [], []
    for sid, citation in _studies(studies):
        mine = forms.get(sid, {})
        chars = mine.get(mech.STUDY_FORM, {})
        if not chars:
            missing.append(citation)
        rows.append({
            "Study": citation,
            "Design": chars.get("design", ""),
            "Country": chars.get("country", ""),
            "Setting": _labels(codebook, "settings", chars.get("settings")),
            "Population": population_text(chars, codebook),
            "Sample size": chars.get("sample_size") if _present(chars.get("sample_size"))
            else None,
            "Age (years)": age_text(chars),
            "Intervention": intervention_text(chars, mine.get(mech.CMO_FORM, {}),
                                              mine.get(INTERVENTION_FORM, {}), codebook),
            "Comparator": comparator_text(chars),
            "Outcomes (measures)": outcomes_text(mine.get(mech.OUTCOME_FORM, {}), codebook),
            "Risk of bias (overall)": rob_text(mine.get(mech.ROB_FORM, {})),
        })
    table = pd.DataFrame(rows, columns=list(CHARACTERISTICS_COLUMNS))
    table["Sample size"] = table["Sample size"].astype("Int64")
    notes = []
    if missing:
        notes.append(f"{len(missing)} included stud{'y has' if len(missing) == 1 else 'ies have'}"
                     f" no study characteristics extraction yet: {', '.join(missing)}")
    return table, notes


def excluded_table(excluded: pd.DataFrame) -> pd.DataFrame:
    """Table 2: each full-text excluded report, its title and the reason, in citation order.

    ``excluded`` is :func:`review.report.inputs.excluded_reports`.
    """
    rows = [{"Report": r.short_citation, "Title": str(r.title or "").strip(),
             "Reason for exclusion": r.reason} for r in excluded.itertuples(index=False)]
    table = pd.DataFrame(rows, columns=list(EXCLUDED_COLUMNS))
    if table.empty:
        return table
    order = sorted(range(len(table)), key=lambda i: mech.citation_sort_key(table["Report"][i]))
    return table.iloc[order].reset_index(drop=True)


def mechanism_text_table(extractions: pd.DataFrame,
                         codebook: Codebook | None = None) -> pd.DataFrame:
    """Table 3: :func:`review.synthesis.mechanisms.mechanism_table`, one row per mechanism.

    Mechanisms run down the rows and intervention types across, each headed with its
    number of studies ("Mentoring (n = 2)"), because a review codes more mechanisms
    than intervention types and a page is wider than it is tall in landscape. Cells
    read "2 (Lindqvist 2021; Okafor 2019)", blank where no study supports the pair.
    """
    if extractions.empty:
        return pd.DataFrame(columns=["Mechanism"])
    table = mech.mechanism_table(extractions, codebook)
    if table.counts.empty:
        return pd.DataFrame(columns=["Mechanism"])
    columns = {t: f"{t} (n = {int(table.studies_per_type[t])})" for t in table.counts.index}
    rows = []
    for m in table.counts.columns:
        row = {"Mechanism": m}
        for t in table.counts.index:
            n = int(table.counts.loc[t, m])
            row[columns[t]] = f"{n} ({table.citations.loc[t, m]})" if n else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=["Mechanism", *columns.values()])


def _keep_n_together(header: str) -> str:
    """ "Mentoring (n = 2)" never breaks inside "(n = 2)" in print."""
    return re.sub(r"\(n = (\d+)\)", "(n\u00a0=\u00a0\\1)", header)


def cmo_print_table(cmo: pd.DataFrame) -> pd.DataFrame:
    """Table 4 as printed: the page goes beside the quote, the if–then statement is left out.

    Thirteen columns do not fit a landscape page; the if–then statement restates the
    row's context, mechanism and outcome, so the document leaves it to the CSV/XLSX.
    """
    out = cmo.drop(columns=[c for c in ("If–then statement", "Page") if c in cmo.columns])
    if "Supporting quote" in out.columns and "Page" in cmo.columns:
        out = out.copy()
        out["Supporting quote"] = [
            f"{q} ({p})" if _present(q) and _present(p) else (q if _present(q) else "")
            for q, p in zip(cmo["Supporting quote"], cmo["Page"], strict=True)
        ]
    return out


def evidence_tables(
    studies: pd.DataFrame,
    excluded: pd.DataFrame,
    extractions: pd.DataFrame,
    codebook: Codebook | None = None,
    title: str | None = None,
) -> EvidenceTables:
    """All four tables from plain inputs (see :mod:`review.report.inputs`)."""
    characteristics, notes = characteristics_table(studies, extractions, codebook)
    cmo = (mech.cmo_table(extractions, codebook) if not extractions.empty
           else pd.DataFrame(columns=list(mech.CMO_COLUMNS)))
    tables = {
        SPECS[0].key: characteristics,
        SPECS[1].key: excluded_table(excluded),
        SPECS[2].key: mechanism_text_table(extractions, codebook),
        SPECS[3].key: cmo,
    }
    return EvidenceTables(tables, notes, title)


def tables_from_store(store) -> EvidenceTables:
    """The evidence tables of a review as of now, with notes on anything missing."""
    from review.report import inputs
    from review.store import repo

    chosen = inputs.choose_from_store(store)
    result = evidence_tables(inputs.included_studies(store), inputs.excluded_reports(store),
                             chosen.frame, inputs.codebook_for(store),
                             repo.get_settings(store).get("review_title"))
    result.notes = chosen.notes + result.notes
    return result


# --------------------------------------------------------------------------- writing


def column_widths(df: pd.DataFrame, total_cm: float) -> list[float]:
    """Column widths (cm) that split no word and make the rows as short as they can be.

    A row is as tall as its longest cell, so widths go in proportion to each column's
    typical text length (equal lines per cell), except that no column is narrower than
    its longest word (up to :data:`_MAX_WORD` characters; words may break at hyphens).
    The shared factor is found by bisection so the widths fill the page exactly.
    python-docx's default of equal widths breaks "Randomised" over two lines while
    the outcome column runs on for a page.
    """
    need, length = [], []
    for column in df.columns:
        cells = [str(v) for v in df[column] if _present(v) and not pd.isna(v)]
        words = [w for text in [str(column), *cells] for w in _WORD_BREAKS.split(text) if w]
        typical = sum(min(len(c), 600) for c in cells) / len(cells) if cells else 1.0
        cap = _MAX_WORD if typical <= _PROSE else _MAX_PROSE_WORD
        longest = min(cap, max((len(w) for w in words), default=1))
        need.append((longest + 1) * _CHAR_CM + _PAD_CM)
        length.append(max(typical, 1.0))
    if sum(need) >= total_cm:
        return [n * total_cm / sum(need) for n in need]

    def widths(factor: float) -> list[float]:
        return [max(n, factor * x * _CHAR_CM + _PAD_CM) for n, x in zip(need, length, strict=True)]

    low, high = 0.0, total_cm / (_CHAR_CM * min(length))
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if sum(widths(mid)) < total_cm else (low, mid)
    return widths(low)


def _fit_columns(table, widths_cm: list[float]) -> None:
    """Set every column's width (grid and cells, which Word and LibreOffice each read)."""
    from docx.shared import Cm

    table.autofit = False
    for i, w in enumerate(widths_cm):
        table.columns[i].width = Cm(w)
        for cell in table.columns[i].cells:
            cell.width = Cm(w)


def _keep_rows_whole(table) -> None:
    """A row never breaks across pages: half a study's row on each page is unreadable."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for row in table.rows:
        tr_pr = row._tr.get_or_add_trPr()
        flag = OxmlElement("w:cantSplit")
        flag.set(qn("w:val"), "true")
        tr_pr.append(flag)


def _finish_docx(path: Path, numbered: list[tuple[int, TableSpec, pd.DataFrame]]) -> None:
    """Captions kept with their tables, fitted columns, whole rows and a note under each table."""
    from docx import Document
    from docx.shared import Pt

    doc = Document(str(path))
    section = doc.sections[0]
    usable = (section.page_width - section.left_margin - section.right_margin) / 360000  # cm
    captions = {f"Table {i}. {spec.caption}": spec for i, spec, _ in numbered}
    for paragraph in doc.paragraphs:
        if paragraph.text in captions:
            paragraph.paragraph_format.keep_with_next = True
    for table, (_, spec, df) in zip(doc.tables, numbered, strict=True):
        if len(df.columns):
            _fit_columns(table, column_widths(df, usable))
        _keep_rows_whole(table)
        note = doc.add_paragraph()
        lead = note.add_run("Note. ")
        lead.italic = True
        body = note.add_run(spec.note if len(df) else "No rows yet.")
        for run in (lead, body):
            run.font.size = Pt(7.5)
        table._tbl.addnext(note._p)
    doc.save(str(path))


def write_evidence_tables(result: EvidenceTables, out_dir: str | Path,
                          stem: str = "evidence_tables") -> list[Path]:
    """CSV per table, one formatted XLSX workbook and one landscape DOCX with captions."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    numbered = result.numbered()
    paths = [to_csv(df, out / f"{spec.key}.csv") for _, spec, df in numbered]
    paths.append(to_xlsx({spec.sheet: df for _, spec, df in numbered}, out / f"{stem}.xlsx"))
    target = out / f"{stem}.docx"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".docx", dir=out)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        doc_title = "Evidence tables" + (f": {result.title}" if result.title else "")
        printed = [(i, spec, spec.printed(df) if spec.printed else df)
                   for i, spec, df in numbered]
        to_docx({f"Table {i}. {spec.caption}": df for i, spec, df in printed}, tmp,
                title=doc_title)
        _finish_docx(tmp, printed)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    paths.append(target)
    return paths


def write_tables(store, out_dir: str | Path) -> list[Path]:
    """Read the review and write its evidence tables (CSV, XLSX, DOCX) into ``out_dir``."""
    return write_evidence_tables(tables_from_store(store), out_dir)
