"""Generate the bundled demo review's search exports: synthetic, but shaped like real ones.

The demo review asks whether social support interventions (mentoring, peer support, family
support, school linkage, community capacity building, service integration) reduce loneliness
and improve mental health in children and young people aged 5-25. Every title, author,
abstract, identifier and DOI written here is INVENTED. DOIs use the reserved test prefix
``10.5555/``, PMIDs start at 99,000,000 and Scopus EIDs at 2-s2.0-9990..., so nothing can
collide with a real paper.

Why a generator rather than hand-made files: the exports must keep their answer key
(``truth.csv``) in step with hundreds of records, duplicates and deliberate traps, and anyone
must be able to rebuild them byte for byte. Each record draws its random choices from its own
seeded ``random.Random`` (seeded with a string, which Python hashes deterministically), so
adding a record never reshuffles the others.

Run ``python data/demo/make_demo.py`` to rewrite the files next to this script, or
``python data/demo/make_demo.py --out DIR`` to write them elsewhere. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import re
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

SEED = "review-demo-2024"
SEARCH_DATE = "2024-03-15"
SOURCES = ("pubmed", "psycinfo", "scopus", "citation_searching")
FILES = {
    "pubmed": "pubmed.nbib",
    "psycinfo": "psycinfo.ris",
    "scopus": "scopus.csv",
    "citation_searching": "citation_searching.ris",
}
FT_REASONS = (
    "Wrong population (age)",
    "No comparison group",
    "Outcome not measured",
    "Wrong study design",
    "Conference abstract only",
    "Wrong intervention",
)


def rng_for(*parts: object) -> random.Random:
    """A generator private to one record and purpose, so choices stay put when data grows."""
    return random.Random(":".join([SEED, *map(str, parts)]))


# ---------------------------------------------------------------------------------------------
# People and journals
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    surname: str
    given: str

    def initials(self) -> str:
        """'Marie-Ève' -> 'ME', 'Chidinma Adaeze' -> 'CA' (MEDLINE style, no dots)."""
        return "".join(part[0] for part in re.split(r"[\s\-]+", self.given) if part).upper()

    def dotted(self) -> str:
        """'Chidinma Adaeze' -> 'C. A.' and 'Marie-Ève' -> 'M.-È.' as publishers print them."""
        out = []
        for word in self.given.split():
            out.append("-".join(f"{p[0].upper()}." for p in word.split("-")))
        return " ".join(out)


GIVEN = (
    "Aisha", "Ben", "Catherine", "Daniel", "Eleanor", "Farid", "Grace", "Hannah", "Ibrahim",
    "Jessica", "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rachel", "Samuel",
    "Tomás", "Ursula", "Victoria", "William", "Yasmin", "Zoe", "Anders", "Björn", "Chloé",
    "Dorota", "Emre", "Fiona", "Giulia", "Hiroshi", "Ingrid", "Javier", "Katarzyna", "Liam",
    "Mei", "Nikolaos", "Olga", "Pedro", "Queenie", "Rosa", "Siobhán", "Thabo", "Uwe", "Valeria",
    "Wen", "Xavier", "Yusuf", "Zeynep", "Amara", "Bruno", "Ciarán", "Dimitra", "Élodie",
    "François", "Gabriela", "Henrik", "Isabel", "Jae-won", "Kofi", "Lena", "Mateus", "Nadia",
    "Oisín", "Paula", "Ravi", "Sinéad", "Tariq", "Ulla", "Vikram", "Wiebke", "Ye-jin", "Zsófia",
)
MIDDLE = ("J", "M", "A", "L", "K", "R", "E", "S", "T", "C", "P", "D")
SURNAMES = (
    "Patel", "Khan", "Murphy", "Schmidt", "Jansen", "de Vries", "Rossi", "Bianchi", "Fernández",
    "Martínez", "Sørensen", "Nyström", "Kim", "Park", "Chen", "Wang", "Li", "Zhang", "Singh",
    "Sharma", "Mensah", "Osei", "Ndlovu", "Abebe", "Haddad", "Yılmaz", "Demir", "Kaya", "Novak",
    "Horváth", "Dubois", "Moreau", "Bergström", "Virtanen", "Korhonen", "Hughes", "Evans",
    "Campbell", "MacLeod", "Thompson", "Walker", "Robinson", "Clarke", "Baker", "Wright",
    "Mitchell", "Fitzgerald", "Byrne", "Kelly", "Nowak", "Wójcik", "Papadopoulos", "Ivanova",
    "Petrov", "Tanaka", "Suzuki", "Sato", "Gómez", "Pérez", "Oliveira", "Santos", "Costa",
    "Öztürk", "Çelik", "Ahmed", "Hussain", "Ali", "Brennan", "Doyle", "Lund", "Hansen",
    "Johansson", "Eriksson", "Weber", "Fischer", "Schäfer", "Becker", "Jørgensen", "van den Broek",
    "Müller", "García-López", "Ó Súilleabháin", "Nic Aodha", "Mac Giolla", "Lévesque", "Gagnon",
    "Okonkwo", "Boateng", "Mwangi", "Nkosi", "Takahashi", "Yamamoto", "Svensson", "Karlsson",
)


def random_author(rng: random.Random) -> Author:
    given = rng.choice(GIVEN)
    if rng.random() < 0.3:
        given = f"{given} {rng.choice(MIDDLE)}"
    return Author(rng.choice(SURNAMES), given)


def author_list(rng: random.Random, first: Author | None = None, lo: int = 2, hi: int = 7) -> list:
    """A byline with no surname repeated, the first author fixed when the study has one."""
    authors = [first] if first else []
    want = rng.randint(lo, hi)
    while len(authors) < want:
        cand = random_author(rng)
        if all(a.surname != cand.surname for a in authors):
            authors.append(cand)
    return authors


@dataclass(frozen=True)
class Journal:
    code: str  # used inside invented DOIs
    name: str  # as the publisher prints it
    abbrev: str  # NLM / ISO abbreviation
    nlm_title: str | None  # MEDLINE JT; None when the journal is not indexed in PubMed
    copyright: str  # the line Scopus appends to abstracts; {year} is filled in
    article_numbers: bool = False  # online journals number articles instead of pages
    structured: bool = True  # whether abstracts carry BACKGROUND:/METHODS: labels


def _j(code, name, abbrev, nlm, copyright_, article_numbers=False, structured=True) -> Journal:
    return Journal(code, name, abbrev, nlm, copyright_, article_numbers, structured)


_ELS = "© {year} Elsevier Ltd. All rights reserved."
_WILEY = "© {year} John Wiley & Sons Ltd."
_SPR = "© {year}, The Author(s), under exclusive licence to Springer Science+Business Media, LLC."
_OA = "© {year}, The Author(s)."
_SAGE = "© The Author(s) {year}."
JOURNALS = {
    j.code: j
    for j in (
        _j("jadol", "Journal of Adolescence", "J Adolesc", "Journal of adolescence", _ELS),
        _j("cchd", "Child: Care, Health and Development", "Child Care Health Dev",
           "Child: care, health and development", _WILEY),
        _j("jya", "Journal of Youth and Adolescence", "J Youth Adolesc",
           "Journal of youth and adolescence", _SPR, structured=False),
        _j("bmcph", "BMC Public Health", "BMC Public Health", "BMC public health", _OA, True),
        _j("cysr", "Children and Youth Services Review", "Child Youth Serv Rev", None, _ELS),
        _j("jcop", "Journal of Community Psychology", "J Community Psychol",
           "Journal of community psychology", _WILEY, structured=False),
        _j("camh", "Child and Adolescent Mental Health", "Child Adolesc Ment Health",
           "Child and adolescent mental health", _WILEY),
        _j("jcpp", "Journal of Child Psychology and Psychiatry", "J Child Psychol Psychiatry",
           "Journal of child psychology and psychiatry, and allied disciplines", _WILEY),
        _j("ecap", "European Child & Adolescent Psychiatry", "Eur Child Adolesc Psychiatry",
           "European child & adolescent psychiatry", _SPR),
        _j("jah", "Journal of Adolescent Health", "J Adolesc Health",
           "The Journal of adolescent health : official publication of the Society for "
           "Adolescent Medicine", _ELS),
        _j("ajcp", "American Journal of Community Psychology", "Am J Community Psychol",
           "American journal of community psychology", _WILEY, structured=False),
        _j("spi", "School Psychology International", "Sch Psychol Int", None, _SAGE, False,
           False),
        _j("cfsw", "Child & Family Social Work", "Child Fam Soc Work", None, _WILEY),
        _j("jadd", "Journal of Autism and Developmental Disorders", "J Autism Dev Disord",
           "Journal of autism and developmental disorders", _SPR),
        _j("trials", "Trials", "Trials", "Trials", _OA, True),
        _j("bmjopen", "BMJ Open", "BMJ Open", "BMJ open",
           "© Author(s) (or their employer(s)) {year}.", True),
        _j("agmh", "Aging & Mental Health", "Aging Ment Health", "Aging & mental health",
           "© {year} Informa UK Limited, trading as Taylor & Francis Group.", structured=False),
        _j("jaffd", "Journal of Affective Disorders", "J Affect Disord",
           "Journal of affective disorders", _ELS),
        _j("sppe", "Social Psychiatry and Psychiatric Epidemiology",
           "Soc Psychiatry Psychiatr Epidemiol", "Social psychiatry and psychiatric epidemiology",
           _SPR),
        _j("jaacap", "Journal of the American Academy of Child and Adolescent Psychiatry",
           "J Am Acad Child Adolesc Psychiatry",
           "Journal of the American Academy of Child and Adolescent Psychiatry",
           "© {year} American Academy of Child and Adolescent Psychiatry"),
        _j("jcap", "Journal of Child and Adolescent Psychopharmacology",
           "J Child Adolesc Psychopharmacol", "Journal of child and adolescent psychopharmacology",
           "© Copyright {year}, Mary Ann Liebert, Inc., publishers."),
        _j("bjep", "British Journal of Educational Psychology", "Br J Educ Psychol",
           "The British journal of educational psychology",
           "© {year} The British Psychological Society."),
        _j("lai", "Learning and Instruction", "Learn Instr", None, _ELS, structured=False),
        _j("chb", "Computers in Human Behavior", "Comput Human Behav", None, _ELS,
           structured=False),
        _j("hscc", "Health & Social Care in the Community", "Health Soc Care Community",
           "Health & social care in the community", _WILEY),
        _j("ijerph", "International Journal of Environmental Research and Public Health",
           "Int J Environ Res Public Health",
           "International journal of environmental research and public health",
           "© {year} by the authors. Licensee MDPI, Basel, Switzerland.", True),
        _j("pone", "PLoS One", "PLoS One", "PloS one",
           "Copyright: © {year} The Authors. This is an open access article.", True),
        _j("geront", "The Gerontologist", "Gerontologist", "The Gerontologist",
           "© The Author(s) {year}. Published by Oxford University Press.", structured=False),
        _j("eip", "Early Intervention in Psychiatry", "Early Interv Psychiatry",
           "Early intervention in psychiatry", _WILEY),
        _j("casw", "Child and Adolescent Social Work Journal", "Child Adolesc Social Work J",
           None, _SPR),
        _j("eurpsy", "European Psychiatry", "Eur Psychiatry", "European psychiatry : the journal "
           "of the Association of European Psychiatrists", "© {year} European Psychiatric "
           "Association."),
        _j("adc", "Archives of Disease in Childhood", "Arch Dis Child",
           "Archives of disease in childhood", "© Author(s) (or their employer(s)) {year}."),
        _j("pkk", "Praxis der Kinderpsychologie und Kinderpsychiatrie",
           "Prax Kinderpsychol Kinderpsychiatr", "Praxis der Kinderpsychologie und "
           "Kinderpsychiatrie", "© {year} Vandenhoeck & Ruprecht."),
        _j("adfos", "Adoption & Fostering", "Adopt Foster", None, _SAGE, structured=False),
        _j("jep", "Journal of Educational Psychology", "J Educ Psychol", None,
           "© {year} American Psychological Association", structured=False),
        _j("ppr", "Pediatric Pulmonology", "Pediatr Pulmonol", "Pediatric pulmonology", _WILEY),
        _j("pdiab", "Pediatric Diabetes", "Pediatr Diabetes", "Pediatric diabetes", _WILEY),
        _j("idj", "Infant Mental Health Journal", "Infant Ment Health J",
           "Infant mental health journal", _WILEY),
        _j("jmir", "JMIR Mental Health", "JMIR Ment Health", "JMIR mental health",
           "©The Authors. Originally published in JMIR Mental Health.", True),
        _j("tte", "Teaching and Teacher Education", "Teach Teach Educ", None, _ELS,
           structured=False),
    )
}


# ---------------------------------------------------------------------------------------------
# One unique reference ("work") and its answer-key labels
# ---------------------------------------------------------------------------------------------


@dataclass
class Work:
    title: str
    authors: list[Author]
    year: int
    journal: Journal
    abstract: list[tuple[str, str]]  # (section label or "", text); empty list = no abstract
    keywords: list[str]
    mesh: list[str]
    pub_types: list[str]
    sources: list[str]
    category: str
    ta_label: str
    ft_label: str = ""
    ft_reason: str = ""
    key: str = ""
    report_role: str = ""
    note: str = ""
    ris_type: str = "JOUR"
    scopus_type: str = "Article"
    language: str = "eng"
    month: int = 1
    volume: str = ""
    issue: str = ""
    first_page: str = ""
    last_page: str = ""
    article_no: str = ""
    doi: str = ""
    epub_year: int | None = None  # an online-first year differing from the issue year
    publisher: str = ""  # reports only
    url: str = ""  # reports only
    found_by: str = ""  # how citation searching found it
    in_press_copy: bool = False  # Scopus also holds its 'Article in press' record
    ref_id: str = ""
    conflict: str = ""
    conflict_reason: str = ""
    ids: dict[str, list[str]] = field(default_factory=dict)


def place_in_issue(work: Work, rng: random.Random) -> None:
    """Volume, issue and pages that look like the journal's, plus an invented 10.5555 DOI."""
    j = work.journal
    # Nothing can be published after the search date (15 March 2024).
    work.month = rng.randint(1, 2 if work.year >= 2024 else 12)
    first_year = rng_for("volume", j.code).choice((1950, 1960, 1972, 1985, 1994, 2003))
    work.volume = str(max(1, work.year - first_year))
    work.issue = str(rng.randint(1, 12)) if rng.random() < 0.85 else ""
    if j.article_numbers:
        work.article_no = str(rng.randint(100, 2999))
        work.issue = "" if j.code in {"pone", "bmjopen"} else work.issue
        if j.code == "pone":
            work.article_no = f"e0{rng.randint(200000, 299999)}"
        if j.code == "bmjopen":
            work.article_no = f"e0{rng.randint(30000, 79999)}"
    else:
        start = rng.randint(1, 1900)
        length = rng.randint(7, 16) if work.category != "trap_erratum" else 1
        work.first_page, work.last_page = str(start), str(start + length - 1)
    work.doi = f"10.5555/{j.code}.{work.year}.{rng.randint(0, 9999):04d}"


# ---------------------------------------------------------------------------------------------
# Vocabulary shared by the abstract templates
# ---------------------------------------------------------------------------------------------

