"""Field normalisation: two spellings of one fact compare equal, two facts stay apart."""

from __future__ import annotations

import pytest

from review.dedup.normalise import (
    compare_pages,
    journals_compatible,
    normalise_authors,
    normalise_doi,
    normalise_journal,
    normalise_number,
    normalise_pages,
    normalise_title,
    normalise_year,
)


@pytest.mark.parametrize(
    "variant",
    [
        "Peer support &amp; loneliness in <i>young</i> people.",
        "PEER SUPPORT AND LONELINESS IN YOUNG PEOPLE",
        "[Peer support and loneliness in young people]",
        "Peer support and loneliness in young people [Review] [42 refs]",
        "Peer support and loneliness in young people.[Erratum appears in J Youth Stud. 2020;23:1]",
        "Peer support and loneliness in young people [Article in German]",
        "Peer support and loneliness in young people.[Erratum appears in J Youth St",
    ],
)
def test_title_variants_fold_to_one_key(variant: str) -> None:
    assert normalise_title(variant).key == "peer support and loneliness in young people"


def test_title_accents_latex_greek_and_spelling() -> None:
    assert (
        normalise_title("Caf\\'{e} visits and TNF-α in paediatric tumours").key
        == normalise_title("Café visits and TNF-alpha in pediatric tumors").key
    )


def test_non_latin_titles_are_kept_not_emptied() -> None:
    chinese = normalise_title("青少年的孤独感与社会支持").key
    russian = normalise_title("Одиночество у подростков").key
    assert chinese and russian and chinese != russian


def test_bracketed_translation_keeps_original_language_title_as_alternative() -> None:
    t = normalise_title("[Loneliness in adolescents] Einsamkeit bei Jugendlichen")
    assert t.translated and t.key == "loneliness in adolescents"
    assert t.alt == "einsamkeit bei jugendlichen"


def test_web_of_science_and_embase_correction_citations_mark_an_erratum() -> None:
    assert normalise_title("Loneliness in adolescents (vol 12, pg 34, 2019)").wos_correction
    assert normalise_title(
        "Loneliness in adolescents (J Youth Stud (2019) 12 (34-40))"
    ).wos_correction
    assert not normalise_title("Loneliness in adolescents (the LOTUS study)").wos_correction


@pytest.mark.parametrize(
    "raw",
    [
        "Okafor, A. N. and Lindqvist, E.",
        "Okafor AN, Lindqvist E",
        "A. N. Okafor and E. Lindqvist",
        "Okafor, A N; Lindqvist, E",
        ["Okafor, Adaeze N.", "Lindqvist, Erik"],
        "Okafor, A. N., Lindqvist, E. et al.",
        "Okafor A.N.; Lindqvist E.",
        "OKAFOR AN, LINDQVIST E",
    ],
)
def test_author_formats_give_the_same_surnames_and_initials(raw) -> None:
    authors = normalise_authors(raw)
    assert [a.surname for a in authors] == ["okafor", "lindqvist"]
    assert authors[0].initials.startswith("a") and authors[1].initials == "e"


def test_group_authors_are_marked_and_suffixes_dropped() -> None:
    group, person = normalise_authors("ALTS Study Group and Wright Jr., T. C.")
    assert group.organisation and not person.organisation
    assert person.surname == "wright" and person.initials == "tc"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("N Engl J Med", "New England Journal of Medicine"),
        (
            "Proc Natl Acad Sci U S A",
            "Proceedings of the National Academy of Sciences of the United States of America",
        ),
        ("Dtsch Med Wochenschr", "Deutsche medizinische Wochenschrift (1946)"),
        ("BMJ (Clinical research ed.)", "BMJ"),
        ("PLoS ONE [Electronic Resource]", "PLOS One"),
        ("The Lancet", "Lancet"),
        (
            "Gan to Kagaku Ryoho [Japanese Journal of Cancer & Chemotherapy]",
            "Japanese journal of cancer and chemotherapy",
        ),
    ],
)
def test_journal_abbreviations_match_full_names(a: str, b: str) -> None:
    assert journals_compatible(normalise_journal(a), normalise_journal(b)) is True


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Lancet", "Lancet Oncology"),
        ("Cancer", "Cancer Research"),
        ("J Adolesc", "J Adolesc Health"),
    ],
)
def test_different_journals_are_not_matched(a: str, b: str) -> None:
    assert journals_compatible(normalise_journal(a), normalise_journal(b)) is False


def test_conference_venue_is_recognised() -> None:
    assert normalise_journal("Pediatric Nephrology.Conference: 44th Annual Meeting").conference
    assert not normalise_journal("Pediatric Nephrology").conference


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1535-41", "1535-1541", "same"),
        ("S33-38", "S33-S38", "same"),
        ("527-32.e1", "527-532", "same"),
        ("c37-c42", "37-42", "same"),
        ("e12724", "E12724", "same"),
        ("125-128", "2-8", "different"),
        ("1875", "2539-2542", "different"),
        ("246-250", "250-254", "overlap"),
        ("969-972", "a1754", ""),  # print pages and an e-locator can both be right
        ("1044", "1-12", ""),  # an article number beside its own pagination
        ("01-Jun", "1-6", ""),  # a spreadsheet date is not a page
        ("", "1-6", ""),
    ],
)
def test_page_comparison(a: str, b: str, expected: str) -> None:
    assert compare_pages(normalise_pages(a), normalise_pages(b)) == expected


def test_doi_prefixes_and_case_are_removed() -> None:
    assert normalise_doi("https://doi.org/10.1016/J.X.2019.01.002.") == "10.1016/j.x.2019.01.002"
    assert normalise_doi("doi:10.1016/j.x.2019.01.002 [doi]") == "10.1016/j.x.2019.01.002"
    assert normalise_doi("http://dx.doi.org/10.1016%2Fj.x") == "10.1016/j.x"
    assert normalise_doi("not a doi") == ""


def test_year_from_many_shapes() -> None:
    assert normalise_year("2019 Mar 4") == 2019
    assert normalise_year(2019.0) == 2019
    assert normalise_year("n.d.") is None


def test_superscript_and_other_script_digits_are_read_not_crashed_on() -> None:
    """'²' passes str.isdigit() but int() refuses it; Arabic-Indic digits are real numbers."""
    assert normalise_number("²") == "2"  # folded like the title text, not a crash
    assert normalise_number("Vol. ١٢") == "12"
    assert normalise_year("٢٠١٩") == 2019
    assert normalise_year("²⁰¹⁹") is None
