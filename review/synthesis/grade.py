"""GRADE summary-of-findings (SoF) tables, exported to DOCX and XLSX.

The numbers come from the meta-analysis; the judgements come from the lead author, who
rates the five GRADE domains for each outcome. Certainty starts at High for randomised
trials and at Low for observational studies, drops one level per "serious" and two per
"very serious" concern, and (observational evidence only) may rise for a large effect, a
dose-response gradient or plausible confounding that would reduce the effect. GRADE asks
for an explanation of every downgrade, so a downgrade without a footnote is refused.

Absolute effects for binary outcomes follow GRADEpro's "study population" row: the
assumed comparison risk is the pooled control-arm risk of the included studies (or a
risk the lead gives, e.g. from a cohort), and the risk with the intervention is derived
from the pooled relative effect and its CI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from review.synthesis.meta import MetaResult

DOMAINS: tuple[str, ...] = (
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
)
DOMAIN_LABELS: dict[str, str] = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
    "large_effect": "Large effect",
    "dose_response": "Dose-response gradient",
    "plausible_confounding": "Plausible confounding",
}
#: Levels a domain may be rated at, and how many levels each takes off.
RATINGS: dict[str, int] = {
    "not serious": 0,
    "serious": 1,
    "very serious": 2,
    # publication bias is usually worded this way in GRADEpro
    "undetected": 0,
    "strongly suspected": 1,
    "very strongly suspected": 2,
}
UPGRADE_LIMITS: dict[str, int] = {"large_effect": 2, "dose_response": 1, "plausible_confounding": 1}
CERTAINTY: dict[int, str] = {4: "High", 3: "Moderate", 2: "Low", 1: "Very low"}
SYMBOLS: dict[int, str] = {
    4: "\u2295\u2295\u2295\u2295",
    3: "\u2295\u2295\u2295\u25ef",
    2: "\u2295\u2295\u25ef\u25ef",
    1: "\u2295\u25ef\u25ef\u25ef",
}
DESIGNS: dict[str, int] = {
    "randomised": 4,
    "randomized": 4,
    "rct": 4,
    "observational": 2,
    "non-randomised": 2,
    "non-randomized": 2,
}
CERTAINTY_DEFINITIONS: tuple[str, ...] = (
    "High certainty: we are very confident that the true effect lies close to that of the "
    "estimate of the effect.",
    "Moderate certainty: we are moderately confident in the effect estimate; the true "
    "effect is likely to be close to the estimate, but there is a possibility that it is "
    "substantially different.",
    "Low certainty: our confidence in the effect estimate is limited; the true effect may be "
    "substantially different from the estimate.",
    "Very low certainty: we have very little confidence in the effect estimate; the true "
    "effect is likely to be substantially different from the estimate.",
)
COLUMNS: tuple[str, ...] = (
    "Outcome",
    "Risk with comparison",
    "Risk with intervention (95% CI)",
    "Relative effect (95% CI)",
    "No of participants (studies)",
    "Certainty of the evidence (GRADE)",
    "Comments",
)


class GradeError(ValueError):
    """A GRADE rating that cannot be used (unknown level, or a downgrade not explained)."""


@dataclass(frozen=True)
class GradeAssessment:
    """The lead author's ratings for one outcome.

    ``footnotes`` maps a domain (e.g. ``"imprecision"``) to the reason for its rating;
    every downgraded or upgraded domain needs one.
    """

    risk_of_bias: str = "not serious"
    inconsistency: str = "not serious"
    indirectness: str = "not serious"
    imprecision: str = "not serious"
    publication_bias: str = "undetected"
    study_design: str = "randomised"
    large_effect: int = 0
    dose_response: int = 0
    plausible_confounding: int = 0
    footnotes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.study_design.lower() not in DESIGNS:
            raise GradeError(
                f"study_design must be one of {', '.join(DESIGNS)}, not {self.study_design!r}"
            )
        for d in DOMAINS:
            rating = str(getattr(self, d)).lower()
            if rating not in RATINGS:
                raise GradeError(
                    f"{DOMAIN_LABELS[d]}: unknown rating {getattr(self, d)!r}; "
                    f"use one of {', '.join(RATINGS)}"
                )
            if RATINGS[rating] and not self.footnotes.get(d, "").strip():
                raise GradeError(
                    f"{DOMAIN_LABELS[d]} is rated {rating!r}: GRADE needs a "
                    f"footnote explaining why (footnotes[{d!r}])"
                )
        for u, limit in UPGRADE_LIMITS.items():
            val = getattr(self, u)
            if not (isinstance(val, int) and 0 <= val <= limit):
                raise GradeError(f"{DOMAIN_LABELS[u]}: upgrade must be 0..{limit}, got {val!r}")
            if val and DESIGNS[self.study_design.lower()] == 4:
                raise GradeError(
                    f"{DOMAIN_LABELS[u]}: upgrading applies to observational evidence only"
                )
            if val and not self.footnotes.get(u, "").strip():
                raise GradeError(f"{DOMAIN_LABELS[u]}: explain the upgrade in footnotes[{u!r}]")
        unknown = set(self.footnotes) - set(DOMAINS) - set(UPGRADE_LIMITS) - {"general"}
        if unknown:
            raise GradeError(f"footnotes for unknown domain(s): {', '.join(sorted(unknown))}")

    @property
    def level(self) -> int:
        """Certainty 1 (very low) to 4 (high)."""
        start = DESIGNS[self.study_design.lower()]
        down = sum(RATINGS[str(getattr(self, d)).lower()] for d in DOMAINS)
        up = self.large_effect + self.dose_response + self.plausible_confounding
        return max(1, min(4, start - down + up))

    @property
    def certainty(self) -> str:
        return CERTAINTY[self.level]


@dataclass(frozen=True)
class SofRow:
    """One outcome's row of the summary-of-findings table (display strings + sources)."""

    outcome: str
    risk_comparison: str
    risk_intervention: str
    relative_effect: str
    participants: int | None
    studies: int
    assessment: GradeAssessment
    comments: str = ""
    notes: tuple[str, ...] = ()

    @property
    def participants_text(self) -> str:
        n = f"{self.participants:,}" if self.participants is not None else "\u2014"
        return f"{n} ({self.studies} {'study' if self.studies == 1 else 'studies'})"


