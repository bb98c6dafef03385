"""The full-text stage over the store: reports sought, retrieved or not, decided, grouped.

PRISMA 2020 counts *reports* (sought, not retrieved, assessed, excluded with
reasons) and *studies* (a study may be published as several reports), so these
operations keep the two apart: retrieval and the PDF belong to a report, a
decision belongs to the report's record at stage ``full_text`` (appended via
:func:`review.store.repo.add_decision`, like every decision), and a study is a
label that reports point to. Each write is one transaction with its audit row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select

from review.screening.decisions import sees_everyone, visible_decisions
from review.stages import Stage, counted_mask, current_decisions
from review.stages import included_reports as _included
from review.store import Store, repo
from review.store.accounts import SignedIn
from review.store.files import StoredFile, store_pdf
from review.store.models import Record, Report, Study

STAGE = Stage.FULL_TEXT
#: What a reviewer can decide about a full text (no "maybe": the text is in hand).
FULL_TEXT_LABELS = ("include", "exclude")
REPORT_COLUMNS = [
    "report_id", "record_id", "title", "authors", "year", "journal", "doi", "retrieval",
    "not_retrieved_reason", "pdf_path", "pdf_sha256", "study_id", "study", "title_abstract",
    "label", "status", "reason", "n_reviewers", "duplicate",
]


class FullTextError(ValueError):
    """A full-text action the report's state does not allow; the message says why."""


# --- reading ----------------------------------------------------------------------------------

def reports_frame(store: Store, viewer: SignedIn | None = None,
                  settings: dict[str, Any] | None = None) -> pd.DataFrame:
    """Every report with its record's citation, retrieval state, study and full-text outcome.

    ``title_abstract`` is the record's current final label at title/abstract, so
    a report whose record was later excluded there (a resolved conflict) can be
    flagged rather than silently assessed. ``label``/``status``/``reason`` are
    the stage outcome (see :mod:`review.stages`), which is made of every
    reviewer's decisions: for a ``viewer`` who may not see other reviewers'
    labels (blind mode, see :func:`review.screening.decisions.sees_everyone`) they come
    back empty, so a page cannot show them by mistake. Without a ``viewer``
    (the CLI, reports, a lead's own actions) everything is returned.
    """
    with store.session() as s:
        rows = s.execute(
            select(Report.id, Report.record_id, Record.title, Record.authors, Record.year,
                   Record.journal, Record.doi, Report.retrieval, Report.not_retrieved_reason,
                   Report.pdf_path, Report.pdf_sha256, Report.study_id, Study.label)
            .join(Record, Record.id == Report.record_id)
            .outerjoin(Study, Study.id == Report.study_id)
            .order_by(Report.id)
        ).all()
    df = pd.DataFrame(rows, columns=REPORT_COLUMNS[:13])
    ta = repo.outcomes(store, Stage.TITLE_ABSTRACT).set_index("record_id")["label"]
    ft = repo.outcomes(store, STAGE).set_index("record_id")
    df["title_abstract"] = [ta.get(r) for r in df["record_id"]]
    for col in ("label", "status", "reason"):
        df[col] = [ft[col].get(r) if r in ft.index else None for r in df["record_id"]]
    df["n_reviewers"] = [int(ft["n_reviewers"].get(r, 0)) if r in ft.index else 0
                         for r in df["record_id"]]
    df["study_id"] = df["study_id"].astype("Int64")
    df["duplicate"] = df["record_id"].isin(_linked(store))
    if not _sees_all(store, viewer, settings):
        for col in ("label", "status", "reason"):
            df[col] = None
    return df[REPORT_COLUMNS]


def _linked(store: Store) -> set[int]:
    """Record ids linked (live) as a duplicate: their reports no longer count."""
    with store.session() as s:
        return {int(r) for r in repo.live_links(s)["record_id"]}


def _sees_all(store: Store, viewer: SignedIn | None, settings: dict[str, Any] | None) -> bool:
    """Whether the caller may read everyone's labels (no viewer: a trusted caller)."""
    if viewer is None:
        return True
    return sees_everyone(viewer, repo.get_settings(store) if settings is None else settings)


