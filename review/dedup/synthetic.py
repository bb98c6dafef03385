"""Deterministic synthetic search exports with known duplicates, for scale runs and tests.

Real labelled sets hold a few thousand records; a review that searches eight
databases can import a hundred thousand. This generator makes such a set from
a seed: works with plausible titles, author lists, journals and locators;
duplicates of some works re-spelt the way databases re-spell them (author
formats, journal abbreviations, '1535-41' pages, DOI URLs, bracketed
translations, HTML entities, dropped fields, a typo); and *related but
distinct* records that must not be merged (errata, part 2 of a series, the
same study in women instead of men, a meeting abstract of a later paper,
recurring editorials of one editor in one volume, meeting abstracts sharing
their supplement's DOI); and the hard duplicates of issue #14 (a volume cut to
an export fragment such as '1)', a non-Latin title with its English one in
brackets beside the English title alone).
The same seed always gives the same records, so timings can be compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_WORDS = (
    "loneliness belonging social support mentoring peer family school community capacity "
    "service integration children young people adolescents wellbeing mental health anxiety "
    "depression resilience intervention programme trial outcomes effectiveness evaluation "
    "cohort longitudinal association risk factors protective connectedness isolation "
    "friendship bullying victimisation self esteem emotional regulation behaviour problems "
    "parenting primary care referral pathways access barriers facilitators implementation "
    "fidelity cost qualitative interviews focus groups survey adolescence transition "
    "university students rural urban disadvantaged neighbourhood ethnic minority migrant "
    "refugee online digital app based smartphone delivered group individual counselling "
    "cognitive behavioural therapy mindfulness physical activity sport arts creative "
    "volunteering youth club after school extracurricular teacher classroom whole approach "
    "policy systems coordination multi agency collaboration wraparound case management "
    "suicide self harm prevention screening early identification attention deficit "
    "hyperactivity autism spectrum disorder eating sleep substance alcohol cannabis "
    "smoking obesity diabetes asthma chronic illness disability chronic pain fatigue "
    "hospital emergency department admissions inpatient outpatient clinic general practice "
    "randomised controlled feasibility pilot stepped wedge cluster pragmatic systematic "
    "review meta analysis scoping realist synthesis mixed methods secondary analysis "
    "national representative sample population register data linkage birth cohort "
    "trajectories predictors moderators mediators mechanisms pathways change process "
    "measurement validation scale questionnaire psychometric properties reliability "
    "carers siblings grandparents foster care looked after residential care youth justice "
    "homelessness poverty food insecurity housing unemployment education attainment "
    "exclusion absence attendance engagement participation empowerment voice co production"
).split()
_SURNAMES = (
    "smith jones williams brown taylor davies wilson evans thomas johnson roberts walker "
    "wright robinson thompson white hughes edwards green hall wood harris lewis martin "
    "jackson clarke clark turner hill scott cooper morris ward moore king watson baker "
    "harrison morgan patel young allen mitchell james anderson phillips lee bell parker "
    "davis wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo "
    "kim park choi jung kang cho yoon jang lim han nguyen tran le pham hoang garcia "
    "rodriguez martinez hernandez lopez gonzalez perez sanchez ramirez torres muller "
    "schmidt schneider fischer weber meyer wagner becker schulz hoffmann rossi russo "
    "ferrari esposito bianchi romano colombo ricci marino greco dubois durand lefebvre "
    "moreau laurent simon michel garcia bernard petit nielsen jensen hansen pedersen "
    "andersen larsen sorensen johansson karlsson nilsson eriksson larsson olsson persson "
    "svensson gustafsson kowalski nowak wisniewski wojcik kaminski lewandowski singh kumar "
    "sharma gupta khan ali ahmed hussain rahman das iyer menon reddy rao nair tanaka "
    "suzuki takahashi watanabe ito yamamoto nakamura kobayashi kato yoshida yamada sasaki "
    "o'brien o'connor mcdonald macleod van der berg de vries van dijk de jong bakker visser"
).split()
_TOPICS = (
    "Child Psychology Psychiatry Adolescent Health Youth Studies Community Psychology "
    "Mental Health Public Health Paediatrics Family Therapy School Psychology Social Work "
    "Developmental Science Prevention Science Child Development Behavioural Medicine "
    "Clinical Child Epidemiology Health Services Research Adolescence Social Policy"
).split()
_ABBREV = {
    "Journal": "J",
    "International": "Int",
    "Psychology": "Psychol",
    "Psychiatry": "Psychiatry",
    "Adolescent": "Adolesc",
    "Health": "Health",
    "Youth": "Youth",
    "Studies": "Stud",
    "Community": "Community",
    "Mental": "Ment",
    "Public": "Public",
    "Paediatrics": "Paediatr",
    "Family": "Fam",
    "Therapy": "Ther",
    "School": "Sch",
    "Social": "Soc",
    "Work": "Work",
    "Developmental": "Dev",
    "Science": "Sci",
    "Prevention": "Prev",
    "Child": "Child",
    "Development": "Dev",
    "Behavioural": "Behav",
    "Medicine": "Med",
    "Clinical": "Clin",
    "Epidemiology": "Epidemiol",
    "Services": "Serv",
    "Research": "Res",
    "Adolescence": "Adolesc",
    "Policy": "Policy",
    "American": "Am",
    "European": "Eur",
    "British": "Br",
    "of": "",
    "and": "",
    "the": "",
    "The": "",
}
_TEMPLATES = (
    "{a} and {b} among {c}: a {d}",
    "Effect of {a} on {b} in {c}",
    "{a} {b} for {c}: {d}",
    "The role of {a} in {b} and {c}",
    "{a}, {b} and {c} in {e}: {d}",
    "Associations between {a} and {b} in {c}",
    "{a} as a predictor of {b} among {c}",
    "Does {a} reduce {b}? {d}",
)
_DESIGNS = (
    "randomised controlled trial",
    "cohort study",
    "systematic review",
    "qualitative study",
    "cross-sectional survey",
    "feasibility study",
    "longitudinal analysis",
    "mixed methods evaluation",
)
_GROUPS = (
    "children",
    "adolescents",
    "young people",
    "university students",
    "families",
    "primary school pupils",
    "young adults",
    "looked after children",
)


_SYLLABLES = (
    "ka lo mi ra ten bor vel sun dar po li ne sha to ru fen gar mo zi ba kir an ost wen "
    "hal tru ber nix ola"
).split()


_CYRILLIC = "ка ло ми ра те бо ве су да по ли не ша то ру фе га мо зи ба ки ан ост вен".split()
_EDITORIALS = ("Editorial", "From the Editor", "Editor's comments", "President's message")


def _cyrillic_title(rng: np.random.Generator, words: int) -> str:
    """A made-up title in Cyrillic script, standing for an original-language title."""
    out = [
        "".join(_CYRILLIC[i] for i in rng.integers(0, len(_CYRILLIC), size=int(rng.integers(2, 5))))
        for _ in range(words)
    ]
    return " ".join(out).capitalize()


def _pseudo_word(rng: np.random.Generator) -> str:
    """A made-up proper name ('Kalobor'): one of about 900,000, so mostly rare."""
    k = int(rng.integers(2, 5))
    return "".join(_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), size=k))


class _WordSource:
    """Words drawn with Zipf-like frequencies from one pre-drawn stream (fast and seeded)."""

    def __init__(self, rng: np.random.Generator, weights: np.ndarray, size: int) -> None:
        drawn = rng.choice(len(_WORDS), size=size, p=weights)
        self.stream = np.asarray(_WORDS, dtype=object)[drawn]
        self.pos = 0

    def take(self, k: int) -> list[str]:
        if self.pos + k > len(self.stream):
            self.pos = 0
        out = list(self.stream[self.pos : self.pos + k])
        self.pos += k
        return out


def _phrase(source: _WordSource, k: int) -> str:
    words: list[str] = []
    for w in source.take(k * 2):  # distinct words, like a title
        if w not in words:
            words.append(w)
    return " ".join(words[:k])


def _journal_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """(full name, ISO-style abbreviation) pairs."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(out) < n:
        a, b = rng.choice(_TOPICS, size=2, replace=False)
        pattern = rng.integers(0, 4)
        full = [
            f"Journal of {a} {b}",
            f"International Journal of {a} {b}",
            f"{a} {b} Research",
            f"European Journal of {a}",
        ][pattern]
        if full in seen:
            continue
        seen.add(full)
        abbr = " ".join(w for w in (_ABBREV.get(t, t) for t in full.split()) if w)
        out.append((full, abbr))
    return out


