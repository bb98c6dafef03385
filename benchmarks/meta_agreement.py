"""Print the agreement tables of issue 18: this package against metafor/clubSandwich.

R's numbers come from ``tests/fixtures/meta/metafor_reference_18.csv`` (written by the R
script beside it); ours are computed here. ``|diff|`` is the largest absolute difference.

    python benchmarks/meta_agreement.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from review.synthesis.effects import compute_effects
from review.synthesis.meta import meta_analyse, subgroup_analysis
from review.synthesis.meta_bias import trim_and_fill
from review.synthesis.meta_binary import pool_binary
from review.synthesis.meta_multilevel import robust_for_result, three_level

FIX = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "meta"
REF = {(r["case"], r["key"]): float(r["value"]) if r["value"] != "NA" else float("nan")
       for r in csv.DictReader(open(FIX / "metafor_reference_18.csv", newline=""))}


def table(title: str, rows: list[tuple[str, str, float, float]]) -> None:
    print(f"\n**{title}**\n")
    print("| model | quantity | R | this package | abs diff |")
    print("|---|---|---:|---:|---:|")
    for model, key, r, ours in rows:
        print(f"| {model} | {key} | {r:.6f} | {ours:.6f} | {abs(r - ours):.1e} |")


def main() -> None:
    k11 = pd.read_csv(FIX / "dat_konstantopoulos2011.csv")
    s = three_level(k11.yi, k11.vi, k11.district, robust=True).summary()
    rows = [("rma.mv ~1|district/school", k, REF[("k11_3level", k)], s[k])
            for k in ("estimate", "se", "ci_low", "ci_high", "p")]
    rows += [("rma.mv", "sigma2 between", REF[("k11_3level", "sigma2_between")], s["sigma2"][0]),
             ("rma.mv", "sigma2 within", REF[("k11_3level", "sigma2_within")], s["sigma2"][1])]
    rows += [("CR2 (clubSandwich)", k, REF[("k11_3level_cr2", k)], s[f"robust_{k}"])
             for k in ("se", "df", "p", "ci_low", "ci_high")]
    rr = robust_for_result(meta_analyse(k11.yi, k11.vi, "REML"), k11.district)
    rows += [("CR2 on rma(REML), by district", k, REF[("k11_reml_cr2", k)], rr[f"robust_{k}"])
             for k in ("se", "df", "p")]
    table("Three-level model and CR2, dat.konstantopoulos2011 (56 effects, 11 districts)", rows)

    li = pd.read_csv(FIX / "dat_li2007.csv")
    rows = []
    for method, measure, case in (("MH", "OR", "li_mh_OR"), ("MH", "RR", "li_mh_RR"),
                                  ("MH", "RD", "li_mh_RD"), ("PETO", "OR", "li_peto")):
        r, _ = pool_binary(li, measure, method)
        rows += [(f"{method} {measure}", k, REF[(case, k)], getattr(r, k))
                 for k in ("estimate", "se", "q", "i2")]
    table("Mantel-Haenszel and Peto, dat.li2007 (22 trials, rare events)", rows)

    hine = compute_effects(pd.read_csv(FIX / "dat_hine1989.csv"), "RD")
    bcg = compute_effects(pd.read_csv(FIX / "dat_bcg.csv"), "RR")
    rows = []
    for name, e in (("hine_rd", hine), ("bcg_rr", bcg)):
        for test in ("z", "knha", "adhoc"):
            r = meta_analyse(e.yi, e.vi, "REML", test)
            rows += [(f"{name} REML {test}", k, REF[(f"{name}_REML_{test}", k)], getattr(r, k))
                     for k in ("se", "ci_low", "ci_high", "p")]
    table("Knapp-Hartung plain and ad hoc (REML)", rows)

    rows = []
    for name, e in (("hine_rd", hine), ("bcg_rr", bcg)):
        r = meta_analyse(e.yi, e.vi, "REML", pi_type="riley")
        rows += [(f"{name} REML", k, REF[(f"{name}_REML_riley", k)], getattr(r, k))
                 for k in ("pi_low", "pi_high")]
        c = r.heterogeneity_ci
        for key, ours in (("tau2_ci_low", c.tau2_low), ("tau2_ci_high", c.tau2_high),
                          ("i2_ci_low", c.i2_low), ("i2_ci_high", c.i2_high)):
            rows.append((f"{name} REML Q-profile", key, REF[(f"{name}_REML_qp", key)], ours))
    table("Prediction interval on t(k-2) and Q-profile CIs for tau^2 and I^2", rows)

    hack = pd.read_csv(FIX / "dat_hackshaw1998.csv")
    rows = []
    for name, e in (("hack", hack), ("bcg_rr", bcg)):
        tf = trim_and_fill(meta_analyse(e.yi, e.vi, "REML"))
        case = f"{name}_trimfill_REML"
        rows.append((f"{name} trimfill", "k0", REF[(case, "k0")], tf.k0))
        rows += [(f"{name} trimfill ({tf.side})", k, REF[(case, k)], getattr(tf.result, k))
                 for k in ("estimate", "se", "ci_low", "ci_high")]
    table("Trim and fill (L0), REML", rows)

    col = compute_effects(pd.read_csv(FIX / "dat_collins1985a.csv"), "OR")
    print("\n**collins1985a (bleeding, OR, REML), subgroups by control type**\n")
    print("| analysis | test reported | statistic | p | metafor |")
    print("|---|---|---:|---:|---|")
    z = subgroup_analysis(col.yi, col.vi, col.control.tolist(), "REML", "z")
    kh = subgroup_analysis(col.yi, col.vi, col.control.tolist(), "REML", "knha")
    print(f"| z | Q (chi2, df 2) | {z.q_between:.2f} | {z.p_between:.3f} | "
          f"Q {REF[('collins_qbetween_z', 'q')]:.2f}, p {REF[('collins_qbetween_z', 'p')]:.3f} |")
    print(f"| HKSJ, before (chi2 on KH subgroup SEs) | Q (chi2, df 2) | {kh.chi2_between:.2f} | "
          f"{kh.chi2_p:.4f} | Q {REF[('collins_qbetween_knha', 'q')]:.2f} |")
    print(f"| HKSJ, after | F(2, {kh.df2_between}) moderator test | {kh.q_between:.2f} | "
          f"{kh.p_between:.3f} | F {REF[('collins_modtest_knha', 'qm')]:.2f}, "
          f"p {REF[('collins_modtest_knha', 'p')]:.3f} |")


if __name__ == "__main__":
    main()
