"""Dual extraction: compare two reviewers' values for one study and build a consensus.

Two people extracting the same study independently catch each other's slips, but only
if every disagreement is shown and settled explicitly. :func:`compare_extractions`
walks the form field by field (row by row inside repeating groups, number by number
inside effect data) and lists each :class:`Difference` with a path the app can show.
:func:`build_consensus` then takes one resolution per difference — reviewer A's value,
reviewer B's, or a value typed by the person resolving — and refuses to produce a
consensus while any difference is unresolved or the result would not validate.

Rows of a repeating group are paired by the group's ``match_on`` sub-fields when the
form declares them (so two reviewers who listed the same outcomes in a different order
still agree), otherwise by position. Rows only one reviewer entered are differences of
their own, resolved by keeping (``Pick.A``/``Pick.B``) or dropping (``None``) them.

Cosmetic differences are not disagreements: text is compared with runs of whitespace
collapsed, multiple-choice answers as sets, numbers by value (2 == 2.0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pandas as pd

from review.extraction.forms import Field, Form, ValueProblem, is_empty, validate_values


class Pick(Enum):
    """Resolve a difference by taking one reviewer's value as it is."""

    A = "a"
    B = "b"


class ConsensusError(ValueError):
    """A consensus cannot be built yet; ``unresolved``/``problems`` say why."""

    def __init__(
        self,
        message: str,
        unresolved: Sequence[str] = (),
        problems: Sequence[ValueProblem] = (),
    ) -> None:
        super().__init__(message)
        self.unresolved = tuple(unresolved)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Difference:
    """One place where the reviewers disagree (a value is ``None`` where one left it blank)."""

    path: str
    label: str
    a: Any
    b: Any


@dataclass(frozen=True)
class Comparison:
    """Result of comparing two extractions of one study with one form."""

    form_id: str
    form_version: int
    differences: tuple[Difference, ...]
    n_compared: int
    n_agreed: int

    @property
    def agreement(self) -> float:
        """Share of compared values the reviewers agreed on (1.0 when nothing to compare)."""
        return self.n_agreed / self.n_compared if self.n_compared else 1.0

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(d.path for d in self.differences)


@dataclass
class _Walk:
    resolutions: Mapping[str, Any]
    differences: list[Difference] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    n_compared: int = 0
    n_agreed: int = 0

    def agree(self) -> None:
        self.n_compared += 1
        self.n_agreed += 1

    def differ(self, path: str, label: str, a: Any, b: Any) -> Any:
        self.n_compared += 1
        a = None if is_empty(a) else a
        b = None if is_empty(b) else b
        self.differences.append(Difference(path=path, label=label, a=a, b=b))
        if path not in self.resolutions:
            self.unresolved.append(path)
            return a
        self.used.add(path)
        choice = self.resolutions[path]
        if choice is Pick.A:
            return a
        if choice is Pick.B:
            return b
        return choice


