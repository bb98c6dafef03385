"""What works, for whom and how: tables built from the extracted forms.

Realist and narrative syntheses of complex interventions (mentoring, peer support,
family support, ...) rarely end in one pooled number. Reviewers instead need to see
which mechanisms each intervention type is thought to work through, in which
contexts, with which outcomes, for which groups of young people, and in which
direction the results point. Every function here turns the extractions into one of
those tables, as a pandas DataFrame that :mod:`review.synthesis.exports` writes to
CSV/XLSX/DOCX and :mod:`review.synthesis.plots` draws.

Input shape (produced by the store layer; one row per study per form, the final or
consensus extraction):

=================  ==========================================================
column             meaning
=================  ==========================================================
``study_id``       the study's key (str or int)
``short_citation`` what a table shows for the study, e.g. ``"Smith 2019"``
``form_id``        e.g. ``"context_mechanism_outcome"``
``form_version``   int, the form version the values were extracted with
``values``         dict of field id → value, already validated against the form
=================  ==========================================================

Forms read (ids as shipped in ``extraction_forms/``): ``study_characteristics``
(targeted groups, settings, sample size, design, intervention types),
``context_mechanism_outcome`` (intervention types and coded CMO rows),
``outcome_data`` (results with effect data or a reported direction) and
``risk_of_bias`` (RoB 2 or ROBINS-I judgements). A study without one of these forms is
simply absent from the tables that need it.

Codes are shown by their codebook labels when a :class:`~review.extraction.Codebook`
is passed, and in codebook order; otherwise as the codes themselves.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from scipy import stats

from review.extraction.codebook import Codebook

STUDY_FORM = "study_characteristics"
CMO_FORM = "context_mechanism_outcome"
OUTCOME_FORM = "outcome_data"
ROB_FORM = "risk_of_bias"
REQUIRED_COLUMNS = ("study_id", "short_citation", "form_id", "form_version", "values")

#: Pseudo-population for studies offered to everyone (``targeting: Universal``).
UNIVERSAL = "universal"
UNIVERSAL_LABEL = "Universal (no targeted group)"

#: Directions of one study's results in one outcome domain (SWiM effect direction).
BENEFIT, HARM, MIXED = "benefit", "harm", "mixed"
#: Symbols of the effect direction plot (Thomson & Thomas 2013).
DIRECTION_SYMBOLS: Mapping[str, str] = {BENEFIT: "▲", HARM: "▼", MIXED: "◄►"}
#: Share of a domain's results that must agree for a direction to be called (SWiM).
DIRECTION_THRESHOLD = 0.7
#: Arrow-size classes of the effect direction plot: small < 50 ≤ medium ≤ 300 < large.
SAMPLE_SIZE_BREAKS = (50, 300)

_HIGHER_IS_BETTER = "Higher is better"
_REPORTED = {
    "Favours intervention": BENEFIT,
    "Favours comparator": HARM,
    "No difference": None,
}
_RATIO = {"OR", "RR", "HR", "IRR"}


@dataclass(frozen=True)
class RobTool:
    """A risk-of-bias tool as the ``risk_of_bias`` form stores it."""

    name: str
    prefix: str
    domains: tuple[str, ...]
    scale: tuple[str, ...]
    short: Mapping[str, str]

    def domain_columns(self) -> tuple[str, ...]:
        return tuple(f"D{i}" for i in range(1, len(self.domains) + 1))


ROB_TOOLS: Mapping[str, RobTool] = {
    "RoB 2": RobTool(
        name="RoB 2",
        prefix="rob2",
        domains=(
            "Bias arising from the randomisation process",
            "Bias due to deviations from intended interventions",
            "Bias due to missing outcome data",
            "Bias in measurement of the outcome",
            "Bias in selection of the reported result",
        ),
        scale=("Low risk of bias", "Some concerns", "High risk of bias"),
        short={
            "Low risk of bias": "Low",
            "Some concerns": "Some concerns",
            "High risk of bias": "High",
        },
    ),
    "ROBINS-I": RobTool(
        name="ROBINS-I",
        prefix="robins",
        domains=(
            "Bias due to confounding",
            "Bias in selection of participants into the study",
            "Bias in classification of interventions",
            "Bias due to deviations from intended interventions",
            "Bias due to missing data",
            "Bias in measurement of outcomes",
            "Bias in selection of the reported result",
        ),
        scale=(
            "Low risk of bias",
            "Moderate risk of bias",
            "Serious risk of bias",
            "Critical risk of bias",
            "No information",
        ),
        short={
            "Low risk of bias": "Low",
            "Moderate risk of bias": "Moderate",
            "Serious risk of bias": "Serious",
            "Critical risk of bias": "Critical",
            "No information": "No information",
        },
    ),
}


# ---------------------------------------------------------------------- plumbing


def extractions_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The input shape above from plain records (e.g. ``data/demo/extractions.json``).

    Each record needs ``study_id`` (or ``study_key``), ``short_citation``, ``form_id``,
    ``form_version`` and ``values``; a missing key is reported with the record number.
    """
    rows = []
    for i, rec in enumerate(records):
        study = rec.get("study_id", rec.get("study_key"))
        missing = [
            k for k in ("short_citation", "form_id", "form_version", "values") if k not in rec
        ]
        if study is None:
            missing.insert(0, "study_id")
        if missing:
            raise ValueError(f"extraction record {i}: missing {', '.join(missing)}")
        rows.append(
            {
                "study_id": study,
                "short_citation": rec["short_citation"],
                "form_id": rec["form_id"],
                "form_version": int(rec["form_version"]),
                "values": rec["values"],
            }
        )
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))


