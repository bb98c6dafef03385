"""Generate the demo review's extractions: SYNTHETIC data for the 18 included demo studies.

Everything written here is INVENTED for demonstration — the studies in
``included.csv`` do not exist, and neither do their CMO configurations, quotes, page
numbers, effect data or risk-of-bias judgements. The numbers are drawn so the demo's
tables and figures look like a real review's (effects of plausible size, a few
harmful or mixed results, unintended outcomes, both RoB 2 and ROBINS-I), not to
support any conclusion about real interventions.

For each study in ``included.csv`` the script writes one consensus extraction per
shipped form (study characteristics, TIDieR intervention description, CMO
configurations, outcome data, risk of bias) to ``extractions.json``: a list of
``{study_key, short_citation, form_id, form_version, values}``. Every set of values is
validated against its form before anything is written; the script stops naming the
study and field if one does not validate.

Deterministic: each study draws from its own ``random.Random`` seeded with a string,
so re-running gives the same bytes and adding a study never changes the others.
Run: ``.venv/bin/python data/demo/make_extractions.py [--out PATH]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import re
import sys
from pathlib import Path

from review.extraction.forms import FormLibrary, load_forms, validate_values

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = "review-demo-extractions-2024"

TYPE_CODES = {
    "mentoring": "mentoring",
    "peer support": "peer_support",
    "family support": "family_support",
    "school linkage": "school_linkage",
    "community capacity building": "community_capacity_building",
    "service integration": "service_integration",
}
#: Extra components of some multi-component demo interventions.
EXTRA_TYPES = {
    "adeyemi2023": ["digital_connection"],
    "kowalczyk2022": ["social_skills_training"],
    "lefebvre2020": ["school_linkage"],
    "tremblay2020": ["community_capacity_building"],
}
TYPE_SETTINGS = {
    "mentoring": ["community", "school"],
    "peer_support": ["school", "community", "youth_service"],
    "family_support": ["home", "community"],
    "school_linkage": ["school", "community"],
    "community_capacity_building": ["community", "youth_service"],
    "service_integration": ["mental_health_service", "primary_care", "social_care"],
}
TYPE_ADDRESSES = {
    "mentoring": ["Child or young person"],
    "peer_support": ["Child or young person"],
    "family_support": ["Child or young person", "Parent or carer"],
    "school_linkage": ["Child or young person", "School"],
    "community_capacity_building": ["Child or young person", "Community"],
    "service_integration": ["Child or young person", "Parent or carer"],
}
#: Synthetic "true" standardised effects per type, for drawing plausible data.
TYPE_EFFECT = {
    "mentoring": 0.28,
    "peer_support": 0.22,
    "family_support": 0.15,
    "school_linkage": 0.10,
    "community_capacity_building": 0.12,
    "service_integration": 0.06,
}
POPULATION_RULES = [
    (r"care-experienced", ["care_experience"]),
    (r"refugee|migrant", ["refugee_migrant"]),
    (r"socio-economically disadvantaged|deprived", ["socio_economic_disadvantage"]),
    (r"LGBTQ", ["sexual_orientation", "gender"]),
    (r"autistic|special educational needs", ["send_neurodivergence"]),
    (r"long-term|mental health|socially isolated", ["ill_health"]),
    (r"young carers", ["young_carers"]),
    (r"at risk of school exclusion", ["send_neurodivergence", "socio_economic_disadvantage"]),
]
DESIGN_RULES = [
    (r"cluster", "Cluster randomised trial"),
    (r"^randomised controlled trial", "Randomised controlled trial"),
    (r"quasi-experimental|non-randomised|matched controlled", "Non-randomised controlled study"),
    (r"controlled before-after", "Controlled before-after study"),
    (r"cohort", "Cohort study"),
]
RANDOMISED = {"Randomised controlled trial", "Cluster randomised trial"}

# Outcome domains: (measure, scale mean, scale SD, higher is better?)
MEASURES = {
    "loneliness": [
        ("UCLA Loneliness Scale v3 (20 items)", 42.0, 9.5, False),
        ("LACA peer-related loneliness subscale", 27.0, 7.0, False),
        ("PROMIS Pediatric Social Isolation", 52.0, 9.0, False),
    ],
    "social_support": [("Multidimensional Scale of Perceived Social Support", 58.0, 12.0, True)],
    "self_esteem": [("Rosenberg Self-Esteem Scale", 18.5, 5.0, True)],
    "hope": [("Children's Hope Scale", 24.0, 6.0, True)],
    "depression": [
        ("Short Mood and Feelings Questionnaire", 8.5, 6.0, False),
        ("CES-DC", 17.0, 10.0, False),
    ],
    "anxiety": [("GAD-7", 7.0, 5.0, False), ("RCADS generalised anxiety", 6.5, 4.0, False)],
    "wellbeing": [("WEMWBS", 46.0, 8.5, True), ("SWEMWBS", 21.5, 4.0, True)],
    "school_belonging": [("Psychological Sense of School Membership", 3.4, 0.7, True)],
    "school_attendance": [("Persistent absence, school records", 0.0, 0.0, False)],
}
TITLE_OUTCOMES = [
    (r"loneliness|social isolation", "loneliness"),
    (r"social support|social connectedness|peer relationships", "social_support"),
    (r"belonging", "school_belonging"),
    (r"wellbeing", "wellbeing"),
    (r"depress", "depression"),
    (r"distress|emotional difficulties", "anxiety"),
]

# CMO templates per intervention type. {pop} is the study's population.
CMOS = {
    "mentoring": [
        (
            "{pop} with few adults they could rely on",
            "The same trained volunteer met them every week",
            "They came to trust an adult who kept turning up",
            ["relationship_consistency", "trust_building"],
            "Felt less lonely",
            "loneliness",
            "Intended",
            "She never missed a week, so I knew I could tell her things.",
        ),
        (
            "{pop} who had come to see asking for help as weakness",
            "Mentors talked openly about times they had needed help",
            "Seeking support came to seem normal and worthwhile",
            ["attitudes_to_support", "role_modelling"],
            "Drew more on friends and family",
            "social_support",
            "Intended",
            "If he could ask for help, then so could I.",
        ),
        (
            "{pop} used to adults deciding for them",
            "Young people chose the activities done with their mentor",
            "Having a say made them want to keep coming",
            ["motivation_to_engage"],
            "Stayed engaged for the whole programme",
            "wellbeing",
            "Intended",
            "It was the first thing that felt like mine.",
        ),
        (
            "Matches that ended before the planned twelve months",
            "A mentoring relationship that stopped abruptly",
            "Young people felt let down by another adult",
            ["relationship_consistency"],
            "Renewed feelings of rejection",
            "loneliness",
            "Unintended",
            "Just when I trusted him, he was gone.",
        ),
        (
            "{pop} who rarely felt listened to",
            "Unhurried time to talk without an agenda",
            "Feeling heard and taken seriously",
            ["heard_and_validated"],
            "Higher self-esteem",
            "self_esteem",
            "Intended",
            "She actually listened, she didn't just tell me what to do.",
        ),
    ],
    "peer_support": [
        (
            "{pop} who believed nobody else felt like them",
            "Groups of young people with the same experience",
            "Realising they were not the only one",
            ["shared_identity", "reduced_stigma"],
            "Felt less alone",
            "loneliness",
            "Intended",
            "Everyone in the room just got it.",
        ),
        (
            "{pop} used to being the one who needs help",
            "Chances to support other group members",
            "Feeling useful and valued by peers",
            ["reciprocity", "self_efficacy"],
            "Higher self-esteem",
            "self_esteem",
            "Intended",
            "Helping someone else made me feel I had something to give.",
        ),
        (
            "{pop} anxious in social situations",
            "Structured buddy activities repeated each week",
            "Social skills practised until they felt natural",
            ["social_skills_practice", "self_efficacy"],
            "More confident making friends",
            "social_support",
            "Intended",
            "By week six I didn't have to think about it.",
        ),
        (
            "{pop} unable to meet peers in person",
            "A moderated online space available at any time",
            "Feeling safe enough to share and to belong",
            ["trust_building", "sense_of_belonging"],
            "Better wellbeing",
            "wellbeing",
            "Intended",
            "The moderators made it feel safe to say how I really was.",
        ),
        (
            "Groups in which a few confident members dominated",
            "Open group discussion",
            "Quieter members felt on the outside of the group",
            ["sense_of_belonging"],
            "Some quieter members withdrew",
            "loneliness",
            "Unintended",
            "I stopped going because nobody noticed if I spoke.",
        ),
    ],
    "family_support": [
        (
            "Parents of {pop} who were isolated themselves",
            "Parent groups meeting other local families",
            "Parents built their own support networks and drew on them for their children",
            ["parents_networks"],
            "Children reported more support at home",
            "social_support",
            "Intended",
            "Once I knew other mums, we started doing things together with the kids.",
        ),
        (
            "{pop} whose parents found it hard to talk about feelings",
            "Coaching parents to listen before advising",
            "Children felt heard at home",
            ["heard_and_validated"],
            "Fewer depressive symptoms",
            "depression",
            "Intended",
            "Mum asks me how my day was and waits for the answer now.",
        ),
        (
            "Families new to the area",
            "Family activities held in community venues",
            "The family came to feel part of the neighbourhood",
            ["sense_of_belonging", "parents_networks"],
            "Children felt less lonely",
            "loneliness",
            "Intended",
            "We know people on our street now.",
        ),
        (
            "Families who did not know which services existed",
            "A key worker who helped families reach services",
            "Families trusted the worker and took up help they had not known about",
            ["navigation_to_services", "trust_building"],
            "Less anxiety",
            "anxiety",
            "Intended",
            "She made the phone calls with us.",
        ),
        (
            "Parents who had had social services involvement",
            "Home visits by a family worker",
            "Some parents experienced visits as surveillance",
            ["trust_building"],
            "Some families disengaged",
            "wellbeing",
            "Unintended",
            "I felt like I was being checked on.",
        ),
    ],
    "school_linkage": [
        (
            "{pop} who did not take part in anything outside lessons",
            "A link worker who connected pupils to after-school and community clubs",
            "Pupils found activities they wanted to join",
            ["navigation_to_services", "motivation_to_engage"],
            "Felt less lonely",
            "loneliness",
            "Intended",
            "I didn't know the club existed until she took me.",
        ),
        (
            "{pop} with little contact between home and school",
            "Regular contact between staff and families",
            "Pupils felt staff knew and cared about them",
            ["sense_of_belonging", "heard_and_validated"],
            "Stronger school belonging",
            "school_belonging",
            "Intended",
            "Sir knew what was going on at home, so he got it.",
        ),
        (
            "{pop} with patchy attendance",
            "A named adult in school to go to each morning",
            "Pupils trusted an adult who was always there",
            ["relationship_consistency", "trust_building"],
            "Better attendance",
            "school_attendance",
            "Intended",
            "Knowing she'd be at the gate got me in.",
        ),
        (
            "Pupils referred in front of classmates",
            "Being singled out for referral to the link worker",
            "Pupils felt labelled as a problem",
            ["reduced_stigma"],
            "Lower self-esteem for some",
            "self_esteem",
            "Unintended",
            "Everyone knew why I was going to see her.",
        ),
    ],
    "community_capacity_building": [
        (
            "{pop} with few places to go",
            "Young people planned and ran community activities",
            "A sense of ownership made them want to take part",
            ["motivation_to_engage", "sense_of_belonging"],
            "Felt less lonely",
            "loneliness",
            "Intended",
            "It's our hub, we decided what goes on.",
        ),
        (
            "{pop} who felt they had nothing to offer",
            "Volunteering roles for young people",
            "Giving something back",
            ["reciprocity", "self_efficacy"],
            "More hopeful about the future",
            "hope",
            "Intended",
            "People thanked me. That never happened before.",
        ),
        (
            "{pop} in neighbourhoods without youth provision",
            "Welcoming hubs open in the evenings",
            "A safe place to practise getting on with others",
            ["sense_of_belonging", "social_skills_practice"],
            "More friends to rely on",
            "social_support",
            "Intended",
            "I made friends I wouldn't have met at school.",
        ),
    ],
    "service_integration": [
        (
            "{pop} passed between services",
            "One front door for health, social care and youth work",
            "Not having to repeat their story; feeling heard",
            ["heard_and_validated", "navigation_to_services"],
            "Less anxiety",
            "anxiety",
            "Intended",
            "For once I only had to explain it one time.",
        ),
        (
            "{pop} who had seen many different professionals",
            "The same key worker across services",
            "Trusting one consistent person",
            ["relationship_consistency", "trust_building"],
            "Fewer depressive symptoms",
            "depression",
            "Intended",
            "He stuck with me through all of it.",
        ),
        (
            "{pop} wary of mental health services",
            "Youth workers alongside clinicians in a youth-friendly space",
            "Help-seeking felt less stigmatising",
            ["reduced_stigma", "attitudes_to_support"],
            "More support sought and received",
            "social_support",
            "Intended",
            "It didn't feel like going to a clinic.",
        ),
        (
            "Young people who waited weeks for a first appointment",
            "A single hub with a waiting list",
            "Hope that help was coming faded",
            ["motivation_to_engage"],
            "Loss of hope; some never returned",
            "hope",
            "Unintended",
            "By the time they called I'd given up.",
        ),
    ],
    "digital_connection": [
        (
            "{pop} who could not travel to groups",
            "Video meet-ups with peers",
            "Keeping in touch made them feel part of a group",
            ["sense_of_belonging"],
            "Felt less lonely",
            "loneliness",
            "Intended",
            "Seeing faces made it real.",
        ),
    ],
    "social_skills_training": [
        (
            "{pop} who struggled with peer play",
            "Parents and children practising social skills together at home",
            "Repeated practice built confidence",
            ["social_skills_practice", "self_efficacy"],
            "Better peer relationships",
            "social_support",
            "Intended",
            "We practised the same games every night.",
        ),
    ],
}

TIDIER = {
    "mentoring": dict(
        name="Volunteer mentoring programme",
        why="Programme theory: a stable relationship with a caring non-parental adult "
        "provides support, role modelling and trust that generalise to other relationships.",
        materials="Mentor handbook; activity cards; match agreement.",
        procedures="Matching by interests; weekly one-to-one meetings doing activities the "
        "young person chooses; monthly mentor supervision.",
        who="Trained adult volunteers (two days' induction), supervised by a coordinator.",
        providers=["Trained volunteer"],
        modes=["Face to face"],
        fmt=["Individual"],
    ),
    "peer_support": dict(
        name="Peer support groups",
        why="Meeting peers with shared experience reduces stigma and isolation and offers "
        "chances to both give and receive support.",
        materials="Facilitator guide; session plans.",
        procedures="Weekly facilitated groups combining structured activities and open "
        "discussion; buddy pairs between sessions.",
        who="Trained peer facilitators with youth worker support.",
        providers=["Peer", "Youth worker"],
        modes=["Face to face"],
        fmt=["Group"],
    ),
    "family_support": dict(
        name="Family support programme",
        why="Strengthening parents' own networks and parent–child communication gives "
        "children more support at home and in the community.",
        materials="Parent workbook; family activity pack.",
        procedures="Home visits and parent groups; coached practice of listening skills; "
        "family activities in community venues.",
        who="Family support workers with a social work or early years background.",
        providers=["Social worker", "Other"],
        modes=["Face to face"],
        fmt=["Family", "Group"],
    ),
    "school_linkage": dict(
        name="School–community link worker",
        why="Linking pupils and families with school staff and community activities "
        "builds belonging and widens young people's networks.",
        materials="Directory of local activities; referral form.",
        procedures="Referral by pastoral staff; assessment meeting; accompanied visits to "
        "clubs and services; termly reviews with family and school.",
        who="Link workers employed by the local authority, based in schools.",
        providers=["Youth worker", "Teacher or school staff"],
        modes=["Face to face"],
        fmt=["Individual", "Family"],
    ),
    "community_capacity_building": dict(
        name="Youth-led community hubs",
        why="Giving young people ownership of local provision builds belonging, purpose "
        "and connections across the neighbourhood.",
        materials="Small grants; hub venues; planning toolkit.",
        procedures="Youth steering groups plan and run activities; volunteering roles; "
        "evening opening.",
        who="Community development workers and youth volunteers.",
        providers=["Youth worker", "Trained volunteer"],
        modes=["Face to face"],
        fmt=["Group"],
    ),
    "service_integration": dict(
        name="Integrated youth hub",
        why="Joining up mental health, social care and youth work removes gaps between "
        "services and the need to retell one's story.",
        materials="Shared case record; single referral form.",
        procedures="Single point of access; joint assessment; a key worker coordinating "
        "care across services.",
        who="Multidisciplinary team: clinicians, social workers, youth workers.",
        providers=["Mental health professional", "Social worker", "Youth worker"],
        modes=["Face to face", "Telephone"],
        fmt=["Individual"],
    ),
}

ROB2_SCALE = ("Low risk of bias", "Some concerns", "High risk of bias")
ROBINS_SCALE = (
    "Low risk of bias",
    "Moderate risk of bias",
    "Serious risk of bias",
    "Critical risk of bias",
)


def rng_for(*parts: object) -> random.Random:
    """A generator private to one study and purpose (string seeds hash deterministically)."""
    return random.Random(":".join([SEED, *map(str, parts)]))


def _first(rules, text: str, what: str, key: str):
    for pattern, value in rules:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return value
    raise ValueError(f"included.csv, study {key}: no {what} rule matches {text!r}")


def targeted_groups(population: str) -> list[str]:
    groups: list[str] = []
    for pattern, codes in POPULATION_RULES:
        if re.search(pattern, population, flags=re.IGNORECASE):
            groups += [c for c in codes if c not in groups]
    return groups


def study_characteristics(s: dict, types: list[str], rng: random.Random) -> dict:
    design = _first(DESIGN_RULES, s["design"], "design", s["key"])
    groups = targeted_groups(s["population"])
    ages = re.search(r"aged (\d+)-(\d+)", s["population"])
    primary = types[0]
    settings = TYPE_SETTINGS[primary][: rng.choice((1, 2))]
    values = {
        "design": design,
        "country": s["country"],
        "settings": settings,
        "population": s["population"][0].upper() + s["population"][1:] + " (synthetic demo).",
        "targeting": "Targeted" if groups else "Universal",
        "sample_size": int(s["n"]),
        "addresses": TYPE_ADDRESSES[primary],
        "intervention_types": types,
        "comparator": rng.choice(("Usual care or services", "Waiting list"))
        if design in RANDOMISED
        else rng.choice(("Usual care or services", "No intervention")),
        "funding": "Synthetic demo study: no funding.",
    }
    if groups:
        values["targeted_groups"] = groups
    if ages:
        lo, hi = int(ages.group(1)), int(ages.group(2))
        values.update(age_min=lo, age_max=hi, age_mean=round(rng.uniform(lo, hi), 1))
    return values


def intervention_description(s: dict, types: list[str], rng: random.Random) -> dict:
    t = TIDIER[types[0]]
    weeks = rng.choice((10, 12, 16, 24, 36, 52))
    sessions = weeks if rng.random() < 0.6 else weeks // 2
    minutes = rng.choice((45, 60, 90))
    return {
        "name": f"{t['name']} ({s['first_author']} {s['year']}, synthetic)",
        "why": t["why"],
        "what_materials": t["materials"],
        "what_procedures": t["procedures"],
        "who_provided": t["who"],
        "provider_types": t["providers"],
        "how_modes": (["Online"] if "digital_connection" in types else t["modes"]),
        "how_format": t["fmt"],
        "where": f"Delivered in {s['country']}.",
        "settings": TYPE_SETTINGS[types[0]][:1],
        "when_how_much": f"{sessions} sessions of {minutes} minutes over {weeks} weeks.",
        "sessions": sessions,
        "session_minutes": minutes,
        "duration_weeks": weeks,
        "tailoring": "Activities chosen with each young person." if rng.random() < 0.6 else "",
        "modifications": "None reported."
        if rng.random() < 0.7
        else "Some sessions moved online during school closures.",
        "how_well_planned": "Session logs and supervision records.",
        "how_well_actual": f"{rng.randint(55, 92)}% of planned sessions delivered.",
    }


def _lower(text: str) -> str:
    """Lower-case the first letter unless the text starts with an acronym (LGBTQ+)."""
    first = text.split()[0]
    return text if len(first) > 1 and first.rstrip("+").isupper() else text[0].lower() + text[1:]


def context_mechanism_outcome(s: dict, types: list[str], rng: random.Random) -> dict:
    pop = s["population"]
    pop = re.sub(r"\s+aged \d+-\d+$", "", pop)
    pool = CMOS[types[0]]
    chosen = rng.sample(pool, k=min(len(pool), rng.choice((2, 3, 3, 4))))
    rows = []
    for ctx, res, reason, codes, outcome, outcome_code, kind, quote in chosen:
        rows.append(
            (
                types[0] if len(types) > 1 else None,
                ctx,
                res,
                reason,
                codes,
                outcome,
                outcome_code,
                kind,
                quote,
            )
        )
    for extra in types[1:]:
        ctx, res, reason, codes, outcome, outcome_code, kind, quote = rng.choice(CMOS[extra])
        rows.append((extra, ctx, res, reason, codes, outcome, outcome_code, kind, quote))
    configurations = []
    for component, ctx, res, reason, codes, outcome, outcome_code, kind, quote in rows:
        context = ctx.format(pop=pop)
        context = context[0].upper() + context[1:]
        row = {
            "context": context,
            "mechanism_resource": res,
            "mechanism_reasoning": reason,
            "mechanism_codes": list(codes),
            "outcome": outcome,
            "outcome_code": outcome_code,
            "outcome_type": kind,
            "evidence": "Stated by the authors"
            if rng.random() < 0.7
            else "Inferred by the reviewer",
            "quote": f"“{quote}” (synthetic participant quote)",
            "page": f"p. {rng.randint(3, 14)}",
            "if_then": f"If {_lower(context)} and {_lower(res)}, then "
            f"{_lower(outcome)}, because {_lower(reason)}.",
        }
        if component:
            row["component"] = component
        configurations.append(row)
    return {
        "intervention_types": types,
        "programme_theory": TIDIER[types[0]]["why"],
        "configurations": configurations,
    }


def _continuous(
    rng, d: float, n_i: int, n_c: int, mean: float, sd: float, higher_better: bool
) -> dict:
    sign = 1 if higher_better else -1
    m_c = mean + rng.gauss(0, 0.05) * sd
    m_i = m_c + sign * d * sd
    return {
        "kind": "continuous",
        "intervention": {
            "n": n_i,
            "mean": round(m_i, 2),
            "sd": round(sd * rng.uniform(0.9, 1.1), 2),
        },
        "comparator": {"n": n_c, "mean": round(m_c, 2), "sd": round(sd * rng.uniform(0.9, 1.1), 2)},
    }


def _smd(d: float, n_i: int, n_c: int, higher_better: bool) -> dict:
    # Effect sizes are reported here as "higher = more of the outcome", like most papers.
    g = d if higher_better else -d
    se = math.sqrt(1 / n_i + 1 / n_c + g * g / (2 * (n_i + n_c)))
    return {
        "kind": "effect_size",
        "measure": "SMD",
        "estimate": round(g, 3),
        "ci_lower": round(g - 1.96 * se, 3),
        "ci_upper": round(g + 1.96 * se, 3),
        "n": n_i + n_c,
    }


def outcome_data(s: dict, types: list[str], groups: list[str], rng: random.Random) -> dict:
    domains: list[str] = []
    for pattern, code in TITLE_OUTCOMES:
        if re.search(pattern, s["title"], flags=re.IGNORECASE) and code not in domains:
            domains.append(code)
    if "loneliness" not in domains:
        domains.insert(0, "loneliness")
    if rng.random() < 0.6:
        extra = rng.choice(["self_esteem", "hope", "anxiety", "wellbeing", "school_attendance"])
        if extra not in domains:
            domains.append(extra)
    true_d = TYPE_EFFECT[types[0]] + rng.gauss(0, 0.18)
    n = int(s["n"])
    n_i = max(10, int(n * rng.uniform(0.40, 0.46)))
    n_c = max(10, int(n * rng.uniform(0.38, 0.45)))
    results = []
    for i, domain in enumerate(domains):
        measure, mean, sd, higher = rng.choice(MEASURES[domain])
        d = true_d * (1.0 if i == 0 else rng.uniform(0.3, 1.2)) + rng.gauss(0, 0.08)
        row = {
            "outcome": domain,
            "measure": measure,
            "time_point": "post-intervention",
            "weeks_from_baseline": rng.choice((12, 24, 52)),
            "direction_of_benefit": "Higher is better" if higher else "Lower is better",
        }
        if domain == "school_attendance":
            p_c = rng.uniform(0.15, 0.3)
            p_i = max(0.02, p_c * math.exp(-d))
            row["effect"] = {
                "kind": "dichotomous",
                "intervention": {"events": round(p_i * n_i), "total": n_i},
                "comparator": {"events": round(p_c * n_c), "total": n_c},
            }
        else:
            form = rng.random()
            if form < 0.65:
                row["effect"] = _continuous(rng, d, n_i, n_c, mean, sd, higher)
            elif form < 0.88:
                row["effect"] = _smd(d, n_i, n_c, higher)
            else:
                row["reported_direction"] = (
                    "Favours intervention"
                    if d > 0.1
                    else "No difference"
                    if d > -0.1
                    else "Favours comparator"
                )
                row["notes"] = "Only the direction was reported (synthetic)."
        results.append(row)
        if i == 0 and rng.random() < 0.45:
            follow = dict(row, time_point="12-month follow-up", weeks_from_baseline=64)
            follow.pop("effect", None)
            follow.pop("reported_direction", None)
            follow.pop("notes", None)
            fd = d * rng.uniform(-0.6, 0.8)
            follow["effect"] = _continuous(
                rng, fd, int(n_i * 0.8), int(n_c * 0.8), mean, sd, higher
            )
            results.append(follow)
    if groups and len(groups) > 1 or (not groups and rng.random() < 0.6):
        sub = groups[0] if groups else rng.choice(["gender", "socio_economic_disadvantage"])
        measure, mean, sd, higher = MEASURES["loneliness"][0]
        sd_d = true_d + rng.gauss(0, 0.3)
        results.append(
            {
                "outcome": "loneliness",
                "measure": measure,
                "time_point": "post-intervention",
                "direction_of_benefit": "Lower is better",
                "subgroup": sub,
                "effect": _continuous(
                    rng, sd_d, max(8, n_i // 3), max(8, n_c // 3), mean, sd, higher
                ),
                "notes": "Subgroup analysis (synthetic).",
            }
        )
    return {"outcomes": results}


def _weighted(rng: random.Random, scale, weights) -> str:
    return rng.choices(scale, weights=weights, k=1)[0]


def risk_of_bias(s: dict, design: str, domains: list[str], rng: random.Random) -> dict:
    result = f"{domains[0].replace('_', ' ').capitalize()}, post-intervention"
    if design in RANDOMISED:
        values = {
            "tool": "RoB 2",
            "tool_version": "RoB 2, 22 August 2019",
            "result_assessed": result,
            "effect_of_interest": "Assignment to intervention (intention to treat)",
        }
        weights = [(7, 3, 1), (4, 5, 1), (6, 3, 1), (2, 6, 2), (6, 3, 1)]
        judgements = [_weighted(rng, ROB2_SCALE, w) for w in weights]
        for i, j in enumerate(judgements, start=1):
            values[f"rob2_d{i}"] = j
            values[f"rob2_d{i}_support"] = f"Synthetic judgement for domain {i}."
        worst = max(judgements, key=ROB2_SCALE.index)
        values["rob2_overall"] = worst
        values["rob2_overall_support"] = "Overall judgement follows the worst domain (synthetic)."
        return values
    values = {
        "tool": "ROBINS-I",
        "tool_version": "ROBINS-I, 19 September 2016",
        "result_assessed": result,
    }
    weights = [
        (1, 5, 4, 1),
        (3, 5, 2, 0),
        (6, 3, 1, 0),
        (4, 5, 1, 0),
        (4, 4, 2, 0),
        (2, 6, 2, 0),
        (5, 4, 1, 0),
    ]
    judgements = []
    for i, w in enumerate(weights, start=1):
        j = _weighted(rng, ROBINS_SCALE, w)
        if rng.random() < 0.06:
            j = "No information"
        judgements.append(j)
        values[f"robins_d{i}"] = j
        values[f"robins_d{i}_support"] = f"Synthetic judgement for domain {i}."
    graded = [j for j in judgements if j in ROBINS_SCALE]
    values["robins_overall"] = max(graded, key=ROBINS_SCALE.index)
    values["robins_overall_support"] = "Overall judgement follows the worst domain (synthetic)."
    return values


def build(included: list[dict], library: FormLibrary) -> list[dict]:
    out = []
    for s in included:
        key = s["key"]
        base = s["intervention_type"].strip().lower()
        if base not in TYPE_CODES:
            raise ValueError(f"included.csv, study {key}: unknown intervention_type {base!r}")
        types = [TYPE_CODES[base], *EXTRA_TYPES.get(key, [])]
        chars = study_characteristics(s, types, rng_for(key, "characteristics"))
        outcomes = outcome_data(
            s, types, chars.get("targeted_groups", []), rng_for(key, "outcomes")
        )
        domains = [r["outcome"] for r in outcomes["outcomes"]]
        forms = {
            "study_characteristics": chars,
            "intervention_description": intervention_description(s, types, rng_for(key, "tidier")),
            "context_mechanism_outcome": context_mechanism_outcome(s, types, rng_for(key, "cmo")),
            "outcome_data": outcomes,
            "risk_of_bias": risk_of_bias(s, chars["design"], domains, rng_for(key, "rob")),
        }
        citation = f"{s['first_author']} {s['year']}"
        for form_id, values in forms.items():
            form = library.get(form_id)
            values = {k: v for k, v in values.items() if v not in ("", None, [])}
            problems = validate_values(form, values)
            if problems:
                raise ValueError(f"study {key}, form {form_id}: " + "; ".join(map(str, problems)))
            out.append(
                {
                    "study_key": key,
                    "short_citation": citation,
                    "form_id": form_id,
                    "form_version": form.version,
                    "values": values,
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--included", type=Path, default=HERE / "included.csv")
    parser.add_argument("--forms", type=Path, default=ROOT / "extraction_forms")
    parser.add_argument("--out", type=Path, default=HERE / "extractions.json")
    args = parser.parse_args(argv)
    with args.included.open(encoding="utf-8", newline="") as handle:
        included = list(csv.DictReader(handle))
    records = build(included, load_forms(args.forms))
    text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    args.out.write_text(text, encoding="utf-8")
    studies = len({r["study_key"] for r in records})
    print(f"wrote {len(records)} synthetic extractions for {studies} studies to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
