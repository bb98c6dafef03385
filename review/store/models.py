"""SQLAlchemy models of a review's project database.

The tables follow the review's own vocabulary (source, record, duplicate link,
decision, resolution, report, study, extraction) so that a lead author reading
a query can see which PRISMA box it feeds. Two rules shape them:

* **Link, never delete.** Duplicates are links to a canonical record (undoing
  one stamps ``undone_at``); decisions are appended, the current one being the
  latest per reviewer, record and stage. Nothing a reviewer did is overwritten.
* **One source of truth.** Counts (PRISMA, progress) are derived from these
  rows by queries; no table caches them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from review.stages import Stage

#: Where a source came from, as PRISMA 2020 splits identification.
SOURCE_KINDS = ("database", "register", "website", "organisation", "citation", "other")
#: The screening stages a decision belongs to.
STAGES = tuple(s.value for s in Stage)
#: What a reviewer can say about a record; ``retracted`` is how "undo" is appended.
LABELS = ("include", "exclude", "maybe", "retracted")
ROLES = ("lead", "reviewer", "automation")


def utcnow() -> datetime:
    """Timezone-aware now, so SQLite and PostgreSQL store the same instant."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Setting(Base):
    """Review-wide settings the lead edits (reasons, reviewers per record, blind mode...)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Source(Base):
    """One imported search export: PRISMA reports identification per source."""

    __tablename__ = "source"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="database")
    file_name: Mapped[str] = mapped_column(String(500))
    file_format: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    record_count: Mapped[int] = mapped_column(Integer)
    search_date: Mapped[str | None] = mapped_column(String(40), nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    missing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: Set when the file was imported again on purpose (``--force``): the source it repeats.
    repeat_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: While an import is being written (SQLite, in short transactions): the folder whose
    #: lock the importing process holds. Readers hide the source and its records until the
    #: last chunk is in and this is cleared (:mod:`review.store.visibility`).
    importing: Mapped[str | None] = mapped_column(String(1000), nullable=True)

    records: Mapped[list[Record]] = relationship(back_populates="source")

    __table_args__ = (
        # One first import per file: two imports of the same file racing each other
        # cannot both land (the check before the insert alone is not atomic).
        Index("uq_source_sha256_first", "sha256", unique=True,
              sqlite_where=text("repeat_of IS NULL"),
              postgresql_where=text("repeat_of IS NULL")),
    )


class Record(Base):
    """One reference as imported, normalised fields beside the original tags."""

    __tablename__ = "record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    journal: Mapped[str | None] = mapped_column(Text, nullable=True)
    volume: Mapped[str | None] = mapped_column(String(100), nullable=True)
    issue: Mapped[str | None] = mapped_column(String(100), nullable=True)
    pages: Mapped[str | None] = mapped_column(String(100), nullable=True)
    doi: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    pmid: Mapped[str | None] = mapped_column(String(40), nullable=True)
    abstract: Mapped[str | None] = mapped_column(Text, nullable=True)
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str | None] = mapped_column(String(60), nullable=True)
    publisher: Mapped[str | None] = mapped_column(Text, nullable=True)
    issn: Mapped[str | None] = mapped_column(String(100), nullable=True)
    original: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Fields filled from duplicates when the record became canonical (never replaces its own).
    merged: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    source: Mapped[Source] = relationship(back_populates="records")


class DuplicateLink(Base):
    """Record → canonical record. Undone links keep their row (``undone_at`` set)."""

    __tablename__ = "duplicate_link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    canonical_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    method: Mapped[str] = mapped_column(String(20), default="auto")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __table_args__ = (
        # A record has at most one live link: two would make its canonical ambiguous.
        Index(
            "uq_duplicate_link_live",
            "record_id",
            unique=True,
            sqlite_where=text("undone_at IS NULL"),
            postgresql_where=text("undone_at IS NULL"),
        ),
    )


class DedupCandidate(Base):
    """An uncertain pair waiting for a person to confirm or reject."""

    __tablename__ = "dedup_candidate"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_a: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    record_b: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("record_a", "record_b", name="uq_dedup_candidate_pair"),)


class Reviewer(Base):
    """A person (or the automation) who decides; credentials are hashes only."""

    __tablename__ = "reviewer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="reviewer")
    password_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    #: One person, one name: "ANA" and "ana" cannot both exist (migration 0004_i16_username_nocase).
    __table_args__ = (Index("uq_reviewer_username_nocase", text("lower(username)"), unique=True),)


class LoginSession(Base):
    """A signed-in browser session; only the token's hash is stored, and it expires."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewer.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Decision(Base):
    """Append-only: one reviewer's label for one record at one stage, at one moment."""

    __tablename__ = "decision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewer.id"))
    stage: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Client-chosen id that makes a retried submit land once (exactly-once writes).
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_decision_record_stage", "record_id", "stage"),
        Index("ix_decision_reviewer_stage", "reviewer_id", "stage"),
    )


