"""Mutation testing of what mutmut 3 cannot reach in the dedup decision: prints a table.

mutmut 3 (``[tool.mutmut]`` in pyproject.toml) mutates function and method bodies
through trampolines, and leaves out on purpose everything that runs at import or
sits behind a decorator: the rule table :data:`review.dedup.rules.RULES` (its
conditions are lambdas in a module-level tuple), the thresholds of
:class:`~review.dedup.rules.Limits`, the ``@property`` views of
:class:`~review.dedup.rules.Facts` (``conflicts``, ``positive_item_id``, ``alike``,
``support`` ...), and the module constants and properties of
:mod:`review.dedup.evidence` (``RELIABLE_M``, the priors, ``FieldRate.reliable``).
Those are the parts issue 14's "a deliberate bug must make a test fail" is most
about, so this script mutates them with mutmut's own operators (one change per
mutant: ``>=`` to ``>``, ``and`` to ``or``, a number plus one, ``True`` to
``False``, a string altered, an argument dropped, ...) and runs the fast dedup
tests against each mutant in a scratch copy of the tree.

Left out by construction: docstrings, type annotations, imports, decorators and
the first argument of ``Rule(...)`` (the rule's name, which no user sees).

    python benchmarks/mutate_rules_table.py [--jobs 2] [--only rules|evidence] [--stride 5]

Exit status 0 always; the survivors are listed with their line and change, for a
person to judge (equivalent, or a missing test).
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from mutmut.mutation.mutators import mutation_operators

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"rules": "review/dedup/rules.py", "evidence": "review/dedup/evidence.py"}
#: The fast tests that guard the decision (the shared sets are the slow final confirmation).
TESTS = [
    "tests/dedup/test_rules_thresholds.py",
    "tests/dedup/test_rule_reasons.py",
    "tests/dedup/test_pair_facts.py",
    "tests/dedup/test_hard_pairs.py",
]
#: What the scratch copy needs besides the package (fixtures, bundled forms and demo data).
COPY = ["review", "tests", "pyproject.toml", "data", "extraction_forms"]
TIMEOUT_S = 120


@dataclass(frozen=True)
class Mutant:
    target: str
    line: int
    before: str
    after: str
    code: str


def _is_property(fn: cst.FunctionDef) -> bool:
    return any(
        isinstance(d.decorator, cst.Name) and d.decorator.value == "property" for d in fn.decorators
    )


class _Collect(cst.CSTVisitor):
    """Every node outside the bodies mutmut mutates (plain functions and plain methods)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []
        self._depth = 0  # > 0: inside a region this script mutates

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Module):
            return True
        if isinstance(node, cst.FunctionDef):
            if not _is_property(node):
                return False  # mutmut's ground
            return True
        if isinstance(node, (cst.Annotation, cst.Decorator, cst.Import, cst.ImportFrom)):
            return False
        if isinstance(node, cst.SimpleStatementLine) and _is_docstring(node):
            return False
        if isinstance(node, cst.Call) and _is_rule_call(node) and node.args:
            # the rule's name: never shown to a user; mutate the other arguments only
            for arg in node.args[1:]:
                arg.visit(self)
            return False
        self.nodes.append(node)
        return True


def _is_docstring(line: cst.SimpleStatementLine) -> bool:
    return (
        len(line.body) == 1
        and isinstance(line.body[0], cst.Expr)
        and isinstance(line.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_rule_call(node: cst.Call) -> bool:
    return isinstance(node.func, cst.Name) and node.func.value == "Rule"


def mutants(target: str) -> list[Mutant]:
    """One mutant per (node, mutmut operator, variant) outside mutmut's reach."""
    source = (ROOT / target).read_text(encoding="utf-8")
    wrapper = MetadataWrapper(cst.parse_module(source))
    module = wrapper.module
    collect = _Collect()
    wrapper.visit(collect)
    positions = wrapper.resolve(PositionProvider)
    out: list[Mutant] = []
    seen: set[str] = set()
    for node in collect.nodes:
        for kind, operator in mutation_operators:
            if not isinstance(node, kind):
                continue
            for changed in operator(node):
                code = module.deep_replace(node, changed).code
                if code == source or code in seen:
                    continue
                seen.add(code)
                before, after = _changed_line(source, code)
                out.append(Mutant(target, positions[node].start.line, before, after, code))
    return out


def _changed_line(a: str, b: str) -> tuple[str, str]:
    minus = plus = ""
    for d in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0):
        if d.startswith("-") and not d.startswith("---") and not minus:
            minus = d[1:].strip()
        elif d.startswith("+") and not d.startswith("+++") and not plus:
            plus = d[1:].strip()
    return minus, plus


def _scratch() -> Path:
    where = Path(tempfile.mkdtemp(prefix="mutate-rules-"))
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, where / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, where / name)
    return where