def _ratio_text(measure: str, est: float, lo: float, hi: float) -> str:
    return f"{measure} {math.exp(est):.2f} ({math.exp(lo):.2f} to {math.exp(hi):.2f})"


def _denominator(risk: float) -> int:
    """Per 1,000 as GRADEpro shows by default; per 10,000 or more for rare events, so the
    comparison risk has at least two significant figures."""
    per = 1000
    while 0 < risk * per < 10 and per < 10**6:
        per *= 10
    return per


def _per(p: float, per: int) -> int:
    return int(round(per * p))


def _diff_words(x: float, more: str, fewer: str, fmt: str = "g") -> str:
    """``12 more`` / ``0.30 lower`` / ``no difference``, as GRADEpro words effects."""
    if round(abs(x), 10) == 0:
        return "no difference"
    return f"{abs(x):{fmt}} {more if x > 0 else fewer}"


def _risk_with(measure: str, acr: float, effect: float) -> float:
    if measure == "RR":
        return min(1.0, acr * math.exp(effect))
    if measure == "OR":
        odds = math.exp(effect)
        return acr * odds / (1 - acr + acr * odds)
    return min(1.0, max(0.0, acr + effect))  # RD


def control_risk(effects: pd.DataFrame) -> float | None:
    """Pooled comparison-arm risk (events/participants) from uncorrected 2×2 counts."""
    if effects is None or not {"ci", "di"} <= set(effects.columns):
        return None
    events = pd.to_numeric(effects["ci"], errors="coerce").sum()
    total = events + pd.to_numeric(effects["di"], errors="coerce").sum()
    return float(events / total) if total > 0 else None