@dataclass
class _Study:
    study_id: Any
    citation: str
    forms: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def values(self, form_id: str) -> Mapping[str, Any]:
        return self.forms.get(form_id) or {}


def _studies(extractions: pd.DataFrame) -> list[_Study]:
    """Group the extraction rows by study, checking the input shape on the way."""
    missing = [c for c in REQUIRED_COLUMNS if c not in extractions.columns]
    if missing:
        raise ValueError(f"extractions lack column(s): {', '.join(missing)}")
    studies: dict[Any, _Study] = {}
    for i, row in enumerate(extractions.itertuples(index=False)):
        values = row.values
        if not isinstance(values, Mapping):
            raise ValueError(
                f"extraction row {i} (study {row.study_id!r}, form {row.form_id!r}): "
                "'values' must be a dict"
            )
        study = studies.setdefault(row.study_id, _Study(row.study_id, str(row.short_citation)))
        if row.form_id in study.forms:
            raise ValueError(
                f"study {row.study_id!r} has more than one '{row.form_id}' extraction; "
                "pass only the final (consensus) one"
            )
        study.forms[row.form_id] = values
    _disambiguate(list(studies.values()))
    return sorted(studies.values(), key=lambda s: (citation_sort_key(s.citation), str(s.study_id)))


def citation_sort_key(citation: str) -> str:
    """Sort "Ó Súilleabháin 2020" with the O's and "da Silva" with the D's, as readers expect."""
    folded = unicodedata.normalize("NFKD", citation)
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()


def _disambiguate(studies: list[_Study]) -> None:
    """Two different studies both cited "Smith 2019" become "Smith 2019a" and "...b"."""
    by_citation: dict[str, list[_Study]] = defaultdict(list)
    for s in studies:
        by_citation[s.citation].append(s)
    for citation, group in by_citation.items():
        if len(group) > 1:
            for letter, s in zip(
                "abcdefghijklmnopqrstuvwxyz",
                sorted(group, key=lambda s: str(s.study_id)),
                strict=False,
            ):
                s.citation = f"{citation}{letter}"