class Assignment(Base):
    """Which reviewer was handed which record: the queue never hands it to them twice."""

    __tablename__ = "assignment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewer.id"))
    stage: Mapped[str] = mapped_column(String(20))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("record_id", "reviewer_id", "stage", name="uq_assignment"),
        Index("ix_assignment_record_stage", "record_id", "stage"),
    )


class Resolution(Base):
    """The lead's final label where reviewers disagreed; the decisions stay as they were."""

    __tablename__ = "resolution"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    stage: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[int] = mapped_column(ForeignKey("reviewer.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_resolution_record_stage", "record_id", "stage"),)


class RankingRun(Base):
    """One fit of the active-learning model, so a ranking can be traced to its labels."""

    __tablename__ = "ranking_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.TITLE_ABSTRACT.value)
    model: Mapped[str] = mapped_column(String(100))
    n_labelled: Mapped[int] = mapped_column(Integer)
    n_relevant: Mapped[int] = mapped_column(Integer)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Ranking(Base):
    """A record's score and rank in one ranking run."""

    __tablename__ = "ranking"
    run_id: Mapped[int] = mapped_column(ForeignKey("ranking_run.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_ranking_run_rank", "run_id", "rank"),)


class Study(Base):
    """A study groups one or more reports; PRISMA counts both."""

    __tablename__ = "study"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    reports: Mapped[list[Report]] = relationship(back_populates="study")


class Report(Base):
    """A record sought for full-text retrieval: its retrieval state, PDF and study."""

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), unique=True)
    study_id: Mapped[int | None] = mapped_column(ForeignKey("study.id"), nullable=True, index=True)
    retrieval: Mapped[str] = mapped_column(String(20), default="sought")
    not_retrieved_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    pdf_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    study: Mapped[Study | None] = relationship(back_populates="reports")


class Extraction(Base):
    """One reviewer's (or the consensus) values for one study under one form version."""

    __tablename__ = "extraction"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    form_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str] = mapped_column(String(40))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("reviewer.id"), nullable=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_extraction_study_form", "study_id", "form_id"),)


class AuditLog(Base):
    """Who did what to which row, when. Written by the repository, never edited."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    table_name: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Tag(Base):
    """A review-wide label the lead defines ("RCT", "check with lead"); reviewers apply it."""

    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Retired tags stay (records keep their history) but can no longer be applied.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class BulkAction(Base):
    """One bulk tag or bulk exclusion by the lead, so the whole action can be undone at once."""

    __tablename__ = "bulk_action"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "tag" or "exclude"
    stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    query: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    n: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class RecordTag(Base):
    """A tag on a record. Removing it stamps ``removed_at``: the row (who, when) stays."""

    __tablename__ = "record_tag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    applied_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    bulk_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_action.id"), nullable=True,
                                                index=True)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __table_args__ = (
        Index("uq_record_tag_live", "tag_id", "record_id", unique=True,
              sqlite_where=text("removed_at IS NULL"),
              postgresql_where=text("removed_at IS NULL")),
    )


class ReviewerHighlight(Base):
    """One reviewer's own highlight terms (beside the review's keywords); nobody else sees them."""

    __tablename__ = "reviewer_highlight"
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewer.id"), primary_key=True)
    terms: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
