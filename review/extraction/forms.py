"""Extraction forms: YAML files that say what a reviewer records about each study.

A form is data, not code, so a review team can adapt it without a programmer; this
module is the gatekeeper that makes that safe. :func:`load_form` refuses a malformed
form with a message naming the file, the field and the line, so the app never has to
render half a form. :func:`validate_values` checks one study's extracted values
against a form before they are stored, so the synthesis can trust types and codes.

Versioning: every extraction is stored with its form's ``id`` and ``version``.
The current version of a form lives at ``extraction_forms/<id>.yaml``; each earlier
version is kept, unchanged, at ``extraction_forms/history/<id>-v<version>.yaml``.
:func:`load_forms` loads both, so values extracted under version 1 are still checked
against version 1 after the form has moved on to version 2: changing a form can never
turn old, valid data into invalid data. :func:`carry_over` helps re-extract a study
under a newer version by copying across what still fits.

See ``extraction_forms/README.md`` for the YAML layout with examples.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from review.extraction.codebook import (
    CODE_PATTERN,
    Codebook,
    CodebookError,
    load_codebook,
)
from review.extraction.yamlio import YamlError, line_of, load_yaml, plain
from review.resources import forms_dir as shipped_forms_dir

#: Every field type a form may use.
FIELD_TYPES: tuple[str, ...] = (
    "text",
    "long_text",
    "number",
    "integer",
    "yes_no",
    "single_choice",
    "multiple_choice",
    "date",
    "group",
    "effect_data",
)
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})
#: Types on which ``min``/``max`` are allowed, and what they bound.
BOUNDED_TYPES: Mapping[str, str] = {
    "number": "value",
    "integer": "value",
    "date": "date",
    "group": "number of rows",
    "multiple_choice": "number of choices",
    "text": "number of characters",
    "long_text": "number of characters",
}
#: The three shapes an ``effect_data`` value can take.
EFFECT_KINDS: tuple[str, ...] = ("continuous", "dichotomous", "effect_size")
#: Effect measures an ``effect_size`` value may report, and their scale.
#: Ratio measures are reported on their natural scale (not logged) and must be > 0.
EFFECT_MEASURES: Mapping[str, str] = {
    "SMD": "difference",  # standardised mean difference (Cohen's d / Hedges' g)
    "MD": "difference",  # mean difference
    "RD": "difference",  # risk difference
    "OR": "ratio",
    "RR": "ratio",
    "HR": "ratio",
    "IRR": "ratio",
    "r": "correlation",
}

CODEBOOK_FILE = "codebook.yaml"


FORMS_DIR_ENV = "REVIEW_FORMS_DIR"


def find_forms_dir(setting: str | os.PathLike[str] | None = None) -> Path:
    """The review's forms folder: ``$REVIEW_FORMS_DIR``, else the review's
    ``extraction_forms_dir`` setting, else ``./extraction_forms``, else the forms that ship
    with review (:func:`review.resources.forms_dir`).

    A team edits the YAML files, so the folder lives beside their work rather than
    inside the installed package. A folder someone named (the variable or the setting)
    that does not exist is an error, not a silent fall-back to other forms; every shell
    (CLI, app, report) asks here, so they all read the same forms.
    """
    for named, what in ((os.environ.get(FORMS_DIR_ENV), f"${FORMS_DIR_ENV}"),
                        (setting, "the review's extraction_forms_dir setting")):
        if named:
            if not Path(named).is_dir():
                raise FormError(f"{named}: no such folder of extraction forms (named by {what})")
            return Path(named)
    local = Path.cwd() / "extraction_forms"
    return local if local.is_dir() else shipped_forms_dir()


HISTORY_DIR = "history"
_HISTORY_NAME = re.compile(r"^(?P<id>[a-z][a-z0-9_]*)-v(?P<version>[1-9][0-9]*)$")
_FORM_KEYS = frozenset({"id", "title", "version", "description", "changes", "fields"})
_FIELD_KEYS = frozenset(
    {
        "id",
        "label",
        "type",
        "required",
        "help",
        "choices",
        "codebook",
        "min",
        "max",
        "fields",
        "when",
        "match_on",
        "kinds",
        "measures",
        "default",
    }
)


class FormError(ValueError):
    """A form file is invalid; the message names the file, the field and the line."""


@dataclass(frozen=True)
class Choice:
    """One allowed value: ``value`` is stored, ``label`` is shown."""

    value: str
    label: str
    definition: str = ""


@dataclass(frozen=True)
class Condition:
    """Show (and require) a field only when a sibling field has one of ``values``."""

    field: str
    values: tuple[Any, ...]

    def holds(self, siblings: Mapping[str, Any]) -> bool:
        """True if the sibling's current value is (or, for a list, contains) one of ours."""
        current = siblings.get(self.field)
        if isinstance(current, list):
            return any(v in self.values for v in current)
        return current in self.values

    def describe(self) -> str:
        shown = " or ".join(repr(v) for v in self.values)
        return f"{self.field} is {shown}"