def my_decisions(store: Store, reviewer_id: int) -> dict[int, dict[str, Any]]:
    """This reviewer's current full-text decision per record (what blind mode lets them see)."""
    cur = current_decisions(repo.decisions_frame(store, STAGE, reviewer_id=reviewer_id))
    return {int(r.record_id): {"label": r.label, "reason": r.reason, "note": r.note}
            for r in cur.itertuples(index=False)}


def all_decisions(store: Store, viewer: SignedIn | None = None,
                  settings: dict[str, Any] | None = None) -> pd.DataFrame:
    """Current full-text decisions of every reviewer ``viewer`` may see, with their names.

    The rows come through :func:`review.screening.decisions.visible_decisions`, so in
    blind mode a reviewer gets only their own. Without a ``viewer`` (a trusted
    caller) every reviewer's decisions are returned.
    """
    if viewer is None:
        rows = repo.decisions_frame(store, STAGE)
    else:
        rows = visible_decisions(store, viewer, STAGE,
                                 repo.get_settings(store) if settings is None else settings)
    cur = current_decisions(rows)
    names = repo.reviewers_frame(store).set_index("reviewer_id")["display_name"]
    cur = cur.copy()
    cur["reviewer"] = [names.get(r, str(r)) for r in cur["reviewer_id"]]
    return cur


def _counting(reports: pd.DataFrame, label: str) -> pd.Series:
    """Reports that count with this final label, by the rule PRISMA and the tables use."""
    ft = {int(r): lab for r, lab in zip(reports["record_id"], reports["label"], strict=True)}
    dups = reports.loc[reports["duplicate"].astype(bool), "record_id"]
    return counted_mask(reports, ft, dups, label)


def included_reports(reports: pd.DataFrame) -> pd.DataFrame:
    """The included reports of :func:`reports_frame`, with their ``study_key``."""
    ft = {int(r): lab for r, lab in zip(reports["record_id"], reports["label"], strict=True)}
    return _included(reports, ft, reports.loc[reports["duplicate"].astype(bool), "record_id"])


def progress_counts(reports: pd.DataFrame) -> dict[str, int]:
    """The numbers a reviewer watches, in PRISMA's words, from :func:`reports_frame`.

    ``included``/``excluded``/``studies`` follow :func:`review.stages.included_reports`, so
    the page shows the numbers ``review prisma`` and ``review tables`` print. ``sought`` and
    ``not_retrieved`` leave out the report of a record later linked as a duplicate (both
    copies got a report before deduplication joined them): PRISMA counts the cluster once.
    """
    counted = ~reports["duplicate"].astype(bool)
    not_retrieved = reports["retrieval"] == "not_retrieved"
    inc = included_reports(reports)
    return {
        "sought": int(counted.sum()),
        "not_retrieved": int((not_retrieved & counted).sum()),
        "with_pdf": int(reports["pdf_path"].map(lambda p: isinstance(p, str) and bool(p)).sum()),
        "assessed": int(reports["label"].isin(FULL_TEXT_LABELS).sum()),
        "included": len(inc),
        "included_studies": int(inc["study_key"].nunique()),
        "excluded": int(_counting(reports, "exclude").sum()),
        "conflicts": int((reports["status"] == "conflict").sum()),
        "awaiting": int((counted & ~not_retrieved & reports["label"].isna()).sum()),
    }


def studies_frame(store: Store, reports: pd.DataFrame | None = None) -> pd.DataFrame:
    """Studies with their reports; ``included`` when any of their reports is included.

    Pass ``reports`` (from :func:`reports_frame`) when the caller already has them.
    """
    reports = reports_frame(store) if reports is None else reports
    with store.session() as s:
        studies = s.execute(select(Study.id, Study.label, Study.note).order_by(Study.id)).all()
    rows = []
    for sid, label, note in studies:
        mine = reports[reports["study_id"] == sid]
        rows.append({
            "study_id": sid, "study": label, "note": note, "reports": len(mine),
            "report_ids": [int(x) for x in mine["report_id"]],
            "included": bool(_counting(mine, "include").any()),
        })
    return pd.DataFrame(rows, columns=["study_id", "study", "note", "reports", "report_ids",
                                       "included"])


