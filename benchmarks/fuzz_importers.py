"""Fuzz the importers: whatever bytes arrive, they are read or refused with a clear error.

A bounded-time run (``--seconds``, default 120) of hypothesis-driven mutations
of the real-shaped seed exports in ``tests/fixtures/io/`` (RIS, PubMed nbib,
BibTeX, CSV, Web of Science, and XLSX workbooks built from the CSV seeds):

* byte flips, truncation, NUL bytes, binary junk, deleted/duplicated/swapped lines;
* huge fields (a 10 MB title), very long files of repeated records;
* mixed encodings (UTF-8 with cp1252 and UTF-16 fragments, stray BOMs);
* CRLF / CR / LF mixes; deeply nested and unbalanced BibTeX braces;
* formula strings (``=cmd|' /C calc'!A0``) and markup in fields and cells;
* for XLSX: cells mutated as above, and the ZIP container itself corrupted.

Each input goes through the whole-file reader (``read_bytes``) and through
the streaming reader (``open_stream`` over the same bytes written to a file).
A **crash** is any exception other than ``ImportFormatError`` (or an input
that runs past ``--per-input`` seconds); a **disagreement** is the two
readers giving different records or outcomes; an **unclear** refusal is an
``ImportFormatError`` that only wraps a library's exception text. Accepted
inputs are also checked for what later stages rely on (records JSON-ready, no
NUL character -- PostgreSQL refuses it --, at least one title).

    .venv/bin/python benchmarks/fuzz_importers.py                  # 120 s
    .venv/bin/python benchmarks/fuzz_importers.py --seconds 600 --crashes /tmp/crashes

Prints a table per format and the first lines of every distinct crash (the
crashing inputs are written to ``--crashes`` for regression tests). Asserts
nothing: a crash is a finding to fix, with a regression test in
``tests/io/test_io_fuzz_regressions.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from review.io import ImportFormatError, read_bytes  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "io"
SEED_FILES = {
    "ris": ["scopus.ris", "endnote.ris", "zotero.ris"],
    "nbib": ["pubmed.nbib"],
    "bibtex": ["zotero.bib"],
    "csv": ["scopus.csv", "zotero.csv", "covidence.csv", "rayyan.csv", "wos_tab.txt"],
    "wos": ["wos_plain.txt"],
    "xlsx": ["scopus.csv", "zotero.csv", "covidence.csv", "rayyan.csv"],
}
HUGE = 10 * 2**20  # a 10 MB field
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@A1", "=HYPERLINK(\"http://x\")",
            "<script>alert(1)</script>", "**bold** [x](javascript:alert(1))"]
UNCLEAR = ("Error: ", "Error)", "Exception")


class Hang(BaseException):
    """An input that ran past the per-input time limit (a BaseException, so that no
    library's ``except Exception`` swallows it)."""


def _on_alarm(signum, frame):  # pragma: no cover - signal handler
    raise Hang()


# ---- mutations: each takes hypothesis's ``draw`` and the bytes, returns new bytes ----------

def _pos(draw, data: bytes) -> int:
    """A position in ``data``, drawn as a fraction so that the draw does not depend on its
    length (an XLSX container's length varies with its timestamp)."""
    return int(draw(st.floats(0, 1)) * len(data))


def _index(draw, n: int) -> int:
    return min(n - 1, int(draw(st.floats(0, 1)) * n))


def flip_bytes(draw, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        at = _index(draw, len(out))
        value = draw(st.integers(1, 255))
        if out:
            out[at] ^= value
    return bytes(out)


def truncate(draw, data: bytes) -> bytes:
    return data[: _pos(draw, data)]


def nul_bytes(draw, data: bytes) -> bytes:
    at = _pos(draw, data)
    return data[:at] + b"\x00" * draw(st.integers(1, 4)) + data[at:]


def binary_junk(draw, data: bytes) -> bytes:
    at = _pos(draw, data)
    return data[:at] + draw(st.binary(min_size=1, max_size=256)) + data[at:]


def mixed_encoding(draw, data: bytes) -> bytes:
    text = draw(st.sampled_from(["Müller, Jürgen", "Åberg – “belonging”", "Одиночество",
                                 "孤独感", "naïve café", "\u2028line\u2029sep", "\ufeff"]))
    codec = draw(st.sampled_from(["cp1252", "utf-16", "utf-16-le", "utf-8", "latin-1"]))
    fragment = text.encode(codec, errors="replace")
    at = _pos(draw, data)
    return data[:at] + fragment + data[at:]


def whole_file_utf16(draw, data: bytes) -> bytes:
    text = data.decode("utf-8", errors="replace")
    return text.encode(draw(st.sampled_from(["utf-16", "utf-32", "utf-8-sig", "cp1252"])),
                       errors="replace")


def newline_mix(draw, data: bytes) -> bytes:
    parts = data.split(b"\n")
    rng = random.Random(draw(st.integers(0, 2**32)))  # one draw, however many lines
    choices = draw(st.sampled_from([(b"\r\n",), (b"\r",), (b"\n", b"\r\n", b"\r", b"\n\n")]))
    out = [parts[0]]
    for part in parts[1:]:
        out += [rng.choice(choices), part]
    return b"".join(out)


def shuffle_lines(draw, data: bytes) -> bytes:
    lines = data.split(b"\n")
    op = draw(st.sampled_from(["delete", "duplicate", "swap"]))
    i = _index(draw, len(lines))
    j = _index(draw, len(lines))
    if op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def formula_field(draw, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = _index(draw, len(lines))
    formula = draw(st.sampled_from(FORMULAS)).encode()
    line = lines[i]
    cut = _pos(draw, line)
    lines[i] = line[:cut] + formula + line[cut:]
    return b"\n".join(lines)


def repeat_records(draw, data: bytes) -> bytes:
    times = draw(st.integers(2, 400))
    return data * max(1, min(times, 24 * 2**20 // max(len(data), 1)))  # at most ~24 MB


def huge_field(fmt: str) -> Callable:
    def mutate(draw, data: bytes) -> bytes:
        filler = draw(st.sampled_from([b"A", b"loneliness ", "\u00e9".encode(), b"{"]))
        value = (filler * (HUGE // len(filler) + 1))[:HUGE]
        if fmt == "ris":
            return data.replace(b"TY  - ", b"TY  - JOUR\nTI  - " + value + b"\nN1  - ", 1)
        if fmt == "nbib":
            return data.replace(b"\nTI  - ", b"\nTI  - " + value + b" ", 1)
        if fmt == "wos":
            return data.replace(b"\nTI ", b"\nTI " + value + b" ", 1)
        if fmt == "bibtex":
            return data.replace(b"title = {", b"title = {" + value.replace(b"{", b"x"), 1)
        lines = data.split(b"\n")  # csv: a cell of one row becomes huge
        row = max(1, _index(draw, len(lines)))
        sep = b"\t" if b"\t" in lines[0] else b","
        lines.insert(row, b'"' + value.replace(b'"', b"'") + b'"' + sep + b"x")
        return b"\n".join(lines)

    return mutate


def nested_braces(draw, data: bytes) -> bytes:
    depth = draw(st.sampled_from([10, 500, 5000, 50000]))
    balanced = draw(st.booleans())
    value = b"{" * depth + b"x" + (b"}" * depth if balanced else b"")
    return data.replace(b"title = {", b"title = {" + value, 1)


def bibtex_syntax(draw, data: bytes) -> bytes:
    junk = draw(st.sampled_from([b"@", b"@article{", b"@string{x = ", b"}", b'"', b"\\",
                                 b"@comment{", b"#", b"@preamble{", b"=", b",,,", b"%"]))
    at = _pos(draw, data)
    return data[:at] + junk + data[at:]


COMMON = [flip_bytes, truncate, nul_bytes, binary_junk, mixed_encoding, whole_file_utf16,
          newline_mix, shuffle_lines, formula_field, repeat_records]
OPS: dict[str, list[Callable]] = {
    "ris": [*COMMON, huge_field("ris")],
    "nbib": [*COMMON, huge_field("nbib")],
    "wos": [*COMMON, huge_field("wos")],
    "bibtex": [*COMMON, huge_field("bibtex"), nested_braces, bibtex_syntax, bibtex_syntax],
    "csv": [*COMMON, huge_field("csv")],
}
NAMES = {"ris": ".ris", "nbib": ".nbib", "wos": ".txt", "bibtex": ".bib", "csv": ".csv"}


# ---- XLSX: workbooks built from mutated tables, or corrupted containers ------------------

def workbook_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl truncates over-long cells, and says so
        frame.to_excel(buffer, index=False)
    return buffer.getvalue()


@st.composite
def xlsx_input(draw) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(SEED_FILES["xlsx"]))
    frame = pd.read_csv(FIXTURES / seed, dtype=str, keep_default_na=False)
    how = draw(st.sampled_from(["cells", "container", "both"]))
    if how in ("cells", "both") and len(frame):
        for _ in range(draw(st.integers(1, 6))):
            row = draw(st.integers(0, len(frame) - 1))
            col = draw(st.sampled_from(list(frame.columns)))
            value = draw(st.one_of(
                st.sampled_from(FORMULAS), st.text(max_size=50),
                st.just("x" * 40000), st.just(""),
            ))
            frame.loc[row, col] = value
        if draw(st.booleans()):
            frame.columns = [draw(st.sampled_from(["Title", "TI", "", " ", "Unnamed: 0", c]))
                             for c in frame.columns]
    try:
        data = workbook_bytes(frame)
    except Exception:  # openpyxl refuses some cell values itself: not an importer input
        data = workbook_bytes(frame.iloc[:0])
    if how in ("container", "both"):
        data = draw(st.sampled_from([flip_bytes, truncate, binary_junk]))(draw, data)
    name = draw(st.sampled_from([seed.replace(".csv", ".xlsx"), "upload", "export.csv"]))
    return name, data


@st.composite
def text_input(draw, fmt: str) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(SEED_FILES[fmt]))
    data = (FIXTURES / seed).read_bytes()
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(OPS[fmt]))(draw, data)
    name = draw(st.sampled_from([seed, "upload", f"export{NAMES[fmt]}", "savedrecs.txt"]))
    return name, data


# ---- running one input ------------------------------------------------------------------

class Tally:
    def __init__(self) -> None:
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.crashes: dict[str, list[tuple[str, str, bytes]]] = defaultdict(list)

    def crash(self, fmt: str, kind: str, name: str, detail: str, data: bytes) -> None:
        self.counts[fmt][kind] += 1
        key = detail.strip().splitlines()[-1][:160] if detail.strip() else kind
        self.crashes[f"{fmt}: {kind}: {key}"].append((name, detail, data))


def outcome_whole(data: bytes, name: str):
    try:
        imported = read_bytes(data, name)
    except ImportFormatError as err:
        return ("refused", str(err), err)
    return ("accepted", imported, None)


def outcome_stream(data: bytes, name: str, workdir: Path):
    from review.io import open_stream

    path = workdir / (Path(name).name or "upload")
    path.write_bytes(data)
    try:
        stream = open_stream(path)
        records = [r for chunk in stream for r in chunk]
    except ImportFormatError as err:
        return ("refused", str(err), err)
    return ("accepted", (records, stream), None)


def check_records(records: list[dict]) -> str | None:
    """What later stages rely on; a message when an accepted import breaks it."""
    if not records or not any(r.get("title") for r in records):
        return "accepted without any titled record"
    try:
        text = json.dumps(records)
    except (TypeError, ValueError) as err:
        return f"records are not JSON-ready: {err}"
    if "\\u0000" in text:
        return "a record holds a NUL character (PostgreSQL refuses it)"
    for r in records:
        if not (r.get("year") is None or isinstance(r["year"], int)):
            return f"year is {r['year']!r}"
        if not isinstance(r.get("authors"), list):
            return "authors is not a list"
    return None


def run_one(fmt: str, name: str, data: bytes, tally: Tally, workdir: Path,
            per_input: float, whole_only: bool) -> None:
    counts = tally.counts[fmt]
    counts["tried"] += 1
    signal.setitimer(signal.ITIMER_REAL, per_input)
    try:
        whole = outcome_whole(data, name)
        streamed = whole if whole_only else outcome_stream(data, name, workdir)
    except Hang:
        tally.crash(fmt, "hangs", name, f"ran past {per_input:.0f} s", data)
        return
    except Exception:
        tally.crash(fmt, "crashes", name, traceback.format_exc(), data)
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if whole[0] == "refused":
        counts["refused"] += 1
        err = whole[2]
        if err.file != (Path(name).name or name) or not err.reason.strip():
            tally.crash(fmt, "unclear", name, f"error does not name the file: {whole[1]}", data)
        elif any(mark in err.reason for mark in UNCLEAR):
            counts["unclear"] += 1
            tally.crashes[f"{fmt}: unclear (informational): {err.reason[:120]}"].append(
                (name, whole[1], data))
    else:
        counts["accepted"] += 1
        problem = check_records(whole[1].records)
        if problem:
            tally.crash(fmt, "crashes", name, f"accepted but {problem}", data)
    if whole_only:
        return
    if whole[0] != streamed[0]:
        tally.crash(fmt, "disagreements", name,
                    f"whole file {whole[0]}: {str(whole[1])[:200]}; streamed {streamed[0]}: "
                    f"{str(streamed[1])[:200]}", data)
    elif whole[0] == "accepted":
        records, stream = streamed[1]
        if records != whole[1].records or stream.warnings != whole[1].warnings:
            tally.crash(fmt, "disagreements", name, "streamed records or warnings differ", data)
    elif whole[1] != streamed[1]:
        tally.crash(fmt, "disagreements", name,
                    f"messages differ: whole {whole[1][:200]!r}; streamed {streamed[1][:200]!r}",
                    data)


def fuzz(fmt: str, seconds: float, tally: Tally, workdir: Path, per_input: float,
         seed: int, whole_only: bool) -> None:
    strategy = xlsx_input() if fmt == "xlsx" else text_input(fmt)
    deadline = time.monotonic() + seconds
    batch = 0
    while time.monotonic() < deadline:
        batch += 1

        @settings(max_examples=25, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def one(case: tuple[str, bytes]) -> None:
            if time.monotonic() < deadline:
                run_one(fmt, case[0], case[1], tally, workdir, per_input, whole_only)

        # A different seed per batch, reproducible from --seed.
        one._hypothesis_internal_use_seed = random.Random(f"{seed}-{fmt}-{batch}").getrandbits(64)
        one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="total fuzzing time")
    parser.add_argument("--per-input", type=float, default=60.0,
                        help="an input running longer than this counts as a hang")
    parser.add_argument("--formats", default="ris,nbib,bibtex,csv,wos,xlsx")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crashes", type=Path, default=None,
                        help="write every crashing input to this folder")
    parser.add_argument("--whole-only", action="store_true",
                        help="only the whole-file reader (e.g. to fuzz an older checkout)")
    args = parser.parse_args()
    formats = args.formats.split(",")
    signal.signal(signal.SIGALRM, _on_alarm)
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="review-fuzz-") as tmp:
        for fmt in formats:
            fuzz(fmt, args.seconds / len(formats), tally, Path(tmp), args.per_input, args.seed,
                 args.whole_only)
    elapsed = time.monotonic() - started

    how = "read whole" if args.whole_only else "read whole and streamed"
    print(f"fuzzed for {elapsed:.0f} s (seed {args.seed}); every input {how}")
    print()
    print("| format | inputs tried | accepted | refused with a clear error | of which "
          "wrapping a library error | crashes | hangs | stream/whole disagreements |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total = Counter()
    for fmt in formats:
        c = tally.counts[fmt]
        total.update(c)
        print(f"| {fmt} | {c['tried']:,} | {c['accepted']:,} | {c['refused']:,} | "
              f"{c['unclear']:,} | {c['crashes']:,} | {c['hangs']:,} | {c['disagreements']:,} |")
    print(f"| all | {total['tried']:,} | {total['accepted']:,} | {total['refused']:,} | "
          f"{total['unclear']:,} | {total['crashes']:,} | {total['hangs']:,} | "
          f"{total['disagreements']:,} |")
    if tally.crashes:
        print()
        print("Findings (distinct, with how many inputs hit each):")
        for key, hits in sorted(tally.crashes.items()):
            print(f"- [{len(hits)}] {key}")
            if "informational" not in key:
                name, detail, data = hits[0]
                print("    input:", name, f"{len(data):,} bytes", repr(data[:120]))
                for line in detail.strip().splitlines()[-4:]:
                    print("    ", line)
        if args.crashes:
            args.crashes.mkdir(parents=True, exist_ok=True)
            for key, hits in tally.crashes.items():
                if "informational" in key:
                    continue
                for name, detail, data in hits[:3]:
                    digest = hashlib.sha256(data).hexdigest()[:12]
                    stem = f"{key.split(':')[0]}-{digest}-{Path(name).name or 'upload'}"
                    (args.crashes / stem).write_bytes(data)
                    (args.crashes / f"{stem}.txt").write_text(f"{key}\n\n{detail}\n")
            print(f"\ncrashing inputs written to {args.crashes}")


if __name__ == "__main__":
    main()
