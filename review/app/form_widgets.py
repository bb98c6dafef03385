"""Streamlit inputs generated from an extraction form's YAML, and values shown back as text.

Each field type maps to one input (text → text box, long text → text area,
number/integer → number box with the form's bounds, yes/no → radio, single
choice → select box, multiple choice → multi-select, date → date picker,
repeating group → rows with add/remove, effect data → per-arm numbers or an
effect size). A field with ``when`` appears only while its condition holds on
the values above it, so hidden fields are never stored. Inputs return plain
JSON values (dates as ``YYYY-MM-DD``), and an empty input is simply absent, so
:func:`review.extraction.validate_values` sees exactly what the reviewer gave.

Widget keys are ``<prefix>.<field path>``; a group's rows carry stable tokens
in session state, so removing row 2 of 4 keeps what was typed in rows 3 and 4.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from review.app.widgets import escape_markdown
from review.extraction import Field, Form
from review.extraction.forms import is_empty

EFFECT_KIND_LABELS = {"continuous": "Means and SDs per arm", "dichotomous": "Events per arm",
                      "effect_size": "Reported effect size"}
_NO_EFFECT = "none"
_ARMS = (("intervention", "Intervention"), ("comparator", "Comparator"))


def render_form(form: Form, initial: Mapping[str, Any] | None, prefix: str) -> dict[str, Any]:
    """Draw the form's inputs, filled from ``initial`` the first time; return the values."""
    return _fields(form.fields, initial or {}, prefix)


