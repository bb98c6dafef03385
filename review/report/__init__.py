"""Reporting: PRISMA 2020 counts and flow diagram, evidence tables, derived from the store.

Entry points (imported on first use, see :mod:`review.exports`): :func:`prisma_counts`
(pure: :class:`PrismaInputs` in, :class:`PrismaCounts` out), :func:`counts_from_store`
(the same from a review), :func:`save_flow_diagram` (SVG and PNG), and the evidence
tables: :func:`evidence_tables`, :func:`tables_from_store`, :func:`write_evidence_tables`.
"""

from review.exports import export_lazily

__all__ = export_lazily(__name__, {
    "PrismaInputs": "review.report.prisma",
    "PrismaCounts": "review.report.prisma",
    "prisma_counts": "review.report.prisma",
    "counts_from_store": "review.report.prisma",
    "save_flow_diagram": "review.report.flow_diagram:save",
    "EvidenceTables": "review.report.tables",
    "evidence_tables": "review.report.tables",
    "tables_from_store": "review.report.tables",
    "write_evidence_tables": "review.report.tables",
})