COUNTRIES = (
    "the United Kingdom", "England", "Scotland", "Wales", "Ireland", "Australia", "New Zealand",
    "Canada", "the United States", "the Netherlands", "Germany", "Sweden", "Norway", "Denmark",
    "Finland", "Spain", "Italy", "Portugal", "Brazil", "Chile", "South Africa", "Nigeria",
    "Kenya", "Ghana", "India", "China", "Japan", "South Korea", "Singapore", "Turkey", "Poland",
    "France", "Belgium", "Austria",
)
MEASURES = {
    "UCLA": ("the UCLA Loneliness Scale (Version 3)", "UCLA-3"),
    "LACA": ("the Loneliness and Aloneness Scale for Children and Adolescents (LACA)", "LACA"),
    "CLS": ("the Children's Loneliness and Social Dissatisfaction Questionnaire", "CLSDQ"),
    "SDQ": ("the Strengths and Difficulties Questionnaire (SDQ)", "SDQ"),
    "WEMWBS": ("the Warwick-Edinburgh Mental Well-being Scale (WEMWBS)", "WEMWBS"),
    "SWEMWBS": ("the Short Warwick-Edinburgh Mental Well-being Scale (SWEMWBS)", "SWEMWBS"),
    "MSPSS": ("the Multidimensional Scale of Perceived Social Support (MSPSS)", "MSPSS"),
    "RCADS": ("the Revised Child Anxiety and Depression Scale (RCADS)", "RCADS"),
    "PHQA": ("the Patient Health Questionnaire for Adolescents (PHQ-A)", "PHQ-A"),
    "PSSM": ("the Psychological Sense of School Membership (PSSM) scale", "PSSM"),
    "K10": ("the Kessler Psychological Distress Scale (K10)", "K10"),
    "SMFQ": ("the Short Mood and Feelings Questionnaire (SMFQ)", "SMFQ"),
    "KIDSCREEN": ("the KIDSCREEN-27 health-related quality of life questionnaire", "KIDSCREEN-27"),
    "RSES": ("the Rosenberg Self-Esteem Scale", "RSES"),
}
LONELINESS = ("UCLA", "LACA", "CLS")
MENTAL = ("SDQ", "WEMWBS", "SWEMWBS", "RCADS", "PHQA", "K10", "SMFQ", "KIDSCREEN")
SUPPORT = ("MSPSS", "PSSM")


#: What each measure captures, in the words an abstract would use.
CONSTRUCT = {
    "UCLA": "loneliness", "LACA": "loneliness", "CLS": "loneliness",
    "SDQ": "emotional and behavioural difficulties", "WEMWBS": "mental wellbeing",
    "SWEMWBS": "mental wellbeing", "MSPSS": "perceived social support",
    "RCADS": "anxiety and depressive symptoms", "PHQA": "depressive symptoms",
    "PSSM": "school belonging", "K10": "psychological distress",
    "SMFQ": "depressive symptoms", "KIDSCREEN": "health-related quality of life",
    "RSES": "self-esteem",
}


def country_phrase(country: str) -> str:
    """'United Kingdom' -> 'the United Kingdom', as running text needs."""
    return f"the {country}" if country.startswith(("United", "Netherlands")) else country


def mean_age(population: str, rng: random.Random) -> str:
    """A mean age inside the age range the population description states."""
    lo, hi = (int(a) for a in re.findall(r"\d+", population)[-2:])
    return f"{rng.uniform(lo + (hi - lo) * 0.35, lo + (hi - lo) * 0.65):.1f}"


def long_m(code: str) -> str:
    return MEASURES[code][0]


def short_m(code: str) -> str:
    return MEASURES[code][1]


def pval(rng: random.Random, significant: bool) -> str:
    if significant:
        return rng.choice(("p < 0.001", "p = 0.002", "p = 0.004", "p = 0.01", "p = 0.02",
                           "p = 0.03"))
    return rng.choice(("p = 0.21", "p = 0.34", "p = 0.48", "p = 0.62", "p = 0.17", "p = 0.09"))


def diff_ci(rng: random.Random, significant: bool, scale: float = 1.0) -> tuple[str, str, str]:
    """A mean difference with a 95% CI that excludes zero exactly when it should."""
    if significant:
        md = -rng.uniform(1.4, 4.6) * scale
        half = rng.uniform(0.4, 0.85) * abs(md)
    else:
        md = -rng.uniform(0.1, 1.2) * scale
        half = abs(md) + rng.uniform(0.3, 1.5) * scale
    return f"{md:.2f}", f"{md - half:.2f}", f"{md + half:.2f}"


# ---------------------------------------------------------------------------------------------
# Abstract assembly
# ---------------------------------------------------------------------------------------------

LABELS = ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS")
#: Neutral sentences any quantitative abstract may carry, used only to reach its length.
GENERIC_EXTRAS = (
    "METHODS|Data were collected by trained researchers using standardised protocols.",
    "METHODS|Analyses adjusted for age, sex and socio-economic position.",
    "METHODS|The sample size was determined in advance to detect a small-to-moderate effect.",
    "METHODS|Missing data were handled with multiple imputation under a missing-at-random "
    "assumption.",
    "RESULTS|Findings were robust in sensitivity analyses.",
    "RESULTS|Results did not differ materially by sex or between sites.",
    "RESULTS|Response rates were acceptable at every wave of data collection.",
    "CONCLUSIONS|The findings have implications for practice, commissioning and policy.",
    "CONCLUSIONS|Further research should examine these questions in other settings and "
    "populations.",
    "BACKGROUND|Robust evidence to guide practice in this area is scarce.",
    "BACKGROUND|Previous studies have produced inconsistent findings, partly because of small "
    "samples and short follow-up.",
)


def words(sections: Sequence[tuple[str, str]]) -> int:
    return sum(len(text.split()) for _, text in sections)