@dataclass(frozen=True)
class Field:
    """One question on a form (or a column of a repeating group)."""

    id: str
    label: str
    type: str
    required: bool = False
    help: str = ""
    choices: tuple[Choice, ...] = ()
    codebook: str | None = None
    min: Any = None
    max: Any = None
    fields: tuple[Field, ...] = ()
    when: Condition | None = None
    match_on: tuple[str, ...] = ()
    kinds: tuple[str, ...] = EFFECT_KINDS
    measures: tuple[str, ...] = tuple(EFFECT_MEASURES)
    default: Any = None

    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    def choice_label(self, value: str) -> str:
        for c in self.choices:
            if c.value == value:
                return c.label
        return str(value)

    def subfield(self, field_id: str) -> Field:
        for sub in self.fields:
            if sub.id == field_id:
                return sub
        raise KeyError(field_id)


@dataclass(frozen=True)
class Form:
    """A loaded, checked form. ``fingerprint`` identifies its exact definition."""

    id: str
    title: str
    version: int
    fields: tuple[Field, ...]
    description: str = ""
    changes: str = ""
    source: Path | None = field(default=None, compare=False)
    fingerprint: str = field(default="", compare=False)

    def field(self, field_id: str) -> Field:
        """The top-level field ``field_id`` (``KeyError`` if the form has none)."""
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)


