"""A review's settings: every key with its type, default and allowed values, in one place.

The settings live in the ``setting`` table as JSON, one row per key the lead changed;
:func:`parse` turns those rows into a :class:`Settings` (defaults for the keys never set)
and :func:`check` validates one value before it is written, so a typo in a key, a
reviewer count of 3 or a target recall of 7 is refused with the key's name instead of
surfacing later as a wrong number. ``review.store.repo.get_settings`` is the one reader
of the table; the app, the CLI and the report all go through it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

TA_REASONS = ("Wrong population", "Wrong intervention", "Wrong outcome", "Wrong study design",
              "Not primary research")
FT_REASONS = ("Wrong population", "Wrong intervention", "Wrong comparator", "Wrong outcome",
              "Wrong study design", "Conference abstract only", "Duplicate report")


class SettingsError(ValueError):
    """A setting's key is unknown or its value is not allowed; the message names both."""


@dataclass(frozen=True)
class Settings:
    """What the lead can set, with the defaults a new review starts from."""

    review_title: str = "Untitled review"
    #: 1 (single screening) or 2 (dual screening, disagreements become conflicts).
    reviewers_per_record: int = 1
    #: Reviewers see only their own decisions (leads see all).
    blind: bool = True
    #: The recall the stopping rule aims for (0.5 to 1).
    target_recall: float = 0.95
    exclusion_reasons_title_abstract: tuple[str, ...] = TA_REASONS
    exclusion_reasons_full_text: tuple[str, ...] = FT_REASONS
    highlight_include: tuple[str, ...] = ()
    highlight_exclude: tuple[str, ...] = ()
    #: Studies and reports of a previous version of the review (PRISMA 2020 updated reviews).
    previous_studies: int = 0
    previous_reports: int = 0
    #: 1 (single extraction) or 2 (dual extraction with consensus).
    extractors_per_study: int = 1
    #: The review's own folder of extraction forms (else ./extraction_forms, else the shipped ones).
    extraction_forms_dir: str | None = None
    #: Records screened when the lead started random sampling (the stopping rule's guarantee).
    sampling_start: int | None = None
    #: The ranking model the lead chose (a name from review.screening.components; None: default).
    ranking_model: str | None = None
    #: The stopping rule whose estimate the screening page shows (review.screening.rules;
    #: None: the default).
    stopping_rule: str | None = None
    #: How long a sign-in lasts.
    session_hours: float = 12.0
    #: Minutes a record handed to a reviewer stays theirs undecided (then it goes back).
    claim_minutes: int = 30
    #: Leads who chose to screen (a lead is not in the screening pool otherwise).
    screening_leads: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able values (lists for the tuples)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


_TYPES = {f.name: f.type for f in fields(Settings)}
DEFAULTS: dict[str, Any] = Settings().as_dict()


def _int(key: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise SettingsError(f"setting {key}: {value!r} is not a whole number")
    n = int(value)
    if n < low or (high is not None and n > high):
        allowed = f"{low} to {high}" if high is not None else f"{low} or more"
        raise SettingsError(f"setting {key}: {n} is not allowed ({allowed})")
    return n


def _float(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SettingsError(f"setting {key}: {value!r} is not a number")
    if not low <= float(value) <= high:
        raise SettingsError(f"setting {key}: {value} is not between {low:g} and {high:g}")
    return float(value)


def _texts(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise SettingsError(f"setting {key}: expected a list of texts, not {value!r}")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise SettingsError(f"setting {key}: {item!r} is not a text")
        out.append(item.strip())
    return tuple(out)


def check(key: str, value: Any) -> Any:
    """``value`` normalised for ``key`` (texts become a tuple), else :class:`SettingsError`."""
    if key not in _TYPES:
        raise SettingsError(f"unknown setting {key!r}; known: {', '.join(sorted(_TYPES))}")
    if key == "review_title":
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"setting {key}: {value!r} is not a title")
        return value.strip()
    if key in ("reviewers_per_record", "extractors_per_study"):
        return _int(key, value, 1, 2)
    if key == "blind":
        if not isinstance(value, bool):
            raise SettingsError(f"setting {key}: {value!r} is not true or false")
        return value
    if key == "target_recall":
        return _float(key, value, 0.5, 1.0)
    if key == "session_hours":
        return _float(key, value, 0.01, 24.0 * 365)
    if key in ("previous_studies", "previous_reports"):
        return _int(key, value, 0)
    if key == "claim_minutes":
        return _int(key, value, 1, 24 * 60)
    if key == "screening_leads":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise SettingsError(f"setting {key}: expected a list of reviewer ids, not {value!r}")
        return tuple(_int(key, v, 1) for v in value)
    if key == "sampling_start":
        return None if value is None else _int(key, value, 0)
    if key in ("ranking_model", "stopping_rule"):
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", value):
            what = "model" if key == "ranking_model" else "stopping rule"
            raise SettingsError(f"setting {key}: {value!r} is not a {what} name")
        return value
    if key == "extraction_forms_dir":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise SettingsError(f"setting {key}: {value!r} is not a folder")
        return value.strip()
    reasons = key.startswith("exclusion_reasons_")
    texts = _texts(key, value)
    if reasons and not texts:
        raise SettingsError(f"setting {key}: a stage needs at least one exclusion reason")
    return texts


def parse(stored: Mapping[str, Any]) -> Settings:
    """The review's settings from the stored rows; unknown keys are ignored (an older or
    newer version of review may have written them), known ones must be valid."""
    return Settings(**{k: check(k, v) for k, v in stored.items() if k in _TYPES})
