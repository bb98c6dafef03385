"""How long reading a large RIS export takes, and how much memory it needs.

Generates deterministic RIS files shaped like real EndNote/Scopus exports
(5 authors, ~1,500-character abstracts wrapped over several lines, keyword
lists on continuation lines, DOIs, mixed ``PY`` forms) and times
``review.io.read_records`` on each, every measurement in a fresh child
process so that peak memory (``ru_maxrss``) belongs to that one read.

It also splits the largest run into its phases -- decoding, rispy's own
parsing, our record mapping -- next to plain ``rispy.loads`` on the same
text, so it is clear where the time goes.

    .venv/bin/python benchmarks/import_scale.py                 # 1k, 10k, 100k
    .venv/bin/python benchmarks/import_scale.py --sizes 100000 --repeat 3

Prints tables; asserts nothing. Timings on a shared machine are noisy: the
CPU-time column is the steadier one.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORDS = (
    "loneliness belonging social support children young people adolescents mentoring peer "
    "family school linkage community capacity building service integration wellbeing "
    "depression anxiety intervention randomised trial outcomes isolation connectedness "
    "resilience qualitative cohort evaluation programme primary secondary teachers parents "
    "carers looked-after youth workers digital online group befriending outreach realist "
    "mechanism context trust relationships transitions rural urban deprivation"
).split()
SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Khan Chen Wang Li Nguyen "
    "Garcia Martinez Rossi Müller Schmidt Dubois Okafor Mensah Adeyemi Kowalski Nowak Silva "
    "Santos Ivanova Tanaka Suzuki Kim Park O'Brien Murphy Lindqvist Jensen Hansen Novak"
).split()
GIVEN = "Anna Ben Chloe David Emeka Fatima George Hana Ivan Julia Kwame Lena Mei Noor Olga".split()
JOURNALS = (
    ("Journal of Adolescence", "J Adolesc"),
    ("Child Development", "Child Dev"),
    ("Journal of Youth and Adolescence", "J Youth Adolesc"),
    ("Children and Youth Services Review", "Child Youth Serv Rev"),
    ("Journal of Child Psychology and Psychiatry", "J Child Psychol Psychiatry"),
    ("BMC Public Health", "BMC Public Health"),
    ("Journal of Community Psychology", "J Community Psychol"),
    ("Child and Adolescent Mental Health", "Child Adolesc Ment Health"),
)


def generate(path: Path, n: int, seed: int = 2024) -> None:
    """Write ``n`` realistic RIS records to ``path`` (same seed, same bytes)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\ufeff")
        for i in range(n):
            journal, abbrev = rng.choice(JOURNALS)
            year = rng.randrange(1995, 2025)
            lines = ["TY  - " + rng.choice(("JOUR", "JOUR", "JOUR", "JOUR", "CONF", "CHAP"))]
            for _ in range(5):
                initial = chr(65 + rng.randrange(26))
                lines.append(f"AU  - {rng.choice(SURNAMES)}, {rng.choice(GIVEN)} {initial}.")
            title = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(8, 20)))
            lines.append("TI  - " + title[0].upper() + title[1:])
            lines += [f"T2  - {journal}", f"J2  - {abbrev}"]
            lines.append("PY  - " + rng.choice((f"{year}///", f"{year}", f"{year}/05/03/")))
            lines += [f"VL  - {rng.randrange(1, 60)}", f"IS  - {rng.randrange(1, 12)}"]
            first = rng.randrange(1, 900)
            lines += [f"SP  - {first}", f"EP  - {first + rng.randrange(5, 25)}"]
            lines.append(f"DO  - 10.{rng.randrange(1000, 9999)}/bench.{year}.{i}")
            lines.append(f"UR  - https://doi.org/10.5555/bench.{i}")
            abstract = " ".join(rng.choice(WORDS) for _ in range(260))[:1500].rsplit(" ", 1)[0]
            # EndNote-style hard wrap at spaces: the abstract continues on untagged lines.
            lines.append("AB  - " + "\n".join(textwrap.wrap(abstract, 300)))
            keywords = rng.sample(WORDS, 5)
            lines.append("KW  - " + keywords[0])
            lines += keywords[1:]  # keyword list on continuation lines
            lines += [
                f"SN  - {rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
                "LA  - English",
            ]
            lines += [
                "DB  - Scopus",
                f"N1  - Export Date: 1 May 2024; Cited By: {rng.randrange(90)}",
            ]
            lines.append("ER  - ")
            out.write("\n".join(lines) + "\n\n")


def measure(path: Path) -> dict:
    """Read ``path`` once in this process; time and memory of just the read."""
    from review.io import read_records

    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    imported = read_records(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "records": len(imported.records),
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_before_mib": before / 1024,
        "rss_peak_mib": after / 1024,
    }


def phases(path: Path) -> dict:
    """Split one read into its phases, and time plain rispy on the same text."""
    import rispy

    from review.io import charset, ris

    data = path.read_bytes()
    timings: dict[str, float] = {}
    gc.disable()
    start = time.process_time()
    text = ris.unify_newlines(charset.decode(data, path.name).text)
    timings["decode (bytes → text)"] = time.process_time() - start

    start = time.process_time()
    parser = ris.new_parser(path.name)
    raw = list(ris.iter_tags(ris.pieces_of(text), parser, "ER  -"))
    timings["rispy parse, with our line tracking"] = time.process_time() - start

    start = time.process_time()
    records = [ris.to_record(tags) for tags in raw]
    timings["map tags → records"] = time.process_time() - start
    del records, raw
    gc.enable()
    gc.collect()

    gc.disable()
    start = time.process_time()
    plain = rispy.loads(text, enforce_list_tags=False)
    timings["(reference) plain rispy.loads"] = time.process_time() - start
    gc.enable()
    assert len(plain) > 0
    return timings


def _child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--dir", type=Path, default=None, help="keep generated files here")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--phases", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.phases:
        print(json.dumps(phases(args.phases)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="review-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load:.1f}; python {sys.version.split()[0]}"
    )
    print()
    print(
        "| records | file MiB | read wall s (median) | read CPU s | peak RSS MiB "
        "| RSS before read MiB | records/s (wall) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    largest = None
    for n in sizes:
        path = workdir / f"bench_{n}.ris"
        if not path.exists():
            generate(path, n, args.seed)
        runs = [_child(["--measure", str(path)]) for _ in range(args.repeat)]
        assert all(r["records"] == n for r in runs), runs
        wall = statistics.median(r["wall_s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        peak = max(r["rss_peak_mib"] for r in runs)
        base = min(r["rss_before_mib"] for r in runs)
        size = path.stat().st_size / 2**20
        print(
            f"| {n:,} | {size:,.0f} | {wall:.2f} | {cpu:.2f} | {peak:,.0f} | {base:,.0f} "
            f"| {n / wall:,.0f} |"
        )
        largest = path
    if largest is not None:
        print()
        print(f"Phases of one read of {largest.name} (CPU seconds, garbage collector paused):")
        print()
        print("| phase | CPU s |")
        print("|---|---:|")
        for name, seconds in _child(["--phases", str(largest)]).items():
            print(f"| {name} | {seconds:.2f} |")
    if args.dir is None:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