@dataclass(frozen=True)
class ValueProblem:
    """One thing wrong with extracted values: where (``path``) and what (``message``).

    Paths name fields the way the values nest: ``design``, ``outcomes[2].measure``,
    ``outcomes[0].effect.intervention.sd`` (row numbers count from 0).
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# --------------------------------------------------------------------------- loading


def _fail(source: str, field_id: str | None, line: int | None, message: str) -> FormError:
    where = f"{source}: field '{field_id}'" if field_id else source
    suffix = f" (line {line})" if line else ""
    return FormError(f"{where}: {message}{suffix}")


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _FieldParser:
    """Turns the raw mapping of one field (recursively for groups) into a :class:`Field`."""

    def __init__(self, source: str, codebook: Codebook | None, codebook_hint: str) -> None:
        self.source = source
        self.codebook = codebook
        self.codebook_hint = codebook_hint

    def parse_list(
        self, raw_fields: Any, parent: str | None, line: int | None
    ) -> tuple[Field, ...]:
        if not isinstance(raw_fields, list) or not raw_fields:
            raise _fail(self.source, parent, line, "'fields' must be a non-empty list")
        parsed: list[Field] = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_fields, start=1):
            f = self.parse(raw, parent, i)
            if f.id in seen:
                where = f"{parent}.{f.id}" if parent else f.id
                raise _fail(self.source, where, line_of(raw), "field id used twice")
            seen.add(f.id)
            parsed.append(f)
        self._check_conditions(parsed, parent, raw_fields)
        return tuple(parsed)

    def _check_conditions(
        self, fields: Sequence[Field], parent: str | None, raws: Sequence[Any]
    ) -> None:
        earlier: dict[str, Field] = {}
        for f, raw in zip(fields, raws, strict=True):
            name = f"{parent}.{f.id}" if parent else f.id
            if f.when is not None:
                target = earlier.get(f.when.field)
                if target is None:
                    raise _fail(
                        self.source,
                        name,
                        line_of(raw),
                        f"'when' refers to '{f.when.field}', which is not an earlier field "
                        "at the same level",
                    )
                for v in f.when.values:
                    if not _possible_value(target, v):
                        raise _fail(
                            self.source,
                            name,
                            line_of(raw),
                            f"'when' value {v!r} is not a possible value of '{target.id}'",
                        )
            earlier[f.id] = f

    def parse(self, raw: Any, parent: str | None, position: int) -> Field:
        if not isinstance(raw, Mapping):
            where = f"{parent}: " if parent else ""
            raise FormError(f"{self.source}: {where}field {position} must be a mapping")
        line = line_of(raw)
        fid = raw.get("id")
        if not isinstance(fid, str) or not CODE_PATTERN.match(fid):
            shown = f"{parent}.{fid}" if parent and fid else (fid or f"#{position}")
            raise _fail(
                self.source,
                str(shown),
                line,
                "id must be lower-case letters, digits and underscores, starting with a letter",
            )
        name = f"{parent}.{fid}" if parent else fid

        def fail(message: str) -> FormError:
            return _fail(self.source, name, line, message)

        unknown = set(raw) - _FIELD_KEYS
        if unknown:
            raise fail(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        ftype = raw.get("type")
        if ftype not in FIELD_TYPES:
            raise fail(f"type {ftype!r} is not one of {', '.join(FIELD_TYPES)}")
        label = raw.get("label")
        if not isinstance(label, str) or not label.strip():
            raise fail("needs a label")
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise fail("'required' must be true or false")
        help_text = raw.get("help", "") or ""
        if not isinstance(help_text, str):
            raise fail("'help' must be text")

        choices, vocab = self._choices(raw, ftype, fail)
        lo, hi = self._bounds(raw, ftype, fail)
        sub_fields: tuple[Field, ...] = ()
        match_on: tuple[str, ...] = ()
        if ftype == "group":
            sub_fields = self.parse_list(raw.get("fields"), name, line)
            raw_match = raw.get("match_on", [])
            if isinstance(raw_match, str):
                raw_match = [raw_match]
            if not isinstance(raw_match, list) or not all(isinstance(m, str) for m in raw_match):
                raise fail("'match_on' must be a list of sub-field ids")
            ids = {f.id for f in sub_fields}
            for m in raw_match:
                if m not in ids:
                    raise fail(f"'match_on' names '{m}', which is not a sub-field")
            match_on = tuple(raw_match)
        else:
            for key in ("fields", "match_on"):
                if key in raw:
                    raise fail(f"'{key}' is only for group fields")

        kinds, measures = EFFECT_KINDS, tuple(EFFECT_MEASURES)
        if ftype == "effect_data":
            kinds = self._subset(raw.get("kinds"), EFFECT_KINDS, "kinds", fail) or kinds
            measures = (
                self._subset(raw.get("measures"), tuple(EFFECT_MEASURES), "measures", fail)
                or measures
            )
        else:
            for key in ("kinds", "measures"):
                if key in raw:
                    raise fail(f"'{key}' is only for effect_data fields")

        when = None
        if "when" in raw:
            cond = raw["when"]
            if not isinstance(cond, Mapping) or not isinstance(cond.get("field"), str):
                raise fail("'when' must be a mapping with 'field' and 'equals' (or 'in')")
            extra = set(cond) - {"field", "equals", "in"}
            if extra or ("equals" in cond) == ("in" in cond):
                raise fail("'when' needs 'field' and exactly one of 'equals' or 'in'")
            values = (cond["equals"],) if "equals" in cond else cond["in"]
            if not isinstance(values, list | tuple) or not values:
                raise fail("'when: in' must be a non-empty list")
            when = Condition(field=cond["field"], values=tuple(values))

        result = Field(
            id=fid,
            label=label.strip(),
            type=ftype,
            required=required,
            help=help_text.strip(),
            choices=choices,
            codebook=vocab,
            min=lo,
            max=hi,
            fields=sub_fields,
            when=when,
            match_on=match_on,
            kinds=kinds,
            measures=measures,
            default=raw.get("default"),
        )
        if result.default is not None:
            problems: list[ValueProblem] = []
            _check_value(result, plain(result.default), "", problems)
            if problems:
                raise fail(f"default {result.default!r} is not valid: {problems[0].message}")
        return result

    @staticmethod
    def _subset(raw: Any, allowed: tuple[str, ...], key: str, fail: Any) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw:
            raise fail(f"'{key}' must be a non-empty list")
        for item in raw:
            if item not in allowed:
                raise fail(f"'{key}' has {item!r}; allowed: {', '.join(allowed)}")
        return tuple(raw)

    def _choices(
        self, raw: Mapping, ftype: str, fail: Any
    ) -> tuple[tuple[Choice, ...], str | None]:
        has_inline = "choices" in raw
        has_codebook = "codebook" in raw
        if ftype not in CHOICE_TYPES:
            if has_inline or has_codebook:
                raise fail(f"{ftype} takes no choices")
            return (), None
        if has_inline and has_codebook:
            raise fail("give either 'choices' or 'codebook', not both")
        if not has_inline and not has_codebook:
            raise fail(f"{ftype} needs choices (a 'choices' list or 'codebook: <vocabulary>')")
        if has_codebook:
            vocab = raw["codebook"]
            if not isinstance(vocab, str):
                raise fail("'codebook' must name a vocabulary")
            if self.codebook is None:
                raise fail(
                    f"refers to codebook vocabulary '{vocab}' but no codebook was found "
                    f"({self.codebook_hint})"
                )
            try:
                terms = self.codebook[vocab].terms
            except CodebookError as exc:
                raise fail(str(exc)) from None
            return tuple(Choice(t.code, t.label, t.definition) for t in terms), vocab
        items = raw["choices"]
        if not isinstance(items, list) or not items:
            raise fail(f"{ftype} needs choices: 'choices' must be a non-empty list")
        out: list[Choice] = []
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise fail(f"choice {item!r} must be non-empty text")
            if any(c.value == item for c in out):
                raise fail(f"choice {item!r} is listed twice")
            out.append(Choice(item, item))
        return tuple(out), None

    @staticmethod
    def _bounds(raw: Mapping, ftype: str, fail: Any) -> tuple[Any, Any]:
        lo, hi = raw.get("min"), raw.get("max")
        if lo is None and hi is None:
            return None, None
        if ftype not in BOUNDED_TYPES:
            raise fail(f"{ftype} takes no min/max")
        parsed = []
        for key, value in (("min", lo), ("max", hi)):
            if value is None:
                parsed.append(None)
            elif ftype == "date":
                d = _parse_date(value)
                if d is None:
                    raise fail(f"'{key}' must be a date written YYYY-MM-DD")
                parsed.append(d)
            elif ftype == "number":
                if not _is_number(value):
                    raise fail(f"'{key}' must be a number")
                parsed.append(value)
            elif ftype == "integer":
                if not _is_integer(value):
                    raise fail(f"'{key}' must be a whole number")
                parsed.append(value)
            else:
                if not _is_integer(value) or value < 0:
                    raise fail(f"'{key}' ({BOUNDED_TYPES[ftype]}) must be a whole number ≥ 0")
                parsed.append(value)
        if parsed[0] is not None and parsed[1] is not None and parsed[0] > parsed[1]:
            raise fail("'min' is greater than 'max'")
        return parsed[0], parsed[1]


def _possible_value(target: Field, value: Any) -> bool:
    """Whether a sibling field could ever hold ``value`` (for checking ``when``)."""
    if target.type in CHOICE_TYPES:
        return value in target.choice_values()
    if target.type == "yes_no":
        return isinstance(value, bool)
    problems: list[ValueProblem] = []
    _check_value(Field(id=target.id, label=target.label, type=target.type), value, "", problems)
    return not problems


def _fingerprint(raw: Mapping) -> str:
    canonical = json.dumps(plain(raw), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def form_from_mapping(
    raw: Any,
    source: str = "form",
    codebook: Codebook | None = None,
    *,
    codebook_hint: str = "pass a codebook",
) -> Form:
    """Build and check a form from parsed YAML; errors start with ``source``."""
    if not isinstance(raw, Mapping):
        raise FormError(f"{source}: top level must be a mapping with id, title, version, fields")
    unknown = set(raw) - _FORM_KEYS
    if unknown:
        raise FormError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    fid = raw.get("id")
    if not isinstance(fid, str) or not CODE_PATTERN.match(fid):
        raise FormError(f"{source}: 'id' must be lower-case letters, digits and underscores")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise FormError(f"{source}: needs a 'title'")
    version = raw.get("version")
    if not _is_integer(version) or version < 1:
        raise FormError(f"{source}: 'version' must be a positive integer (got {version!r})")
    for key in ("description", "changes"):
        if key in raw and not isinstance(raw[key], str):
            raise FormError(f"{source}: '{key}' must be text")
    parser = _FieldParser(source, codebook, codebook_hint)
    fields = parser.parse_list(raw.get("fields"), None, line_of(raw))
    return Form(
        id=fid,
        title=title.strip(),
        version=version,
        fields=fields,
        description=str(raw.get("description", "") or "").strip(),
        changes=str(raw.get("changes", "") or "").strip(),
        fingerprint=_fingerprint(raw),
    )


def _find_codebook(path: Path) -> Path | None:
    for folder in (path.parent, path.parent.parent):
        candidate = folder / CODEBOOK_FILE
        if candidate.is_file():
            return candidate
    return None


def load_form(path: str | Path, codebook: Codebook | None = None) -> Form:
    """Load and check one form file.

    ``codebook`` resolves ``codebook: <vocabulary>`` choices; when it is not given,
    ``codebook.yaml`` next to the form (or one folder up, for ``history/``) is used.
    Raises :class:`FormError` naming the file, the field id and the line.
    """
    path = Path(path)
    try:
        raw = load_yaml(path)
    except YamlError as exc:
        raise FormError(str(exc)) from exc
    hint = f"no {CODEBOOK_FILE} next to {path.name}"
    if codebook is None:
        found = _find_codebook(path)
        if found is not None:
            try:
                codebook = load_codebook(found)
            except CodebookError as exc:
                raise FormError(f"{path.name}: its codebook is invalid: {exc}") from exc
    form = form_from_mapping(raw, source=path.name, codebook=codebook, codebook_hint=hint)
    return Form(**{**form.__dict__, "source": path})


@dataclass(frozen=True)
class FormLibrary:
    """Every version of every form in a folder, plus which version is current."""

    forms: Mapping[tuple[str, int], Form]
    current_versions: Mapping[str, int]
    codebook: Codebook | None = None

    def get(self, form_id: str, version: int | None = None) -> Form:
        """The form ``form_id`` at ``version`` (default: the current version)."""
        if version is None:
            if form_id not in self.current_versions:
                known = ", ".join(sorted(self.current_versions)) or "none"
                raise FormError(f"no current form '{form_id}' (forms: {known})")
            version = self.current_versions[form_id]
        form = self.forms.get((form_id, version))
        if form is None:
            have = self.versions(form_id)
            shown = ", ".join(map(str, have)) if have else "none"
            raise FormError(f"no form '{form_id}' version {version} (versions kept: {shown})")
        return form

    def versions(self, form_id: str) -> list[int]:
        return sorted(v for (i, v) in self.forms if i == form_id)

    def current(self) -> list[Form]:
        """The current version of each form, in file-name order."""
        return [self.forms[(i, v)] for i, v in self.current_versions.items()]

    def validate(self, form_id: str, version: int, values: Any) -> list[ValueProblem]:
        """Check values against the exact form version they were extracted with."""
        return validate_values(self.get(form_id, version), values)


def load_forms(directory: str | Path, codebook: Codebook | None = None) -> FormLibrary:
    """Load the current forms in ``directory`` and every old version in ``history/``.

    Checks that file names match form ids (``<id>.yaml``, ``history/<id>-v<n>.yaml``),
    that no (id, version) appears twice and that each current version is newer than
    all of its kept versions, so an edited form that forgot to bump its version is
    caught before it can be used on data extracted under the old definition.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FormError(f"{directory}: not a folder of forms")
    if codebook is None and (directory / CODEBOOK_FILE).is_file():
        try:
            codebook = load_codebook(directory / CODEBOOK_FILE)
        except CodebookError as exc:
            raise FormError(str(exc)) from exc
    forms: dict[tuple[str, int], Form] = {}
    current: dict[str, int] = {}

    def add(form: Form) -> None:
        other = forms.get(form.key)
        if other is not None:
            raise FormError(
                f"{form.source.name if form.source else form.id}: form '{form.id}' version "
                f"{form.version} is also defined in "
                f"{other.source.name if other.source else '?'}; bump the version"
            )
        forms[form.key] = form

    for path in sorted(_yaml_files(directory)):
        if path.name == CODEBOOK_FILE:
            continue
        form = load_form(path, codebook)
        if form.id != path.stem:
            raise FormError(f"{path.name}: form id '{form.id}' must match the file name")
        add(form)
        current[form.id] = form.version
    history = directory / HISTORY_DIR
    if history.is_dir():
        for path in sorted(_yaml_files(history)):
            form = load_form(path, codebook)
            m = _HISTORY_NAME.match(path.stem)
            expected = f"{form.id}-v{form.version}"
            if m is None or path.stem != expected:
                raise FormError(
                    f"{HISTORY_DIR}/{path.name}: an old form version must be named {expected}.yaml"
                )
            add(form)
            if form.id in current and form.version > current[form.id]:
                raise FormError(
                    f"{HISTORY_DIR}/{path.name}: kept version {form.version} is newer than "
                    f"the current {form.id}.yaml (version {current[form.id]})"
                )
    return FormLibrary(forms=forms, current_versions=current, codebook=codebook)