def _as_set(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {value}
    return set(value)


def _ordered(codes: Iterable[str], codebook: Codebook | None, vocabulary: str) -> list[str]:
    """Codes in codebook order, unknown codes after them alphabetically."""
    codes = set(codes)
    order = list(codebook.order(vocabulary)) if codebook else []
    known = [c for c in order if c in codes]
    return known + sorted(codes - set(known))


def _label(codebook: Codebook | None, vocabulary: str, code: str) -> str:
    if code == UNIVERSAL:
        return UNIVERSAL_LABEL
    return codebook.label(vocabulary, code) if codebook else code


def _join_citations(citations: Iterable[str]) -> str:
    return "; ".join(sorted(set(citations), key=citation_sort_key))


def study_populations(study_values: Mapping[str, Any]) -> set[str]:
    """Targeted-group codes of a study, or ``{"universal"}`` for a universal offer."""
    if study_values.get("targeting") == "Universal":
        return {UNIVERSAL}
    return set(study_values.get("targeted_groups") or [])


def _study_passes(study: _Study, populations: set[str] | None, settings: set[str] | None) -> bool:
    chars = study.values(STUDY_FORM)
    if populations is not None and not (study_populations(chars) & populations):
        return False
    if settings is not None and not (set(chars.get("settings") or []) & settings):
        return False
    return True


def _intervention_types(study: _Study) -> list[str]:
    """The study's intervention types: from its CMO form, else its characteristics."""
    return list(
        study.values(CMO_FORM).get("intervention_types")
        or study.values(STUDY_FORM).get("intervention_types")
        or []
    )


def _cmo_rows(study: _Study, outcomes: set[str] | None) -> Iterable[tuple[list[str], Mapping]]:
    """Each CMO row of a study with the intervention type(s) it belongs to."""
    types = _intervention_types(study)
    for row in study.values(CMO_FORM).get("configurations") or []:
        if outcomes is not None and row.get("outcome_code") not in outcomes:
            continue
        row_types = [row["component"]] if row.get("component") else types
        yield row_types, row


# ---------------------------------------------------------------- mechanism table


@dataclass(frozen=True)
class MechanismTable:
    """Intervention type × mechanism: how many studies, and which, support each cell.

    ``cells`` is tidy (codes, one row per non-empty cell: ``intervention_type``,
    ``mechanism``, ``n_studies``, ``study_ids``, ``citations``). ``counts`` and
    ``citations`` are the same cells as wide tables with labelled rows and columns;
    ``studies_per_type`` counts distinct studies with any coded CMO per type, the
    denominator a reader needs ("4 of 6 mentoring studies").
    """

    cells: pd.DataFrame
    counts: pd.DataFrame
    citations: pd.DataFrame
    studies_per_type: pd.Series
    filters: Mapping[str, tuple[str, ...]]

    def as_text(self) -> pd.DataFrame:
        """One text table for export: "n (Smith 2019; Jones 2020)" in every non-empty cell."""
        out = pd.DataFrame(index=self.counts.index, columns=self.counts.columns, dtype=object)
        for r in self.counts.index:
            for c in self.counts.columns:
                n = int(self.counts.loc[r, c])
                out.loc[r, c] = f"{n} ({self.citations.loc[r, c]})" if n else ""
        out.insert(0, "Studies (n)", self.studies_per_type.reindex(out.index).astype(int))
        out.index.name = self.counts.index.name
        return out.reset_index()

    def describe_filters(self) -> str:
        """A caption fragment such as "population: Care experience; outcome: Loneliness"."""
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in self.filters.items() if v)