def assemble(
    rng: random.Random,
    parts: dict[str, list[str]],
    extras: list[str],
    structured: bool,
    lo: int = 120,
    hi: int = 250,
) -> list[tuple[str, str]]:
    """Join chosen sentences into 120-250 words, adding optional detail only while short.

    ``parts`` maps each label to its sentences in order; ``extras`` are optional
    (label-prefixed with 'METHODS|' etc.) sentences used to reach the lower bound.
    """
    body = {label: list(parts.get(label, [])) for label in LABELS}
    pool = list(extras)
    rng.shuffle(pool)
    generic = list(GENERIC_EXTRAS)
    rng.shuffle(generic)
    pool = generic + pool  # topic-specific sentences are used first (pop() takes the end)
    target = rng.randint(lo + 10, max(lo + 10, hi - 40))
    while pool and words([("", " ".join(v)) for v in body.values()]) < target:
        label, sentence = pool.pop().split("|", 1)
        if sentence in body[label]:
            continue
        if label == "BACKGROUND" and len(body[label]) >= 2:
            body[label].insert(len(body[label]) - 1, sentence)  # the aim stays last
        else:
            body[label].append(sentence)
    while words([("", " ".join(v)) for v in body.values()]) > hi:
        longest = max(LABELS, key=lambda lb: len(body[lb]))
        if len(body[longest]) <= 1:
            break
        body[longest].pop(len(body[longest]) // 2)
    sections = [(lb, " ".join(body[lb])) for lb in LABELS if body[lb]]
    if structured:
        if sections and sections[0][0] == "BACKGROUND" and rng.random() < 0.4:
            sections[0] = ("OBJECTIVE" if rng.random() < 0.5 else "INTRODUCTION", sections[0][1])
        return sections
    return [("", " ".join(text for _, text in sections))]


def fill(template: str, ctx: dict[str, object]) -> str:
    """Fill slots, then capitalise the first letter of each sentence (slots are lower case)."""
    text = template.format_map(ctx)
    return re.sub(r"(^|[.?!] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


PROPER_SLOTS = {"country", "lang"}  # proper nouns keep their capital


def slot_value(value: str) -> str:
    """'A mental health chatbot' -> 'a mental health chatbot' mid-sentence; 'CBT' stays."""
    first_word = value.split()[0]
    if first_word[0].isupper() and not any(c.isupper() for c in first_word[1:]):
        return value[0].lower() + value[1:]
    return value


def numbers(rng: random.Random) -> dict[str, object]:
    """Numbers every template may quote; each record gets its own."""
    age_lo = rng.randint(8, 14)
    or_ = rng.uniform(1.2, 2.8)
    beta = rng.uniform(0.08, 0.42)
    return {
        "n": rng.choice((rng.randint(60, 480), rng.randint(500, 4800), rng.randint(5000, 24000))),
        "n_small": rng.randint(12, 60),
        "n_sites": rng.randint(4, 48),
        "age_lo": age_lo,
        "age_hi": age_lo + rng.randint(3, 7),
        "mean_age": f"{rng.uniform(10.5, 16.5):.1f}",
        "adult_age": f"{rng.uniform(34, 58):.1f}",
        "old_age": f"{rng.uniform(71, 84):.1f}",
        "pct": rng.randint(9, 48),
        "pct2": rng.randint(52, 91),
        "or_": f"{or_:.2f}",
        "or_lo": f"{or_ * rng.uniform(0.6, 0.85):.2f}",
        "or_hi": f"{or_ * rng.uniform(1.15, 1.6):.2f}",
        "beta": f"{beta:.2f}",
        "b_lo": f"{beta * 0.5:.2f}",
        "b_hi": f"{beta * 1.5:.2f}",
        "r": f"{rng.uniform(0.12, 0.48):.2f}",
        "d": f"{rng.uniform(0.12, 0.58):.2f}",
        "weeks": rng.choice((6, 8, 10, 12, 16, 20, 24)),
        "months": rng.choice((3, 6, 9, 12, 18, 24)),
        "years": rng.choice((2, 3, 5, 7, 10, 12)),
        "k": rng.randint(8, 64),
        "alpha": f"{rng.uniform(0.78, 0.94):.2f}",
        "cfi": f"{rng.uniform(0.93, 0.98):.2f}",
        "rmsea": f"{rng.uniform(0.03, 0.07):.3f}",
        "p": pval(rng, True),
        "p_ns": pval(rng, False),
        "country": rng.choice(COUNTRIES),
        "year_lo": rng.randint(2008, 2016),
    }


# ---------------------------------------------------------------------------------------------
# Included studies: the 18 the demo review should find (their keys are used by extractions)
# ---------------------------------------------------------------------------------------------

INCLUDED_COLUMNS = (
    "key", "title", "year", "first_author", "intervention_type", "population", "country",
    "design", "n",
)
INCLUDED: list[dict] = [
    dict(key="okafor2019", title="Effects of a structured volunteer mentoring programme on "
         "loneliness and perceived social support among care-experienced young people: a "
         "randomised controlled trial", year=2019, first=("Okafor", "Chidinma Adaeze"),
         type="mentoring", population="care-experienced young people aged 14-21",
         country="United Kingdom", design="randomised controlled trial", n=212,
         journal="jadol", sources=["pubmed", "psycinfo", "scopus"],
         intervention="one-to-one mentoring by trained adult volunteers, meeting weekly for "
         "12 months", comparator="usual leaving-care support", setting="six local authorities",
         primary="UCLA", secondary=["MSPSS", "WEMWBS"], followup=12, effect="positive"),
    dict(key="lindqvist2021", title="School-based cross-age mentoring for newly arrived refugee "
         "adolescents: a cluster randomised trial of belonging and loneliness", year=2021,
         first=("Lindqvist", "Elin Maria"), type="mentoring",
         population="refugee and migrant adolescents aged 12-17", country="Sweden",
         design="cluster randomised controlled trial", n=386, journal="jya",
         sources=["pubmed", "psycinfo", "scopus"],
         intervention="weekly cross-age mentoring by trained upper-secondary students over one "
         "school year", comparator="the standard introductory-class curriculum",
         setting="24 lower-secondary schools", primary="LACA", secondary=["PSSM", "SDQ"],
         followup=9, effect="positive"),
    dict(key="garcialopez2020", title="Natural mentoring relationships and mental wellbeing in "
         "socio-economically disadvantaged youth: a quasi-experimental evaluation of a community "
         "mentoring scheme", year=2020, first=("García-López", "Lucía"), type="mentoring",
         population="socio-economically disadvantaged young people aged 11-16", country="Spain",
         design="quasi-experimental controlled study", n=274, journal="cysr",
         sources=["psycinfo", "scopus"],
         intervention="a community scheme that helps young people identify and strengthen "
         "natural mentors in their own networks", comparator="a waiting-list comparison group "
         "from matched neighbourhoods", setting="two municipalities", primary="SWEMWBS",
         secondary=["UCLA", "MSPSS"], followup=6, effect="mixed"),
    dict(key="muller2022", title="Peer support groups for young carers: a pragmatic randomised "
         "trial of effects on loneliness and psychological distress", year=2022,
         first=("Müller", "Jonas Friedrich"), type="peer support",
         population="young carers aged 10-18", country="Germany",
         design="randomised controlled trial", n=158, journal="cchd",
         sources=["pubmed", "scopus"],
         intervention="fortnightly facilitated peer support groups for young carers over six "
         "months", comparator="information leaflets and signposting", setting="three federal "
         "states", primary="UCLA", secondary=["K10", "MSPSS"], followup=6, effect="positive"),
    dict(key="osuilleabhain2020", title="A peer-led befriending intervention for LGBTQ+ youth: "
         "effects on loneliness and depressive symptoms in a controlled trial", year=2020,
         first=("Ó Súilleabháin", "Páraic"), type="peer support",
         population="LGBTQ+ young people aged 15-24", country="Ireland",
         design="non-randomised controlled trial", n=143, journal="jcop",
         sources=["pubmed", "psycinfo", "scopus"],
         intervention="peer-led befriending by trained LGBTQ+ volunteers aged 18-24 for 16 weeks",
         comparator="access to an online resource hub", setting="youth organisations in four "
         "counties", primary="UCLA", secondary=["PHQA", "MSPSS"], followup=4, effect="positive"),
    dict(key="nakamura2018", title="Structured peer buddy programme for autistic pupils in "
         "mainstream secondary schools: a cluster randomised controlled trial", year=2018,
         first=("Nakamura", "Haruka"), type="peer support",
         population="autistic pupils aged 11-15", country="Japan",
         design="cluster randomised controlled trial", n=96, journal="jadd",
         sources=["pubmed", "psycinfo", "scopus"],
         intervention="a structured buddy programme pairing autistic pupils with trained "
         "classmates during unstructured school time for two terms",
         comparator="usual special educational needs support", setting="16 mainstream "
         "secondary schools", primary="CLS", secondary=["SDQ"], followup=6, effect="mixed"),
    dict(key="adeyemi2023", title="Online moderated peer support for adolescents with long-term "
         "conditions: a randomised trial of social connectedness and wellbeing", year=2023,
         first=("Adeyemi", "Oluwaseun Tolu"), type="peer support",
         population="adolescents with long-term physical health conditions aged 13-18",
         country="Nigeria", design="randomised controlled trial", n=240, journal="bmcph",
         sources=["pubmed", "scopus"],
         intervention="a moderated online peer support platform with weekly themed discussions "
         "for 12 weeks", comparator="usual clinic care", setting="three teaching hospitals",
         primary="UCLA", secondary=["WEMWBS", "MSPSS"], followup=3, effect="null"),
    dict(key="henderson2019", title="Strengthening families to reduce loneliness in early "
         "adolescence: a cluster randomised trial of a home-visiting family support programme",
         year=2019, first=("Henderson", "Sarah Louise"), type="family support",
         population="socio-economically disadvantaged children aged 9-13 and their caregivers",
         country="Australia", design="cluster randomised controlled trial", n=318,
         journal="jcpp", sources=["pubmed", "psycinfo", "scopus", "citation_searching"],
         intervention="fortnightly home visits by family support workers focused on family "
         "connectedness, routines and links to local activities over nine months",
         comparator="usual community services", setting="20 primary school catchments",
         primary="LACA", secondary=["SDQ", "KIDSCREEN"], followup=12, effect="positive"),
    dict(key="dasilva2021", title="Family group support for refugee children resettled in urban "
         "areas: a controlled evaluation of effects on emotional difficulties and belonging",
         year=2021, first=("da Silva", "Ana Beatriz"), type="family support",
         population="refugee children aged 6-12", country="Brazil",
         design="controlled before-after study", n=182, journal="cfsw",
         sources=["scopus", "citation_searching"],
         intervention="ten weekly multi-family group sessions for refugee children and their "
         "parents", comparator="families on the programme's waiting list",
         setting="two resettlement services", primary="SDQ", secondary=["CLS"], followup=6,
         effect="positive"),
    dict(key="kowalczyk2022", title="Parent-child connectedness programme for children with "
         "special educational needs: effects on peer relationships and loneliness", year=2022,
         first=("Kowalczyk", "Łukasz"), type="family support",
         population="children with special educational needs and disabilities aged 7-12",
         country="Poland", design="randomised controlled trial", n=128, journal="ecap",
         sources=["pubmed", "psycinfo", "scopus"],
         intervention="an eight-session parent-child connectedness programme delivered by "
         "school psychologists", comparator="a waiting-list control",
         setting="special and integrated primary schools", primary="CLS",
         secondary=["SDQ", "KIDSCREEN"], followup=6, effect="positive"),
    dict(key="tremblay2020", title="Linking schools and community youth services to reduce "
         "social isolation in rural adolescents: a stepped-wedge cluster trial", year=2020,
         first=("Tremblay", "Marie-Ève"), type="school linkage",
         population="rural adolescents aged 12-16", country="Canada",
         design="stepped-wedge cluster randomised trial", n=1042, journal="jah",
         sources=["pubmed", "scopus"],
         intervention="school-based youth workers who connect pupils with community clubs, "
         "volunteering and transport", comparator="pre-rollout periods in the same schools",
         setting="12 rural high schools", primary="UCLA", secondary=["PSSM", "SWEMWBS"],
         followup=18, effect="positive"),
    dict(key="andersen2018", title="School-family-community liaison workers and belonging among "
         "pupils at risk of exclusion: a matched controlled study", year=2018,
         first=("Andersen", "Mads Emil"), type="school linkage",
         population="pupils at risk of school exclusion aged 11-15", country="Denmark",
         design="matched controlled study", n=410, journal="spi", sources=["psycinfo"],
         intervention="liaison workers who coordinate school, family and leisure-time "
         "support", comparator="matched pupils in schools without liaison workers",
         setting="18 municipal schools", primary="PSSM", secondary=["UCLA", "SDQ"], followup=12,
         effect="mixed"),
    dict(key="mbeki2023", title="A school-to-community link worker programme for socially "
         "isolated secondary pupils: a cluster randomised feasibility trial", year=2023,
         first=("Mbeki", "Thandiwe Nomsa"), type="school linkage",
         population="socially isolated secondary pupils aged 12-16", country="South Africa",
         design="cluster randomised feasibility trial", n=164, journal="casw",
         sources=["citation_searching"],
         intervention="link workers who meet isolated pupils and broker places in community "
         "groups over one term", comparator="usual pastoral care", setting="eight township "
         "secondary schools", primary="UCLA", secondary=["RCADS"], followup=4, effect="null"),
    dict(key="oconnell2021", title="Community capacity building for youth belonging: a "
         "controlled evaluation of neighbourhood youth hubs in deprived areas", year=2021,
         first=("O'Connell", "Aoife"), type="community capacity building",
         population="socio-economically disadvantaged young people aged 11-19",
         country="United Kingdom", design="controlled before-after study", n=615,
         journal="hscc", sources=["pubmed", "psycinfo", "scopus"],
         intervention="neighbourhood youth hubs co-designed and partly run by young people and "
         "local volunteers", comparator="matched neighbourhoods without hubs",
         setting="ten deprived neighbourhoods", primary="UCLA", secondary=["WEMWBS", "MSPSS"],
         followup=24, effect="positive"),
    dict(key="rahman2022", title="Youth-led community action groups and loneliness among "
         "migrant young people: a quasi-experimental study", year=2022,
         first=("Rahman", "Farhana"), type="community capacity building",
         population="migrant young people aged 15-25", country="Bangladesh",
         design="quasi-experimental controlled study", n=302, journal="ijerph",
         sources=["pubmed", "scopus", "citation_searching"],
         intervention="youth-led community action groups supported by local organisations for "
         "six months", comparator="young people in comparable wards without groups",
         setting="urban wards of two cities", primary="UCLA", secondary=["K10", "MSPSS"],
         followup=6, effect="positive"),
    dict(key="whitfield2019", title="Integrated youth mental health and social care hubs: "
         "effects on loneliness and psychological wellbeing in a controlled cohort study",
         year=2019, first=("Whitfield", "James Robert"), type="service integration",
         population="young people aged 12-25 seeking help for mental health",
         country="Australia", design="controlled cohort study", n=1280, journal="eip",
         sources=["pubmed", "psycinfo", "scopus"],
         intervention="integrated hubs co-locating mental health, social care, education and "
         "employment support", comparator="young people attending standard community mental "
         "health services", setting="eight youth hubs", primary="UCLA",
         secondary=["K10", "WEMWBS"], followup=12, effect="positive"),
    dict(key="lefebvre2020", title="Co-located social work and school nursing for "
         "care-experienced pupils: a cluster randomised trial of wellbeing and social support",
         year=2020, first=("Lefebvre", "Camille"), type="service integration",
         population="care-experienced pupils aged 10-16", country="France",
         design="cluster randomised controlled trial", n=236, journal="camh",
         sources=["pubmed", "psycinfo", "scopus"],
         intervention="a social worker co-located with the school nursing team, with joint "
         "weekly case reviews", comparator="separate social work and school nursing services",
         setting="30 collèges", primary="WEMWBS", secondary=["MSPSS", "LACA"], followup=12,
         effect="mixed"),
    dict(key="nguyen2023", title="A single-point-of-access integrated service for LGBTQ+ and "
         "questioning youth: randomised evaluation of loneliness and help-seeking", year=2023,
         first=("Nguyen", "Minh Anh"), type="service integration",
         population="LGBTQ+ and questioning young people aged 14-22",
         country="United States", design="randomised controlled trial", n=198, journal="jah",
         sources=["pubmed", "scopus", "citation_searching"],
         intervention="one access point with a navigator who coordinates mental health, "
         "peer groups and social care", comparator="referral to usual services",
         setting="an urban community health centre", primary="UCLA",
         secondary=["PHQA", "MSPSS"], followup=6, effect="positive"),
]

TYPE_MESH = {
    "mentoring": ["*Mentors", "Mentoring/methods"],
    "peer support": ["*Peer Group", "*Social Support"],
    "family support": ["*Family/psychology", "Family Relations"],
    "school linkage": ["*Schools", "Community Networks"],
    "community capacity building": ["*Community Participation", "Residence Characteristics"],
    "service integration": ["*Delivery of Health Care, Integrated", "Adolescent Health Services"],
}
TYPE_KEYWORDS = {
    "mentoring": ["mentoring", "youth mentoring", "mentor"],
    "peer support": ["peer support", "befriending", "peer relationships"],
    "family support": ["family support", "parenting", "family functioning"],
    "school linkage": ["school-community partnership", "school connectedness", "youth work"],
    "community capacity building": ["community capacity", "youth participation",
                                    "community development"],
    "service integration": ["integrated care", "youth mental health services",
                            "service integration"],
}
DESIGN_PT = {
    "randomised": ["Journal Article", "Randomized Controlled Trial"],
    "other": ["Journal Article"],
}


def trial_abstract(rng: random.Random, s: dict, structured: bool) -> list[tuple[str, str]]:
    """An abstract for an intervention study, built from the study's own facts."""
    ctx = numbers(rng)
    prim, sec = s["primary"], s["secondary"]
    sig = s["effect"] == "positive"
    md, lo, hi = diff_ci(rng, sig, scale=1.0 if prim != "SDQ" else 0.6)
    pop = s["population"]
    sec_text = " and ".join(long_m(m) for m in sec)
    background = [
        rng.choice((
            f"Loneliness is common among {pop.split(' aged')[0]} and is linked to later "
            "depression and anxiety.",
            f"{pop.split(' aged')[0].capitalize()} report high levels of loneliness, yet few "
            "support interventions have been rigorously evaluated.",
            "Social connection protects mental health in childhood and adolescence, but many "
            f"{pop.split(' aged')[0]} lack reliable sources of support.",
        )),
        f"We evaluated {s['intervention']}.",
    ]
    where = country_phrase(s["country"])
    if "randomised" in s["design"]:
        first = (f"In this {s['design']} in {s['setting']} in {where}, {s['n']} {pop} were "
                 f"randomly allocated to the intervention or to {s['comparator']}.")
    else:
        first = (f"In this {s['design']} in {s['setting']} in {where}, we compared {s['n']} "
                 f"{pop} who received the intervention with {s['comparator']}.")
    methods = [
        first,
        f"The primary outcome was {CONSTRUCT[prim]}, measured with {long_m(prim)} at "
        f"{s['followup']} months; secondary outcomes were {sec_text}.",
    ]
    if sig:
        result = (f"At {s['followup']} months, {short_m(prim)} scores favoured the intervention "
                  f"(adjusted mean difference {md}, 95% CI {lo} to {hi}; {pval(rng, True)}).")
    else:
        result = (f"At {s['followup']} months there was no clear difference in "
                  f"{short_m(prim)} scores between groups (adjusted mean difference {md}, "
                  f"95% CI {lo} to {hi}; {pval(rng, False)}).")
    second = (f"{CONSTRUCT[sec[0]].capitalize()} ({short_m(sec[0])}) improved in the "
              f"intervention group (d = {ctx['d']}), whereas {short_m(sec[-1])} scores did "
              "not differ.")
    if s["effect"] == "mixed":
        second = (f"{short_m(sec[0])} scores improved in the intervention group (d = "
                  f"{ctx['d']}), but differences on {short_m(sec[-1])} were small and "
                  "imprecise.")
    results = [
        f"Follow-up data were available for {ctx['pct2']}% of participants.",
        result,
        second,
    ]
    concl = {
        "positive": f"{s['intervention'].split(',')[0].capitalize()} reduced loneliness and "
        "can be delivered at scale; longer follow-up is needed.",
        "mixed": "The intervention improved some aspects of social connection, but effects on "
        "mental health were uncertain.",
        "null": "The intervention was feasible and acceptable, but this study found no "
        "evidence of an effect on loneliness; a definitive trial should refine the "
        "programme.",
    }[s["effect"]]
    extras = [
        "METHODS|Analyses followed the intention-to-treat principle using mixed-effects "
        "models adjusted for baseline scores.",
        "METHODS|Participants were recruited through schools, youth services and social care "
        "teams.",
        f"METHODS|Intervention fidelity was monitored with session logs and observation of "
        f"{ctx['pct']}% of sessions.",
        f"RESULTS|The mean age of participants was {mean_age(pop, rng)} years and "
        f"{rng.randint(58, 93)}% attended at least half of the sessions.",
        "RESULTS|No serious adverse events were attributed to the intervention.",
        "BACKGROUND|Evidence on how to strengthen social support for this group remains "
        "limited.",
    ]
    return assemble(rng, {"BACKGROUND": background, "METHODS": methods, "RESULTS": results,
                          "CONCLUSIONS": [concl]}, extras, structured)


def population_mesh(pop: str) -> list[str]:
    table = (
        ("care", "Foster Home Care"), ("refugee", "Refugees/psychology"),
        ("migrant", "Emigrants and Immigrants"), ("autis", "Autism Spectrum Disorder"),
        ("special educational", "Disabled Children"), ("LGBTQ", "Sexual and Gender Minorities"),
        ("carers", "Caregivers/psychology"), ("disadvantaged", "Poverty"),
        ("rural", "Rural Population"), ("long-term", "Chronic Disease/psychology"),
        ("exclusion", "Schools"), ("isolated", "Social Isolation/psychology"),
    )
    return [mesh for needle, mesh in table if needle in pop]


def age_mesh(age_lo: int, age_hi: int) -> list[str]:
    out = []
    if age_lo <= 12:
        out.append("Child")
    if age_hi >= 13:
        out.append("Adolescent")
    if age_hi >= 19:
        out.append("Young Adult")
    return out


def included_works() -> list[Work]:
    works = []
    for s in INCLUDED:
        rng = rng_for("included", s["key"])
        journal = JOURNALS[s["journal"]]
        ages = [int(a) for a in re.findall(r"\d+", s["population"])[-2:]]
        randomised = "randomised" in s["design"]
        work = Work(
            title=s["title"], authors=author_list(rng, Author(*s["first"]), 3, 8),
            year=s["year"], journal=journal,
            abstract=trial_abstract(rng, s, journal.structured),
            keywords=[*TYPE_KEYWORDS[s["type"]][:2], "loneliness", "young people",
                      rng.choice(("mental health", "wellbeing", "social support"))],
            mesh=["Humans", *age_mesh(*ages), "Female", "Male", "*Loneliness/psychology",
                  *TYPE_MESH[s["type"]], *population_mesh(s["population"]), "Mental Health"],
            pub_types=DESIGN_PT["randomised" if randomised else "other"],
            sources=list(s["sources"]), category="included", ta_label="include",
            ft_label="include", key=s["key"], report_role="primary",
        )
        place_in_issue(work, rng)
        works.append(work)
    return works


# ---------------------------------------------------------------------------------------------
# Secondary reports of included studies and near-miss traps (distinct references, not copies)
# ---------------------------------------------------------------------------------------------


def find(works: list[Work], key: str) -> Work:
    return next(w for w in works if w.key == key and w.report_role == "primary")


def secondary_and_traps(included: list[Work]) -> list[Work]:
    out: list[Work] = []
    okafor, tremblay = find(included, "okafor2019"), find(included, "tremblay2020")
    muller, whitfield = find(included, "muller2022"), find(included, "whitfield2019")

    def protocol(base: Work, journal: str, year: int, title: str, sources: list[str]) -> Work:
        rng = rng_for("protocol", base.key)
        spec = next(s for s in INCLUDED if s["key"] == base.key)
        ctx = numbers(rng)
        text = {
            "BACKGROUND": [
                f"Few trials have tested whether {spec['intervention'].split(',')[0]} reduces "
                f"loneliness among {spec['population'].split(' aged')[0]}.",
                "This protocol describes a trial designed to answer that question.",
            ],
            "METHODS": [
                f"We will conduct a {spec['design']} in {spec['setting']} in "
                f"{spec['country']}, recruiting {spec['n']} participants.",
                f"The comparator is {spec['comparator']}.",
                f"The primary outcome is {long_m(spec['primary'])} at {spec['followup']} "
                f"months; secondary outcomes include {long_m(spec['secondary'][0])}.",
                "A process evaluation and an economic evaluation will run alongside the trial.",
                f"The sample size gives {ctx['pct2'] if ctx['pct2'] > 80 else 90}% power to "
                "detect a standardised difference of 0.4 at a two-sided 5% level.",
            ],
            "RESULTS": [],
            "CONCLUSIONS": [
                "The trial will provide robust evidence on a scalable way to strengthen social "
                "support for this group. Trial registration: ISRCTN" + str(rng.randint(10**7,
                                                                                  10**8 - 1))
                + ".",
            ],
        }
        w = Work(
            title=title, authors=base.authors[:-1] or base.authors, year=year,
            journal=JOURNALS[journal],
            abstract=assemble(rng, text, [
                "METHODS|Recruitment will take place through local services and schools.",
                "METHODS|Analyses will follow the intention-to-treat principle.",
                "BACKGROUND|Loneliness in adolescence predicts later depression.",
            ], True),
            keywords=[*base.keywords[:3], "protocol", "randomised controlled trial"],
            mesh=[m for m in base.mesh if m != "Mental Health"] + ["Randomized Controlled "
                                                                    "Trials as Topic"],
            pub_types=["Clinical Trial Protocol", "Journal Article"], sources=sources,
            category="secondary_report", ta_label="include", ft_label="include", key=base.key,
            report_role="secondary", note=f"trial protocol of {base.key}; a different report, "
            "not a duplicate",
        )
        place_in_issue(w, rng)
        return w

    out.append(protocol(
        okafor, "trials", 2017, "Effects of a structured volunteer mentoring programme on "
        "loneliness among care-experienced young people: protocol for a randomised controlled "
        "trial", ["pubmed", "scopus"]))
    out.append(protocol(
        tremblay, "bmjopen", 2018, "Linking schools and community youth services to reduce "
        "social isolation in rural adolescents: protocol for a stepped-wedge cluster trial",
        ["pubmed", "psycinfo", "scopus"]))

    rng = rng_for("followup", muller.key)
    spec = next(s for s in INCLUDED if s["key"] == "muller2022")
    md, lo, hi = diff_ci(rng, True, 0.7)
    follow = Work(
        title="Peer support groups for young carers: 12-month follow-up of a pragmatic "
        "randomised trial", authors=muller.authors, year=2023, journal=muller.journal,
        abstract=assemble(rng, {
            "BACKGROUND": ["Short-term benefits of peer support groups for young carers have "
                           "been reported; whether they last is unknown."],
            "METHODS": [f"We followed up the {spec['n']} young carers aged 10-18 from a "
                        "pragmatic randomised trial in three German federal states.",
                        "Loneliness (UCLA-3), psychological distress (K10) and perceived "
                        "support (MSPSS) were measured 12 months after randomisation."],
            "RESULTS": [f"Data were available for {rng.randint(70, 88)}% of participants.",
                        f"Loneliness remained lower in the peer support group (adjusted mean "
                        f"difference {md}, 95% CI {lo} to {hi}), while the difference in "
                        "distress narrowed."],
            "CONCLUSIONS": ["Benefits on loneliness persisted for a year after the groups "
                            "ended."],
        }, ["METHODS|Missing data were handled with multiple imputation.",
            "RESULTS|Participants who attended more sessions reported larger reductions in "
            "loneliness.",
            "BACKGROUND|Young carers often have little time for friendships and leisure.",
            "METHODS|Analyses followed the intention-to-treat principle."], True),
        keywords=muller.keywords, mesh=muller.mesh, pub_types=["Journal Article",
                                                              "Randomized Controlled Trial"],
        sources=["pubmed", "scopus"], category="secondary_report", ta_label="include",
        ft_label="include", key="muller2022", report_role="secondary",
        note="12-month follow-up of muller2022; a different report, not a duplicate",
    )
    place_in_issue(follow, rng)
    out.append(follow)

    rng = rng_for("erratum", whitfield.key)
    erratum = Work(
        title="Correction to: " + whitfield.title, authors=whitfield.authors, year=2019,
        journal=whitfield.journal, abstract=[], keywords=[], mesh=[],
        pub_types=["Published Erratum"], sources=["pubmed", "scopus"], category="trap_erratum",
        ta_label="exclude", note="erratum to whitfield2019; not a duplicate, not a study",
        scopus_type="Erratum",
    )
    place_in_issue(erratum, rng)
    out.append(erratum)

    # Part 1 / Part 2 of one narrative review: same authors, journal, year; different papers.
    rng = rng_for("parts")
    authors = author_list(rng, None, 2, 4)
    j = JOURNALS["camh"]
    parts = []
    for part, subtitle, ta, ft, reason, body in (
        (1, "prevalence, correlates and consequences", "exclude", "", "",
         "This first part summarises evidence on how common loneliness is across childhood and "
         "adolescence, which groups are most affected and how loneliness relates to later "
         "depression, anxiety, self-harm and educational outcomes."),
        (2, "a narrative review of interventions", "include", "exclude", "Wrong study design",
         "This second part reviews interventions intended to reduce loneliness in young "
         "people, including mentoring, peer support, family support and school-based "
         "programmes, and discusses mechanisms such as belonging and perceived support."),
    ):
        text = [("", body + " We searched the literature narratively rather than "
                 "systematically and synthesised findings thematically. Evidence from longitudinal "
                 "cohorts and from a small number of trials is discussed alongside qualitative "
                 "studies of young people's experiences. We highlight gaps in measurement, a "
                 "lack of long-term follow-up and limited attention to disabled, "
                 "care-experienced and minoritised young people. Implications for schools, "
                 "youth services and policy are outlined, together with priorities for future "
                 "research and the development of validated child-friendly measures of "
                 "loneliness. Throughout, we draw on the voices of young people collected in "
                 "earlier consultations, and we consider how digital life, school pressures and "
                 "family change shape the experience of being lonely in the early 2020s.")]
        w = Work(
            title=f"Loneliness in childhood and adolescence. Part {part}: {subtitle}",
            authors=authors, year=2021, journal=j, abstract=text,
            keywords=["loneliness", "adolescence", "childhood", "review"],
            mesh=["Humans", "Child", "Adolescent", "*Loneliness/psychology"],
            pub_types=["Journal Article", "Review"], sources=["pubmed", "psycinfo", "scopus"],
            category="trap_part", ta_label=ta, ft_label=ft, ft_reason=reason,
            scopus_type="Review",
            note=f"part {part} of a two-part review; not a duplicate of part {3 - part}",
        )
        place_in_issue(w, rng)
        parts.append(w)
    parts[1].volume, parts[1].issue = parts[0].volume, parts[0].issue
    start = int(parts[0].last_page) + 1
    parts[1].first_page, parts[1].last_page = str(start), str(start + 11)
    out += parts

    # Two unrelated editorials that happen to share a title.
    for code, year, seed in (("camh", 2021, "ed1"), ("jah", 2023, "ed2")):
        rng = rng_for("editorial", seed)
        w = Work(
            title="Loneliness in young people: time to act", authors=author_list(rng, None, 1,
                                                                                  2),
            year=year, journal=JOURNALS[code], abstract=[], keywords=[], mesh=["Humans",
                                                                               "Adolescent",
                                                                               "*Loneliness"],
            pub_types=["Editorial"], sources=["pubmed", "scopus"], category="trap_same_title",
            ta_label="exclude", scopus_type="Editorial",
            note="editorial sharing its title with another editorial; different paper",
        )
        place_in_issue(w, rng)
        w.last_page = str(int(w.first_page) + 1)
        out.append(w)
    return out


# ---------------------------------------------------------------------------------------------
# Relevant-looking records excluded at full text, and reports that could not be retrieved
# ---------------------------------------------------------------------------------------------

REL_POPS = (
    ("care-experienced young people", 13, 21),
    ("refugee adolescents", 12, 18),
    ("migrant secondary school students", 12, 17),
    ("autistic pupils", 9, 16),
    ("pupils with special educational needs", 7, 14),
    ("LGBTQ+ youth", 14, 24),
    ("young carers", 9, 18),
    ("socio-economically disadvantaged adolescents", 11, 17),
    ("rural adolescents", 12, 17),
    ("young people with long-term conditions", 12, 19),
    ("primary school children", 7, 11),
    ("pupils at risk of school exclusion", 11, 16),
    ("newly arrived migrant children", 6, 12),
    ("young people not in education, employment or training", 16, 24),
)
WRONG_AGE_POPS = (
    ("adult care leavers", 26, 45),
    ("adult refugees", 27, 60),
    ("preschool children", 2, 4),
    ("toddlers in early years settings", 1, 3),
    ("mature university students", 26, 49),
    ("parents of adolescents", 35, 56),
    ("adults with autism", 26, 62),
)
REL_INTERVENTIONS = {
    "mentoring": ("a volunteer mentoring programme", "a school-based peer mentoring scheme",
                  "an e-mentoring programme", "a group mentoring programme",
                  "a youth-initiated mentoring approach"),
    "peer support": ("a peer support group programme", "a peer befriending scheme",
                     "an online peer support forum", "a peer buddy scheme",
                     "a peer-led wellbeing programme"),
    "family support": ("a family support worker service", "a multi-family group programme",
                       "a parent-adolescent communication programme",
                       "an intensive family support service"),
    "school linkage": ("a school-community link worker service",
                       "a school-based youth work programme",
                       "a primary-secondary transition support programme",
                       "an extended schools programme"),
    "community capacity building": ("a community youth hub programme",
                                    "a youth civic engagement programme",
                                    "a neighbourhood asset-building initiative",
                                    "a co-designed community arts programme"),
    "service integration": ("an integrated youth mental health service",
                            "a one-stop youth health hub", "a multi-agency early help team",
                            "a social prescribing service for young people"),
}
WRONG_INTERVENTIONS = (
    "group cognitive behavioural therapy", "a mindfulness-based smartphone app",
    "clinician-delivered social skills training", "a one-week social media abstinence challenge",
    "a school-based physical activity programme",
)
WRONG_KEYWORDS = {
    "group cognitive behavioural therapy": ["cognitive behavioural therapy", "group therapy"],
    "a mindfulness-based smartphone app": ["mindfulness", "mobile health"],
    "clinician-delivered social skills training": ["social skills training", "clinical "
                                                   "intervention"],
    "a one-week social media abstinence challenge": ["social media", "digital detox"],
    "a school-based physical activity programme": ["physical activity", "exercise"],
}
REASON_PLAN = (
    ["Wrong population (age)"] * 7 + ["No comparison group"] * 8 + ["Outcome not measured"] * 6
    + ["Wrong study design"] * 8 + ["Conference abstract only"] * 6 + ["Wrong intervention"] * 5
)


def relevant_titles(reason: str, rng: random.Random, inter: str, pop: str) -> str:
    cap = inter[0].upper() + inter[1:]
    if reason == "Wrong population (age)":
        return rng.choice((f"{cap} for {pop}: a randomised controlled trial",
                           f"Effects of {inter} on loneliness in {pop}: a controlled trial",
                           f"Reducing social isolation in {pop} through {inter}: a "
                           "randomised trial"))
    if reason == "No comparison group":
        return rng.choice((f"{cap} for {pop}: a pre-post evaluation",
                           f"{cap} for {pop}: an uncontrolled pilot study",
                           f"Loneliness and wellbeing outcomes of {inter} for {pop}: a "
                           "single-arm feasibility study",
                           f"{cap} for {pop}: findings from a service evaluation"))
    if reason == "Outcome not measured":
        return rng.choice((f"{cap} for {pop}: effects on school attendance and attainment",
                           f"Reach, fidelity and participation in {inter} for {pop}",
                           f"{cap} for {pop}: a cost-consequence analysis",
                           f"Does {inter} keep {pop} in education? A controlled study"))
    if reason == "Wrong study design":
        return rng.choice((f"Experiences of {inter} among {pop}: a qualitative study",
                           f"Participation in {inter} and loneliness among {pop}: a "
                           "cross-sectional survey",
                           f"Implementing {inter} for {pop}: a process evaluation",
                           f"How {inter} builds belonging for {pop}: a realist evaluation"))
    if reason == "Conference abstract only":
        return rng.choice((f"{cap} for {pop}: preliminary findings from a randomised trial",
                           f"{cap} to reduce loneliness in {pop}: interim results",
                           f"Early results of {inter} for lonely {pop}"))
    return rng.choice((f"{cap} for loneliness in {pop}: a randomised controlled trial",
                       f"Effects of {inter} on loneliness and wellbeing in {pop}: a "
                       "randomised trial"))


def relevant_abstract(reason: str, rng: random.Random, inter: str, pop: str, ages: tuple,
                      structured: bool) -> list[tuple[str, str]]:
    ctx = numbers(rng)
    lon, men, sup = rng.choice(LONELINESS), rng.choice(MENTAL), rng.choice(SUPPORT)
    age = f"aged {ages[0]} to {ages[1]} years"
    bg = [rng.choice((
        f"Loneliness is a growing concern for {pop}, and {inter.split(' for ')[0]} is "
        "increasingly offered to strengthen social support.",
        f"Social support may protect the mental health of {pop}, but evidence for {inter} is "
        "limited.",
        f"{pop[0].upper() + pop[1:]} are at high risk of isolation and poor mental health.",
    ))]
    if reason in ("Wrong population (age)", "Wrong intervention"):
        arm = (f"{ctx['n'] % 300 + 60} {pop} {age} were randomly allocated to {inter} for "
               f"{ctx['weeks']} weeks or to a waiting-list control.")
        methods = [arm, f"Outcomes were {long_m(lon)}, {long_m(men)} and {long_m(sup)} at "
                   f"{ctx['months']} months."]
        md, lo, hi = diff_ci(rng, rng.random() < 0.6)
        results = [f"Loneliness scores were lower in the intervention group at follow-up "
                   f"(mean difference {md}, 95% CI {lo} to {hi}).",
                   f"Effects on {short_m(men)} were smaller (d = {ctx['d']})."]
        concl = [f"{inter[0].upper() + inter[1:]} may reduce loneliness in this group."]
    elif reason == "No comparison group":
        a = rng.uniform(44, 56)
        methods = [f"In a single-group design, {ctx['n_small'] * 3} {pop} {age} completed "
                   f"{long_m(lon)} and {long_m(men)} before and after {ctx['weeks']} weeks of "
                   f"{inter}.", "No comparison group was included."]
        results = [f"Mean loneliness scores fell from {a:.1f} to {a - rng.uniform(2, 7):.1f} "
                   f"({ctx['p']}).", f"Wellbeing improved (d = {ctx['d']}) and {ctx['pct2']}% "
                   "of participants completed the programme."]
        concl = ["The programme appears promising and merits a controlled evaluation."]
    elif reason == "Outcome not measured":
        methods = [f"We compared {ctx['n']} {pop} {age} who took part in {inter} with "
                   "matched peers using administrative records.",
                   "Outcomes were school attendance, exclusions, attainment in English and "
                   "mathematics, and programme retention."]
        results = [f"Participants had {ctx['pct'] // 3 + 2}% higher attendance than "
                   f"comparison pupils ({ctx['p']}).", "Differences in attainment were small "
                   "and not statistically significant."]
        concl = ["Engagement benefits were observed; effects on wellbeing should be examined "
                 "in future work."]
    elif reason == "Wrong study design":
        kind = rng.choice(("interview", "survey", "process"))
        if kind == "interview":
            methods = [f"We conducted semi-structured interviews with {ctx['n_small']} {pop} "
                       f"{age} and {ctx['n_small'] // 2 + 3} practitioners involved in "
                       f"{inter}.", "Data were analysed using reflexive thematic analysis."]
            results = ["Three themes were developed: feeling understood, widening circles of "
                       "trust, and the fragility of endings.", "Young people valued "
                       "consistency and choice in how support was offered."]
        elif kind == "survey":
            methods = [f"A cross-sectional survey of {ctx['n']} {pop} {age} asked about "
                       f"participation in {inter}, {long_m(lon)} and {long_m(men)}.",
                       "Associations were estimated with multilevel regression."]
            results = [f"Participation was associated with lower loneliness (beta = -"
                       f"{ctx['beta']}, 95% CI -{ctx['b_hi']} to -{ctx['b_lo']}).",
                       "Associations were stronger for those with fewer friends at school."]
        else:
            methods = [f"A mixed-methods process evaluation across {ctx['n_sites']} sites "
                       "drew on observations, interviews and monitoring data.",
                       "Implementation was assessed against the programme's logic model."]
            results = [f"Fidelity was high in {ctx['pct2']}% of sessions, but recruitment of "
                       "the most isolated young people was difficult.", "Staff turnover and "
                       "short-term funding limited delivery."]
        concl = ["The findings can inform the design and delivery of support for this group."]
    else:  # conference abstract: short, no full paper
        methods = [f"{ctx['n'] % 200 + 40} {pop} {age} were randomised to {inter} or usual "
                   f"support; loneliness was measured with {long_m(lon)}."]
        results = ["Preliminary analyses suggest lower loneliness in the intervention arm at "
                   f"{ctx['months']} months (d = {ctx['d']})."]
        concl = ["Full results will be reported after final follow-up."]
        return assemble(rng, {"BACKGROUND": bg, "METHODS": methods, "RESULTS": results,
                              "CONCLUSIONS": concl},
                        ["METHODS|Recruitment took place through schools and youth services.",
                         "RESULTS|Attendance at sessions was high.",
                         "BACKGROUND|Few trials have examined this approach.",
                         "METHODS|Analyses were by intention to treat.",
                         "RESULTS|No adverse events were reported.",
                         "CONCLUSIONS|The approach appears acceptable to young people.",
                         "METHODS|Sessions were delivered weekly by trained staff and "
                         "volunteers.",
                         "RESULTS|Follow-up questionnaires were returned by most "
                         "participants in both arms.",
                         "BACKGROUND|Loneliness in this group is linked to poorer mental "
                         "health and school engagement."],
                        structured, lo=120, hi=160)
    extras = [
        "METHODS|Recruitment took place through schools, youth services and social care.",
        "BACKGROUND|Few studies have examined this question in this population.",
        f"RESULTS|The mean age of participants was {ctx['mean_age']} years.",
        "METHODS|The study was approved by the relevant research ethics committee.",
        "RESULTS|Young people described the programme as acceptable and enjoyable.",
        "CONCLUSIONS|Commissioners should consider the findings when planning services.",
    ]
    return assemble(rng, {"BACKGROUND": bg, "METHODS": methods, "RESULTS": results,
                          "CONCLUSIONS": concl}, extras, structured)


def ft_excluded_works() -> list[Work]:
    works = []
    types = list(REL_INTERVENTIONS)
    conf_journals = ("jah", "eurpsy", "adc")
    for i, reason in enumerate(REASON_PLAN):
        rng = rng_for("ftex", i)
        itype = types[i % len(types)]
        inter = rng.choice(REL_INTERVENTIONS[itype])
        if reason == "Wrong population (age)":
            pop, a_lo, a_hi = rng.choice(WRONG_AGE_POPS)
            if "school" in inter:  # schools do not serve adults or toddlers
                inter = next(x for x in REL_INTERVENTIONS[itype] + REL_INTERVENTIONS[
                    "peer support"] if "school" not in x)
        else:
            pop, a_lo, a_hi = rng.choice(REL_POPS)
        if reason == "Wrong intervention":
            inter = WRONG_INTERVENTIONS[i % len(WRONG_INTERVENTIONS)]
        title = relevant_titles(reason, rng, inter, pop)
        if reason == "Conference abstract only":
            journal = JOURNALS[conf_journals[i % 3]]
        else:
            journal = JOURNALS[rng.choice(("jadol", "cchd", "jya", "bmcph", "cysr", "jcop",
                                           "camh", "ecap", "ajcp", "cfsw", "hscc", "ijerph",
                                           "spi", "jah", "eip"))]
        abstract = relevant_abstract(reason, rng, inter, pop, (a_lo, a_hi), journal.structured)
        if reason == "Conference abstract only":
            sources = ["scopus"] + (["psycinfo"] if rng.random() < 0.4 else [])
        else:
            sources = pick_sources(rng, journal, psych=0.7)
        design_pt = ("Randomized Controlled Trial" if "random" in title else None)
        w = Work(
            title=title, authors=author_list(rng), year=rng.randint(2012, 2024),
            journal=journal, abstract=abstract,
            keywords=[*(WRONG_KEYWORDS[inter] if inter in WRONG_KEYWORDS else
                        TYPE_KEYWORDS[itype][:2]),
                      "loneliness", rng.choice(("adolescents", "young people", "children"))],
            mesh=["Humans", *age_mesh(a_lo, a_hi), "*Loneliness", *TYPE_MESH[itype][:1],
                  *population_mesh(pop)],
            pub_types=["Journal Article"] + ([design_pt] if design_pt else []),
            sources=sources, category="excluded_full_text", ta_label="include",
            ft_label="exclude", ft_reason=reason,
            ris_type="CONF" if reason == "Conference abstract only" else "JOUR",
            scopus_type="Conference Paper" if reason == "Conference abstract only" else "Article",
        )
        place_in_issue(w, rng)
        if reason == "Conference abstract only":
            w.article_no, w.issue = "", rng.choice(("2 Suppl", "S1", "Suppl 1"))
            page = rng.randint(10, 400)
            w.first_page, w.last_page = f"S{page}", f"S{page + 1}"
        works.append(w)
    return works


def not_retrieved_works() -> list[Work]:
    out = []
    rng = rng_for("notret", 1)
    w = Work(
        title="[Peer support for young carers: a controlled evaluation in Bavarian schools]",
        authors=author_list(rng, None, 2, 4), year=2016, journal=JOURNALS["pkk"],
        abstract=relevant_abstract("Wrong population (age)", rng, "a peer support group "
                                   "programme", "young carers", (10, 17), True),
        keywords=["young carers", "peer support", "loneliness"],
        mesh=["Humans", "Child", "Adolescent", "*Caregivers/psychology", "*Peer Group"],
        pub_types=["English Abstract", "Journal Article"], sources=["pubmed", "psycinfo"],
        category="not_retrieved", ta_label="include", ft_label="not_retrieved", language="ger",
        note="German-language article; PubMed shows the translated title in brackets",
    )
    place_in_issue(w, rng)
    w.doi = ""
    out.append(w)
    rng = rng_for("notret", 2)
    w = Work(
        title="Befriending for socially isolated adolescents in residential care: a controlled "
        "trial", authors=author_list(rng, None, 1, 3), year=2009, journal=JOURNALS["adfos"],
        abstract=relevant_abstract("Wrong intervention", rng, "a volunteer befriending scheme",
                                   "adolescents in residential care", (12, 17), False),
        keywords=["befriending", "residential care", "loneliness"], mesh=[],
        pub_types=["Journal Article"], sources=["scopus"], category="not_retrieved",
        ta_label="include", ft_label="not_retrieved",
    )
    place_in_issue(w, rng)
    out.append(w)
    return out


def citation_only_works() -> list[Work]:
    """Grey literature found on charity websites and by checking reference lists."""
    out = []
    specs = (
        ("Evaluation of the Bridges youth befriending service: final report", "Bridges Youth "
         "Trust", 2022, "No comparison group", "excluded_full_text", "a peer befriending "
         "scheme", "young people aged 11 to 18"),
        ("Brighter Futures mentoring for young refugees: year two evaluation report",
         "Refugee Youth Network", 2021, "Outcome not measured", "excluded_full_text",
         "a volunteer mentoring programme", "refugee young people aged 14 to 21"),
        ("Connected Schools pilot: an evaluation of school-community links in three towns",
         "Northern Youth Research Unit", 2020, "No comparison group", "excluded_full_text",
         "a school-community link worker service", "secondary school pupils"),
        ("Interim evaluation of a peer mentoring pilot for young refugees",
         "Refugee Youth Network", 2019, "", "not_retrieved", "a school-based peer mentoring "
         "scheme", "young refugees"),
        ("Tackling loneliness among young people: a policy briefing for local authorities",
         "Youth Policy Institute", 2022, "", "irrelevant", "", "young people"),
    )
    for i, (title, org, year, reason, cat, inter, pop) in enumerate(specs):
        rng = rng_for("grey", i)
        ctx = numbers(rng)
        if cat == "irrelevant":
            text = [("", "This briefing summarises national survey data on loneliness among "
                     "young people, sets out the statutory duties of local authorities and "
                     "offers practical recommendations for commissioners. It draws on "
                     "consultation with youth councils and practitioners, and highlights "
                     "examples of local strategies. The briefing does not report new "
                     "evaluation data. It recommends that councils map existing provision, "
                     "involve young people in designing services, and monitor loneliness "
                     "with a short validated measure. A checklist for commissioners is "
                     "included, alongside signposting to national guidance and funding "
                     "streams for youth services and voluntary organisations. Case studies "
                     "from three councils illustrate how youth workers, schools and health "
                     "services can share information and avoid duplication. A final section "
                     "sets out questions that elected members may wish to ask when "
                     "scrutinising local plans.")]
        else:
            text = [("", f"This report describes the evaluation of {inter} for {pop}, "
                     f"delivered by {org} across {ctx['n_sites']} sites. " + (
                         f"{ctx['n_small'] * 4} young people completed questionnaires at "
                         "entry and exit, including the UCLA Loneliness Scale and the "
                         "Short Warwick-Edinburgh Mental Well-being Scale. Average loneliness "
                         "scores fell between entry and exit, and young people and staff "
                         "described gains in confidence and friendships. No comparison group "
                         "was available, so changes cannot be attributed to the service. "
                         if reason == "No comparison group" else
                         "Monitoring data on referrals, attendance, completion and "
                         "progression into education or employment were analysed alongside "
                         "interviews with young people, mentors and partner agencies. "
                         "Loneliness and mental health were not measured. Most young "
                         "people stayed with the programme for at least six months, and "
                         "partner agencies valued the extra capacity it offered. ") +
                     "The report sets out lessons for delivery, including the importance of "
                     "trusted relationships, flexible session times and close links with "
                     "schools and social care. Recommendations are made for funders and for "
                     "future evaluation, including the use of a comparison group and "
                     "validated outcome measures of loneliness and wellbeing.")]
        w = Work(
            title=title, authors=author_list(rng, None, 1, 3), year=year,
            journal=JOURNALS["jadol"], abstract=text if rng.random() < 0.9 or cat == "irrelevant"
            else [], keywords=[], mesh=[], pub_types=["Report"],
            sources=["citation_searching"], category=cat,
            ta_label="exclude" if cat == "irrelevant" else "include",
            ft_label={"excluded_full_text": "exclude", "not_retrieved": "not_retrieved"}.get(
                cat, ""),
            ft_reason=reason, ris_type="RPRT", scopus_type="", publisher=org,
            url=f"https://example.org/{re.sub(r'[^a-z]+', '-', org.lower()).strip('-')}/"
            f"reports/{year}-{i + 1}",
            found_by="website search (youth charities)" if i % 2 == 0 else "citation searching",
        )
        w.month = rng.randint(1, 12)
        out.append(w)
    return out


# ---------------------------------------------------------------------------------------------
# The bulk: irrelevant but plausible records that the search strategy also retrieved
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    name: str
    count: int
    titles: tuple[str, ...]
    slots: dict[str, tuple[str, ...]]
    background: tuple[str, ...]
    methods: tuple[str, ...]
    results: tuple[str, ...]
    conclusions: tuple[str, ...]
    extras: tuple[str, ...]
    keywords: tuple[str, ...]
    mesh: tuple[str, ...]
    journals: tuple[str, ...]
    psych: float  # how likely PsycInfo is to index it
    pub_types: tuple[str, ...] = ("Journal Article",)
    years: tuple[int, int] = (2008, 2024)


OBS = ("a cross-sectional study", "a population-based cohort study", "a longitudinal analysis",
       "a national survey", "a prospective cohort study", "a secondary analysis of panel data")
TRIAL = ("a randomised controlled trial", "a cluster randomised trial", "a pilot randomised "
         "trial", "a pragmatic randomised controlled trial", "a non-randomised controlled study")
YOUTH = ("adolescents", "secondary school students", "children aged 8-12",
         "early adolescents", "high school students", "young adolescents")

TOPICS: tuple[Topic, ...] = (
    Topic(
        "adult_loneliness", 16,
        ("Loneliness and {outcome} in {pop}: {obs}",
         "Associations between social isolation, loneliness and {outcome} among {pop}",
         "Trajectories of loneliness in {pop} and later {outcome}: {obs}",
         "Living alone, loneliness and {outcome} in {pop}"),
        {"pop": ("middle-aged adults", "working-age adults", "adults living alone",
                 "shift workers", "new parents", "adults with chronic pain", "migrant workers",
                 "adults with type 2 diabetes", "people with multiple sclerosis", "veterans",
                 "adults experiencing homelessness", "unemployed adults"),
         "outcome": ("cardiovascular risk", "sleep quality", "all-cause mortality",
                     "depressive symptoms", "alcohol use", "cognitive function",
                     "health service use", "inflammatory markers", "physical activity",
                     "suicidal ideation"),
         "obs": OBS},
        ("Loneliness is increasingly recognised as a public health problem in adulthood.",
         "Social isolation and loneliness have been linked to poor physical and mental health "
         "in adults, but the pathways remain unclear."),
        ("We analysed data from {n} {pop} (mean age {adult_age} years) in {country}.",
         "Loneliness was assessed with the Three-Item Loneliness Scale and {outcome} with "
         "validated instruments; models adjusted for sociodemographic factors and baseline "
         "health."),
        ("Loneliness was reported by {pct}% of participants.",
         "Higher loneliness was associated with worse {outcome} (OR {or_}, 95% CI {or_lo} to "
         "{or_hi}).",
         "Associations were partly explained by depressive symptoms and physical inactivity."),
        ("Loneliness is an important and modifiable correlate of {outcome} in {pop}.",
         "Interventions targeting loneliness may have benefits for {outcome} in adulthood."),
        ("METHODS|Data were collected between {year_lo} and 2022.",
         "RESULTS|Social isolation was independently associated with {outcome} (beta = {beta}).",
         "BACKGROUND|Less is known about {pop} than about older adults.",
         "METHODS|Missing data were handled with multiple imputation.",
         "CONCLUSIONS|Health professionals should ask about social relationships."),
        ("loneliness", "social isolation", "adults", "epidemiology"),
        ("Humans", "Adult", "Middle Aged", "*Loneliness/psychology", "*Social Isolation"),
        ("sppe", "jaffd", "bmcph", "pone", "ijerph"), 0.5,
    ),
    Topic(
        "older_adults", 16,
        ("{intv} to reduce social isolation in {pop}: {trial}",
         "Effects of {intv} on loneliness among {pop}: {trial}",
         "{intv} for loneliness in later life: {trial}",
         "Can {intv} reduce loneliness in {pop}? {trial}"),
        {"intv": ("a telephone befriending service", "intergenerational volunteering",
                  "a digital literacy programme", "group exercise classes",
                  "a social prescribing link worker", "robotic pet companions",
                  "a community choir", "reminiscence groups", "a men's shed programme",
                  "video calls with family", "day centre attendance",
                  "a horticultural therapy programme"),
         "pop": ("community-dwelling older adults", "care home residents",
                 "older adults with hearing loss", "people aged 75 and over living alone",
                 "older adults after hospital discharge", "rural older adults",
                 "older adults with mild cognitive impairment"),
         "trial": TRIAL},
        ("Social isolation and loneliness are common in later life and are associated with "
         "depression, cognitive decline and mortality.",
         "Effective interventions for loneliness in older people are needed."),
        ("We randomised {n_small}0 {pop} (mean age {old_age} years) in {country} to {intv} or "
         "usual care for {weeks} weeks.",
         "Loneliness was measured with the De Jong Gierveld Loneliness Scale; secondary "
         "outcomes were social network size (Lubben Social Network Scale-6), depressive "
         "symptoms (GDS-15) and quality of life (EQ-5D)."),
        ("Loneliness decreased more in the intervention group than in controls (d = {d}; {p}).",
         "Effects on depressive symptoms were small and not statistically significant "
         "({p_ns}).",
         "Retention was {pct2}% at {months} months."),
        ("{intv} may be a feasible way to reduce loneliness among {pop}.",
         "Larger trials with longer follow-up are warranted."),
        ("BACKGROUND|Many older people live alone and have few daily contacts.",
         "METHODS|Analyses followed intention-to-treat principles.",
         "RESULTS|Participants rated the intervention highly.",
         "METHODS|Outcomes were assessed by blinded researchers."),
        ("older adults", "loneliness", "social isolation", "aging"),
        ("Humans", "Aged", "Aged, 80 and over", "*Loneliness", "*Social Isolation"),
        ("agmh", "geront", "bmcph", "hscc", "ijerph"), 0.6,
        ("Journal Article", "Randomized Controlled Trial"),
    ),
    Topic(
        "drug_trials", 14,
        ("{drug} versus placebo in adolescents with {cond}: {phase}",
         "Efficacy and safety of {drug} in children and adolescents with {cond}: {phase}",
         "{drug} augmentation for {cond} in adolescents: {phase}",
         "Long-term safety of {drug} in paediatric {cond}: {phase}"),
        {"drug": ("Fluoxetine", "Escitalopram", "Sertraline", "Vortioxetine", "Duloxetine",
                  "Esketamine nasal spray", "Omega-3 fatty acid supplementation", "Quetiapine",
                  "Aripiprazole", "Lithium", "N-acetylcysteine", "Lurasidone"),
         "cond": ("major depressive disorder", "treatment-resistant depression",
                  "generalised anxiety disorder", "bipolar depression",
                  "persistent depressive disorder", "social anxiety disorder"),
         "phase": ("a randomised, double-blind, placebo-controlled trial",
                   "a multicentre phase 3 trial", "an 8-week randomised controlled trial",
                   "a 12-week double-blind trial", "results of a phase 2 study",
                   "an open-label extension study")},
        ("Pharmacological options for {cond} in young people remain limited.",
         "Few medicines have been approved for {cond} in adolescents."),
        ("Outpatients aged 12 to 17 years with a primary diagnosis of {cond} were randomised "
         "to {drug} or placebo for {weeks} weeks at {n_sites} sites.",
         "The primary endpoint was change in Children's Depression Rating Scale-Revised "
         "(CDRS-R) total score; secondary endpoints included Clinical Global Impression-"
         "Improvement (CGI-I) response and adverse events."),
        ("A total of {n_small}0 patients were randomised.",
         "The least-squares mean difference from placebo in CDRS-R change was -{d}0 points "
         "({p_ns}).", "Treatment-emergent adverse events occurred in {pct2}% of patients; "
         "suicidal ideation was monitored with the Columbia Suicide Severity Rating Scale."),
        ("{drug} was generally well tolerated but did not separate from placebo on the "
         "primary endpoint.",
         "These results inform prescribing decisions for adolescents with {cond}."),
        ("METHODS|Randomisation was stratified by site and age group.",
         "RESULTS|Discontinuation due to adverse events was uncommon.",
         "BACKGROUND|Placebo response rates in paediatric trials are high.",
         "CONCLUSIONS|Careful monitoring for suicidality remains essential."),
        ("adolescent depression", "pharmacotherapy", "randomized controlled trial", "safety"),
        ("Humans", "Adolescent", "Child", "Antidepressive Agents/therapeutic use",
         "Double-Blind Method", "Treatment Outcome"),
        ("jaacap", "jcap", "jaffd", "ecap"), 0.2,
        ("Journal Article", "Randomized Controlled Trial", "Multicenter Study"),
    ),
    Topic(
        "school_achievement", 14,
        ("{factor} and {ach} in {pop}: {obs}",
         "Effects of {intv} on {ach}: {trial}",
         "The role of {factor} in {ach} among {pop}"),
        {"factor": ("Teacher expectations", "Homework time", "Classroom climate",
                    "School start times", "Growth mindset", "Parental involvement",
                    "Class size", "Peer academic norms", "Reading for pleasure",
                    "School absenteeism"),
         "ach": ("mathematics attainment", "reading comprehension", "academic achievement",
                 "examination performance", "school completion", "science achievement"),
         "intv": ("a phonics tutoring programme", "a maths mastery curriculum",
                  "one-to-one tutoring", "summer school", "a metacognition programme",
                  "a tablet-based reading intervention", "a school breakfast club"),
         "pop": ("primary school pupils", "lower secondary students",
                 "pupils eligible for free school meals", "English language learners",
                 "students in grades 6 to 8"),
         "obs": OBS, "trial": TRIAL},
        ("Raising attainment and narrowing gaps between groups of pupils are central goals of "
         "education policy.", "Evidence on what improves {ach} is mixed."),
        ("We used data on {n} {pop} from {n_sites} schools in {country}.",
         "Attainment was measured with standardised tests at the end of the school year, and "
         "multilevel models accounted for clustering within classes and schools."),
        ("The intervention or exposure was associated with higher {ach} (effect size = {d}).",
         "Effects were larger for pupils with low prior attainment.",
         "Intraclass correlations at school level were around 0.1."),
        ("The findings have implications for teachers and school leaders seeking to improve "
         "{ach}.",),
        ("METHODS|Teachers received two days of training.",
         "RESULTS|Implementation fidelity varied between schools.",
         "BACKGROUND|Socio-economic gaps in attainment widen during secondary school.",
         "CONCLUSIONS|Cost per pupil was modest."),
        ("academic achievement", "education", "schools", "attainment"),
        ("Humans", "Child", "Adolescent", "*Academic Success", "Schools"),
        ("bjep", "lai", "jep", "spi"), 0.7,
    ),
    Topic(
        "social_media", 14,
        ("{expo} and {mh} in adolescents: {obs}",
         "Is {expo} associated with {mh} in young people? {obs}",
         "Longitudinal associations between {expo} and {mh} among {youth}"),
        {"expo": ("Social media use", "Problematic smartphone use", "Passive social media "
                  "browsing", "Online gaming", "Screen time", "Night-time phone use",
                  "Photo-based social media use"),
         "mh": ("depressive symptoms", "loneliness", "self-esteem", "body image",
                "sleep problems", "anxiety", "life satisfaction"),
         "youth": YOUTH, "obs": OBS},
        ("Concerns about the effects of digital media on young people's wellbeing are "
         "widespread.", "Evidence linking {expo} to {mh} is largely cross-sectional."),
        ("We surveyed {n} {youth} in {country} at {years} annual waves.",
         "Random-intercept cross-lagged panel models separated within-person from "
         "between-person associations."),
        ("Between-person associations were small (r = {r}).",
         "Within-person associations between {expo} and later {mh} were close to zero.",
         "Associations were slightly stronger for girls."),
        ("{expo} explains little of the variation in {mh}; other factors deserve more "
         "attention.",),
        ("METHODS|Time use was measured with experience sampling in a subsample.",
         "RESULTS|Results were robust to alternative model specifications.",
         "BACKGROUND|Most adolescents now use social media daily.",
         "CONCLUSIONS|Parents and policy makers should avoid simple screen-time limits."),
        ("social media", "adolescents", "screen time", "wellbeing"),
        ("Humans", "Adolescent", "*Social Media", "*Screen Time", "Depression"),
        ("chb", "jya", "jadol", "jah", "ecap"), 0.7, years=(2013, 2024),
    ),
    Topic(
        "physical_activity", 12,
        ("{pa} and {mh} in {youth}: {trial}",
         "Effects of {pa} on {mh} among {youth}: {trial}",
         "{pax} and {mh} in {youth}: {obs}"),
        {"pa": ("A school-based high-intensity interval training programme",
                "A yoga programme", "Outdoor adventure education", "Dance classes",
                "A running club", "A daily mile scheme"),
         "pax": ("Organised sport participation", "Active travel to school",
                 "Daily step count", "Muscle-strengthening activity", "Sedentary time"),
         "mh": ("depressive symptoms", "anxiety", "self-esteem", "psychological wellbeing",
                "cognitive performance"),
         "youth": YOUTH, "trial": TRIAL, "obs": OBS},
        ("Physical activity declines during adolescence and may influence mental health.",),
        ("{n} {youth} from {n_sites} schools in {country} took part.",
         "Physical activity was measured by accelerometry and {mh} with validated "
         "self-report questionnaires."),
        ("{pa} was associated with modest improvements in {mh} (d = {d}).",
         "Effects were not moderated by sex or baseline fitness."),
        ("Promoting physical activity may support adolescent mental health.",),
        ("METHODS|Sessions were delivered by trained physical education teachers.",
         "RESULTS|Fitness improved in the intervention group.",
         "BACKGROUND|Fewer than one in five adolescents meets activity guidelines.",
         "METHODS|Models adjusted for pubertal status and socio-economic position."),
        ("physical activity", "exercise", "adolescents", "mental health"),
        ("Humans", "Adolescent", "*Exercise/psychology", "Mental Health"),
        ("bmcph", "jah", "pone", "ijerph"), 0.4,
    ),
    Topic(
        "sleep", 10,
        ("{sleep} and {mh} in {youth}: {obs}",
         "{sleep}, {mh} and school functioning in {youth}: {obs}"),
        {"sleep": ("Sleep duration", "Chronotype", "Insomnia symptoms", "Bedtime routines",
                   "Sleep hygiene education", "Weekend catch-up sleep"),
         "mh": ("depressive symptoms", "emotional problems", "anxiety", "irritability",
                "attention problems"),
         "youth": YOUTH, "obs": OBS},
        ("Insufficient sleep is common in adolescence.",
         "Sleep problems often precede the onset of emotional disorders."),
        ("{n} {youth} in {country} completed sleep diaries and questionnaires.",
         "{mh} was measured with the SDQ and sleep with actigraphy in a subsample."),
        ("Shorter sleep predicted more {mh} one year later (beta = {beta}, 95% CI {b_lo} to "
         "{b_hi}).", "Bidirectional associations were observed."),
        ("Sleep is a promising target for prevention of {mh}.",),
        ("METHODS|Covariates included age, sex and family affluence.",
         "RESULTS|Girls reported more sleep problems than boys.",
         "BACKGROUND|Biological and social changes delay sleep timing in adolescence."),
        ("sleep", "adolescents", "mental health"),
        ("Humans", "Adolescent", "*Sleep", "Sleep Wake Disorders"),
        ("jya", "jcpp", "jadol", "sppe"), 0.6,
    ),
    Topic(
        "bullying", 12,
        ("Prevalence and correlates of {bully} among {youth} in {country}",
         "{bully} and {mh}: {obs}",
         "Who is at risk of {bully}? {obs}"),
        {"bully": ("bullying victimisation", "cyberbullying", "homophobic bullying",
                   "sibling bullying", "bullying perpetration", "relational aggression"),
         "mh": ("depressive symptoms", "self-harm", "psychotic experiences", "anxiety",
                "school refusal"),
         "youth": YOUTH, "obs": OBS, "country": COUNTRIES},
        ("Bullying is a common adverse experience in childhood.",
         "{bully} has been linked to poor mental health."),
        ("We analysed survey data from {n} {youth} collected in {year_lo}.",
         "Victimisation was measured with the Olweus Bully/Victim Questionnaire."),
        ("{pct}% reported {bully} in the previous term.",
         "Victims were more likely to report {mh} (OR {or_}, 95% CI {or_lo} to {or_hi})."),
        ("Prevention of {bully} should be a public health priority.",),
        ("METHODS|Weights accounted for the complex survey design.",
         "RESULTS|Associations persisted after adjustment for prior difficulties.",
         "BACKGROUND|Few studies have examined these associations in this setting."),
        ("bullying", "victimization", "adolescents", "school"),
        ("Humans", "Adolescent", "Child", "*Bullying", "Crime Victims/psychology"),
        ("jadol", "jya", "ecap", "sppe", "bmcph"), 0.6,
    ),
    Topic(
        "covid_adults", 12,
        ("Loneliness during the COVID-19 pandemic among {pop}: {obs}",
         "Mental health of {pop} during COVID-19 lockdowns: {obs}",
         "Changes in loneliness among {pop} across the COVID-19 pandemic"),
        {"pop": ("university students", "healthcare workers", "older adults",
                 "adults in England", "people living alone", "parents working from home",
                 "international students", "nursing home staff", "people with disabilities"),
         "obs": OBS},
        ("Physical distancing measures during the COVID-19 pandemic disrupted social "
         "contact.",),
        ("An online survey of {n} {pop} in {country} was conducted between April 2020 and "
         "March 2021.",
         "Loneliness was measured with the UCLA Loneliness Scale and psychological distress "
         "with the GHQ-12."),
        ("Loneliness increased during the first lockdown and declined slowly thereafter.",
         "{pct}% reported often or always feeling lonely.",
         "Loneliness was associated with psychological distress (beta = {beta})."),
        ("Support for {pop} should be prioritised in future public health emergencies.",),
        ("METHODS|Participants were recruited through social media and mailing lists.",
         "RESULTS|Women and those with pre-existing conditions were most affected.",
         "BACKGROUND|The pandemic led to prolonged periods of restricted social contact."),
        ("COVID-19", "loneliness", "pandemic", "mental health"),
        ("Humans", "Adult", "*COVID-19/psychology", "*Loneliness", "Pandemics"),
        ("pone", "ijerph", "bmcph", "jaffd", "sppe"), 0.5, years=(2021, 2024),
    ),
    Topic(
        "psychometrics", 12,
        ("Psychometric properties of {scale} in {vpop}",
         "Validation of the {lang} version of {scale} among {vpop}",
         "Measurement invariance of {scale} across {groups}"),
        {"scale": ("the UCLA Loneliness Scale (Version 3)", "the Three-Item Loneliness Scale",
                   "the Multidimensional Scale of Perceived Social Support",
                   "the Strengths and Difficulties Questionnaire",
                   "the Warwick-Edinburgh Mental Well-being Scale",
                   "the Psychological Sense of School Membership scale",
                   "the De Jong Gierveld Loneliness Scale"),
         "vpop": ("adolescents", "older adults", "university students",
                  "primary school children", "adult outpatients"),
         "lang": ("Portuguese", "Turkish", "Korean", "Polish", "Arabic", "Spanish", "Greek"),
         "groups": ("gender and age groups", "countries", "time", "ethnic groups")},
        ("Valid and reliable measures are needed to study loneliness and social support.",),
        ("{n} {vpop} in {country} completed {scale}.",
         "Confirmatory factor analysis, internal consistency and convergent validity were "
         "examined."),
        ("A single-factor model fitted well (CFI = {cfi}, RMSEA = {rmsea}).",
         "Internal consistency was good (alpha = {alpha}).",
         "Scores correlated with depressive symptoms as expected (r = {r})."),
        ("{scale} is a valid instrument for use with {vpop}.",),
        ("METHODS|Test-retest reliability was assessed after two weeks in a subsample.",
         "RESULTS|Scalar invariance was supported.",
         "BACKGROUND|Translated versions require careful validation."),
        ("psychometrics", "validation", "reliability", "factor analysis"),
        ("Humans", "*Psychometrics", "Reproducibility of Results", "Surveys and "
         "Questionnaires"),
        ("pone", "ijerph", "agmh", "jadol"), 0.7, ("Journal Article", "Validation Study"),
    ),
    Topic(
        "clinical_youth", 12,
        ("{cint} for {ccond} in {youth}: {trial}",
         "Effect of {cint} on glycaemic and psychosocial outcomes in {ccond}: {trial}"),
        {"cint": ("A family-based weight management programme", "Continuous glucose "
                  "monitoring", "A school nurse-led asthma education programme",
                  "Text-message reminders", "A lifestyle intervention",
                  "Transition clinics"),
         "ccond": ("obesity", "type 1 diabetes", "asthma", "sickle cell disease", "epilepsy"),
         "youth": YOUTH, "trial": TRIAL},
        ("{ccond} in childhood is associated with reduced quality of life.",),
        ("We randomised {n_small}0 {youth} with {ccond} to {cint} or usual care.",
         "The primary outcome was a clinical marker at {months} months (BMI z-score, HbA1c or "
         "symptom-free days)."),
        ("The primary outcome improved modestly (d = {d}).",
         "Quality of life did not differ between groups ({p_ns})."),
        ("{cint} may improve clinical outcomes for young people with {ccond}.",),
        ("METHODS|Participants were recruited from paediatric outpatient clinics.",
         "RESULTS|Adherence declined over time.",
         "BACKGROUND|Self-management demands increase in adolescence."),
        ("chronic illness", "adolescents", "self-management"),
        ("Humans", "Adolescent", "Child", "Chronic Disease/therapy"),
        ("ppr", "pdiab", "bmcph", "jah"), 0.15,
        ("Journal Article", "Randomized Controlled Trial"),
    ),
    Topic(
        "early_years", 12,
        ("{eint} and {eout} in {epop}: {trial}",
         "Effects of {eint} on {eout}: {trial}"),
        {"eint": ("A nurse home-visiting programme", "Video feedback parenting support",
                  "A book-gifting scheme", "Group parenting classes",
                  "Responsive caregiving training"),
         "eout": ("infant language development", "attachment security", "maternal depression",
                  "toddler behaviour problems", "breastfeeding duration"),
         "epop": ("first-time mothers", "families with infants", "low-income families with "
                  "toddlers", "families of preterm infants"),
         "trial": TRIAL},
        ("The first years of life lay the foundations for later development.",),
        ("{n_small}0 {epop} in {country} were randomised to {eint} or usual services.",
         "{eout} was assessed at {months} months with standardised observational measures."),
        ("Effects on {eout} were small (d = {d}).",
         "Engagement was high among families who received the programme."),
        ("{eint} may benefit {epop}, but effects were modest.",),
        ("METHODS|Assessors were blind to allocation.",
         "RESULTS|Cost per family was estimated.",
         "BACKGROUND|Parenting support is widely offered in the early years."),
        ("early childhood", "parenting", "infants"),
        ("Humans", "Infant", "Child, Preschool", "Parenting", "Mothers"),
        ("idj", "bmcph", "pone", "cchd"), 0.5,
        ("Journal Article", "Randomized Controlled Trial"),
    ),
    Topic(
        "adult_digital", 10,
        ("{app} for {acond} in adults: {trial}",
         "Effectiveness of {app} for {acond}: {trial}"),
        {"app": ("A smartphone-delivered CBT app", "Internet-delivered acceptance and "
                 "commitment therapy", "A mental health chatbot", "Guided online self-help",
                 "A virtual reality exposure programme"),
         "acond": ("depression", "insomnia", "panic disorder", "work-related stress",
                   "perinatal anxiety"),
         "trial": TRIAL},
        ("Digital interventions could widen access to psychological treatment for "
         "{acond}.",),
        ("{n_small}0 adults with {acond} (mean age {adult_age} years) were randomised to "
         "{app} or a waiting list.",
         "Symptoms were measured with the PHQ-9, GAD-7 or ISI at {weeks} weeks."),
        ("Symptoms improved more with {app} (d = {d}).", "Attrition was {pct}%."),
        ("{app} is an effective option for adults with {acond}.",),
        ("METHODS|Participants were recruited online.",
         "RESULTS|Adherence predicted outcome.",
         "BACKGROUND|Waiting lists for psychological therapy are long."),
        ("digital mental health", "eHealth", "adults"),
        ("Humans", "Adult", "*Internet-Based Intervention", "*Mobile Applications"),
        ("jmir", "jaffd", "pone"), 0.5, ("Journal Article", "Randomized Controlled Trial"),
    ),
    Topic(
        "carers_adult", 10,
        ("{cgint} for {cgpop}: effects on burden and {cgout}",
         "{cgint} for {cgpop}: {trial}"),
        {"cgint": ("Online peer support groups", "A psychoeducation programme", "Respite care",
                   "A telephone support intervention", "A mindfulness course"),
         "cgpop": ("family carers of people with dementia", "spousal carers of stroke "
                   "survivors", "carers of adults with severe mental illness",
                   "parents of adult children with intellectual disability"),
         "cgout": ("depressive symptoms", "loneliness", "quality of life", "self-efficacy"),
         "trial": TRIAL},
        ("Caring for a relative can be isolating and stressful.",),
        ("{n_small}0 {cgpop} (mean age {adult_age} years) took part in {country}.",
         "Carer burden was measured with the Zarit Burden Interview and {cgout} with "
         "validated scales."),
        ("Burden decreased slightly (d = {d}).", "Effects on {cgout} were mixed."),
        ("{cgint} may support {cgpop}.",),
        ("METHODS|Sessions were facilitated by trained staff.",
         "RESULTS|Carers valued contact with others in similar situations.",
         "BACKGROUND|Carers often neglect their own health."),
        ("caregivers", "carer burden", "support"),
        ("Humans", "Adult", "Aged", "*Caregivers/psychology", "Social Support"),
        ("agmh", "geront", "hscc", "bmcph"), 0.6,
    ),
    Topic(
        "teachers", 8,
        ("{tfac} and {tout} among {tpop}: {obs}",
         "The effect of {tfac} on {tout} in {tpop}"),
        {"tfac": ("Workload", "School leadership", "Classroom behaviour", "Collegial support",
                  "A mindfulness programme"),
         "tout": ("burnout", "job satisfaction", "intention to leave", "emotional exhaustion"),
         "tpop": ("secondary school teachers", "early career teachers", "special education "
                  "teachers", "head teachers"),
         "obs": OBS},
        ("Teacher wellbeing affects retention and the quality of teaching.",),
        ("{n} {tpop} in {country} completed questionnaires.",
         "{tout} was measured with the Maslach Burnout Inventory or validated scales."),
        ("{tfac} was associated with {tout} (beta = {beta}).",
         "Collegial support buffered the association."),
        ("Schools should address {tfac} to reduce {tout}.",),
        ("METHODS|Structural equation models were used.",
         "RESULTS|Associations were similar across school types.",
         "BACKGROUND|Teacher shortages are a concern in many countries."),
        ("teachers", "burnout", "wellbeing", "schools"),
        ("Humans", "Adult", "*School Teachers/psychology", "Burnout, Professional"),
        ("tte", "bjep", "spi"), 0.7,
    ),
    Topic(
        "child_loneliness_obs", 18,
        ("{risk} and loneliness in {youth}: {obs}",
         "Prevalence of loneliness among {youth} in {country}: {obs}",
         "Loneliness in childhood and {later} in adulthood: a {years}-year cohort study",
         "Friendship, belonging and loneliness among {youth}: {obs}"),
        {"risk": ("Family structure", "School transitions", "Neighbourhood deprivation",
                  "Chronic illness", "Parental migration", "Friendship quality", "Shyness",
                  "Parental separation", "Disability"),
         "later": ("depression", "cardiometabolic health", "educational attainment",
                   "employment", "self-harm"),
         "youth": YOUTH, "obs": OBS, "country": COUNTRIES},
        ("Loneliness is common in childhood and adolescence and has been linked to poor "
         "mental health.", "Little is known about the social determinants of loneliness in "
         "young people."),
        ("We analysed data from {n} {youth} in {country}.",
         "Loneliness was measured with {lon_long}; mental health with the SDQ."),
        ("{pct}% of participants reported frequent loneliness.",
         "Loneliness was associated with {later_or_risk} (OR {or_}, 95% CI {or_lo} to "
         "{or_hi}).",
         "Associations were similar for boys and girls."),
        ("Loneliness in young people is common and deserves attention from schools and "
         "services.",
         "Preventive approaches should target young people at greatest risk."),
        ("METHODS|Multilevel models accounted for clustering within schools.",
         "RESULTS|Perceived support from friends was protective (beta = -{beta}).",
         "BACKGROUND|Loneliness peaks in adolescence.",
         "CONCLUSIONS|Interventions should be developed and evaluated."),
        ("loneliness", "childhood", "adolescence", "social relationships"),
        ("Humans", "Child", "Adolescent", "*Loneliness/psychology", "Peer Group"),
        ("jadol", "jya", "jcpp", "ecap", "cchd", "bmcph", "cysr"), 0.7,
    ),
)


def pick_sources(rng: random.Random, journal: Journal, psych: float) -> list[str]:
    """Which databases the search found it in: PubMed only indexes its MEDLINE journals."""
    found = []
    if journal.nlm_title and rng.random() < 0.82:
        found.append("pubmed")
    if rng.random() < psych:
        found.append("psycinfo")
    if rng.random() < 0.8:
        found.append("scopus")
    return found or ["scopus"]


def irrelevant_works() -> list[Work]:
    works = []
    seen: set[str] = set()
    for topic in TOPICS:
        made, attempt = 0, 0
        while made < topic.count:
            rng = rng_for("topic", topic.name, attempt)
            attempt += 1
            ctx: dict[str, object] = numbers(rng)
            for slot, options in topic.slots.items():
                value = rng.choice(options)
                ctx[slot] = value if slot in PROPER_SLOTS else slot_value(value)
            lon = rng.choice(LONELINESS)
            ctx["lon_long"] = long_m(lon)
            ctx["later_or_risk"] = str(ctx.get("later", "depressive symptoms"))
            title = fill(rng.choice(topic.titles), ctx)
            if title.lower() in seen:
                continue
            seen.add(title.lower())
            journal = JOURNALS[rng.choice(topic.journals)]
            parts = {
                "BACKGROUND": [fill(rng.choice(topic.background), ctx)],
                "METHODS": [fill(t, ctx) for t in topic.methods],
                "RESULTS": [fill(t, ctx) for t in topic.results],
                "CONCLUSIONS": [fill(rng.choice(topic.conclusions), ctx)],
            }
            extras = [e.split("|", 1)[0] + "|" + fill(e.split("|", 1)[1], ctx)
                      for e in topic.extras]
            extras += [
                "METHODS|The study was approved by the institutional ethics committee.",
                f"RESULTS|Findings were consistent in sensitivity analyses excluding "
                f"{ctx['pct']}% of participants with incomplete data.",
            ]
            abstract = assemble(rng, parts, extras, journal.structured)
            kw = list(topic.keywords)
            rng.shuffle(kw)
            w = Work(
                title=title, authors=author_list(rng), year=rng.randint(*topic.years),
                journal=journal, abstract=abstract, keywords=kw, mesh=list(topic.mesh),
                pub_types=list(topic.pub_types), sources=pick_sources(rng, journal,
                                                                      topic.psych),
                category="irrelevant", ta_label="exclude", note=f"topic: {topic.name}",
                scopus_type="Article",
            )
            place_in_issue(w, rng)
            works.append(w)
            made += 1
    return works


# ---------------------------------------------------------------------------------------------
# Answer key bookkeeping
# ---------------------------------------------------------------------------------------------


def finalise(works: list[Work]) -> None:
    """Give ids, online-first years, in-press copies and the planned reviewer conflicts."""
    for i, w in enumerate(works, 1):
        w.ref_id = f"REF{i:04d}"
        rng = rng_for("final", w.ref_id)
        if w.ris_type == "JOUR" and len(w.sources) >= 2 and rng.random() < 0.05:
            w.epub_year = w.year - 1
    # Scopus often holds an 'Article in press' record beside the final one.
    for ref in ("REF0030", "REF0150"):
        w = next(x for x in works if x.ref_id == ref)
        if "scopus" in w.sources:
            w.in_press_copy = True
    # Deliberate disagreements for the conflicts page: reviewer B flips the label.
    plan = (
        ("title_abstract", "irrelevant", 5), ("title_abstract", "excluded_full_text", 3),
        ("title_abstract", "included", 2), ("full_text", "excluded_full_text", 2),
        ("full_text", "included", 1),
    )
    for stage, category, count in plan:
        pool = [w for w in works if w.category == category and not w.conflict]
        rng = rng_for("conflicts", stage, category)
        for w in rng.sample(pool, count):
            w.conflict = stage
            if stage == "full_text" and w.ft_label == "include":
                w.conflict_reason = rng.choice(("No comparison group", "Wrong study design"))


def build_works() -> list[Work]:
    included = included_works()
    works = [*included, *secondary_and_traps(included), *ft_excluded_works(),
             *not_retrieved_works(), *citation_only_works(), *irrelevant_works()]
    finalise(works)
    return works


# ---------------------------------------------------------------------------------------------
# Formatting helpers shared by the writers
# ---------------------------------------------------------------------------------------------

SMALL_WORDS = {
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or",
    "the", "to", "versus", "with", "among", "after", "via", "than", "across", "within",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FOLD = str.maketrans({"Ł": "L", "ł": "l", "ø": "o", "Ø": "O", "æ": "ae", "ß": "ss", "ı": "i"})


def ascii_fold(text: str) -> str:
    """What some platforms do to names: 'Müller' -> 'Muller', 'Ó Súilleabháin' -> 'O Suil...'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def title_case(title: str) -> str:
    """Headline style as some databases print titles; acronyms and numbers stay as they are."""
    out = []
    after_colon = True
    for word in title.split(" "):
        if any(c.isupper() for c in word) or any(c.isdigit() for c in word):
            out.append(word)
        elif word.lower() in SMALL_WORDS and not after_colon:
            out.append(word.lower())
        else:
            out.append("-".join(p[:1].upper() + p[1:] for p in word.split("-")))
        after_colon = word.endswith((":", "?", "."))
    return " ".join(out)


def medline_pages(first: str, last: str) -> str:
    """MEDLINE's abbreviated page range: 112-119 -> 112-9, 1045-1052 -> 1045-52."""
    if not last or first == last:
        return first
    if first.isdigit() and last.isdigit() and len(first) == len(last):
        i = 0
        while i < len(first) - 1 and first[i] == last[i]:
            i += 1
        return f"{first}-{last[i:]}"
    return f"{first}-{last}"


def abstract_text(sections: list[tuple[str, str]], style: str) -> str:
    """PubMed keeps 'BACKGROUND:' labels; Scopus prints them in title case; PsycInfo drops them."""
    if style == "psycinfo":
        return " ".join(text for _, text in sections)
    if style == "scopus":
        return " ".join(f"{lb.title()}: {t}" if lb else t for lb, t in sections)
    return " ".join(f"{lb}: {t}" if lb else t for lb, t in sections)


def wrap_medline(tag: str, value: str) -> list[str]:
    """MEDLINE lines: 4-char tag, '- ', value; continuations indented six spaces, ~80 wide."""
    lines = textwrap.wrap(value, width=74, break_long_words=False, break_on_hyphens=False)
    lines = lines or [""]
    return [f"{tag:<4}- {lines[0]}", *(f"      {line}" for line in lines[1:])]


# ---------------------------------------------------------------------------------------------
# Source writers: one copy of a work per source, each with that database's habits
# ---------------------------------------------------------------------------------------------


def pubmed_record(w: Work, pmid: str) -> str:
    rng = rng_for("pubmed", w.ref_id)
    j = w.journal
    title = w.title if w.title.endswith((".", "?", "]")) else w.title + "."
    if w.title.startswith("["):
        title = w.title + "."
    # Every date PubMed shows falls before the search date, as it would in a real export.
    cap = date.fromisoformat(SEARCH_DATE) - timedelta(days=1)
    epub = date(w.epub_year or w.year, w.month, rng.randint(1, 28))
    if w.epub_year:
        epub = date(w.epub_year, rng.randint(9, 12), epub.day)
    epub = min(epub, cap)
    completed = min(epub + timedelta(days=rng.randint(20, 140)), cap)
    revised = min(completed + timedelta(days=rng.randint(0, 900)), cap)
    received = epub - timedelta(days=rng.randint(90, 300))
    medline = w.year < 2023 and completed < cap
    lines = [f"PMID- {pmid}", "OWN - NLM",
             "STAT- MEDLINE" if medline else rng.choice(("STAT- Publisher", "STAT- In-Process"))]
    if medline:
        lines.append(f"DCOM- {completed:%Y%m%d}")
    lines.append(f"LR  - {revised:%Y%m%d}")
    if w.volume:
        lines.append(f"VI  - {w.volume}")
    if w.issue:
        lines.append(f"IP  - {w.issue}")
    dp = f"{w.year} {MONTHS[w.month - 1]}" if rng.random() < 0.85 else str(w.year)
    lines.append(f"DP  - {dp}")
    lines += wrap_medline("TI", title)
    pages = w.article_no or medline_pages(w.first_page, w.last_page)
    if rng.random() < 0.15 and w.last_page:
        pages = f"{w.first_page}-{w.last_page}"
    if pages:
        lines.append(f"PG  - {pages}")
    has_doi = bool(w.doi) and rng.random() > 0.06
    if has_doi:
        lines.append(f"LID - {w.doi} [doi]")
    if w.abstract:
        lines += wrap_medline("AB", abstract_text(w.abstract, "pubmed"))
    if w.year >= 2017 and w.abstract and rng.random() < 0.5:
        lines += wrap_medline("CI", f"© {w.year} The Authors.")
    for a in w.authors:
        lines.append(f"FAU - {a.surname}, {a.given}")
        lines.append(f"AU  - {a.surname} {a.initials()}")
        if a is w.authors[0] or rng.random() < 0.2:
            lines += wrap_medline("AD", rng.choice((
                "School of Social Sciences, University of the North, Leeds, UK.",
                "Department of Psychology, Faculty of Health, Metropolitan University, "
                "Melbourne, Australia.",
                "Centre for Child and Adolescent Health, City University, Dublin, Ireland.",
                "Institute of Public Health, Riverside University, Toronto, Canada.",
                "Department of Child and Adolescent Psychiatry, Central Hospital, Munich, "
                "Germany.",
            )))
    lines.append(f"LA  - {w.language}")
    for pt in w.pub_types:
        lines.append(f"PT  - {pt}")
    lines.append(f"DEP - {epub:%Y%m%d}")
    lines.append("PL  - " + rng.choice(("England", "United States", "Netherlands",
                                         "Switzerland", "Germany")))
    lines.append(f"TA  - {j.abbrev}")
    lines += wrap_medline("JT", j.nlm_title or j.name)
    lines.append(f"JID - {rng.randint(7_500_000, 9_999_999)}")
    lines.append("SB  - IM")
    for mh in w.mesh:
        lines.append(f"MH  - {mh}")
    if w.keywords:
        lines.append("OTO - NOTNLM")
        for kw in w.keywords:
            lines.append(f"OT  - {kw}")
    lines.append(f"EDAT- {epub:%Y/%m/%d} 06:00")
    lines.append(f"CRDT- {epub:%Y/%m/%d} 05:32")
    lines.append(f"PHST- {received:%Y/%m/%d} 00:00 [received]")
    lines.append(f"PHST- {epub:%Y/%m/%d} 06:00 [pubmed]")
    if has_doi:
        lines.append(f"AID - {w.doi} [doi]")
    lines.append("PST - " + ("ppublish" if w.volume else "aheadofprint"))
    src = f"{j.abbrev}. {dp};{w.volume}"
    if w.issue:
        src += f"({w.issue})"
    if pages:
        src += f":{pages}"
    src += "." + (f" doi: {w.doi}." if has_doi else "")
    lines += wrap_medline("SO", src)
    return "\n".join(lines)


def ris_lines(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{tag}  - {value}".rstrip() if value else f"{tag}  - " for tag, value in pairs]


def psycinfo_record(w: Work, an: str) -> list[str]:
    """Ovid/EBSCO-shaped RIS: tag variants differ record to record, as merged exports do."""
    rng = rng_for("psycinfo", w.ref_id)
    j = w.journal
    title = w.title.strip("[]")  # PubMed's brackets mark a translated title; others omit them
    if rng.random() < 0.35:
        title = title_case(title)
    if rng.random() < 0.15 and ": " in title:
        title = title.replace(": ", " - ", 1)
    fold = rng.random() < 0.5
    pairs: list[tuple[str, str]] = [("TY", w.ris_type), ("DB", "APA PsycInfo"), ("AN", an)]
    pairs.append(("TI" if rng.random() < 0.6 else "T1", title))
    full = rng.random() < 0.5
    for a in w.authors:
        name = f"{a.surname}, {a.given}" if full else f"{a.surname}, {a.dotted()}"
        pairs.append(("AU", ascii_fold(name) if fold else name))
    year = w.epub_year or w.year
    pairs.append(("PY", f"{year}///" if rng.random() < 0.5 else str(year)))
    journal_name = j.name
    if rng.random() < 0.2:
        journal_name = journal_name.replace("&", "and")
    tag = rng.choice(("JO", "JF", "T2"))
    if tag == "JO" and rng.random() < 0.4:
        journal_name = j.abbrev
    pairs.append((tag, journal_name))
    for t, v in (("VL", w.volume), ("IS", w.issue)):
        if v:
            pairs.append((t, v))
    if w.article_no:
        pairs.append(("SP", w.article_no))
    elif w.first_page:
        pairs += [("SP", w.first_page), ("EP", w.last_page)]
    if w.doi and rng.random() > 0.2:
        doi = w.doi
        roll = rng.random()
        if roll < 0.1:
            doi = f"https://doi.org/{doi}"
        elif roll < 0.2:
            doi = doi.upper()
        pairs.append(("DO", doi))
    if w.abstract:
        text = abstract_text(w.abstract, "psycinfo")
        text += f" (PsycInfo Database Record (c) {min(w.year + 1, 2024)} APA, all rights " \
                "reserved)"
        pairs.append(("AB", text))
    subjects = [m.lstrip("*").split("/")[0] for m in w.mesh if m.lstrip("*") not in DEMOGRAPHIC]
    for kw in dict.fromkeys([*w.keywords, *subjects[:3]]):
        pairs.append(("KW", kw))
    ages = [m for m in w.mesh if m in ("Child", "Adolescent", "Young Adult", "Adult", "Aged")]
    age_text = {"Child": "Childhood (birth-12 yrs)", "Adolescent": "Adolescence (13-17 yrs)",
                "Young Adult": "Young Adulthood (18-29 yrs)", "Adult": "Adulthood (18 yrs & "
                "older)", "Aged": "Aged (65 yrs & older)"}
    note = "Publication Type: Journal; Peer Reviewed Journal"
    if ages:
        note += "; Age Group: " + ", ".join(age_text[a] for a in ages)
    pairs.append(("N1", note))
    pairs.append(("LA", "English" if w.language == "eng" else "German"))
    pairs.append(("UR", f"https://ovidsp.ovid.com/ovidweb.cgi?T=JS&PAGE=reference&D=psyc&AN={an}"))
    pairs.append(("ER", ""))
    return ris_lines(pairs)


DEMOGRAPHIC = {"Humans", "Female", "Male", "Child", "Adolescent", "Young Adult", "Adult",
               "Middle Aged", "Aged", "Aged, 80 and over", "Infant", "Child, Preschool"}
SCOPUS_COLUMNS = (
    "Authors", "Author full names", "Title", "Year", "Source title", "Volume", "Issue",
    "Art. No.", "Page start", "Page end", "Cited by", "DOI", "Link", "Abstract",
    "Author Keywords", "Index Keywords", "Language of Original Document", "Document Type",
    "Publication Stage", "Open Access", "Source", "EID",
)


def scopus_row(w: Work, eid: str, in_press: bool = False) -> dict[str, str]:
    rng = rng_for("scopus", w.ref_id, in_press)
    j = w.journal
    title = w.title.strip("[]")
    if rng.random() < 0.12:  # punctuation as another indexer keyed it
        roll = rng.random()
        if roll < 0.3:
            title = title.replace(": ", " – ", 1)  # en dash
        elif roll < 0.5:
            title = title.replace("-", "\u2010", 1)  # Unicode hyphen
        else:
            title = title.replace(": ", ". ", 1)
    authors = "; ".join(f"{a.surname} {'.'.join(a.initials())}." for a in w.authors)
    full = "; ".join(f"{a.surname}, {a.given} ({57_100_000_000 + rng.randint(0, 10**8)})"
                     for a in w.authors)
    doi = w.doi if rng.random() > 0.1 else ""
    year = w.epub_year or w.year
    abstract = ""
    if w.abstract and rng.random() > 0.03:
        abstract = abstract_text(w.abstract, "scopus") + " " + j.copyright.format(year=year)
    elif not w.abstract:
        abstract = "[No abstract available]"
    md5 = hashlib.md5(eid.encode()).hexdigest()
    link = f"https://www.scopus.com/inward/record.uri?eid={eid}"
    link += (f"&doi={doi}" if doi else "") + f"&partnerID=40&md5={md5}"
    index_kw = ["human", *(m.lstrip("*").split("/")[0].lower() for m in w.mesh[1:])]
    return {
        "Authors": authors, "Author full names": full, "Title": title, "Year": str(year),
        "Source title": j.name, "Volume": "" if in_press else w.volume,
        "Issue": "" if in_press else w.issue, "Art. No.": w.article_no,
        "Page start": "" if in_press else w.first_page,
        "Page end": "" if in_press else w.last_page,
        "Cited by": str(rng.randint(0, 80)) if rng.random() < 0.8 else "",
        "DOI": doi, "Link": link, "Abstract": abstract,
        "Author Keywords": "; ".join(w.keywords),
        "Index Keywords": "; ".join(dict.fromkeys(index_kw)),
        "Language of Original Document": "English" if w.language == "eng" else
        "German; English",
        "Document Type": w.scopus_type, "Publication Stage": "Article in press" if in_press
        else "Final",
        "Open Access": "All Open Access; Gold Open Access" if j.article_numbers else "",
        "Source": "Scopus", "EID": eid,
    }


def citation_record(w: Work, rec_id: str) -> list[str]:
    """EndNote-shaped RIS: full names, 'SP - 112-119' as one field, reports with URLs."""
    rng = rng_for("citation", w.ref_id)
    pairs: list[tuple[str, str]] = [("TY", w.ris_type), ("ID", rec_id)]
    for a in w.authors:
        pairs.append(("AU", f"{a.surname}, {a.given}"))
    pairs.append(("TI", w.title))
    if w.ris_type == "RPRT":
        pairs += [("PY", str(w.year)), ("PB", w.publisher), ("CY", "London"), ("UR", w.url)]
    else:
        pairs += [("T2", w.journal.name), ("PY", str(w.year)), ("VL", w.volume)]
        if w.issue:
            pairs.append(("IS", w.issue))
        pages = w.article_no or (f"{w.first_page}-{w.last_page}" if w.first_page else "")
        if pages:
            pairs.append(("SP", pages))
        if w.doi and rng.random() < 0.7:
            pairs.append(("DO", w.doi))
    if w.abstract and rng.random() < 0.85:
        pairs.append(("AB", abstract_text(w.abstract, "pubmed")))
    for kw in w.keywords:
        pairs.append(("KW", kw))
    found = w.found_by or rng.choice(("backward citation searching of included studies",
                                      "forward citation searching (Google Scholar)"))
    pairs.append(("N1", f"Found by: {found}"))
    pairs.append(("ER", ""))
    return ris_lines(pairs)


# ---------------------------------------------------------------------------------------------
# Writing everything
# ---------------------------------------------------------------------------------------------


def assign_ids(works: list[Work]) -> dict[str, list[tuple[str, Work, bool]]]:
    """Each source's records in export order: (record id, work, is the 'in press' copy)."""
    by_source: dict[str, list[tuple[str, Work, bool]]] = {s: [] for s in SOURCES}
    taken: set[str] = set()

    def unique(make: Callable[[random.Random], str], *parts: object) -> str:
        rng = rng_for("id", *parts)
        while (value := make(rng)) in taken:
            pass
        taken.add(value)
        return value

    for w in works:
        for source in w.sources:
            if source == "pubmed":
                rid = unique(lambda r, y=w.year: str(99_000_000 + (y - 2000) * 40_000
                                                     + r.randint(0, 39_999)), "pm", w.ref_id)
            elif source == "psycinfo":
                rid = unique(lambda r, y=w.year: f"{y}-{r.randint(10000, 99999)}-"
                             f"{r.randint(1, 12):03d}", "pi", w.ref_id)
            elif source == "scopus":
                rid = unique(lambda r, y=w.year: f"2-s2.0-9990{y - 2000:02d}"
                             f"{r.randint(0, 99999):05d}", "sc", w.ref_id)
            else:
                rid = ""  # numbered after sorting, as EndNote numbers its library
            by_source[source].append((rid, w, False))
            w.ids.setdefault(source, []).append(rid)
        if w.in_press_copy:
            rid = unique(lambda r, y=w.year: f"2-s2.0-9990{y - 2000:02d}"
                         f"{r.randint(0, 99999):05d}", "sc-press", w.ref_id)
            by_source["scopus"].append((rid, w, True))
            w.ids["scopus"].append(rid)
    # Export order: PubMed newest PMID first; PsycInfo by accession number; Scopus by year
    # (newest first) then title; citation searching in the order the team logged them.
    by_source["pubmed"].sort(key=lambda t: -int(t[0]))
    by_source["psycinfo"].sort(key=lambda t: t[0])
    by_source["scopus"].sort(key=lambda t: (-(t[1].epub_year or t[1].year), t[1].title, t[2]))
    cits = by_source["citation_searching"]
    rng_for("citation-order").shuffle(cits)
    for i, (_, w, press) in enumerate(cits, 1):
        w.ids["citation_searching"] = [str(i)]
        cits[i - 1] = (str(i), w, press)
    return by_source


def render(by_source: dict[str, list[tuple[str, Work, bool]]]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    pubmed = "\n\n".join(pubmed_record(w, rid) for rid, w, _ in by_source["pubmed"])
    files["pubmed.nbib"] = ("\n" + pubmed + "\n").encode("utf-8")

    lines: list[str] = []
    for rid, w, _ in by_source["psycinfo"]:
        lines += psycinfo_record(w, rid)
        lines.append("")
    files["psycinfo.ris"] = ("\ufeff" + "\r\n".join(lines)).encode("utf-8")

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SCOPUS_COLUMNS, quoting=csv.QUOTE_ALL,
                            lineterminator="\n")
    writer.writeheader()
    for rid, w, press in by_source["scopus"]:
        writer.writerow(scopus_row(w, rid, press))
    files["scopus.csv"] = ("\ufeff" + buf.getvalue()).encode("utf-8")

    lines = []
    for rid, w, _ in by_source["citation_searching"]:
        lines += citation_record(w, rid)
        lines.append("")
    files["citation_searching.ris"] = "\r\n".join(lines).encode("utf-8")
    return files


def csv_bytes(header: Sequence[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


TRUTH_COLUMNS = (
    "ref_id", "title", "category", "pubmed", "psycinfo", "scopus", "citation_searching",
    "ta_label", "ft_label", "ft_reason", "key", "report_role", "conflict", "conflict_reason",
    "note",
)


def answer_files(works: list[Work], by_source: dict) -> dict[str, bytes]:
    truth = [{
        "ref_id": w.ref_id, "title": w.title, "category": w.category,
        **{s: ";".join(w.ids.get(s, [])) for s in SOURCES},
        "ta_label": w.ta_label, "ft_label": w.ft_label, "ft_reason": w.ft_reason,
        "key": w.key, "report_role": w.report_role, "conflict": w.conflict,
        "conflict_reason": w.conflict_reason, "note": w.note,
    } for w in works]
    records = []
    for source in SOURCES:
        for pos, (rid, w, _) in enumerate(by_source[source], 1):
            records.append({"source": source, "file": FILES[source], "position": pos,
                            "record_id": rid, "ref_id": w.ref_id})
    included = [{
        "key": s["key"], "title": s["title"], "year": s["year"], "first_author": s["first"][0],
        "intervention_type": s["type"], "population": s["population"],
        "country": s["country"], "design": s["design"], "n": s["n"],
    } for s in INCLUDED]
    searches = [
        {"source": "pubmed", "file": "pubmed.nbib", "name": "PubMed", "kind": "database",
         "platform": "NCBI PubMed", "search_date": SEARCH_DATE,
         "query": '(loneliness[tiab] OR "social isolation"[tiab] OR "Loneliness"[Mesh] OR '
         '"social support"[tiab] OR belonging[tiab]) AND (child*[tiab] OR adolescen*[tiab] '
         'OR youth[tiab] OR "young people"[tiab] OR pupil*[tiab] OR student*[tiab]) AND '
         '(intervention*[tiab] OR programme*[tiab] OR program*[tiab] OR mentor*[tiab] OR '
         'peer[tiab] OR trial[tiab])'},
        {"source": "psycinfo", "file": "psycinfo.ris", "name": "APA PsycInfo",
         "kind": "database", "platform": "Ovid", "search_date": SEARCH_DATE,
         "query": "1 exp Loneliness/ or loneliness.ti,ab. or social isolation.ti,ab.; 2 exp "
         "Social Support/ or social support.ti,ab.; 3 (child* or adolescen* or youth or "
         "young people or pupil*).ti,ab.; 4 (intervention* or program* or mentor* or peer "
         "or trial).ti,ab.; 5 (1 or 2) and 3 and 4"},
        {"source": "scopus", "file": "scopus.csv", "name": "Scopus", "kind": "database",
         "platform": "Elsevier Scopus", "search_date": SEARCH_DATE,
         "query": 'TITLE-ABS-KEY((loneliness OR "social isolation" OR "social support" OR '
         'belonging) AND (child* OR adolescen* OR youth OR "young people" OR pupil*) AND '
         '(intervention* OR programme* OR mentor* OR peer OR trial))'},
        {"source": "citation_searching", "file": "citation_searching.ris",
         "name": "Citation searching and websites", "kind": "other method",
         "platform": "EndNote export", "search_date": SEARCH_DATE,
         "query": "Backward and forward citation searching of included studies; websites of "
         "youth charities and research units"},
    ]
    for row in searches:
        row["records"] = len(by_source[row["source"]])
    return {
        "truth.csv": csv_bytes(TRUTH_COLUMNS, truth),
        "records.csv": csv_bytes(("source", "file", "position", "record_id", "ref_id"),
                                 records),
        "included.csv": csv_bytes(INCLUDED_COLUMNS, included),
        "searches.csv": csv_bytes(("source", "file", "name", "kind", "platform",
                                   "search_date", "records", "query"), searches),
    }


def check(works: list[Work], by_source: dict) -> None:
    """Refuse to write an answer key that contradicts the exports."""
    keys = {s["key"] for s in INCLUDED}
    found = {w.key for w in works if w.key and w.sources}
    if keys - found:
        raise RuntimeError(f"included studies missing from every source: {keys - found}")
    for w in works:
        n = words(w.abstract)
        if w.abstract and not 120 <= n <= 250:
            raise RuntimeError(f"{w.ref_id} abstract has {n} words: {w.title}")
        if w.ft_label == "exclude" and w.ft_reason not in FT_REASONS:
            raise RuntimeError(f"{w.ref_id} has an unknown exclusion reason {w.ft_reason!r}")
    titles = [w.title.lower() for w in works if w.category != "trap_same_title"]
    if len(titles) != len(set(titles)):
        raise RuntimeError("two different works share a title by accident")


def generate() -> dict[str, bytes]:
    """Every demo file name mapped to its exact bytes."""
    works = build_works()
    by_source = assign_ids(works)
    check(works, by_source)
    return {**render(by_source), **answer_files(works, by_source)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write the demo files into (default: next to script)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in generate().items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