def sof_row(
    outcome: str,
    result: MetaResult,
    assessment: GradeAssessment,
    *,
    effects: pd.DataFrame | None = None,
    assumed_risk: float | None = None,
    participants: int | None = None,
    units: str = "",
    comments: str = "",
) -> SofRow:
    """Build one SoF row from a pooled result and the lead's GRADE ratings.

    ``effects`` (from :func:`~review.synthesis.effects.compute_effects`) supplies the
    participant count and, for binary outcomes, the comparison-arm risk unless
    ``assumed_risk`` (a proportion) is given. ``units`` labels a mean difference.
    """
    m = result.measure
    est, lo, hi = result.estimate, result.ci_low, result.ci_high
    if participants is None and effects is not None and "n" in effects.columns:
        n = pd.to_numeric(effects["n"], errors="coerce")
        participants = int(n.sum()) if n.notna().all() else None
    notes: list[str] = []
    if m in ("RR", "OR", "RD"):
        acr = assumed_risk if assumed_risk is not None else control_risk(effects)
        relative = _ratio_text(m, est, lo, hi) if m != "RD" else "\u2014"
        if acr is None:
            raise GradeError(
                f"{outcome}: no comparison risk; pass assumed_risk or the effects "
                "table with control-arm counts (ci, di)"
            )
        if not 0 <= acr <= 1:
            raise GradeError(f"{outcome}: assumed_risk must be a proportion, got {acr}")
        per = _denominator(acr)
        base = _per(acr, per)
        r_est, r_lo, r_hi = (_risk_with(m, acr, x) for x in (est, lo, hi))
        d_est, d_lo, d_hi = (_per(r, per) - base for r in (r_est, r_lo, r_hi))
        unit = f"per {per:,}"
        risk_comp = f"{base} {unit}"
        risk_int = (
            f"{_per(r_est, per)} {unit} ({_per(r_lo, per)} to {_per(r_hi, per)}); "
            f"{_diff_words(d_est, 'more', 'fewer')} {unit} "
            f"({_diff_words(d_lo, 'more', 'fewer')} to "
            f"{_diff_words(d_hi, 'more', 'fewer')})"
        )
        if assumed_risk is None:
            notes.append("Comparison risk: pooled control-arm risk of the included studies.")
    elif m in ("SMD", "MD"):
        unit = " SD" if m == "SMD" else (f" {units}" if units else "")
        e, low, high = (
            _diff_words(round(x, 2), "higher", "lower", fmt=".2f") for x in (est, lo, hi)
        )
        relative = "\u2014"
        risk_comp = "\u2014"
        risk_int = f"{m} {e.replace(' ', unit + ' ', 1)} ({low} to {high})"
    elif m == "ZCOR":
        relative = "\u2014"
        risk_comp = "\u2014"
        risk_int = f"r = {math.tanh(est):.2f} ({math.tanh(lo):.2f} to {math.tanh(hi):.2f})"
    else:
        relative = "\u2014"
        risk_comp = "\u2014"
        risk_int = f"{est:.2f} ({lo:.2f} to {hi:.2f})"
    return SofRow(
        outcome=outcome,
        risk_comparison=risk_comp,
        risk_intervention=risk_int,
        relative_effect=relative,
        participants=participants,
        studies=result.k,
        assessment=assessment,
        comments=comments,
        notes=tuple(notes),
    )


def _letters():
    i = 0
    while True:
        n, s = i, ""
        while True:
            s = chr(ord("a") + n % 26) + s
            n = n // 26 - 1
            if n < 0:
                break
        yield s
        i += 1