def _yaml_files(directory: Path) -> Iterable[Path]:
    return [p for p in directory.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml")]


# ------------------------------------------------------------------------ validation


def is_empty(value: Any) -> bool:
    """Whether a value counts as "not filled in" (None, blank text, empty list/mapping)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict):
        return len(value) == 0
    return False


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _shown_choices(f: Field, limit: int = 8) -> str:
    values = f.choice_values()
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


def _check_bounds(f: Field, measure: Any, path: str, problems: list[ValueProblem]) -> None:
    what = BOUNDED_TYPES.get(f.type, "value")
    if f.min is not None and measure < f.min:
        problems.append(ValueProblem(path, f"{what} {measure} is below the minimum {f.min}"))
    if f.max is not None and measure > f.max:
        problems.append(ValueProblem(path, f"{what} {measure} is above the maximum {f.max}"))


def _check_value(f: Field, value: Any, path: str, problems: list[ValueProblem]) -> None:
    """Check a non-empty value against one field, appending what is wrong."""
    add = problems.append
    t = f.type
    if t in ("text", "long_text"):
        if not isinstance(value, str):
            add(ValueProblem(path, f"expected text, got {type(value).__name__}"))
            return
        _check_bounds(f, len(value), path, problems)
    elif t == "number":
        if not _is_number(value):
            add(ValueProblem(path, f"expected a number, got {value!r}"))
            return
        _check_bounds(f, value, path, problems)
    elif t == "integer":
        if not _is_integer(value):
            add(ValueProblem(path, f"expected a whole number, got {value!r}"))
            return
        _check_bounds(f, value, path, problems)
    elif t == "yes_no":
        if not isinstance(value, bool):
            add(ValueProblem(path, f"expected yes or no (true/false), got {value!r}"))
    elif t == "single_choice":
        if not isinstance(value, str) or value not in f.choice_values():
            add(ValueProblem(path, f"{value!r} is not one of the choices ({_shown_choices(f)})"))
    elif t == "multiple_choice":
        if not isinstance(value, list | tuple):
            add(ValueProblem(path, f"expected a list of choices, got {value!r}"))
            return
        allowed = set(f.choice_values())
        seen: set[Any] = set()
        for item in value:
            if not isinstance(item, str) or item not in allowed:
                add(ValueProblem(path, f"{item!r} is not one of the choices ({_shown_choices(f)})"))
            elif item in seen:
                add(ValueProblem(path, f"{item!r} is chosen twice"))
            else:
                seen.add(item)
        _check_bounds(f, len(value), path, problems)
    elif t == "date":
        d = _parse_date(value)
        if d is None:
            add(ValueProblem(path, f"expected a date written YYYY-MM-DD, got {value!r}"))
            return
        _check_bounds(f, d, path, problems)
    elif t == "group":
        if not isinstance(value, list | tuple):
            add(ValueProblem(path, f"expected a list of rows, got {type(value).__name__}"))
            return
        _check_bounds(f, len(value), path, problems)
        for i, row in enumerate(value):
            row_path = f"{path}[{i}]"
            if not isinstance(row, Mapping):
                add(ValueProblem(row_path, "each row must be a mapping of sub-field values"))
                continue
            _check_fields(f.fields, row, row_path, problems)
    elif t == "effect_data":
        _check_effect(f, value, path, problems)


def _check_fields(
    fields: Sequence[Field], values: Mapping[str, Any], prefix: str, problems: list[ValueProblem]
) -> None:
    known = {f.id for f in fields}
    for key in values:
        if key not in known:
            problems.append(ValueProblem(_join(prefix, str(key)), "not a field of this form"))
    for f in fields:
        value = values.get(f.id)
        path = _join(prefix, f.id)
        empty = is_empty(value)
        if f.when is not None and not f.when.holds(values):
            if not empty:
                problems.append(
                    ValueProblem(path, f"only applies when {f.when.describe()}; clear it")
                )
            continue
        if empty:
            if f.required:
                problems.append(ValueProblem(path, f"required ({f.label})"))
            continue
        _check_value(f, value, path, problems)


def _arm_problems(
    arm: Any, path: str, spec: Mapping[str, tuple[str, float | None]]
) -> list[ValueProblem]:
    """Check one arm mapping: spec maps key -> (kind, lower bound)."""
    if not isinstance(arm, Mapping):
        return [ValueProblem(path, "expected a mapping of " + ", ".join(spec))]
    out = []
    for key in arm:
        if key not in spec:
            out.append(
                ValueProblem(_join(path, str(key)), f"not part of an arm ({', '.join(spec)})")
            )
    for key, (kind, low) in spec.items():
        value = arm.get(key)
        kpath = _join(path, key)
        if value is None:
            out.append(ValueProblem(kpath, "required"))
        elif kind == "integer" and not _is_integer(value):
            out.append(ValueProblem(kpath, f"expected a whole number, got {value!r}"))
        elif kind == "number" and not _is_number(value):
            out.append(ValueProblem(kpath, f"expected a number, got {value!r}"))
        elif low is not None and value < low:
            out.append(ValueProblem(kpath, f"must be at least {low}, got {value!r}"))
    return out


def _check_effect(f: Field, value: Any, path: str, problems: list[ValueProblem]) -> None:
    add = problems.append
    if not isinstance(value, Mapping):
        add(ValueProblem(path, "expected effect data (a mapping with 'kind')"))
        return
    kind = value.get("kind")
    if kind not in f.kinds:
        add(ValueProblem(_join(path, "kind"), f"{kind!r} is not one of {', '.join(f.kinds)}"))
        return
    if kind in ("continuous", "dichotomous"):
        spec: dict[str, tuple[str, float | None]] = (
            {"n": ("integer", 1), "mean": ("number", None), "sd": ("number", 0)}
            if kind == "continuous"
            else {"events": ("integer", 0), "total": ("integer", 1)}
        )
        for key in value:
            if key not in ("kind", "intervention", "comparator"):
                add(ValueProblem(_join(path, str(key)), f"not part of {kind} effect data"))
        for arm in ("intervention", "comparator"):
            arm_path = _join(path, arm)
            arm_value = value.get(arm)
            if arm_value is None:
                add(ValueProblem(arm_path, "required"))
                continue
            arm_problems = _arm_problems(arm_value, arm_path, spec)
            problems.extend(arm_problems)
            if arm_problems:
                continue
            if kind == "continuous" and arm_value["sd"] == 0:
                add(ValueProblem(_join(arm_path, "sd"), "a standard deviation of 0 is not usable"))
            if kind == "dichotomous" and arm_value["events"] > arm_value["total"]:
                add(ValueProblem(_join(arm_path, "events"), "more events than participants"))
        return
    # effect_size
    allowed = {"kind", "measure", "estimate", "se", "ci_lower", "ci_upper", "ci_level", "n"}
    for key in value:
        if key not in allowed:
            add(ValueProblem(_join(path, str(key)), "not part of effect-size data"))
    measure = value.get("measure")
    if measure not in f.measures:
        add(
            ValueProblem(
                _join(path, "measure"), f"{measure!r} is not one of {', '.join(f.measures)}"
            )
        )
        return
    scale = EFFECT_MEASURES[measure]
    est = value.get("estimate")
    if not _is_number(est):
        add(ValueProblem(_join(path, "estimate"), f"expected a number, got {est!r}"))
        return
    numbers = {"estimate": est}
    for key in ("se", "ci_lower", "ci_upper", "ci_level"):
        v = value.get(key)
        if v is None:
            continue
        if not _is_number(v):
            add(ValueProblem(_join(path, key), f"expected a number, got {v!r}"))
            return
        numbers[key] = v
    if "n" in value and value["n"] is not None and (not _is_integer(value["n"]) or value["n"] < 1):
        add(ValueProblem(_join(path, "n"), f"expected a whole number ≥ 1, got {value['n']!r}"))
    has_ci = "ci_lower" in numbers and "ci_upper" in numbers
    if ("ci_lower" in numbers) != ("ci_upper" in numbers):
        add(ValueProblem(path, "give both ci_lower and ci_upper"))
    if "se" not in numbers and not has_ci:
        add(ValueProblem(path, "give the standard error (se) or a confidence interval"))
    if "se" in numbers and numbers["se"] <= 0:
        add(ValueProblem(_join(path, "se"), "the standard error must be greater than 0"))
    if "ci_level" in numbers and not 0 < numbers["ci_level"] < 1:
        add(ValueProblem(_join(path, "ci_level"), "write the level as a fraction, e.g. 0.95"))
    if has_ci and not numbers["ci_lower"] <= est <= numbers["ci_upper"]:
        add(ValueProblem(path, "the estimate is not inside its confidence interval"))
    if scale == "ratio":
        for key in ("estimate", "ci_lower", "ci_upper"):
            if key in numbers and numbers[key] <= 0:
                add(
                    ValueProblem(
                        _join(path, key),
                        f"a {measure} must be greater than 0 "
                        "(give it on its natural scale, not logged)",
                    )
                )
    if scale == "correlation":
        for key in ("estimate", "ci_lower", "ci_upper"):
            if key in numbers and not -1 <= numbers[key] <= 1:
                add(ValueProblem(_join(path, key), "a correlation lies between -1 and 1"))


def validate_values(form: Form, values: Any) -> list[ValueProblem]:
    """Everything wrong with one study's values for ``form`` (empty list: all good).

    Checks types, required fields, choices (inline or from the codebook), bounds,
    conditional fields, repeating groups row by row and effect data, and flags keys
    the form does not have, because a typo in a key would otherwise lose data silently.
    """
    if not isinstance(values, Mapping):
        return [ValueProblem("", f"values for form '{form.id}' must be a mapping of field ids")]
    problems: list[ValueProblem] = []
    _check_fields(form.fields, values, "", problems)
    return problems


def default_values(form: Form) -> dict[str, Any]:
    """Start values for a new extraction: every field's ``default`` where it has one."""
    return {f.id: plain(f.default) for f in form.fields if f.default is not None}


def carry_over(
    values: Mapping[str, Any], old: Form, new: Form
) -> tuple[dict[str, Any], list[ValueProblem]]:
    """Copy values extracted under ``old`` into a draft for ``new``.

    A field is copied when the new version has a field with the same id and type.
    The returned problems list what the reviewer must look at: values dropped because
    their field was removed or changed type, and anything the new version rejects.
    The old extraction itself is not touched.
    """
    draft: dict[str, Any] = {}
    problems: list[ValueProblem] = []
    new_ids = {f.id: f for f in new.fields}
    for f in old.fields:
        if is_empty(values.get(f.id)):
            continue
        target = new_ids.get(f.id)
        if target is None:
            problems.append(ValueProblem(f.id, f"not in version {new.version}; value not carried"))
        elif target.type != f.type:
            problems.append(
                ValueProblem(f.id, f"changed from {f.type} to {target.type}; value not carried")
            )
        else:
            draft[f.id] = values[f.id]
    problems.extend(validate_values(new, draft))
    return draft, problems
