"""Build the bundled demo review: import, deduplicate, replay a team's decisions, extract.

The demo is what a new user clicks through, so it must reach every stage: some
records still to screen (so the queue has work), conflicts waiting for the lead,
reports not retrieved, full-text exclusions with reasons, studies with more than
one report, extractions for every included study, and a ranking. Decisions are
replayed from the answer key the generator wrote (``data/demo/truth.csv``), as
two reviewers with a few planned disagreements; nothing is hard-coded here
except which share of the easy exclusions is left unscreened.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from review.resources import demo_dir
from review.stages import Stage
from review.store import Store, StoreError, open_store, repo
from review.store.models import Extraction, Report, Study

DEMO_DIR = demo_dir()
#: The demo review's title; ``review demo`` reuses or rebuilds only a review with this title.
DEMO_TITLE = ("Social support interventions for loneliness and mental health in children and "
              "young people (demo)")
ACCOUNTS = (("lead", "Lead author (demo)", "lead", "lead-demo"),
            ("ana", "Ana (demo reviewer)", "reviewer", "ana-demo"),
            ("ben", "Ben (demo reviewer)", "reviewer", "ben-demo"))
KIND = {"database": "database", "register": "register", "other method": "citation",
        "website": "website", "organisation": "organisation", "citation": "citation"}
#: Share of clear title/abstract exclusions left unscreened so the queue has work.
UNSCREENED_SHARE = 0.3
TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _stable_fraction(text: str) -> float:
    """A number in [0, 1) fixed by the text, so the demo is the same on every machine."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


def is_demo(db: str | Path) -> bool:
    """Whether the review at ``db`` is the demo (so ``review demo`` may reuse or replace it)."""
    try:
        store = open_store(db, create=False)
    except StoreError:  # not a review at all (or not readable): certainly not the demo
        return False
    try:
        return repo.get_settings(store).get("review_title") == DEMO_TITLE
    finally:
        store.close()


def build_demo(db: str | Path, *, data_dir: Path = DEMO_DIR,
               say: Callable[[str], None] = print) -> Store:
    """Create the demo review at ``db`` (which must not exist yet) and return it opened."""
    store = open_store(db)
    if repo.count_records(store):
        raise ValueError(f"{db} already holds a review; remove it or pick another --db")
    truth = {r["ref_id"]: r for r in _read_csv(data_dir / "truth.csv")}
    included = {r["key"]: r for r in _read_csv(data_dir / "included.csv")}
    searches = _read_csv(data_dir / "searches.csv")
    ft_reasons = sorted({r["ft_reason"] for r in truth.values() if r["ft_reason"]})

    repo.set_setting(store, "review_title", DEMO_TITLE)
    repo.set_setting(store, "reviewers_per_record", 2)
    repo.set_setting(store, "exclusion_reasons_full_text", ft_reasons)
    repo.set_setting(store, "highlight_include", [  # "lonel*" matches every word it starts
        "lonel*", "belong*", "social support", "mentor*", "peer support", "family support",
        "school*", "communit*", "young people", "adolescen*", "child*", "youth"])
    repo.set_setting(store, "highlight_exclude", [
        "older adult*", "elderly", "nursing home*", "pharmacolog*", "placebo", "dementia",
        "protocol"])
    ids = {}
    for username, name, role, password in ACCOUNTS:
        ids[username] = repo.add_reviewer(store, username, name, role, password, actor="demo")
    say(f"reviewers: {', '.join(a[0] for a in ACCOUNTS)}")

    from review.io import read_records

    for s in searches:
        imported = read_records(data_dir / s["file"])
        repo.add_source(store, name=s["name"], kind=KIND[s["kind"]], file_name=s["file"],
                        file_format=imported.fmt, sha256=imported.sha256,
                        records=imported.records, missing=imported.missing,
                        search_date=s["search_date"], query=s["query"], actor="demo")
        say(f"imported {len(imported.records)} records from {s['file']} ({s['name']})")

    _deduplicate(store, say)
    ref_of = _record_refs(store, data_dir, searches)
    _screen_title_abstract(store, truth, ref_of, ids, say)
    _full_text(store, truth, ref_of, ids, included, say)
    _extractions(store, data_dir, say)
    _rank(store, say)
    _included(store, say)
    return store


def _included(store: Store, say: Callable[[str], None]) -> None:
    """What the review includes, counted by the one rule PRISMA, the tables and the app use."""
    from review.report.prisma import counts_from_store

    v = counts_from_store(store).values
    say(f"included: {v['new_reports']} reports of {v['new_studies']} studies (PRISMA 2020)")


def _deduplicate(store: Store, say: Callable[[str], None]) -> None:
    from review.dedup.store_ops import deduplicate_review

    summary = deduplicate_review(store, actor="demo")
    say(f"deduplicated: {summary.links_added} duplicates linked, "
        f"{summary.candidates_added} uncertain pairs left for the lead")


