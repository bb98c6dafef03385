"""A small review with known full-text outcomes and extractions, for the evidence-table tests.

Built only with the store's own writes (sources, duplicate links, decisions,
resolutions, reports, studies) plus ``Extraction`` rows, the way the app leaves them.
Every extraction is validated against the shipped forms, so the fixture cannot drift
from what a reviewer could really enter.

Records (PubMed unless noted) and where they end up:

=====  ====================================================  ==========================
key    report                                                full text
=====  ====================================================  ==========================
ok19   Okafor 2019, mentoring RCT (authors MEDLINE-style)    include → study "Okafor 2019"
ok17   Okafor 2017, its protocol                             include → study "Okafor 2019"
li21   Lindqvist 2021 (no DOI; its Scopus duplicate has one) include → study "Lindqvist 2021"
sa20   Smith 2020, peer support                              include → study "Smith 2020" (#1)
sb20   Smith 2020, another study                             include → study "Smith 2020" (#2)
na18   Nakamura 2018 (citation searching)                    include, not grouped
wr16   Wright 2016                                           exclude: Wrong comparator
ev15   Evans 2015, a cohort study                            reviewers disagree on the
                                                             reason; lead resolves exclude:
                                                             Wrong study design → study
                                                             "Evans 2015" (extracted early)
nr14   Ng 2014                                               not retrieved
pe13   Park 2013                                             conflict, unresolved
=====  ====================================================  ==========================

Hand-derived expectations used by the tests: 5 included studies (Lindqvist 2021,
Nakamura 2018, Okafor 2019, Smith 2020a, Smith 2020b), 6 reports of them, 2 excluded
reports; mechanism table: Mentoring (2 studies) × Trust-building = Lindqvist 2021 and
Okafor 2019, Mentoring × Consistency = Okafor 2019, Mentoring × Sense of belonging =
Lindqvist 2021, Peer support (1 study) × Reciprocity and × Trust-building = Smith 2020a.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from review.extraction import load_forms
from review.store import Store, repo
from review.store.models import Extraction, Record, Report, Study

FORMS = Path(__file__).resolve().parents[2] / "extraction_forms"
TA, FT = "title_abstract", "full_text"

RECORDS: dict[str, dict[str, Any]] = {
    "ok19": {"title": "Effects of volunteer mentoring on loneliness in care-experienced young "
                      "people: a randomised controlled trial",
             "authors": ["Okafor CN", "Smith JA", "van der Berg, Anna"], "year": 2019,
             "journal": "Journal of Adolescence", "volume": "72", "issue": "3",
             "pages": "45-67", "doi": "10.1016/j.adolescence.2019.01.004", "type": "article"},
    "ok17": {"title": "Volunteer mentoring for care-experienced young people: protocol for a "
                      "randomised controlled trial",
             "authors": ["Okafor CN", "Smith JA"], "year": 2017, "journal": "Trials",
             "volume": "18", "pages": "301", "doi": "10.1186/s13063-017-2040-1",
             "type": "article"},
    "li21": {"title": "School-based cross-age mentoring for refugee adolescents: a controlled "
                      "study of belonging",
             "authors": ["Lindqvist, Elin Maria", "Byrne, Fiona"], "year": 2021,
             "journal": "Journal of Youth and Adolescence", "volume": "50", "issue": "2",
             "pages": "210-224", "type": "article"},
    "sa20": {"title": "Peer support groups for young carers: a cluster randomised trial",
             "authors": ["Smith, Anna"], "year": 2020, "journal": "Child: Care, Health and "
             "Development", "volume": "46", "issue": "4", "pages": "400-410",
             "doi": "10.1111/cch.12001", "type": "article"},
    "sb20": {"title": "Youth clubs and belonging in rural towns", "authors": ["Smith, Bea"],
             "year": 2020, "journal": "Journal of Rural Studies", "volume": "80",
             "pages": "1-9", "doi": "10.1016/j.jrurstud.2020.01.001", "type": "article"},
    "wr16": {"title": "Mentoring versus befriending for lonely adolescents",
             "authors": ["Wright, Tom"], "year": 2016, "journal": "Youth & Society",
             "type": "article"},
    "ev15": {"title": "Friendship groups and loneliness: a cohort study",
             "authors": ["Evans, Ruth"], "year": 2015, "journal": "Journal of Adolescence",
             "type": "article"},
    "nr14": {"title": "An unobtainable report on peer mentoring", "authors": ["Ng, Kim"],
             "year": 2014, "type": "techreport"},
    "pe13": {"title": "A disputed evaluation of family support", "authors": ["Park, Min"],
             "year": 2013, "journal": "Family Process", "type": "article"},
}
CITATION_RECORDS = {
    "na18": {"title": "Structured peer buddy programme for autistic pupils: a cluster "
                      "randomised trial",
             "authors": ["Nakamura, Yui", "Ito, Ken"], "year": 2018,
             "journal": "Journal of Autism and Developmental Disorders", "volume": "48",
             "pages": "100-112", "doi": "10.1007/s10803-018-1000-1", "type": "article"},
}
SCOPUS_DUPLICATE = {"title": RECORDS["li21"]["title"], "authors": ["Lindqvist E.M.", "Byrne F."],
                    "year": 2021, "journal": "J Youth Adolesc",
                    "doi": "10.1007/s10964-021-01400-9", "type": "article"}

CHARACTERISTICS = {
    "okafor": {"design": "Randomised controlled trial", "country": "United Kingdom",
               "settings": ["community"], "population": "Care-experienced young people",
               "targeting": "Targeted", "targeted_groups": ["care_experience"],
               "sample_size": 212, "age_min": 14, "age_max": 21, "age_mean": 18.9,
               "addresses": ["Child or young person"], "intervention_types": ["mentoring"],
               "comparator": "Usual care or services"},
    "lindqvist": {"design": "Non-randomised controlled study", "country": "Sweden",
                  "settings": ["school"], "population": "Newly arrived refugee pupils",
                  "targeting": "Targeted", "targeted_groups": ["refugee_migrant"],
                  "sample_size": 386, "age_min": 12, "age_max": 17,
                  "addresses": ["Child or young person", "School"],
                  "intervention_types": ["mentoring"], "comparator": "No intervention"},
    "smith_a": {"design": "Cluster randomised trial", "country": "Australia",
                "settings": ["community", "online"], "population": "Young carers",
                "targeting": "Universal", "sample_size": 158,
                "addresses": ["Child or young person"], "intervention_types": ["peer_support"],
                "comparator": "Waiting list"},
    "evans": {"design": "Cohort study", "country": "Ireland", "settings": ["school"],
              "population": "Pupils", "targeting": "Universal", "sample_size": 999,
              "addresses": ["Child or young person"], "intervention_types": ["group_activities"],
              "comparator": "No comparator (single group)"},
}


def _cmo(types: list[str], configs: list[tuple[list[str], str]]) -> dict[str, Any]:
    return {"intervention_types": types, "configurations": [
        {"context": f"context {i}", "mechanism_resource": f"resource {i}",
         "mechanism_reasoning": f"reasoning {i}", "mechanism_codes": codes,
         "outcome": "Felt less lonely", "outcome_code": outcome, "outcome_type": "Intended",
         "quote": f"quote {i}", "page": f"p. {i}", "if_then": f"if-then {i}"}
        for i, (codes, outcome) in enumerate(configs, start=1)]}


def _outcome(domain: str, measure: str, lower_better: bool = True) -> dict[str, Any]:
    return {"outcome": domain, "measure": measure, "time_point": "post-intervention",
            "direction_of_benefit": "Lower is better" if lower_better else "Higher is better",
            "reported_direction": "Favours intervention"}


def _rob2(overall: str) -> dict[str, Any]:
    values = {"tool": "RoB 2", "tool_version": "RoB 2, 22 August 2019",
              "result_assessed": "Loneliness, post-intervention",
              "effect_of_interest": "Assignment to intervention (intention to treat)",
              "rob2_overall": overall, "rob2_overall_support": "Worst domain."}
    values.update({f"rob2_d{i}": "Low risk of bias" for i in range(1, 6)})
    return values


def _robins(overall: str) -> dict[str, Any]:
    values = {"tool": "ROBINS-I", "tool_version": "ROBINS-I, 19 September 2016",
              "result_assessed": "Belonging, post-intervention", "robins_overall": overall,
              "robins_overall_support": "Confounding."}
    values.update({f"robins_d{i}": "Moderate risk of bias" for i in range(1, 8)})
    return values


@cache
def _library():
    return load_forms(FORMS)


def build(store: Store) -> dict[str, Any]:
    """Fill ``store`` with the review above; returns record ids, study ids and reviewer ids."""
    repo.set_setting(store, "review_title", "Mentoring and peer support for lonely young people")
    repo.set_setting(store, "reviewers_per_record", 2)
    for name, kind, recs in (("PubMed", "database", list(RECORDS.values())),
                             ("Scopus", "database", [SCOPUS_DUPLICATE]),
                             ("Citation searching", "citation", list(CITATION_RECORDS.values()))):
        repo.add_source(store, name=name, kind=kind, file_name=f"{name}.ris",
                        file_format="ris", sha256=name.ljust(64, "0"), records=recs)
    frame = repo.records_frame(store, columns=["title", "source_id"])
    keys = {**{v["title"]: k for k, v in RECORDS.items()},
            **{v["title"]: k for k, v in CITATION_RECORDS.items()}}
    ids: dict[str, int] = {}
    for rid, title, source in zip(frame["record_id"], frame["title"], frame["source"],
                                  strict=True):
        if source == "Scopus":
            ids["li21_scopus"] = int(rid)
        else:
            ids[keys[title]] = int(rid)
    repo.link_duplicate(store, ids["li21_scopus"], ids["li21"], score=0.98, method="auto")
    with store.session() as s:  # what the dedup run leaves: the DOI the canonical lacked
        s.get(Record, ids["li21"]).merged = {"doi": SCOPUS_DUPLICATE["doi"]}

    ana = repo.add_reviewer(store, "ana")  # no passwords: hashing them is slow and unneeded
    ben = repo.add_reviewer(store, "ben")
    lead = repo.add_reviewer(store, "lead", role="lead")

    def both(key: str, stage: str, a: str, b: str | None = None, reason: str | None = None,
             reason_b: str | None = None) -> None:
        for who, label, why in ((ana, a, reason), (ben, b or a, reason_b or reason)):
            repo.add_decision(store, record_id=ids[key], reviewer_id=who, stage=stage,
                              label=label, reason=why if label == "exclude" else None)

    for key in [*RECORDS, *CITATION_RECORDS]:
        both(key, TA, "include")
    repo.ensure_reports(store)
    for key in ("ok19", "ok17", "li21", "sa20", "sb20", "na18"):
        both(key, FT, "include")
    both("wr16", FT, "exclude", reason="Wrong comparator")
    both("ev15", FT, "exclude", reason="Wrong population", reason_b="Wrong outcome")
    repo.add_resolution(store, record_id=ids["ev15"], stage=FT, label="exclude",
                        reason="Wrong study design", resolved_by=lead)
    both("pe13", FT, "include", "exclude", reason_b="Wrong intervention")

    studies: dict[str, int] = {}
    with store.session() as s:
        reports = {r.record_id: r for r in s.scalars(select(Report))}
        reports[ids["nr14"]].retrieval = "not_retrieved"
        for name, label, members in (("okafor", "Okafor 2019", ("ok19", "ok17")),
                                     ("lindqvist", "Lindqvist 2021", ("li21",)),
                                     ("smith_a", "Smith 2020", ("sa20",)),
                                     ("smith_b", "Smith 2020", ("sb20",)),
                                     ("evans", "Evans 2015", ("ev15",))):
            study = Study(label=label)
            s.add(study)
            s.flush()
            studies[name] = study.id
            for key in members:
                reports[ids[key]].study_id = study.id

    library = _library()
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def extract(study: str, form_id: str, values: dict[str, Any], status: str = "final",
                reviewer: int | None = None, minutes: int = 0) -> None:
        problems = library.validate(form_id, 1, values)
        assert not problems, f"fixture {study}/{form_id}: {problems}"
        with store.session() as s:
            s.add(Extraction(study_id=studies[study], form_id=form_id, form_version="1",
                             reviewer_id=reviewer if reviewer is not None else lead,
                             values=values, status=status,
                             updated_at=start + timedelta(minutes=minutes)))

    extract("okafor", "study_characteristics", CHARACTERISTICS["okafor"])
    extract("okafor", "intervention_description", {
        "name": "Volunteer mentoring programme", "why": "A stable adult relationship.",
        "what_procedures": "Weekly meetings.", "how_modes": ["Face to face"],
        "sessions": 5, "session_minutes": 60, "duration_weeks": 10})
    extract("okafor", "context_mechanism_outcome", _cmo(["mentoring"], [
        (["trust_building", "relationship_consistency"], "loneliness"),
        (["trust_building"], "social_support")]))
    extract("okafor", "outcome_data", {"outcomes": [
        _outcome("loneliness", "UCLA Loneliness Scale v3"),
        _outcome("loneliness", "UCLA Loneliness Scale v3"),
        _outcome("social_support", "MSPSS", lower_better=False)]})
    extract("okafor", "risk_of_bias", _rob2("High risk of bias"))

    # Lindqvist: two reviewers disagreed on the country; the consensus says Sweden.
    norway = {**CHARACTERISTICS["lindqvist"], "country": "Norway"}
    extract("lindqvist", "study_characteristics", norway, "submitted", ana, minutes=1)
    extract("lindqvist", "study_characteristics", norway, "submitted", ben, minutes=2)
    extract("lindqvist", "study_characteristics", CHARACTERISTICS["lindqvist"], "consensus",
            minutes=3)
    extract("lindqvist", "study_characteristics", {**norway, "country": "Denmark"}, "draft",
            ana, minutes=4)
    extract("lindqvist", "context_mechanism_outcome", _cmo(["mentoring"], [
        (["trust_building", "sense_of_belonging"], "school_belonging")]))
    extract("lindqvist", "risk_of_bias", _robins("Serious risk of bias"))

    extract("smith_a", "study_characteristics", CHARACTERISTICS["smith_a"])
    extract("smith_a", "context_mechanism_outcome", _cmo(["peer_support"], [
        (["reciprocity"], "loneliness"), (["trust_building"], "loneliness")]))

    # Evans 2015 was extracted before its report was excluded: it must not reach a table.
    extract("evans", "study_characteristics", CHARACTERISTICS["evans"])
    extract("evans", "context_mechanism_outcome", _cmo(["group_activities"], [
        (["trust_building"], "loneliness")]))
    return {"ids": ids, "studies": studies, "reviewers": {"ana": ana, "ben": ben, "lead": lead}}