def _format_authors(rng: np.random.Generator, people: list[tuple[str, str]], style: int) -> str:
    """Authors in one of the styles databases use."""

    def cap(s: str) -> str:
        return " ".join(p[:1].upper() + p[1:] for p in s.split())

    if style == 0:  # BibTeX: Surname, A. B. and ...
        return " and ".join(f"{cap(s)}, {'. '.join(g)}." for s, g in people)
    if style == 1:  # PubMed: Surname AB, ...
        return ", ".join(f"{cap(s)} {g}" for s, g in people)
    if style == 2:  # RIS-like: Surname, A B; ...
        return "; ".join(f"{cap(s)}, {' '.join(g)}" for s, g in people)
    if style == 3:  # A. B. Surname and ...
        return " and ".join(f"{'. '.join(g)}. {cap(s)}" for s, g in people)
    short = people[:3]  # truncated list
    return " and ".join(f"{cap(s)}, {g[0]}." for s, g in short) + (
        " et al." if len(people) > 3 else ""
    )


_UK_US = (
    ("isation", "ization"),
    ("ised", "ized"),
    ("behaviour", "behavior"),
    ("paediatric", "pediatric"),
    ("programme", "program"),
    ("neighbourhood", "neighborhood"),
)


def _variant_title(rng: np.random.Generator, title: str) -> str:
    t = title
    r = rng.random()
    if r < 0.15:
        t = t.upper()
    elif r < 0.30:
        t = t.lower()
    elif r < 0.40:
        t = t.title()
    if rng.random() < 0.3:
        t = t + "."
    if rng.random() < 0.1:
        t = f"[{t}]"
    if rng.random() < 0.1:
        t = t.replace(" and ", " &amp; ", 1)
    if rng.random() < 0.1:
        t = t + " [Review]"
    if rng.random() < 0.2:
        for uk, us in _UK_US:
            t = t.replace(uk, us)
    if rng.random() < 0.1:
        t = t.replace("-", " ")
    if rng.random() < 0.08 and len(t) > 20:  # one typo
        k = int(rng.integers(5, len(t) - 5))
        t = t[:k] + t[k + 1] + t[k] + t[k + 2 :]
    return t


