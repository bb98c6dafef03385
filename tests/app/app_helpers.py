"""Helpers for the app tests: a small review (records, some hostile; a lead and two reviewers)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from review.store import Store, open_store, repo
from review.store.models import Reviewer

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "screening_app.py"

#: Titles/abstracts a reviewer must see literally, character for character.
HOSTILE_TITLE = "<script>alert('x')</script> **Bold** [click](javascript:alert(1)) :red[red]"
HOSTILE_ABSTRACT = ("<b>HTML</b> <img src=x onerror=alert(2)> $x^2$ # not a heading\n"
                    "- not a list\n`code` &lt;escaped&gt; =cmd|' /C calc'!A0 :material/home:")
LONG_ABSTRACT = ("Peer support for lonely adolescents. " * 1500).strip()  # ~55,000 characters

PASSWORDS = {"lead": "lead-demo", "ana": "ana-demo", "ben": "ben-demo"}


@dataclass
class Review:
    path: Path | str  # a SQLite file, or a PostgreSQL URL
    store: Store
    ids: dict[str, int]  # username -> reviewer id
    records: list[int]


def make_records(n: int) -> list[dict]:
    topics = ["mentoring", "peer support", "family support", "school linkage",
              "community capacity building", "service integration"]
    recs = []
    for i in range(n):
        t = topics[i % len(topics)]
        recs.append({
            "title": f"Effect of {t} on loneliness in young people: trial {i + 1}",
            "abstract": f"We studied {t} for children and adolescents (n={20 + i}). "
                        "Belonging and social support improved.",
            "authors": [f"Author{i} A", "Second B"], "year": 2010 + i % 12,
            "journal": "Journal of Youth Mental Health", "keywords": ["loneliness", t],
        })
    return recs


@functools.cache
def password_hash(password: str) -> str:
    """argon2 is slow on purpose; hash each test password once per test run."""
    return repo.hash_password(password)


def add_person(store: Store, username: str, display: str, role: str = "reviewer",
               password: str | None = None) -> int:
    """``repo.add_reviewer`` with the (cached) hash of the test password set afterwards."""
    rid = repo.add_reviewer(store, username, display, role=role)
    with store.session() as s:
        s.execute(update(Reviewer).where(Reviewer.id == rid)
                  .values(password_hash=password_hash(password or PASSWORDS[username])))
    return rid


def build_review(path: Path | str, *, n: int = 12, per_record: int = 1, blind: bool = True,
                 hostile: bool = True) -> Review:
    store = open_store(path)
    recs = make_records(n)
    if hostile:
        recs[0] = {**recs[0], "title": HOSTILE_TITLE, "abstract": HOSTILE_ABSTRACT}
        recs[1] = {**recs[1], "abstract": LONG_ABSTRACT}
    repo.add_source(store, name="PubMed", kind="database", file_name="pubmed.nbib",
                    file_format="nbib", sha256="sha-test", records=recs)
    ids = {
        "lead": add_person(store, "lead", "Lena Lead", role="lead"),
        "ana": add_person(store, "ana", "Ana Reviewer"),
        "ben": add_person(store, "ben", "Ben Reviewer"),
    }
    repo.set_setting(store, "review_title", "Loneliness in young people")
    repo.set_setting(store, "reviewers_per_record", per_record)
    repo.set_setting(store, "blind", blind)
    repo.set_setting(store, "highlight_include", ["lonel*", "peer support"])
    repo.set_setting(store, "highlight_exclude", ["adults"])
    records = repo.records_frame(store)["record_id"].astype(int).tolist()
    return Review(path=path, store=store, ids=ids, records=records)


def app_for(review: Review, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """An AppTest of the real entry point, opened on ``review``."""
    monkeypatch.setenv("REVIEW_DATABASE_URL", str(review.path))
    return AppTest.from_file(str(APP), default_timeout=60)


def sign_in(at: AppTest, username: str, password: str | None = None) -> AppTest:
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password or PASSWORDS[username])
    at.button[0].click()  # the form's submit button
    return at.run()


#: The legend under a highlighted abstract, as a reader sees it.
LEGEND = "Highlights: include keyword · exclude keyword · your highlight term"


@dataclass
class Shown:
    """One highlighted block as a reader gets it: its visible text and its marks."""

    text: str
    marks: list[tuple[str, str]] = field(default_factory=list)  # (marked text, its title)

    @property
    def body(self) -> str:
        """The record's text alone, without the legend line under an abstract."""
        return self.text.removesuffix(LEGEND)


class _Reader(HTMLParser):
    """Visible text of our highlight HTML (style sheets skipped, entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.marks: list[tuple[str, str]] = []
        self._style = False
        self._mark: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style":
            self._style = True
        elif tag == "mark":
            self._mark = (dict(attrs).get("title") or "", [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._style = False
        elif tag == "mark" and self._mark is not None:
            self.marks.append(("".join(self._mark[1]), self._mark[0]))
            self._mark = None

    def handle_data(self, data: str) -> None:
        if self._style:
            return
        self.text.append(data)
        if self._mark is not None:
            self._mark[1].append(data)


def shown_html(at: AppTest) -> list[Shown]:
    """Every ``st.html`` block on the page as the reader sees it (text and named marks)."""
    out = []
    for h in at.get("html"):
        r = _Reader()
        r.feed(h.proto.body)
        out.append(Shown("".join(r.text), r.marks))
    return out