def _norm_text(value: str) -> str:
    return " ".join(value.split())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    if isinstance(a, str) and isinstance(b, str):
        return _norm_text(a) == _norm_text(b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if all(isinstance(x, str) for x in [*a, *b]):
            return sorted(set(a)) == sorted(set(b)) and len(a) == len(b)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = {k for k, v in a.items() if not is_empty(v)} | {
            k for k, v in b.items() if not is_empty(v)
        }
        return all(_same(a.get(k), b.get(k)) for k in keys)
    return a == b


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _merge_mapping(a: Mapping, b: Mapping, path: str, label: str, walk: _Walk) -> dict:
    """Key-by-key merge of nested plain mappings (effect data)."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys([*a, *b]):
        va, vb = a.get(key), b.get(key)
        sub = _join(path, str(key))
        if is_empty(va) and is_empty(vb):
            continue
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            merged = _merge_mapping(va, vb, sub, f"{label} {key}", walk)
        elif _same(va, vb):
            walk.agree()
            merged = va
        else:
            merged = walk.differ(sub, f"{label} {key}", va, vb)
        if not is_empty(merged):
            out[str(key)] = merged
    return out


def _row_key(f: Field, row: Mapping) -> tuple | None:
    if not f.match_on:
        return None
    return tuple(
        _norm_text(v).casefold() if isinstance(v, str) else v
        for v in (row.get(k) for k in f.match_on)
    )


def _align(f: Field, rows_a: Sequence, rows_b: Sequence) -> list[tuple[Any, Any]]:
    """Pair rows of A and B: by ``match_on`` key when declared, else by position."""
    if not f.match_on:
        n = max(len(rows_a), len(rows_b))
        return [
            (rows_a[i] if i < len(rows_a) else None, rows_b[i] if i < len(rows_b) else None)
            for i in range(n)
        ]
    remaining = list(range(len(rows_b)))
    pairs: list[tuple[Any, Any]] = []
    for ra in rows_a:
        key = _row_key(f, ra) if isinstance(ra, Mapping) else None
        match = next(
            (
                j
                for j in remaining
                if isinstance(rows_b[j], Mapping) and _row_key(f, rows_b[j]) == key
            ),
            None,
        )
        if match is None:
            pairs.append((ra, None))
        else:
            remaining.remove(match)
            pairs.append((ra, rows_b[match]))
    pairs.extend((None, rows_b[j]) for j in remaining)
    return pairs


def _merge_value(f: Field, a: Any, b: Any, path: str, walk: _Walk) -> Any:
    empty_a, empty_b = is_empty(a), is_empty(b)
    if empty_a and empty_b:
        return None
    if (
        f.type == "group"
        and not empty_a
        and not empty_b
        and isinstance(a, list | tuple)
        and isinstance(b, list | tuple)
    ):
        rows = []
        for i, (ra, rb) in enumerate(_align(f, a, b)):
            row_path = f"{path}[{i}]"
            if isinstance(ra, Mapping) and isinstance(rb, Mapping):
                rows.append(_merge_fields(f.fields, ra, rb, row_path, walk))
            else:
                kept = walk.differ(row_path, f"{f.label}, row {i + 1}", ra, rb)
                if not is_empty(kept):
                    rows.append(kept)
        return rows
    if (
        f.type == "effect_data"
        and isinstance(a, Mapping)
        and isinstance(b, Mapping)
        and a.get("kind") == b.get("kind")
    ):
        return _merge_mapping(a, b, path, f.label, walk)
    if _same(a, b):
        walk.agree()
        return a
    return walk.differ(path, f.label, a, b)


def _merge_fields(
    fields: Sequence[Field], a: Mapping, b: Mapping, prefix: str, walk: _Walk
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        path = _join(prefix, f.id)
        merged = _merge_value(f, a.get(f.id), b.get(f.id), path, walk)
        if not is_empty(merged):
            out[f.id] = merged
    return out


def _walk(form: Form, a: Mapping, b: Mapping, resolutions: Mapping[str, Any]) -> tuple[dict, _Walk]:
    for name, values in (("A", a), ("B", b)):
        if not isinstance(values, Mapping):
            raise ConsensusError(f"reviewer {name}'s values must be a mapping of field ids")
    walk = _Walk(resolutions=resolutions)
    merged = _merge_fields(form.fields, a, b, "", walk)
    return merged, walk


def compare_extractions(form: Form, a: Mapping[str, Any], b: Mapping[str, Any]) -> Comparison:
    """List every difference between reviewer A's and reviewer B's values for ``form``."""
    _, walk = _walk(form, a, b, {})
    return Comparison(
        form_id=form.id,
        form_version=form.version,
        differences=tuple(walk.differences),
        n_compared=walk.n_compared,
        n_agreed=walk.n_agreed,
    )


def build_consensus(
    form: Form,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    resolutions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The agreed values plus one resolution per difference, validated against ``form``.

    ``resolutions`` maps a difference's path to ``Pick.A``, ``Pick.B`` or the value to
    use (``None`` clears the field or drops the row). Raises :class:`ConsensusError`
    when a difference is unresolved, a resolution names no current difference (the
    extractions changed since it was made) or the consensus would not validate.
    """
    resolutions = dict(resolutions or {})
    merged, walk = _walk(form, a, b, resolutions)
    if walk.unresolved:
        raise ConsensusError(
            f"{len(walk.unresolved)} difference(s) still to resolve: " + ", ".join(walk.unresolved),
            unresolved=walk.unresolved,
        )
    stale = sorted(set(resolutions) - walk.used)
    if stale:
        raise ConsensusError(
            "resolution(s) for paths that are not differences: " + ", ".join(stale)
        )
    problems = validate_values(form, merged)
    if problems:
        raise ConsensusError(
            "the consensus is not valid: " + "; ".join(map(str, problems)), problems=problems
        )
    return merged


def agreement_by_field(
    form: Form, pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]
) -> pd.DataFrame:
    """Per top-level field, how often two reviewers agreed across studies.

    Columns: ``field``, ``label``, ``n_studies`` (studies where at least one reviewer
    filled the field), ``n_agreed`` (no difference anywhere under it), ``agreement``
    (share). Reported in a review's methods as raw agreement for data extraction.
    """
    counts = {f.id: [0, 0] for f in form.fields}
    for a, b in pairs:
        comparison = compare_extractions(form, a, b)
        differing = {d.path.split(".")[0].split("[")[0] for d in comparison.differences}
        for f in form.fields:
            if is_empty(a.get(f.id)) and is_empty(b.get(f.id)):
                continue
            counts[f.id][0] += 1
            if f.id not in differing:
                counts[f.id][1] += 1
    rows = [
        {
            "field": f.id,
            "label": f.label,
            "n_studies": counts[f.id][0],
            "n_agreed": counts[f.id][1],
            "agreement": counts[f.id][1] / counts[f.id][0] if counts[f.id][0] else float("nan"),
        }
        for f in form.fields
    ]
    return pd.DataFrame(rows, columns=["field", "label", "n_studies", "n_agreed", "agreement"])