def _hard_cases(
    rng: np.random.Generator, trap: int, w: dict, render, rows: list[dict], target: int
) -> list[list[int]]:
    """Append one hard case built on work ``w``; return its duplicate groups (positions)."""
    groups: list[list[int]] = []
    full, _abbr = w["journal"]
    if trap == 4:  # one editor's recurring editorials in one volume: distinct items
        title = _EDITORIALS[int(rng.integers(len(_EDITORIALS)))]
        editor = w["people"][:1]
        with_doi = rng.random() < 0.5
        for issue in range(1, int(rng.integers(3, 6))):
            if len(rows) >= target:
                break
            page = int(rng.integers(1, 40)) + 100 * issue
            item = dict(
                w,
                title=title,
                people=editor,
                number=str(issue),
                pages=(page, page + int(rng.integers(0, 2))),
                doi=f"{w['doi'] or '10.5555/ed'}.e{issue}" if with_doi else "",
                abstract="",
            )
            rows.append(render(item, variant=False))
            if rng.random() < 0.3 and len(rows) < target:  # the same editorial from a 2nd database
                copy = render(item, variant=True)
                copy.update(number=item["number"], pages="{}-{}".format(*item["pages"]))
                copy["title"] = title.upper() if rng.random() < 0.5 else title
                copy["doi"] = item["doi"]
                groups.append([len(rows) - 1, len(rows)])
                rows.append(copy)
    elif trap == 5:  # meeting abstracts of one supplement sharing the supplement's DOI
        doi = f"10.{int(rng.integers(1000, 9999))}/suppl.{int(rng.integers(10**5, 10**6))}"
        page = int(rng.integers(1, 900))
        for k in range(int(rng.integers(2, 5))):
            if len(rows) >= target:
                break
            other = dict(w, title=w["title"] if k == 0 else "", doi=doi, abstract="")
            if k:
                other["title"] = f"{_pseudo_word(rng).capitalize()} " + " ".join(
                    rng.choice(_WORDS, size=6)
                )
                other["people"] = [(rng.choice(_SURNAMES), "A")]
            other["pages"] = (page + k, page + k)
            rec = render(other, variant=False)
            rec["number"] = "Suppl 1"
            rec["ENTRYTYPE"] = "inproceedings"
            rows.append(rec)
    elif trap == 6:  # a volume cut to an export fragment: '12 (Suppl 1)' → '1)'
        rec = render(w, variant=False)
        rec["volume"] = f"{w['volume']} (Suppl 1)"
        copy = render(w, variant=False)
        copy["volume"] = "1)"
        copy["author"] = _format_authors(rng, w["people"], 1)
        rows.append(rec)
        if len(rows) < target:
            groups.append([len(rows) - 1, len(rows)])
            rows.append(copy)
    else:  # an original-language title with its English translation in brackets
        rec = render(w, variant=False)
        rec["title"] = f"{_cyrillic_title(rng, int(rng.integers(3, 7)))} [{w['title']}]"
        rec["journal"] = full
        copy = render(w, variant=True)
        copy["title"] = w["title"]
        rows.append(rec)
        if len(rows) < target:
            groups.append([len(rows) - 1, len(rows)])
            rows.append(copy)
    return groups