def sof_table(rows: Sequence[SofRow]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The SoF table as display strings plus its lettered footnotes ``[(mark, text)]``.

    Certainty cells carry the marks of the footnotes that explain them.
    """
    letters = _letters()
    footnotes: list[tuple[str, str]] = []
    records = []
    for r in rows:
        marks = []
        for key in (*DOMAINS, *UPGRADE_LIMITS, "general"):
            text = r.assessment.footnotes.get(key, "").strip()
            if text:
                mark = next(letters)
                label = DOMAIN_LABELS.get(key, "Note")
                footnotes.append((mark, f"{label}: {text}"))
                marks.append(mark)
        for text in r.notes:
            mark = next(letters)
            footnotes.append((mark, text))
            marks.append(mark)
        level = r.assessment.level
        cert = f"{SYMBOLS[level]} {CERTAINTY[level]}" + (f" {','.join(marks)}" if marks else "")
        records.append(
            dict(
                zip(
                    COLUMNS,
                    (
                        r.outcome,
                        r.risk_comparison,
                        r.risk_intervention,
                        r.relative_effect,
                        r.participants_text,
                        cert,
                        r.comments,
                    ),
                    strict=True,
                )
            )
        )
    return pd.DataFrame(records, columns=list(COLUMNS)), footnotes


def _header_lines(
    title: str, population: str, setting: str, intervention: str, comparison: str
) -> list[str]:
    lines = []
    for label, value in (
        ("Patient or population", population),
        ("Setting", setting),
        ("Intervention", intervention),
        ("Comparison", comparison),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return lines


def export_sof_docx(
    rows: Sequence[SofRow],
    path: str | Path,
    *,
    title: str = "Summary of findings",
    population: str = "",
    setting: str = "",
    intervention: str = "",
    comparison: str = "",
) -> Path:
    """Write the SoF table to a Word document (landscape), with footnotes and GRADE key."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    table_df, footnotes = sof_table(rows)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    doc.add_heading(title, level=1)
    for line in _header_lines(title, population, setting, intervention, comparison):
        doc.add_paragraph(line)
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(name)
        run.bold = True
        run.font.size = Pt(9)
    for _, rec in table_df.iterrows():
        cells = table.add_row().cells
        for cell, name in zip(cells, COLUMNS, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(rec[name]))
            run.font.size = Pt(9)
    if footnotes:
        doc.add_paragraph().add_run("Explanations").bold = True
        for mark, text in footnotes:
            p = doc.add_paragraph()
            sup = p.add_run(mark)
            sup.font.superscript = True
            p.add_run(f" {text}").font.size = Pt(9)
    doc.add_paragraph().add_run("GRADE Working Group grades of evidence").bold = True
    for line in CERTAINTY_DEFINITIONS:
        doc.add_paragraph(line).runs[0].font.size = Pt(8)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(out)
    return out


def export_sof_xlsx(
    rows: Sequence[SofRow],
    path: str | Path,
    *,
    title: str = "Summary of findings",
    population: str = "",
    setting: str = "",
    intervention: str = "",
    comparison: str = "",
) -> Path:
    """Write the SoF table to Excel: the table with footnotes, plus the domain ratings."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    table_df, footnotes = sof_table(rows)
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary of findings"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    for line in _header_lines(title, population, setting, intervention, comparison):
        ws.append([line])
    ws.append([])
    ws.append(list(COLUMNS))
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for _, rec in table_df.iterrows():
        ws.append([rec[c] for c in COLUMNS])
        for cell in ws[ws.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if footnotes:
        ws.append([])
        ws.append(["Explanations"])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for mark, text in footnotes:
            ws.append([f"{mark}. {text}"])
    ws.append([])
    for line in CERTAINTY_DEFINITIONS:
        ws.append([line])
    for col, width in zip("ABCDEFG", (28, 18, 40, 24, 20, 24, 30), strict=True):
        ws.column_dimensions[col].width = width

    ws2 = wb.create_sheet("GRADE domains")
    ws2.append(
        ["Outcome", "Study design", *[DOMAIN_LABELS[d] for d in DOMAINS], "Upgrades", "Certainty"]
    )
    for cell in ws2[1]:
        cell.font = Font(bold=True)
    for r in rows:
        a = r.assessment
        ups = ", ".join(
            f"{DOMAIN_LABELS[u]} +{getattr(a, u)}" for u in UPGRADE_LIMITS if getattr(a, u)
        )
        ws2.append(
            [
                r.outcome,
                a.study_design,
                *[str(getattr(a, d)) for d in DOMAINS],
                ups or "none",
                a.certainty,
            ]
        )
    for col in "ABCDEFGHI":
        ws2.column_dimensions[col].width = 20
    from review.synthesis.exports import _sheet_cell

    for sheet in wb.worksheets:  # outcome names and footnotes are typed: never formulas
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = _sheet_cell(cell.value)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