def suggest_study_label(authors: Sequence[str] | None, year: int | None) -> str:
    """"Surname Year" from a record's first author, the way reviewers name studies.

    Handles "Smith, J.", "Smith J" and "John Smith"; a record without authors
    gets "Anonymous".
    """
    first = (list(authors or []) or [""])[0].strip()
    if "," in first:
        surname = first.split(",", 1)[0].strip()
    else:
        parts = first.split()
        if len(parts) >= 2 and re.fullmatch(r"(?:[A-Z]\.?-?){1,3}", parts[-1]):
            surname = parts[0]  # "Smith JA"
        else:
            surname = parts[-1] if parts else ""
    return f"{surname or 'Anonymous'} {year if year else 'n.d.'}"


# --- writing ----------------------------------------------------------------------------------

def _report(s, report_id: int) -> Report:
    rep = s.get(Report, report_id)
    if rep is None:
        raise FullTextError(f"there is no report #{report_id}")
    return rep


def _current_count(store: Store, record_id: int) -> int:
    cur = current_decisions(repo.decisions_frame(store, STAGE))
    return int((cur["record_id"] == record_id).sum())


def mark_not_retrieved(store: Store, report_id: int, reason: str, actor: str | None) -> None:
    """Record that the full text could not be obtained, and why (PRISMA counts these).

    Refused once reviewers have assessed the report: a report cannot be both
    assessed and not retrieved.
    """
    reason = (reason or "").strip()
    if not reason:
        raise FullTextError("say why the full text was not retrieved")
    with store.session() as s:
        record_id = _report(s, report_id).record_id
    n = _current_count(store, record_id)
    with store.session() as s:
        rep = _report(s, report_id)
        if n:
            raise FullTextError(f"report #{report_id} already has {n} full-text decision(s); "
                                "it was retrieved and assessed")
        old = rep.retrieval
        rep.retrieval = "not_retrieved"
        rep.not_retrieved_reason = reason
        repo.audit(s, actor, "not_retrieved", "report", rep.id, old=old, reason=reason)


def mark_sought(store: Store, report_id: int, actor: str | None) -> None:
    """Undo "not retrieved": the report is sought again (or retrieved if a PDF is attached)."""
    with store.session() as s:
        rep = _report(s, report_id)
        old, old_reason = rep.retrieval, rep.not_retrieved_reason
        rep.retrieval = "retrieved" if rep.pdf_path else "sought"
        rep.not_retrieved_reason = None
        repo.audit(s, actor, "seek_again", "report", rep.id, old=old, old_reason=old_reason)


def attach_pdf(store: Store, report_id: int, data: bytes, name: str,
               actor: str | None) -> StoredFile:
    """Keep the uploaded PDF with the review and mark the report retrieved.

    ``name`` (the uploaded file's name) only appears in messages and the audit
    log; the file is stored under its hash.
    """
    with store.session() as s:
        _report(s, report_id)  # fail before writing a file for a report that does not exist
    stored = store_pdf(store, data, name)
    with store.session() as s:
        rep = _report(s, report_id)
        old = {"path": rep.pdf_path, "sha256": rep.pdf_sha256, "retrieval": rep.retrieval}
        rep.pdf_path, rep.pdf_sha256 = stored.path, stored.sha256
        rep.retrieval = "retrieved"
        rep.not_retrieved_reason = None
        repo.audit(s, actor, "attach_pdf", "report", rep.id, uploaded_as=name[:200],
                   sha256=stored.sha256, size=stored.size, old=old)
    return stored


def decide(store: Store, *, report_id: int, reviewer_id: int, label: str,
           reason: str | None = None, note: str | None = None, actor: str | None = None,
           request_id: str | None = None) -> int:
    """Append a reviewer's full-text decision on a report; returns the decision id.

    An exclusion needs one of the review's full-text reasons (PRISMA reports
    excluded reports by reason); an inclusion carries none.
    """
    if label not in FULL_TEXT_LABELS:
        raise FullTextError(f"a full-text decision is include or exclude, not {label!r}")
    reasons = list(repo.get_settings(store).get("exclusion_reasons_full_text") or [])
    if label == "exclude":
        if not reason:
            raise FullTextError("choose the reason this report is excluded")
        if reason not in reasons:
            raise FullTextError(f"{reason!r} is not one of the review's full-text reasons: "
                                f"{', '.join(reasons)}")
    else:
        reason = None
    with store.session() as s:
        rep = _report(s, report_id)
        if rep.retrieval == "not_retrieved":
            raise FullTextError(f"report #{report_id} is marked not retrieved; attach its PDF "
                                "or seek it again before deciding")
        record_id = rep.record_id
    if record_id in _linked(store):
        raise FullTextError(f"report #{report_id}'s record #{record_id} is linked as a "
                            "duplicate, so it no longer counts; unmerge it on the Duplicates "
                            "page before deciding")
    return repo.add_decision(store, record_id=record_id, reviewer_id=reviewer_id, stage=STAGE,
                             label=label, reason=reason, note=(note or "").strip() or None,
                             request_id=request_id, actor=actor)