def generate(
    n_records: int, seed: int = 0, duplicate_share: float = 0.3
) -> tuple[pd.DataFrame, list[list[str]]]:
    """``n_records`` records (about ``duplicate_share`` of them extra copies) and the true groups.

    Returns the records in shuffled order with columns ID, title, author, year,
    journal, volume, number, pages, doi, abstract, ENTRYTYPE, and the duplicate
    groups (lists of IDs with two or more members).
    """
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(_WORDS) + 1) ** 0.6
    weights = weights[rng.permutation(len(_WORDS))]
    weights /= weights.sum()
    journals = _journal_names(rng, max(30, min(2000, n_records // 40)))
    source = _WordSource(rng, weights, size=max(100_000, n_records * 120))
    surnames = _SURNAMES
    letters = list("ABCDEFGHIJKLMNOPRSTW")

    rows: list[dict] = []
    groups: list[list[int]] = []

    def new_work() -> dict:
        tmpl = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
        title = tmpl.format(
            a=_phrase(source, int(rng.integers(1, 4))).capitalize(),
            b=_phrase(source, int(rng.integers(1, 4))),
            c=_GROUPS[int(rng.integers(len(_GROUPS)))],
            d=_DESIGNS[int(rng.integers(len(_DESIGNS)))],
            e=_phrase(source, 2),
        )
        # real titles name specific things (a programme, a place, a scale, a drug): rare words
        r = rng.random()
        if r < 0.35:
            title = f"{title} in {_pseudo_word(rng).capitalize()}"
        elif r < 0.6:
            title = f"{title}: the {_pseudo_word(rng).upper()} study"
        elif r < 0.75:
            title = f"{_pseudo_word(rng).capitalize()} {title[0].lower()}{title[1:]}"
        title = title[0].upper() + title[1:]
        n_auth = int(rng.integers(1, 9))
        picks = rng.integers(0, len(surnames), size=n_auth)
        initials = rng.integers(0, len(letters), size=(n_auth, 2))
        sizes = rng.integers(1, 3, size=n_auth)
        people = [
            (surnames[p], "".join(letters[c] for c in initials[k, : sizes[k]]))
            for k, p in enumerate(picks)
        ]
        full, abbr = journals[int(rng.integers(len(journals)))]
        start = int(rng.integers(1, 2500))
        length = int(rng.integers(3, 16))
        year = int(rng.integers(1995, 2025))
        has_doi = rng.random() < 0.7
        return {
            "title": title,
            "people": people,
            "year": year,
            "journal": (full, abbr),
            "volume": str(int(rng.integers(1, 80))),
            "number": str(int(rng.integers(1, 13))),
            "pages": (start, start + length),
            "doi": f"10.{int(rng.integers(1000, 9999))}/j.{int(rng.integers(10**6, 10**7))}"
            if has_doi
            else "",
            "abstract": (
                " ".join(source.take(int(rng.integers(60, 200)))).capitalize() + "."
                if rng.random() < 0.6
                else ""
            ),
        }

    def render(w: dict, variant: bool) -> dict:
        full, abbr = w["journal"]
        a, b = w["pages"]
        style = int(rng.integers(0, 5)) if variant else 0
        journal = full
        pages = f"{a}-{b}"
        doi = w["doi"]
        year = w["year"]
        rec = {
            "title": w["title"],
            "author": _format_authors(rng, w["people"], style),
            "year": year,
            "journal": journal,
            "volume": w["volume"],
            "number": w["number"],
            "pages": pages,
            "doi": doi,
            "abstract": w["abstract"],
            "ENTRYTYPE": "article",
        }
        if variant:
            rec["title"] = _variant_title(rng, w["title"])
            r = rng.random()
            rec["journal"] = (
                abbr
                if r < 0.4
                else full.upper()
                if r < 0.5
                else f"The {full}"
                if r < 0.55
                else full
            )
            if rng.random() < 0.4:
                sa, sb = str(a), str(b)
                k = 0
                while k < len(sa) and k < len(sb) and sa[k] == sb[k]:
                    k += 1
                rec["pages"] = f"{sa}-{sb[k:] or sb[-1]}"
            if rng.random() < 0.1:
                rec["pages"] = ""
            if doi and rng.random() < 0.3:
                rec["doi"] = rng.choice([f"https://doi.org/{doi}", f"doi:{doi.upper()}", ""])
            if rng.random() < 0.05:
                rec["year"] = year + int(rng.choice([-1, 1]))
            if rng.random() < 0.1:
                rec["volume"] = ""
            if rng.random() < 0.2:
                rec["number"] = ""
            if rec["abstract"] and rng.random() < 0.3:
                rec["abstract"] = rng.choice(["", rec["abstract"][: len(rec["abstract"]) // 2]])
        return rec

    target = n_records
    while len(rows) < target:
        w = new_work()
        r = rng.random()
        trap = int(rng.integers(0, 8)) if duplicate_share <= r < duplicate_share + 0.06 else -1
        if trap >= 4:
            members_of = _hard_cases(rng, trap, w, render, rows, target)
            groups.extend(members_of)
            continue
        if trap == 2:
            w["title"] += " in men"
        members = [len(rows)]
        rows.append(render(w, variant=False))
        if r < duplicate_share:
            for _ in range(int(rng.choice([1, 1, 1, 2, 2, 3]))):
                if len(rows) >= target:
                    break
                members.append(len(rows))
                rows.append(render(w, variant=True))
        elif trap >= 0 and len(rows) < target:
            # a related but distinct record: the traps a merge must not fall into
            twin = dict(w, doi="")
            first, last = w["pages"]
            if trap == 0:
                twin["title"] = "Erratum: " + w["title"]
                twin["pages"] = (first + 400, first + 400)
                twin["abstract"] = ""
            elif trap == 1:
                twin["title"] = w["title"] + ": part 2"
                twin["pages"] = (last + 1, last + 9)
            elif trap == 2:
                twin["title"] = w["title"][: -len(" in men")] + " in women"
                twin["pages"] = (last + 3, last + 11)
            else:
                twin["year"] = w["year"] - 1
                full, abbr = w["journal"]
                twin["journal"] = (f"{full} Conference Abstracts", f"{abbr} Conf Abstr")
                page = int(rng.integers(1, 300))
                twin["pages"] = (page, page)
            rows.append(render(twin, variant=False))
        if len(members) > 1:
            groups.append(members)

    order = rng.permutation(len(rows))
    ids = np.empty(len(rows), dtype=object)
    ids[order] = [f"r{k + 1:07d}" for k in range(len(rows))]
    df = pd.DataFrame(rows)
    df.insert(0, "ID", ids)
    df = df.iloc[np.argsort(ids.astype(str))].reset_index(drop=True)
    return df, [[str(ids[m]) for m in g] for g in groups]