def _record_refs(store: Store, data_dir: Path, searches: list[dict]) -> dict[int, str]:
    """record id → the generator's reference id, via (file, position) in records.csv."""
    name_of = {s["file"]: s["name"] for s in searches}
    by_pos = {(name_of[r["file"]], int(r["position"])): r["ref_id"]
              for r in _read_csv(data_dir / "records.csv")}
    with store.session() as s:
        from review.store.models import Record, Source

        rows = s.execute(select(Record.id, Source.name, Record.position).join(Source)).all()
    return {rid: by_pos[(name, pos)] for rid, name, pos in rows}


def _decide_both(store, rec, ids, stage, label, reason, conflict_reason=None, conflict=False):
    """Ana follows the answer key; Ben agrees unless the key plans a conflict here."""
    flipped = {"include": "exclude", "exclude": "include"}[label]
    ben = (flipped, conflict_reason or reason) if conflict else (label, reason)
    for who, (lab, why) in (("ana", (label, reason)), ("ben", ben)):
        repo.add_decision(store, record_id=rec, reviewer_id=ids[who], stage=stage, label=lab,
                          reason=why if lab == "exclude" else None, actor=who)


def _screen_title_abstract(store, truth, ref_of, ids, say) -> None:
    settings = repo.get_settings(store)
    reasons = settings["exclusion_reasons_title_abstract"]
    canon = repo.records_frame(store, canonical_only=True, columns=["title"])
    screened = conflicts = 0
    for rec in canon["record_id"].astype(int):
        t = truth[ref_of[rec]]
        label = t["ta_label"]
        easy = label == "exclude" and not t["conflict"]
        if easy and _stable_fraction(t["ref_id"]) < UNSCREENED_SHARE:
            continue  # left for the demo's reviewers to screen
        reason = reasons[int(_stable_fraction("reason" + t["ref_id"]) * len(reasons))]
        conflict = t["conflict"] == TA
        _decide_both(store, rec, ids, TA, label, reason, t["conflict_reason"] or reason,
                     conflict)
        screened += 1
        if conflict:
            conflicts += 1
            if _stable_fraction("resolve" + t["ref_id"]) < 0.5:  # the lead resolved half
                repo.add_resolution(store, record_id=rec, stage=TA, label=label,
                                    resolved_by=ids["lead"], reason=reason
                                    if label == "exclude" else None,
                                    note="Resolved at the team meeting")
    say(f"title/abstract: {screened} records screened by two reviewers, {conflicts} conflicts")
    repo.ensure_reports(store, actor="demo")


def _full_text(store, truth, ref_of, ids, included, say) -> None:
    with store.session() as s:
        reports = list(s.scalars(select(Report)))
        studies: dict[str, Study] = {}
        for rep in reports:
            t = truth[ref_of[rep.record_id]]
            if t["ft_label"] == "not_retrieved":
                rep.retrieval = "not_retrieved"
                rep.not_retrieved_reason = "Not available from the library or the authors"
            elif t["ft_label"] == "include" and t["key"]:
                if t["key"] not in studies:
                    inc = included[t["key"]]
                    studies[t["key"]] = Study(label=f"{inc['first_author']} {inc['year']}",
                                              note=f"demo key {t['key']}")
                    s.add(studies[t["key"]])
                    s.flush()
                rep.study_id = studies[t["key"]].id
        repo.audit(s, "demo", "full_text_setup", "report", None, studies=len(studies))
    decided = 0
    for rep in reports:
        t = truth[ref_of[rep.record_id]]
        if t["ft_label"] in ("include", "exclude"):
            _decide_both(store, rep.record_id, ids, FT, t["ft_label"], t["ft_reason"] or None,
                         t["conflict_reason"] or None, t["conflict"] == FT)
            decided += 1
    say(f"full text: {len(reports)} reports sought, {decided} assessed, "
        f"{len(studies)} studies grouped from the reports the answer key includes")


def _extractions(store: Store, data_dir: Path, say: Callable[[str], None]) -> None:
    path = data_dir / "extractions.json"
    if not path.exists():
        say("no demo extractions found; skipped")
        return
    items = json.loads(path.read_text(encoding="utf-8"))
    with store.session() as s:
        study_by_key = {st.note.removeprefix("demo key "): st.id
                        for st in s.scalars(select(Study)) if st.note}
        lead = repo_reviewer_id(s, "lead")
        n = 0
        for item in items:
            sid = study_by_key.get(item["study_key"])
            if sid is None:
                continue
            s.add(Extraction(study_id=sid, form_id=item["form_id"],
                             form_version=str(item["form_version"]), reviewer_id=lead,
                             values=item["values"], status="consensus"))
            n += 1
    say(f"extractions: {n} forms for {len(study_by_key)} studies")


def repo_reviewer_id(session, username: str) -> int:
    from review.store.models import Reviewer

    return session.scalars(select(Reviewer.id).where(Reviewer.username == username)).one()


def _rank(store: Store, say: Callable[[str], None]) -> None:
    from review.screening import store_rank

    run = store_rank(store)
    say(f"ranking: {run['ranked']} unscreened records ranked by the {run['model']}")
