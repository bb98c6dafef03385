"""Synthesis: mechanism tables and meta-analysis of the outcome data extracted from studies.

Entry points (imported on first use, see :mod:`review.exports`): :func:`compute_effects`
(effect sizes from outcome data), :func:`meta_analyse` (random/fixed effects, checked
against R's metafor), :func:`subgroup_analysis`, :func:`meta_regression`,
:func:`egger_test`, and the mechanism tables built from extractions
(:func:`extractions_frame`, :func:`mechanism_table`, :func:`cmo_tables`,
:func:`effect_direction_table`).
"""

from review.exports import export_lazily

__all__ = export_lazily(__name__, {
    "compute_effects": "review.synthesis.effects",
    "EffectSizeError": "review.synthesis.effects",
    "meta_analyse": "review.synthesis.meta",
    "MetaResult": "review.synthesis.meta",
    "MetaAnalysisError": "review.synthesis.meta",
    "subgroup_analysis": "review.synthesis.meta",
    "meta_regression": "review.synthesis.meta",
    "egger_test": "review.synthesis.meta",
    "extractions_frame": "review.synthesis.mechanisms",
    "mechanism_table": "review.synthesis.mechanisms",
    "cmo_tables": "review.synthesis.mechanisms",
    "effect_direction_table": "review.synthesis.mechanisms",
})
