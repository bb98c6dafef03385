"""PRISMA counts to files: JSON, and the long CSV the PRISMA2020 R package reads.

The CSV has the package's template columns (data, node, box, description,
boxtext, tooltips, url, n) so an author can load it with
``PRISMA2020::PRISMA_data(read.csv(...))`` and draw the diagram there too.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from review.report.prisma import FIELDS, PrismaCounts

#: field → (node, box, label) as the PRISMA2020 package's template names them.
_LAYOUT: dict[str, tuple[str, str, str]] = {
    "previous_studies": ("node5", "box1", "Studies included in previous version of review"),
    "previous_reports": ("NA", "box1", "Reports of studies included in previous version of review"),
    "database_results": ("node7", "box2", "Records identified from: Databases"),
    "database_specific_results": ("NA", "box2", "Records identified from each database"),
    "register_results": ("NA", "box2", "Records identified from: Registers"),
    "register_specific_results": ("NA", "box2", "Records identified from each register"),
    "website_results": ("node17", "box11", "Records identified from: Websites"),
    "organisation_results": ("NA", "box11", "Records identified from: Organisations"),
    "citations_results": ("NA", "box11", "Records identified from: Citation searching"),
    "duplicates": ("node8", "box3", "Duplicate records"),
    "excluded_automatic": ("NA", "box3", "Records marked as ineligible by automation tools"),
    "excluded_other": ("NA", "box3", "Records removed for other reasons"),
    "records_screened": ("node9", "box4", "Records screened"),
    "records_excluded": ("node10", "box5", "Records excluded"),
    "dbr_sought_reports": ("node11", "box6", "Reports sought for retrieval"),
    "dbr_notretrieved_reports": ("node12", "box7", "Reports not retrieved"),
    "other_sought_reports": ("node18", "box12", "Reports sought for retrieval"),
    "other_notretrieved_reports": ("node19", "box13", "Reports not retrieved"),
    "dbr_assessed": ("node13", "box8", "Reports assessed for eligibility"),
    "dbr_excluded": ("node14", "box9", "Reports excluded"),
    "other_assessed": ("node20", "box14", "Reports assessed for eligibility"),
    "other_excluded": ("node21", "box15", "Reports excluded"),
    "new_studies": ("node15", "box10", "New studies included in review"),
    "new_reports": ("NA", "box10", "Reports of new included studies"),
    "total_studies": ("node22", "box16", "Total studies included in review"),
    "total_reports": ("NA", "box16", "Reports of total included studies"),
}


def write_json(counts: PrismaCounts, path: Path) -> Path:
    payload = {**counts.as_prisma2020(),
               "records_excluded_by_reviewers": counts.excluded_by_reviewers,
               "records_excluded_by_stopping_rule": counts.excluded_by_stopping_rule,
               # A review in progress: the left column's boxes add up with these
               # (records_screened = records_excluded + dbr_sought_reports + records awaiting;
               # dbr_assessed = reports excluded + included + reports awaiting).
               "records_awaiting_decision": int(counts.awaiting_screening),
               "reports_awaiting_decision": int(counts.awaiting_full_text),
               "consistency_checks": counts.checks}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_csv(counts: PrismaCounts, path: Path) -> Path:
    values = counts.as_prisma2020()
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"])
        for field in FIELDS:
            node, box, label = _LAYOUT[field]
            w.writerow([field, node, box, label, label, label, "NA", values[field]])
    return path