def mechanism_table(
    extractions: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    population: str | Iterable[str] | None = None,
    setting: str | Iterable[str] | None = None,
    outcome: str | Iterable[str] | None = None,
    include_empty: bool = False,
) -> MechanismTable:
    """Count studies per intervention type × mechanism from the coded CMO rows.

    A study counts once in a cell if any of its CMO configurations carries that
    mechanism code and belongs to that intervention type (the row's ``component`` if
    given, otherwise every intervention type of the study). Filters take codes (one
    or several, matched by "any"): ``population`` keeps studies targeting one of the
    groups (``"universal"`` selects universal offers), ``setting`` studies delivered in
    one of the settings — both read from ``study_characteristics``, so studies without
    it drop out when these filters are used — and ``outcome`` keeps only CMO rows
    whose outcome domain is one of the codes. ``include_empty`` shows every codebook
    term as a row/column even when no study supports it.
    """
    populations, settings, outcomes = _as_set(population), _as_set(setting), _as_set(outcome)
    hits: dict[tuple[str, str], dict[Any, str]] = defaultdict(dict)
    per_type: dict[str, set[Any]] = defaultdict(set)
    for study in _studies(extractions):
        if not _study_passes(study, populations, settings):
            continue
        for types, row in _cmo_rows(study, outcomes):
            for t in types:
                for m in row.get("mechanism_codes") or []:
                    hits[(t, m)][study.study_id] = study.citation
                    per_type[t].add(study.study_id)

    type_codes = {t for t, _ in hits}
    mech_codes = {m for _, m in hits}
    if include_empty and codebook is not None:
        type_codes |= set(codebook.order("intervention_types"))
        mech_codes |= set(codebook.order("mechanisms"))
    types = _ordered(type_codes, codebook, "intervention_types")
    mechs = _ordered(mech_codes, codebook, "mechanisms")

    tidy_rows = []
    for t in types:
        for m in mechs:
            cell = hits.get((t, m))
            if cell:
                tidy_rows.append(
                    {
                        "intervention_type": t,
                        "mechanism": m,
                        "n_studies": len(cell),
                        "study_ids": tuple(sorted(cell, key=str)),
                        "citations": _join_citations(cell.values()),
                    }
                )
    cells = pd.DataFrame(
        tidy_rows,
        columns=["intervention_type", "mechanism", "n_studies", "study_ids", "citations"],
    )
    row_labels = [_label(codebook, "intervention_types", t) for t in types]
    col_labels = [_label(codebook, "mechanisms", m) for m in mechs]
    counts = pd.DataFrame(
        [[len(hits.get((t, m), {})) for m in mechs] for t in types],
        index=pd.Index(row_labels, name="Intervention type"),
        columns=pd.Index(col_labels, name="Mechanism"),
        dtype=int,
    )
    citations = pd.DataFrame(
        [[_join_citations(hits.get((t, m), {}).values()) for m in mechs] for t in types],
        index=counts.index,
        columns=counts.columns,
        dtype=object,
    )
    studies_per_type = pd.Series(
        [len(per_type.get(t, ())) for t in types],
        index=counts.index,
        name="Studies (n)",
        dtype=int,
    )
    filters = {
        "population": tuple(_label(codebook, "populations", p) for p in sorted(populations or ())),
        "setting": tuple(_label(codebook, "settings", s) for s in sorted(settings or ())),
        "outcome": tuple(_label(codebook, "outcomes", o) for o in sorted(outcomes or ())),
    }
    return MechanismTable(cells, counts, citations, studies_per_type, filters)


# ---------------------------------------------------------------------- CMO table

CMO_COLUMNS = (
    "Intervention type",
    "Study",
    "Context",
    "Mechanism (resource)",
    "Mechanism (reasoning)",
    "Mechanisms (coded)",
    "Outcome",
    "Outcome domain",
    "Intended/unintended",
    "Basis",
    "Supporting quote",
    "Page",
    "If–then statement",
)