def withdraw(store: Store, *, report_id: int, reviewer_id: int, actor: str | None = None) -> bool:
    """Undo this reviewer's current decision on a report (appends ``retracted``)."""
    with store.session() as s:
        record_id = _report(s, report_id).record_id
    if record_id not in my_decisions(store, reviewer_id):
        return False
    repo.add_decision(store, record_id=record_id, reviewer_id=reviewer_id, stage=STAGE,
                      label="retracted", actor=actor)
    return True


def create_study(store: Store, label: str, report_ids: Iterable[int] = (),
                 actor: str | None = None, note: str | None = None) -> int:
    """A new study holding ``report_ids`` (moved from any study they were in); returns its id."""
    label = (label or "").strip()
    if not label:
        raise FullTextError("a study needs a label, such as 'Smith 2019'")
    ids = sorted({int(r) for r in report_ids})
    with store.session() as s:
        taken = {x.casefold() for x in s.scalars(select(Study.label))}
        if label.casefold() in taken:
            raise FullTextError(f"a study called {label!r} exists already; add a letter "
                                f"({label}b) or add the reports to that study")
        study = Study(label=label, note=note or None)
        s.add(study)
        s.flush()
        moved = _move(s, ids, study.id)
        repo.audit(s, actor, "create_study", "study", study.id, label=label, reports=ids,
                   moved_from=moved)
        return study.id


def assign_to_study(store: Store, report_ids: Iterable[int], study_id: int | None,
                    actor: str | None = None) -> None:
    """Put reports in a study (``None`` takes them out of any study)."""
    ids = sorted({int(r) for r in report_ids})
    with store.session() as s:
        if study_id is not None and s.get(Study, study_id) is None:
            raise FullTextError(f"there is no study #{study_id}")
        moved = _move(s, ids, study_id)
        repo.audit(s, actor, "assign_study", "report", None, reports=ids, study_id=study_id,
                   moved_from=moved)


def _move(s, report_ids: list[int], study_id: int | None) -> dict[str, int | None]:
    moved: dict[str, int | None] = {}
    linked = {int(r) for r in repo.live_links(s)["record_id"]}
    for rid in report_ids:
        rep = _report(s, rid)
        if study_id is not None and rep.record_id in linked:
            raise FullTextError(f"report #{rid}'s record #{rep.record_id} is linked as a "
                                "duplicate, so it counts nowhere; unmerge it before grouping")
        moved[str(rid)] = rep.study_id
        rep.study_id = study_id
    return moved


def create_studies_for_included(store: Store, actor: str | None = None) -> list[int]:
    """One study per included report that is in no study yet, labelled "Surname Year".

    The usual case is one report per study; the lead then only merges the
    exceptions. Labels that clash get a letter (Smith 2019b).
    """
    reports = reports_frame(store)
    todo = reports[(reports["label"] == "include") & reports["study_id"].isna()]
    created: list[int] = []
    if todo.empty:
        return created
    with store.session() as s:
        taken = {x.casefold() for x in s.scalars(select(Study.label))}
        for r in todo.itertuples(index=False):
            base = suggest_study_label(r.authors, None if pd.isna(r.year) else int(r.year))
            label, n = base, 1
            while label.casefold() in taken:
                label = f"{base}{'abcdefghijklmnopqrstuvwxyz'[n] if n < 26 else n}"
                n += 1
            taken.add(label.casefold())
            study = Study(label=label)
            s.add(study)
            s.flush()
            _move(s, [int(r.report_id)], study.id)
            repo.audit(s, actor, "create_study", "study", study.id, label=label,
                       reports=[int(r.report_id)], moved_from={})
            created.append(study.id)
    return created
