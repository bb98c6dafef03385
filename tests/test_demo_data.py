"""The bundled demo review's data: reproducible, parseable, and with an answer key that adds up.

The demo builder replays ``truth.csv`` over whatever the importers make of the four exports, so
a record missing from the key, a key pointing at nothing, or an export a reader cannot parse
would break the demo for every user. These tests read the files with independent readers
(rispy, pandas, a few lines of MEDLINE parsing) rather than the generator's own code.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import rispy

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
SCRIPT = DEMO / "make_demo.py"
GENERATED = (
    "pubmed.nbib", "psycinfo.ris", "scopus.csv", "citation_searching.ris", "truth.csv",
    "records.csv", "included.csv", "searches.csv",
)
SOURCES = ("pubmed", "psycinfo", "scopus", "citation_searching")
INTERVENTION_TYPES = {
    "mentoring", "peer support", "family support", "school linkage",
    "community capacity building", "service integration",
}


def run_generator(out: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True,
                   capture_output=True, env=env)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run_generator(out, "1")
    return out


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(DEMO / "truth.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return pd.read_csv(DEMO / "records.csv", dtype=str, keep_default_na=False)


def ids_in_truth(truth: pd.DataFrame, source: str) -> list[str]:
    return [i for cell in truth[source] for i in cell.split(";") if i]


def parse_medline(text: str) -> list[dict[str, list[str]]]:
    """Tags and values of a MEDLINE file; continuation lines join the previous value."""
    out: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    last = ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("      "):
            current[last][-1] += " " + line.strip()
            continue
        assert line[4:6] == "- ", f"pubmed.nbib line {number} is not 'TAG - value': {line!r}"
        tag, value = line[:4].rstrip(), line[6:]
        if tag == "PMID":
            current = {}
            out.append(current)
        current.setdefault(tag, []).append(value)
        last = tag
    return out


def norm_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", title.casefold()).strip()


# --- reproducibility -------------------------------------------------------------------------


def test_generator_is_deterministic(generated: Path, tmp_path: Path) -> None:
    run_generator(tmp_path, "2")  # a different hash seed must not change a byte
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes(), name


def test_bundled_files_are_what_the_generator_writes(generated: Path) -> None:
    for name in GENERATED:
        assert (DEMO / name).read_bytes() == (generated / name).read_bytes(), (
            f"data/demo/{name} is stale: run python data/demo/make_demo.py"
        )


# --- each export parses as its real counterpart would ----------------------------------------


def test_pubmed_export_is_medline_shaped(truth: pd.DataFrame) -> None:
    text = (DEMO / "pubmed.nbib").read_text(encoding="utf-8")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert re.search(r"^TI  - .+\n      \S", text, flags=re.M), "long titles should wrap"
    parsed = parse_medline(text)
    pmids = [r["PMID"][0] for r in parsed]
    assert sorted(pmids) == sorted(ids_in_truth(truth, "pubmed"))
    titles = {pmid: t for t, cell in zip(truth.title, truth.pubmed, strict=True)
              for pmid in cell.split(";") if pmid}
    for record in parsed:
        pmid = record["PMID"][0]
        assert record["TI"] == [titles[pmid] + "."], pmid  # wrapped title rejoins exactly
        assert len(record["FAU"]) == len(record["AU"]) >= 1
        initials = [au.rsplit(" ", 1)[1] for au in record["AU"]]  # 'Okafor CA', 'Dubois É'
        assert all(i.isalpha() and i.isupper() and len(i) <= 3 for i in initials), record["AU"]
        assert all(re.fullmatch(r"10\.5555/\S+ \[doi\]", aid) for aid in record.get("AID", []))
        assert {"DP", "TA", "JT", "LA", "PT"} <= record.keys()
    pages = [r["PG"][0] for r in parsed if "PG" in r and "-" in r["PG"][0]]
    abbreviated = [p for p in pages if len(p.split("-")[1]) < len(p.split("-")[0])]
    assert abbreviated and len(abbreviated) < len(pages)  # '112-9' mostly, '112-119' too


def test_psycinfo_export_is_ris_with_bom_and_crlf(truth: pd.DataFrame) -> None:
    raw = (DEMO / "psycinfo.ris").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    text = raw.decode("utf-8-sig")
    for variant in ("\r\nTI  - ", "\r\nT1  - ", "\r\nJO  - ", "\r\nJF  - ", "\r\nT2  - "):
        assert variant in text, f"expected some records to use {variant.strip()}"
    assert re.search(r"^PY  - \d{4}///\r$", text, flags=re.M)
    assert re.search(r"^PY  - \d{4}\r$", text, flags=re.M)
    entries = rispy.load(DEMO / "psycinfo.ris", encoding="utf-8-sig")
    assert sorted(e["accession_number"] for e in entries) == sorted(ids_in_truth(truth,
                                                                                 "psycinfo"))
    for e in entries:
        assert e.get("title") or e.get("primary_title"), e["accession_number"]
        assert e["authors"] and 2005 <= int(e["year"].split("/")[0]) <= 2024
    with_abstract = [e["abstract"] for e in entries if e.get("abstract")]
    for abstract in with_abstract:
        body = abstract.split(" (PsycInfo Database Record")[0]
        assert 120 <= len(body.split()) <= 250


def test_scopus_export_reads_with_pandas(truth: pd.DataFrame) -> None:
    raw = (DEMO / "scopus.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf\"Authors\"")
    df = pd.read_csv(DEMO / "scopus.csv", encoding="utf-8-sig", dtype=str,
                     keep_default_na=False)
    expected = {"Authors", "Title", "Year", "Source title", "Volume", "Issue", "Page start",
                "Page end", "DOI", "Abstract", "Author Keywords", "Document Type", "EID"}
    assert expected <= set(df.columns)
    assert df.EID.is_unique
    assert sorted(df.EID) == sorted(ids_in_truth(truth, "scopus"))
    assert df.Title.ne("").all() and df.Year.str.fullmatch(r"\d{4}").all()
    in_press = df[df["Publication Stage"] == "Article in press"]
    assert len(in_press) >= 1
    for eid in in_press.EID:  # the in-press copy is a duplicate of a final record
        row = truth[truth.scopus.str.contains(eid, regex=False)]
        assert len(row.scopus.iloc[0].split(";")) == 2


def test_citation_searching_export(truth: pd.DataFrame) -> None:
    raw = (DEMO / "citation_searching.ris").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    entries = rispy.load(DEMO / "citation_searching.ris", encoding="utf-8")
    assert 5 <= len(entries) <= 20
    assert sorted(e["id"] for e in entries) == sorted(ids_in_truth(truth,
                                                                   "citation_searching"))
    assert {"JOUR", "RPRT"} <= {e["type_of_reference"] for e in entries}
    assert all(any(n.startswith("Found by:") for n in e["notes"]) for e in entries)


# --- the answer key accounts for every record, once -----------------------------------------


def test_every_record_id_appears_exactly_once_in_truth(truth: pd.DataFrame,
                                                       records: pd.DataFrame) -> None:
    assert truth.ref_id.is_unique
    for source in SOURCES:
        ids = ids_in_truth(truth, source)
        counts = collections.Counter(ids)
        assert not [i for i, n in counts.items() if n > 1], source
        in_file = records[records.source == source]
        assert sorted(in_file.record_id) == sorted(ids), source
        assert list(in_file.position.astype(int)) == list(range(1, len(in_file) + 1))
    mapped = {(s, i): r for s, i, r in zip(records.source, records.record_id, records.ref_id,
                                           strict=True)}
    for row in truth.itertuples():
        for source in SOURCES:
            for rid in filter(None, getattr(row, source).split(";")):
                assert mapped[(source, rid)] == row.ref_id
        assert any(getattr(row, s) for s in SOURCES), f"{row.ref_id} is in no source"


def test_every_included_study_is_in_some_source(truth: pd.DataFrame) -> None:
    included = pd.read_csv(DEMO / "included.csv", dtype=str, keep_default_na=False)
    assert list(included.columns) == ["key", "title", "year", "first_author",
                                      "intervention_type", "population", "country",
                                      "design", "n"]
    assert included.key.is_unique and 15 <= len(included) <= 20
    assert set(included.intervention_type) == INTERVENTION_TYPES
    for study in included.itertuples():
        rows = truth[(truth.key == study.key) & (truth.report_role == "primary")]
        assert len(rows) == 1, study.key
        row = rows.iloc[0]
        assert row.title == study.title and row.ft_label == "include"
        assert any(row[s] for s in SOURCES), f"{study.key} is in no source"
    multi = truth[truth.report_role == "primary"][list(SOURCES)].apply(
        lambda r: sum(bool(v) for v in r), axis=1)
    assert (multi >= 2).sum() > len(included) / 2  # most are found more than once
    assert set(truth.key) - {""} == set(included.key)


def test_labels_follow_the_screening_path(truth: pd.DataFrame) -> None:
    reasons = {"Wrong population (age)", "No comparison group", "Outcome not measured",
               "Wrong study design", "Conference abstract only", "Wrong intervention"}
    assert set(truth.ta_label) == {"include", "exclude"}
    assert (truth[truth.ta_label == "exclude"].ft_label == "").all()
    assert set(truth[truth.ta_label == "include"].ft_label) == {"include", "exclude",
                                                                "not_retrieved"}
    excluded = truth[truth.ft_label == "exclude"]
    assert set(excluded.ft_reason) == reasons
    assert (truth[truth.ft_label != "exclude"].ft_reason == "").all()
    assert 30 <= len(excluded) <= 50
    assert (truth.ta_label == "exclude").mean() > 0.6  # screening has real work to do
    assert set(truth.conflict) == {"", "title_abstract", "full_text"}
    assert (truth[truth.conflict == "full_text"].ta_label == "include").all()
    flipped_out = truth[(truth.conflict == "full_text") & (truth.ft_label == "include")]
    assert flipped_out.conflict_reason.isin(reasons).all()


def test_dois_use_the_reserved_test_prefix() -> None:
    text = "\n".join((DEMO / f).read_text(encoding="utf-8-sig") for f in GENERATED[:4])
    dois = re.findall(r"\b10\.\d{4,9}/[^\s\",;\]]+", text, flags=re.I)
    assert len(dois) > 300
    assert {d.split("/")[0] for d in dois} == {"10.5555"}


# --- copies differ the way real exports do; near misses stay distinct -----------------------


def test_duplicates_differ_like_real_exports(truth: pd.DataFrame) -> None:
    ris = {e["accession_number"]: e for e in rispy.load(DEMO / "psycinfo.ris",
                                                        encoding="utf-8-sig")}
    scopus = pd.read_csv(DEMO / "scopus.csv", encoding="utf-8-sig", dtype=str,
                         keep_default_na=False).set_index("EID")
    case_only = doi_missing = folded = 0
    for row in truth[(truth.psycinfo != "") & (truth.scopus != "")].itertuples():
        p = ris[row.psycinfo]
        s = scopus.loc[row.scopus.split(";")[0]]
        p_title = p.get("title") or p["primary_title"]
        if p_title != s.Title and norm_title(p_title) == norm_title(s.Title):
            case_only += 1
        if bool(p.get("doi")) != bool(s.DOI):
            doi_missing += 1
        if p["authors"][0].split(",")[0] != s.Authors.split(";")[0].rsplit(" ", 1)[0]:
            folded += 1  # 'Muller' against 'Müller' and the like
    assert case_only >= 10 and doi_missing >= 5 and folded >= 1


def test_near_misses_are_separate_references(truth: pd.DataFrame) -> None:
    okafor = truth[truth.key == "okafor2019"]
    assert set(okafor.report_role) == {"primary", "secondary"}
    assert okafor.title.str.contains("protocol").sum() == 1
    parts = truth[truth.title.str.startswith("Loneliness in childhood and adolescence. Part")]
    assert len(parts) == 2
    assert (truth.title == "Loneliness in young people: time to act").sum() == 2
    assert truth.title.str.startswith("Correction to:").sum() == 1


# --- the README tells the truth ---------------------------------------------------------------


def test_readme_counts_match_the_files(truth: pd.DataFrame, records: pd.DataFrame) -> None:
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([\w.]+)` \|.*\| (\d+) \|$", readme, flags=re.M))
    assert {f: int(n) for f, n in rows.items()} == records.file.value_counts().to_dict()
    stages = dict(re.findall(r"^\| ([a-z ,]+) \| (\d+) \|$", readme, flags=re.M))
    assert int(stages["unique references screened on title and abstract"]) == len(truth)
    assert int(stages["excluded on title and abstract"]) == (truth.ta_label == "exclude").sum()
    assert int(stages["reports not retrieved"]) == (truth.ft_label == "not_retrieved").sum()
    assert int(stages["reports excluded at full text"]) == (truth.ft_label == "exclude").sum()
    assert int(stages["reports of included studies"]) == (truth.ft_label == "include").sum()
    assert int(stages["included studies"]) == truth[truth.ft_label == "include"].key.nunique()
    conflicts = re.search(r"has (\d+) disagreements", readme.replace("\n", " "))
    assert conflicts and int(conflicts.group(1)) == (truth.conflict != "").sum()
