"""Record text is shown as text: escaping is complete and reversible, highlights add only ours."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from review.app.highlight import find_keywords, highlight_html, split_long
from review.app.widgets import escape_markdown, unescape_markdown

PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_MARK = re.compile(r'<mark class="rv-(include|exclude|personal)" title="[a-z ]+">|</mark>')


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
    out = highlight_html(text, ["loneliness"], ["adults"])
    assert out == ('&lt;b&gt;<mark class="rv-include" title="include keyword">Loneliness</mark>'
                   '&lt;/b&gt; in [<mark class="rv-exclude" title="exclude keyword">adults</mark>]'
                   "(http://x)")


@given(st.text(), st.lists(st.sampled_from(["a", "lonel*", "x]y", "b c", "<s>", "1.5"]),
                           max_size=3))
def test_highlighted_text_is_the_original_text_once_our_markup_is_removed(
        text: str, words: list[str]) -> None:
    out = highlight_html(text, words, ["z"], ["q"])
    inner = _MARK.sub("", out)
    assert "<" not in inner  # the record's own characters are all escaped
    expected = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    assert html.unescape(inner) == expected  # not one character added or lost


def test_long_text_is_split_at_a_space_and_nothing_is_lost() -> None:
    text = "word " * 10_000
    head, rest = split_long(text, limit=1000)
    assert len(head) <= 1000 and head + rest == text and rest.startswith(" ")
    assert split_long("short", limit=1000) == ("short", "")
