"""an import in progress: the source row says so, and its records stay hidden until it ends

Revision ID: 0005_source_importing
Revises: 0004_i16_username_nocase
Create Date: 2026-12-06 05:00:00

A large SQLite import is written in short transactions so that reviewers'
decisions never wait long for the one write lock. Until its last chunk is in,
its source row carries ``importing`` (the folder whose lock the importing
process holds) and every reader hides the source and its records
(:mod:`review.store.visibility`); the final transaction clears it, so the
whole file appears at once. NULL for every finished import, old or new.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_source_importing"
down_revision = "0004_i16_username_nocase"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source", sa.Column("importing", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source") as batch:
        batch.drop_column("importing")
