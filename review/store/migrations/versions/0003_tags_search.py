"""tags, bulk actions, personal highlight terms and full-text search over records

Revision ID: 0003_tags_search
Revises: 0002_i17_source_sha
Create Date: 2026-12-06 01:45:00

Full-text search: on SQLite an FTS5 index (``record_fts``, its own copy of
the text, kept in step with ``record`` by triggers, so every import path stays covered);
on PostgreSQL a GIN index over the same ``to_tsvector('simple', ...)``
expression that :mod:`review.screening.record_list` queries. A SQLite built
without FTS5 gets no index and the search falls back to ``LIKE``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_tags_search"
down_revision = "0002_i17_source_sha"
branch_labels = None
depends_on = None

#: Must match ``review.screening.record_list.PG_DOCUMENT`` character for character.
PG_DOCUMENT = ("to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(abstract, '') "
               "|| ' ' || coalesce(CAST(CAST(authors AS jsonb) AS text), '') || ' ' "
               "|| coalesce(CAST(CAST(keywords AS jsonb) AS text), ''))")

#: A JSON list of names or keywords as the words they hold (JSON text escapes non-ASCII).
_WORDS_OF = "(SELECT group_concat(value, ' ') FROM json_each(CASE WHEN json_valid({c}) " \
            "THEN {c} ELSE '[]' END))"


def _fts_values(row: str) -> str:
    return (f"{row}.id, {row}.title, {row}.abstract, "
            + _WORDS_OF.format(c=f"{row}.authors") + ", "
            + _WORDS_OF.format(c=f"{row}.keywords"))


#: The index holds its own copy of the text (a plain FTS5 table), so rows are kept in step
#: by record id, whatever path wrote the record.
_FTS_TRIGGERS = (
    f"""CREATE TRIGGER record_fts_ai AFTER INSERT ON record BEGIN
         INSERT INTO record_fts(rowid, title, abstract, authors, keywords)
         VALUES ({_fts_values("new")});
       END""",
    """CREATE TRIGGER record_fts_ad AFTER DELETE ON record BEGIN
         DELETE FROM record_fts WHERE rowid = old.id;
       END""",
    f"""CREATE TRIGGER record_fts_au AFTER UPDATE OF title, abstract, authors, keywords
       ON record BEGIN
         DELETE FROM record_fts WHERE rowid = old.id;
         INSERT INTO record_fts(rowid, title, abstract, authors, keywords)
         VALUES ({_fts_values("new")});
       END""",
)


def _sqlite_has_fts5(bind) -> bool:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp._fts5_probe USING fts5(x)")
        bind.exec_driver_sql("DROP TABLE temp._fts5_probe")
        return True
    except Exception:
        return False


def upgrade() -> None:
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "bulk_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "record_tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("applied_by", sa.String(length=100), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bulk_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["bulk_id"], ["bulk_action.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"]),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record_tag", schema=None) as batch_op:
        batch_op.create_index("ix_record_tag_record_id", ["record_id"], unique=False)
        batch_op.create_index("ix_record_tag_bulk_id", ["bulk_id"], unique=False)
        batch_op.create_index("uq_record_tag_live", ["tag_id", "record_id"], unique=True,
                              sqlite_where=sa.text("removed_at IS NULL"),
                              postgresql_where=sa.text("removed_at IS NULL"))
    op.create_table(
        "reviewer_highlight",
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reviewer_id"], ["reviewer.id"]),
        sa.PrimaryKeyConstraint("reviewer_id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and _sqlite_has_fts5(bind):
        bind.exec_driver_sql(
            "CREATE VIRTUAL TABLE record_fts USING fts5(title, abstract, authors, keywords, "
            "tokenize='unicode61 remove_diacritics 2')")
        for trigger in _FTS_TRIGGERS:
            bind.exec_driver_sql(trigger)
        bind.exec_driver_sql("INSERT INTO record_fts(rowid, title, abstract, authors, keywords) "
                             f"SELECT {_fts_values('record')} FROM record")
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql(f"CREATE INDEX ix_record_fulltext ON record USING gin ({PG_DOCUMENT})")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("record_fts_ai", "record_fts_ad", "record_fts_au"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS record_fts")
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_record_fulltext")
    op.drop_table("reviewer_highlight")
    op.drop_table("record_tag")
    op.drop_table("bulk_action")
    op.drop_table("tag")
