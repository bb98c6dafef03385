"""Data extraction: YAML forms, the codebook they draw choices from, and dual-extraction consensus.

The public names are re-exported here so the app and the store can write
``from review.extraction import load_forms, validate_values``.
"""

from review.extraction.codebook import (
    Codebook,
    CodebookError,
    Term,
    Vocabulary,
    extend_codebook,
    load_codebook,
    save_codebook,
)
from review.extraction.consensus import (
    Comparison,
    ConsensusError,
    Difference,
    Pick,
    agreement_by_field,
    build_consensus,
    compare_extractions,
)
from review.extraction.forms import (
    Field,
    Form,
    FormError,
    FormLibrary,
    ValueProblem,
    carry_over,
    default_values,
    load_form,
    load_forms,
    validate_values,
)

__all__ = [
    "Codebook",
    "CodebookError",
    "Comparison",
    "ConsensusError",
    "Difference",
    "Field",
    "Form",
    "FormError",
    "FormLibrary",
    "Pick",
    "Term",
    "ValueProblem",
    "Vocabulary",
    "agreement_by_field",
    "build_consensus",
    "carry_over",
    "compare_extractions",
    "default_values",
    "extend_codebook",
    "load_codebook",
    "load_form",
    "load_forms",
    "save_codebook",
    "validate_values",
]
