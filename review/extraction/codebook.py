"""Controlled vocabularies that extraction forms point at and the synthesis counts by.

A mechanism table can only count what reviewers coded the same way, so intervention
types, mechanisms, outcomes, populations and settings are chosen from a shared
codebook rather than typed freely. Each term has a stable ``code`` (what is stored in
an extraction), a ``label`` (what tables and figures show) and a ``definition`` (what
keeps two reviewers' coding consistent).

The codebook only ever grows: :func:`extend_codebook` adds terms and vocabularies but
never removes or recodes one, so every value extracted under an earlier codebook stays
valid. Relabelling or retiring a term is a decision for the lead, made by editing the
YAML file by hand.

File layout (``extraction_forms/codebook.yaml``)::

    version: 1
    vocabularies:
      mechanisms:
        label: Mechanisms
        description: ...
        terms:
          - code: reciprocity
            label: Reciprocity
            definition: Giving and receiving support ...
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from review.extraction.yamlio import YamlError, line_of, load_yaml

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class CodebookError(ValueError):
    """A codebook file or an extension is invalid; the message says where and why."""


@dataclass(frozen=True)
class Term:
    """One controlled term: the stored ``code``, the shown ``label`` and its meaning."""

    code: str
    label: str
    definition: str = ""


@dataclass(frozen=True)
class Vocabulary:
    """A named list of terms, in the order tables should show them."""

    name: str
    label: str
    terms: tuple[Term, ...]
    description: str = ""

    def codes(self) -> tuple[str, ...]:
        """Codes in codebook order."""
        return tuple(t.code for t in self.terms)

    def label_of(self, code: str) -> str:
        """The label of ``code``; unknown codes are shown as they are."""
        for term in self.terms:
            if term.code == code:
                return term.label
        return code

    def __contains__(self, code: object) -> bool:
        return any(t.code == code for t in self.terms)


@dataclass(frozen=True)
class Codebook:
    """All vocabularies; ``version`` goes up by one with every extension."""

    vocabularies: Mapping[str, Vocabulary] = field(default_factory=dict)
    version: int = 1

    def __getitem__(self, name: str) -> Vocabulary:
        try:
            return self.vocabularies[name]
        except KeyError:
            known = ", ".join(sorted(self.vocabularies)) or "none"
            raise CodebookError(f"codebook has no vocabulary '{name}' (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.vocabularies

    def label(self, vocabulary: str, code: str) -> str:
        """Label of ``code`` in ``vocabulary``; falls back to the code itself."""
        vocab = self.vocabularies.get(vocabulary)
        return vocab.label_of(code) if vocab is not None else code

    def order(self, vocabulary: str) -> tuple[str, ...]:
        """Codes of a vocabulary in codebook order (empty if the vocabulary is unknown)."""
        vocab = self.vocabularies.get(vocabulary)
        return vocab.codes() if vocab is not None else ()


def slug(label: str) -> str:
    """A code made from a label: lower case, words joined by underscores."""
    text = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
    if not text or not text[0].isalpha():
        text = f"t_{text}" if text else ""
    return text


def _parse_term(raw: Any, where: str) -> Term:
    if isinstance(raw, str):
        code = slug(raw)
        if not code:
            raise CodebookError(f"{where}: term {raw!r} has no usable characters for a code")
        return Term(code=code, label=raw.strip())
    if not isinstance(raw, Mapping):
        raise CodebookError(f"{where}: a term must be a label or a mapping with code and label")
    unknown = set(raw) - {"code", "label", "definition"}
    if unknown:
        raise CodebookError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise CodebookError(f"{where}: term needs a non-empty label")
    code = raw.get("code", slug(label))
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise CodebookError(
            f"{where}: code {code!r} must be lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    definition = raw.get("definition", "") or ""
    if not isinstance(definition, str):
        raise CodebookError(f"{where}: definition must be text")
    return Term(code=code, label=label.strip(), definition=definition.strip())


def _check_unique(vocab_name: str, terms: Iterable[Term], where: str) -> None:
    codes: set[str] = set()
    labels: set[str] = set()
    for term in terms:
        if term.code in codes:
            raise CodebookError(f"{where}: vocabulary '{vocab_name}' has code '{term.code}' twice")
        if term.label.casefold() in labels:
            raise CodebookError(
                f"{where}: vocabulary '{vocab_name}' has label '{term.label}' twice"
            )
        codes.add(term.code)
        labels.add(term.label.casefold())


def codebook_from_mapping(data: Any, source: str = "codebook") -> Codebook:
    """Build a codebook from parsed YAML/JSON; errors name ``source`` and the line."""
    if not isinstance(data, Mapping):
        raise CodebookError(f"{source}: top level must be a mapping with 'vocabularies'")
    unknown = set(data) - {"version", "vocabularies"}
    if unknown:
        raise CodebookError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CodebookError(f"{source}: version must be a positive integer")
    raw_vocabs = data.get("vocabularies")
    if not isinstance(raw_vocabs, Mapping) or not raw_vocabs:
        raise CodebookError(f"{source}: 'vocabularies' must be a non-empty mapping")
    vocabs: dict[str, Vocabulary] = {}
    for name, raw in raw_vocabs.items():
        line = line_of(raw)
        where = f"{source}: vocabulary '{name}'" + (f" (line {line})" if line else "")
        if not isinstance(name, str) or not CODE_PATTERN.match(name):
            raise CodebookError(f"{where}: name must be lower-case letters/digits/underscores")
        if not isinstance(raw, Mapping):
            raise CodebookError(f"{where}: must be a mapping with label and terms")
        bad = set(raw) - {"label", "description", "terms"}
        if bad:
            raise CodebookError(f"{where}: unknown key(s) {', '.join(sorted(map(str, bad)))}")
        raw_terms = raw.get("terms")
        if not isinstance(raw_terms, list) or not raw_terms:
            raise CodebookError(f"{where}: 'terms' must be a non-empty list")
        terms = []
        for i, raw_term in enumerate(raw_terms, start=1):
            tline = line_of(raw_term)
            twhere = f"{where}, term {i}" + (f" (line {tline})" if tline else "")
            terms.append(_parse_term(raw_term, twhere))
        _check_unique(name, terms, where)
        label = raw.get("label") or name.replace("_", " ").capitalize()
        vocabs[name] = Vocabulary(
            name=name,
            label=str(label),
            terms=tuple(terms),
            description=str(raw.get("description", "") or "").strip(),
        )
    return Codebook(vocabularies=vocabs, version=version)


def load_codebook(path: str | Path) -> Codebook:
    """Load a codebook YAML file; any problem raises :class:`CodebookError`."""
    path = Path(path)
    try:
        data = load_yaml(path)
    except YamlError as exc:
        raise CodebookError(str(exc)) from exc
    return codebook_from_mapping(data, source=path.name)


def extend_codebook(
    codebook: Codebook,
    vocabulary: str,
    terms: Iterable[Term | str | Mapping[str, str]],
    *,
    label: str | None = None,
    description: str = "",
) -> Codebook:
    """Return a new codebook with ``terms`` appended to ``vocabulary``.

    Pure: the given codebook is left unchanged. A vocabulary that does not exist yet is
    created (``label`` names it). Terms may be given as labels (the code is derived),
    as mappings with code/label/definition, or as :class:`Term`. A code or label that
    is already in the vocabulary is refused, because silently merging two terms would
    change what existing extractions mean.
    """
    where = f"extending '{vocabulary}'"
    if not CODE_PATTERN.match(vocabulary):
        raise CodebookError(f"{where}: vocabulary name must be lower-case letters/underscores")
    new_terms = []
    for i, raw in enumerate(terms, start=1):
        term = raw if isinstance(raw, Term) else _parse_term(raw, f"{where}, term {i}")
        if not CODE_PATTERN.match(term.code):
            raise CodebookError(f"{where}, term {i}: code {term.code!r} is not a valid code")
        new_terms.append(term)
    if not new_terms:
        raise CodebookError(f"{where}: no terms given")
    vocabs = dict(codebook.vocabularies)
    existing = vocabs.get(vocabulary)
    if existing is None:
        vocab = Vocabulary(
            name=vocabulary,
            label=label or vocabulary.replace("_", " ").capitalize(),
            terms=tuple(new_terms),
            description=description,
        )
    else:
        vocab = replace(existing, terms=existing.terms + tuple(new_terms))
    _check_unique(vocabulary, vocab.terms, where)
    vocabs[vocabulary] = vocab
    return Codebook(vocabularies=vocabs, version=codebook.version + 1)


def codebook_to_mapping(codebook: Codebook) -> dict[str, Any]:
    """Plain data for YAML/JSON (inverse of :func:`codebook_from_mapping`)."""
    out: dict[str, Any] = {"version": codebook.version, "vocabularies": {}}
    for name, vocab in codebook.vocabularies.items():
        entry: dict[str, Any] = {"label": vocab.label}
        if vocab.description:
            entry["description"] = vocab.description
        entry["terms"] = [
            {
                "code": t.code,
                "label": t.label,
                **({"definition": t.definition} if t.definition else {}),
            }
            for t in vocab.terms
        ]
        out["vocabularies"][name] = entry
    return out


def save_codebook(codebook: Codebook, path: str | Path) -> Path:
    """Write the codebook as YAML at ``path`` (atomically: never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        codebook_to_mapping(codebook), sort_keys=False, allow_unicode=True, width=88
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp files start at 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
