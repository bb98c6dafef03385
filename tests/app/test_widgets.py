"""Record text is shown as text: escaping is complete and reversible, highlights add only ours."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from review.app.widgets import (
    escape_markdown,
    find_keywords,
    highlight_markdown,
    split_long,
    unescape_markdown,
)

PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_DIRECTIVE = re.compile(r":(green|red)-background\[((?:\\.|[^\]\\])*)\]")


def squash(text: str) -> str:
    return " ".join(text.replace("\x00", "").split())


def unescaped_punctuation(md: str) -> list[str]:
    """Punctuation characters in ``md`` that are not preceded by an escaping backslash."""
    bare = re.sub(r"\\.", "", md, flags=re.DOTALL)
    return [c for c in bare if c in PUNCT]


@given(st.text())
def test_every_punctuation_mark_is_escaped_and_the_text_survives(text: str) -> None:
    md = escape_markdown(text)
    assert unescaped_punctuation(md) == []
    assert squash(unescape_markdown(md)) == squash(text)


def test_hostile_markup_is_escaped_literally() -> None:
    text = "<script>alert(1)</script> **b** [l](javascript:x) $x$ :red[r] &amp;"
    md = escape_markdown(text)
    assert "<" not in md.replace("\\<", "") and "[" not in md.replace("\\[", "")
    assert "\\&amp\\;" in md  # an entity stays the five characters the record holds
    assert unescape_markdown(md) == text


def test_line_breaks_are_kept_as_breaks_not_markdown_blocks() -> None:
    md = escape_markdown("BACKGROUND: x\n- item\n\n    indented code?")
    assert md == "BACKGROUND\\: x  \n\\- item\n\nindented code\\?"


def test_keywords_match_whole_words_stems_and_phrases_case_insensitively() -> None:
    text = "Lonely pupils; loneliness and PEER  support, not peers or adultsx. Adults too."
    found = [(text[m.start:m.end], m.kind)
             for m in find_keywords(text, ["lonel*", "peer support"], ["adults"])]
    assert found == [("Lonely", "include"), ("loneliness", "include"),
                     ("PEER  support", "include"), ("Adults", "exclude")]


def test_highlighting_wraps_escaped_matches_and_nothing_else() -> None:
    text = "<b>Loneliness</b> in [adults](http://x)"
    md = highlight_markdown(text, ["loneliness"], ["adults"])
    assert md == ("\\<b\\>:green-background[Loneliness]\\<\\/b\\> in "
                  "\\[:red-background[adults]\\]\\(http\\:\\/\\/x\\)")


@given(st.text(), st.lists(st.sampled_from(["a", "lonel*", "x]y", "b c", "<s>", "1.5"]),
                           max_size=3))
def test_highlighted_text_is_the_original_text_once_our_markup_is_removed(
        text: str, words: list[str]) -> None:
    md = highlight_markdown(text, words, ["z"])
    inner = _DIRECTIVE.sub(lambda m: m.group(2), md)
    assert unescaped_punctuation(inner) == []
    # private-use placeholder characters are neutralised, everything else survives
    expected = squash(re.sub("[\ue000\ue001]", "\ufffd", text))
    assert squash(unescape_markdown(inner)) == expected


def test_a_record_cannot_forge_a_highlight_placeholder() -> None:
    md = highlight_markdown("\ue0000\ue001 adults", [], ["adults"])
    assert md.count("-background[") == 1


def test_long_text_is_split_at_a_space_and_nothing_is_lost() -> None:
    text = "word " * 10_000
    head, rest = split_long(text, limit=1000)
    assert len(head) <= 1000 and head + rest == text and rest.startswith(" ")
    assert split_long("short", limit=1000) == ("short", "")