def _child(tree: Path, mutant: Mutant | None) -> None:
    """In a forked child: put the mutant in the scratch tree, run the tests, exit with pytest's
    status (the parent imported the heavy libraries once, never ``review``)."""
    import pytest

    if mutant is not None:
        (tree / mutant.target).write_text(mutant.code, encoding="utf-8")
    os.chdir(tree)
    sys.path.insert(0, str(tree))
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # none needed; a second saved per mutant
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        rc = pytest.main(["-x", "-q", "-p", "no:cacheprovider", *TESTS])
    except BaseException:  # noqa: BLE001 - any crash of a mutant is a kill
        rc = 99
    os._exit(int(rc))


def run_all(trees: list[Path], work: list[Mutant | None]) -> list[str]:
    """'killed', 'survived' or 'timeout' per mutant; one forked child per scratch tree."""
    results = [""] * len(work)
    free = list(trees)
    running: dict[int, tuple[Path, int, float]] = {}
    todo = list(range(len(work)))
    while todo or running:
        while todo and free:
            k, tree = todo.pop(0), free.pop()
            pid = os.fork()
            if pid == 0:
                _child(tree, work[k])
            running[pid] = (tree, k, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for p, (_, k, t0) in list(running.items()):
                if time.monotonic() - t0 > TIMEOUT_S:
                    os.kill(p, 9)
                    results[k] = "timeout"
            time.sleep(0.05)
            continue
        tree, k, _ = running.pop(pid)
        m = work[k]
        if m is not None:
            (tree / m.target).write_text((ROOT / m.target).read_text(encoding="utf-8"), "utf-8")
        if not results[k]:
            ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            results[k] = "survived" if ok else "killed"
        free.append(tree)
        done = sum(1 for r in results if r)
        print(f"{done}/{len(work)} {results[k]}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", choices=sorted(TARGETS))
    ap.add_argument("--show-killed", action="store_true")
    ap.add_argument(
        "--stride", type=int, default=1, help="test every n-th mutant (a spread sample when slow)"
    )
    args = ap.parse_args()
    os.environ.pop("PYTHONPATH", None)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    for heavy in ("numpy", "pandas", "rapidfuzz", "scipy", "sklearn", "sqlalchemy", "pytest"):
        __import__(heavy)  # once here, not once per mutant
    targets = [TARGETS[args.only]] if args.only else list(TARGETS.values())
    work = [m for t in targets for m in mutants(t)][:: max(1, args.stride)]
    trees = [_scratch() for _ in range(max(1, args.jobs))]
    try:
        if run_all(trees[:1], [None]) != ["survived"]:
            sys.exit("the unmutated tree fails its tests: fix that first")
        start = time.perf_counter()
        results = run_all(trees, list(work))
        wall = time.perf_counter() - start
    finally:
        for tree in trees:
            shutil.rmtree(tree, ignore_errors=True)
    print(f"{'module':<28}{'mutants':>8}{'killed':>8}{'survived':>10}{'timeout':>9}")
    for t in targets:
        rs = [r for m, r in zip(work, results, strict=True) if m.target == t]
        print(
            f"{t:<28}{len(rs):>8}{rs.count('killed'):>8}{rs.count('survived'):>10}"
            f"{rs.count('timeout'):>9}"
        )
    print(f"({wall:.0f} s wall, {len(trees)} job(s))\n")
    for m, r in zip(work, results, strict=True):
        if r != "killed" or args.show_killed:
            print(f"{r.upper():<9}{m.target}:{m.line}\n    - {m.before}\n    + {m.after}")


if __name__ == "__main__":
    main()