def _fields(fields: Sequence[Field], initial: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields:
        if f.when is not None and not f.when.holds(values):
            continue
        v = _field(f, initial.get(f.id), f"{prefix}.{f.id}")
        if not is_empty(v):
            values[f.id] = v
    return values


def _label(f: Field) -> str:
    return f.label + (" *" if f.required else "")


def _field(f: Field, init: Any, key: str) -> Any:
    label, help_ = _label(f), f.help or None
    t = f.type
    if t in ("text", "long_text"):
        widget = st.text_input if t == "text" else st.text_area
        kwargs: dict[str, Any] = {"max_chars": int(f.max)} if f.max else {}
        text = widget(label, value=init if isinstance(init, str) else "", key=key, help=help_,
                      **kwargs)
        return text.strip() or None
    if t in ("number", "integer"):
        return _number(f, init, key, integer=t == "integer")
    if t == "yes_no":
        index = None if not isinstance(init, bool) else (0 if init else 1)
        answer = st.radio(label, ["Yes", "No"], index=index, key=key, help=help_,
                          horizontal=True)
        return None if answer is None else answer == "Yes"
    if t == "single_choice":
        options = list(f.choice_values())
        return st.selectbox(label, options, index=options.index(init) if init in options
                            else None, key=key, help=help_, format_func=f.choice_label,
                            placeholder="Choose…")
    if t == "multiple_choice":
        options = list(f.choice_values())
        default = [v for v in (init or []) if v in options]
        return st.multiselect(label, options, default=default, key=key, help=help_,
                              format_func=f.choice_label) or None
    if t == "date":
        value = _date(init)
        picked = st.date_input(label, value=value, key=key, help=help_, format="YYYY-MM-DD",
                               min_value=_date(f.min) or dt.date(1900, 1, 1),
                               max_value=_date(f.max) or dt.date(2100, 12, 31))
        return picked.isoformat() if isinstance(picked, dt.date) else None
    if t == "group":
        return _group(f, init if isinstance(init, list) else [], key)
    if t == "effect_data":
        return _effect(f, init if isinstance(init, Mapping) else {}, key)
    raise ValueError(f"field {f.id!r}: no input for type {t!r}")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _number(f: Field, init: Any, key: str, *, integer: bool, label: str | None = None,
            min_value: float | None = None) -> Any:
    lo = f.min if f.min is not None else min_value
    hi = f.max
    # No min/max on the widget: the browser would refuse an out-of-range number without
    # telling the server, the old value would be kept and "submitted" would drop what the
    # reviewer typed. The value comes to the server, which says what is wrong at the field,
    # and submitting is refused (validate_values checks the bounds).
    ok = isinstance(init, int | float) and not isinstance(init, bool)
    if integer:
        v = st.number_input(label or _label(f), value=int(init) if ok else None, step=1,
                            key=key, help=f.help or None, placeholder="")
    else:
        v = st.number_input(label or _label(f), value=float(init) if ok else None,
                            format="%g", key=key, help=f.help or None, placeholder="")
    if v is not None and not ((lo is not None and v < lo) or (hi is not None and v > hi)):
        return v
    if v is not None:
        bounds = (f"between {lo:g} and {hi:g}" if lo is not None and hi is not None
                  else f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
        st.error(f"{label or f.label}: {v:g} is out of range; it must be {bounds}. "
                 "The form cannot be submitted until this is fixed.")
    return v


def _group(f: Field, init: list, key: str) -> list[dict[str, Any]] | None:
    rows_key, init_key, next_key = f"{key}.__rows", f"{key}.__init", f"{key}.__next"
    if rows_key not in st.session_state:
        st.session_state[rows_key] = [f"r{i}" for i in range(len(init))]
        st.session_state[init_key] = {f"r{i}": row for i, row in enumerate(init)}
        st.session_state[next_key] = len(init)
        if not init and (f.required or (f.min or 0) > 0):
            st.session_state[rows_key] = ["r0"]
            st.session_state[next_key] = 1
    tokens: list[str] = st.session_state[rows_key]
    starts: dict[str, Any] = st.session_state[init_key]
    st.markdown(f"**{escape_markdown(_label(f))}**")
    if f.help:
        st.caption(escape_markdown(f.help))
    out = []
    for n, token in enumerate(tokens, 1):
        with st.container(border=True):
            st.caption(escape_markdown(f"{f.label}: row {n}"))
            row = _fields(f.fields, starts.get(token) or {}, f"{key}.{token}")
            if st.button("Remove this row", key=f"{key}.{token}.__del"):
                st.session_state[rows_key] = [t for t in tokens if t != token]
                st.rerun()
        out.append(row)
    if st.button(f"Add a row to {f.label}", key=f"{key}.__add"):
        token = f"r{st.session_state[next_key]}"
        st.session_state[next_key] += 1
        st.session_state[rows_key] = [*tokens, token]
        st.rerun()
    return out or None


def _effect(f: Field, init: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    kinds = [_NO_EFFECT, *f.kinds]
    start = init.get("kind") if init.get("kind") in f.kinds else _NO_EFFECT
    kind = st.radio(_label(f), kinds, index=kinds.index(start), key=f"{key}.kind",
                    horizontal=True, help=f.help or None,
                    format_func=lambda k: "No effect data" if k == _NO_EFFECT
                    else EFFECT_KIND_LABELS.get(k, k))
    if kind == _NO_EFFECT or kind is None:
        return None
    out: dict[str, Any] = {"kind": kind}
    plain = Field(id="x", label="x", type="number")
    if kind in ("continuous", "dichotomous"):
        spec = ([("n", "n", True, 1), ("mean", "Mean", False, None), ("sd", "SD", False, 0)]
                if kind == "continuous" else
                [("events", "Events", True, 0), ("total", "Total", True, 1)])
        cols = st.columns(len(_ARMS))
        for col, (arm, arm_label) in zip(cols, _ARMS, strict=True):
            start_arm = init.get(arm) if init.get("kind") == kind else None
            start_arm = start_arm if isinstance(start_arm, Mapping) else {}
            values = {}
            with col:
                st.caption(arm_label)
                for name, name_label, integer, low in spec:
                    v = _number(plain, start_arm.get(name), f"{key}.{kind}.{arm}.{name}",
                                integer=integer, label=f"{arm_label}: {name_label}",
                                min_value=low)
                    if v is not None:
                        values[name] = v
            if values:
                out[arm] = values
        return out
    start = init if init.get("kind") == "effect_size" else {}
    measures = list(f.measures)
    measure = st.selectbox("Measure", measures, key=f"{key}.es.measure",
                           index=measures.index(start["measure"])
                           if start.get("measure") in measures else None,
                           placeholder="Choose…")
    if measure is not None:
        out["measure"] = measure
    cols = st.columns(3)
    for col, (name, name_label) in zip(cols * 2, [
            ("estimate", "Estimate"), ("se", "Standard error"), ("n", "Participants (n)"),
            ("ci_lower", "CI lower"), ("ci_upper", "CI upper"), ("ci_level", "CI level")],
            strict=True):
        with col:
            v = _number(plain, start.get(name, 0.95 if name == "ci_level" else None),
                        f"{key}.es.{name}", integer=name == "n", label=name_label,
                        min_value=1 if name == "n" else None)
        if v is not None:
            out[name] = v
    return out


# --- values as text ---------------------------------------------------------------------------

def as_text(value: Any, f: Field | None = None) -> str:
    """One stored value as a reader would say it (choice labels, Yes/No, rows counted)."""
    if is_empty(value):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if f is not None and f.choices:
        if isinstance(value, list):
            return "; ".join(f.choice_label(v) for v in value)
        return f.choice_label(value)
    if isinstance(value, list):
        if value and isinstance(value[0], Mapping):
            return f"{len(value)} row(s)"
        return "; ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def values_table(form: Form, values: Mapping[str, Any]) -> pd.DataFrame:
    """Every filled value of an extraction, one line each, rows of groups numbered from 1."""
    out: list[dict[str, str]] = []

    def walk(fields: Sequence[Field], vals: Mapping[str, Any], path: str, label: str) -> None:
        for f in fields:
            v = vals.get(f.id)
            if is_empty(v):
                continue
            p = f"{path}.{f.id}" if path else f.id
            lab = f"{label} › {f.label}" if label else f.label
            if f.type == "group" and isinstance(v, list):
                for i, row in enumerate(v, 1):
                    if isinstance(row, Mapping):
                        walk(f.fields, row, f"{p}[{i}]", f"{lab} {i}")
            else:
                out.append({"field": p, "label": lab, "value": as_text(v, f)})

    walk(form.fields, values, "", "")
    return pd.DataFrame(out, columns=["field", "label", "value"])