def cmo_table(
    extractions: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    intervention_type: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every CMO configuration, one row each, grouped by intervention type.

    A configuration of a multi-type intervention without a ``component`` appears under
    each of the study's types, since it is evidence for each. ``intervention_type``
    (codes) keeps only those types.
    """
    wanted = _as_set(intervention_type)
    rows = []
    for study in _studies(extractions):
        for types, row in _cmo_rows(study, None):
            for t in types:
                if wanted is not None and t not in wanted:
                    continue
                rows.append(
                    {
                        "_order": t,
                        "Intervention type": _label(codebook, "intervention_types", t),
                        "Study": study.citation,
                        "Context": row.get("context", ""),
                        "Mechanism (resource)": row.get("mechanism_resource", ""),
                        "Mechanism (reasoning)": row.get("mechanism_reasoning", ""),
                        "Mechanisms (coded)": "; ".join(
                            _label(codebook, "mechanisms", m)
                            for m in row.get("mechanism_codes") or []
                        ),
                        "Outcome": row.get("outcome", ""),
                        "Outcome domain": _label(codebook, "outcomes", row["outcome_code"])
                        if row.get("outcome_code")
                        else "",
                        "Intended/unintended": row.get("outcome_type", ""),
                        "Basis": row.get("evidence", ""),
                        "Supporting quote": row.get("quote", ""),
                        "Page": row.get("page", ""),
                        "If–then statement": row.get("if_then", ""),
                    }
                )
    if not rows:
        return pd.DataFrame(columns=list(CMO_COLUMNS))
    table = pd.DataFrame(rows)
    order = {
        t: i for i, t in enumerate(_ordered(set(table["_order"]), codebook, "intervention_types"))
    }
    table["_rank"] = table["_order"].map(order)
    table["_study"] = table["Study"].map(citation_sort_key)
    table = table.sort_values(["_rank", "_study"], kind="stable").drop(columns="_study")
    return table.drop(columns=["_order", "_rank"]).reset_index(drop=True)[list(CMO_COLUMNS)]


def cmo_tables(
    extractions: pd.DataFrame, codebook: Codebook | None = None
) -> dict[str, pd.DataFrame]:
    """One CMO table per intervention type, keyed by its label (e.g. for XLSX sheets)."""
    table = cmo_table(extractions, codebook)
    return {
        str(t): part.drop(columns=["Intervention type"]).reset_index(drop=True)
        for t, part in table.groupby("Intervention type", sort=False)
    }


# --------------------------------------------------------------- effect direction


def _effect_sign(effect: Mapping[str, Any]) -> int | None:
    """+1 if the intervention arm's value is higher than the comparator's, -1 lower, 0 equal."""
    kind = effect.get("kind")
    try:
        if kind == "continuous":
            diff = effect["intervention"]["mean"] - effect["comparator"]["mean"]
        elif kind == "dichotomous":
            i, c = effect["intervention"], effect["comparator"]
            diff = i["events"] / i["total"] - c["events"] / c["total"]
        elif kind == "effect_size":
            null = 1.0 if effect.get("measure") in _RATIO else 0.0
            diff = effect["estimate"] - null
        else:
            return None
    except (KeyError, TypeError, ZeroDivisionError):
        return None
    if isinstance(diff, float) and math.isnan(diff):
        return None
    return (diff > 0) - (diff < 0)


def result_direction(result: Mapping[str, Any]) -> str | None:
    """Direction of one result for the young people: ``benefit``, ``harm`` or ``None``.

    From the effect data when present (intervention minus comparator, read with the
    result's direction of benefit); otherwise from the direction the authors reported.
    SWiM counts the direction of the point estimate, not statistical significance.
    ``None`` means no difference or nothing to go on.
    """
    effect = result.get("effect")
    if effect:
        sign = _effect_sign(effect)
        if sign is not None:
            if sign == 0:
                return None
            higher_better = result.get("direction_of_benefit") == _HIGHER_IS_BETTER
            return BENEFIT if (sign > 0) == higher_better else HARM
    return _REPORTED.get(result.get("reported_direction"))


def domain_direction(directions: Iterable[str | None]) -> str | None:
    """SWiM rule for one study's results in one domain.

    If at least 70% of the results point the same way, that way; otherwise (including
    results of no difference) "mixed" — no change, mixed or conflicting. ``None`` when
    there are no results.
    """
    directions = list(directions)
    if not directions:
        return None
    n = len(directions)
    for d in (BENEFIT, HARM):
        if sum(x == d for x in directions) / n >= DIRECTION_THRESHOLD:
            return d
    return MIXED


def _study_sample_size(study: _Study) -> int | None:
    size = study.values(STUDY_FORM).get("sample_size")
    if isinstance(size, int):
        return size
    best = None
    for result in study.values(OUTCOME_FORM).get("outcomes") or []:
        effect = result.get("effect") or {}
        if effect.get("kind") == "continuous":
            n = effect["intervention"]["n"] + effect["comparator"]["n"]
        elif effect.get("kind") == "dichotomous":
            n = effect["intervention"]["total"] + effect["comparator"]["total"]
        else:
            n = effect.get("n")
        if isinstance(n, int):
            best = max(best or 0, n)
    return best


def size_class(n: int | None) -> str | None:
    """ "small" (< 50), "medium" (50–300) or "large" (> 300), as in the SWiM plot."""
    if n is None:
        return None
    low, high = SAMPLE_SIZE_BREAKS
    return "small" if n < low else ("medium" if n <= high else "large")


def _rob_overall(study: _Study) -> tuple[str | None, str | None]:
    values = study.values(ROB_FORM)
    tool = ROB_TOOLS.get(values.get("tool"))
    if tool is None:
        return None, None
    return tool.name, values.get(f"{tool.prefix}_overall")


EFFECT_DIRECTION_COLUMNS = (
    "study_id",
    "study",
    "intervention_type",
    "design",
    "sample_size",
    "size_class",
    "rob_tool",
    "rob_overall",
    "outcome",
    "outcome_label",
    "outcome_rank",
    "n_results",
    "n_benefit",
    "n_harm",
    "n_no_difference",
    "direction",
)


def effect_directions(extractions: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Tidy SWiM effect directions: one row per study × outcome domain it reported.

    Whole-sample results only (subgroup results feed :func:`for_whom`). Columns:
    ``study_id``, ``study`` (citation), ``intervention_type`` (label of the first
    type), ``design``, ``sample_size``, ``size_class``, ``rob_tool``, ``rob_overall``,
    ``outcome`` (code), ``outcome_label``, ``n_results``, ``n_benefit``, ``n_harm``,
    ``n_no_difference`` and ``direction`` (benefit / harm / mixed).
    """
    outcome_rank = {c: i for i, c in enumerate(codebook.order("outcomes"))} if codebook else {}
    rows = []
    for study in _studies(extractions):
        results = [
            r for r in study.values(OUTCOME_FORM).get("outcomes") or [] if not r.get("subgroup")
        ]
        if not results:
            continue
        by_domain: dict[str, list[str | None]] = defaultdict(list)
        for r in results:
            by_domain[r["outcome"]].append(result_direction(r))
        types = _intervention_types(study)
        n = _study_sample_size(study)
        tool, overall = _rob_overall(study)
        for code in _ordered(by_domain, codebook, "outcomes"):
            rank = outcome_rank.get(code, len(outcome_rank))
            ds = by_domain[code]
            rows.append(
                {
                    "study_id": study.study_id,
                    "study": study.citation,
                    "intervention_type": _label(codebook, "intervention_types", types[0])
                    if types
                    else "",
                    "design": study.values(STUDY_FORM).get("design", ""),
                    "sample_size": n,
                    "size_class": size_class(n),
                    "rob_tool": tool,
                    "rob_overall": overall,
                    "outcome": code,
                    "outcome_label": _label(codebook, "outcomes", code),
                    "outcome_rank": rank,
                    "n_results": len(ds),
                    "n_benefit": sum(d == BENEFIT for d in ds),
                    "n_harm": sum(d == HARM for d in ds),
                    "n_no_difference": sum(d is None for d in ds),
                    "direction": domain_direction(ds),
                }
            )
    table = pd.DataFrame(rows, columns=list(EFFECT_DIRECTION_COLUMNS))
    return _sort_by_type(table, codebook)


def _sort_by_type(table: pd.DataFrame, codebook: Codebook | None) -> pd.DataFrame:
    if table.empty:
        return table
    if codebook is not None:
        labels = [
            codebook.label("intervention_types", c) for c in codebook.order("intervention_types")
        ]
    else:
        labels = []
    rank = {lab: i for i, lab in enumerate(labels)}
    keys = [
        (rank.get(t, len(rank)), t, citation_sort_key(s))
        for t, s in zip(table["intervention_type"], table["study"], strict=True)
    ]
    order = sorted(range(len(table)), key=keys.__getitem__)  # stable: domains keep order
    return table.iloc[order].reset_index(drop=True)


def effect_direction_table(
    extractions: pd.DataFrame, codebook: Codebook | None = None
) -> pd.DataFrame:
    """The SWiM effect direction table: one row per study, one column per outcome domain.

    Cells hold ▲ (benefit), ▼ (harm) or ◄► (no change, mixed or conflicting), blank
    where the study did not report the domain. Leading columns: study, intervention
    type, design, sample size and overall risk of bias.
    """
    tidy = effect_directions(extractions, codebook)
    columns = ["Study", "Intervention type", "Design", "Sample size", "Risk of bias"]
    if tidy.empty:
        return pd.DataFrame(columns=columns)
    domains = list(
        dict.fromkeys(
            _label(codebook, "outcomes", c)
            for c in _ordered(set(tidy["outcome"]), codebook, "outcomes")
        )
    )
    rows: dict[Any, dict[str, Any]] = {}
    for r in tidy.to_dict("records"):
        row = rows.get(r["study_id"])
        if row is None:
            rob = r["rob_overall"]
            tool = ROB_TOOLS.get(r["rob_tool"]) if r["rob_tool"] else None
            row = rows[r["study_id"]] = {
                "Study": r["study"],
                "Intervention type": r["intervention_type"],
                "Design": r["design"],
                "Sample size": r["sample_size"],
                "Risk of bias": tool.short.get(rob, rob) if tool and rob else "",
                **{d: "" for d in domains},
            }
        row[r["outcome_label"]] = DIRECTION_SYMBOLS[r["direction"]]
    return pd.DataFrame(list(rows.values()), columns=columns + domains)


def direction_summary(extractions: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Vote counting on direction of effect per outcome domain, with a sign test.

    For each domain: studies, how many point to benefit, harm or are mixed, the share
    of benefit among studies with a clear direction and its 95% Wilson interval, and
    the two-sided sign test of benefit vs harm (binomial, p = 0.5), as the Cochrane
    Handbook (ch. 12) describes for synthesis without meta-analysis. Mixed studies do
    not enter the test.
    """
    tidy = effect_directions(extractions, codebook)
    rows = []
    for code in _ordered(set(tidy["outcome"]), codebook, "outcomes"):
        part = tidy[tidy["outcome"] == code]
        benefit = int((part["direction"] == BENEFIT).sum())
        harm = int((part["direction"] == HARM).sum())
        clear = benefit + harm
        row = {
            "Outcome domain": _label(codebook, "outcomes", code),
            "Studies": len(part),
            "Benefit": benefit,
            "Harm": harm,
            "Mixed or no change": int((part["direction"] == MIXED).sum()),
            "Share benefit": benefit / clear if clear else float("nan"),
            "95% CI low": float("nan"),
            "95% CI high": float("nan"),
            "Sign test p": float("nan"),
        }
        if clear:
            test = stats.binomtest(benefit, clear, 0.5)
            ci = test.proportion_ci(0.95, method="wilson")
            row.update({"95% CI low": ci.low, "95% CI high": ci.high, "Sign test p": test.pvalue})
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "Outcome domain",
            "Studies",
            "Benefit",
            "Harm",
            "Mixed or no change",
            "Share benefit",
            "95% CI low",
            "95% CI high",
            "Sign test p",
        ],
    )


# ---------------------------------------------------------------------- for whom


def for_whom(extractions: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Outcomes broken down by the population a result applies to (tidy).

    A subgroup result counts for its subgroup; a whole-sample result for each group
    the study targets (or "universal"). Within each population × outcome × study the
    SWiM rule gives one direction. Columns: ``population`` (code), ``population_label``,
    ``outcome``, ``outcome_label``, ``n_studies``, ``n_benefit``, ``n_harm``,
    ``n_mixed``, ``citations``.
    """
    votes: dict[tuple[str, str], dict[Any, list[str | None]]] = defaultdict(
        lambda: defaultdict(list)
    )
    citations: dict[Any, str] = {}
    for study in _studies(extractions):
        groups = study_populations(study.values(STUDY_FORM)) or {UNIVERSAL}
        citations[study.study_id] = study.citation
        for r in study.values(OUTCOME_FORM).get("outcomes") or []:
            targets = {r["subgroup"]} if r.get("subgroup") else groups
            for p in targets:
                votes[(p, r["outcome"])][study.study_id].append(result_direction(r))
    pops = _ordered({p for p, _ in votes} - {UNIVERSAL}, codebook, "populations")
    if any(p == UNIVERSAL for p, _ in votes):
        pops.append(UNIVERSAL)
    outs = _ordered({o for _, o in votes}, codebook, "outcomes")
    rows = []
    for p in pops:
        for o in outs:
            per_study = votes.get((p, o))
            if not per_study:
                continue
            dirs = [domain_direction(ds) for ds in per_study.values()]
            rows.append(
                {
                    "population": p,
                    "population_label": _label(codebook, "populations", p),
                    "outcome": o,
                    "outcome_label": _label(codebook, "outcomes", o),
                    "n_studies": len(per_study),
                    "n_benefit": dirs.count(BENEFIT),
                    "n_harm": dirs.count(HARM),
                    "n_mixed": dirs.count(MIXED),
                    "citations": _join_citations(citations[s] for s in per_study),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "population",
            "population_label",
            "outcome",
            "outcome_label",
            "n_studies",
            "n_benefit",
            "n_harm",
            "n_mixed",
            "citations",
        ],
    )


def for_whom_table(extractions: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """:func:`for_whom` as a population × outcome table of direction counts.

    Each cell reads e.g. "▲3 ◄►1" (three studies point to benefit, one is mixed);
    blank where no study reported that outcome for that group.
    """
    tidy = for_whom(extractions, codebook)
    if tidy.empty:
        return pd.DataFrame(columns=["Population"])
    outcome_labels = list(dict.fromkeys(tidy["outcome_label"]))
    order = [
        _label(codebook, "outcomes", o)
        for o in _ordered(set(tidy["outcome"]), codebook, "outcomes")
    ]
    outcome_labels = [o for o in order if o in outcome_labels]
    rows = []
    for label, part in tidy.groupby("population_label", sort=False):
        row = {"Population": label, **{o: "" for o in outcome_labels}}
        for r in part.itertuples(index=False):
            bits = [
                f"{DIRECTION_SYMBOLS[d]}{n}"
                for d, n in ((BENEFIT, r.n_benefit), (HARM, r.n_harm), (MIXED, r.n_mixed))
                if n
            ]
            row[r.outcome_label] = " ".join(bits)
        rows.append(row)
    return pd.DataFrame(rows, columns=["Population", *outcome_labels])


# ------------------------------------------------------------------ risk of bias


def risk_of_bias_table(
    extractions: pd.DataFrame,
    tool: str,
    weights: Mapping[Any, float] | None = None,
) -> pd.DataFrame:
    """Judgements of every study assessed with ``tool`` ("RoB 2" or "ROBINS-I").

    Columns: ``study_id``, ``Study``, ``D1``…``Dn``, ``Overall`` (the tool's own
    words) and ``Weight`` — from ``weights`` (e.g. meta-analysis weights) when given,
    else the study's sample size, else 1 — which the weighted summary plot uses.
    """
    if tool not in ROB_TOOLS:
        raise ValueError(f"unknown risk-of-bias tool {tool!r} (known: {', '.join(ROB_TOOLS)})")
    spec = ROB_TOOLS[tool]
    rows = []
    for study in _studies(extractions):
        values = study.values(ROB_FORM)
        if values.get("tool") != tool:
            continue
        row: dict[str, Any] = {"study_id": study.study_id, "Study": study.citation}
        for i, col in enumerate(spec.domain_columns(), start=1):
            row[col] = values.get(f"{spec.prefix}_d{i}")
        row["Overall"] = values.get(f"{spec.prefix}_overall")
        if weights is not None:
            weight = weights.get(study.study_id)
        else:
            weight = _study_sample_size(study)
        row["Weight"] = float(weight) if weight is not None else 1.0
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["study_id", "Study", *spec.domain_columns(), "Overall", "Weight"]
    )
