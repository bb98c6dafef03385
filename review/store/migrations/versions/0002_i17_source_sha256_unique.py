"""one first import per file: source.repeat_of and a unique sha256 among first imports

Two ``review import`` runs of the same file started together both passed the
"imported before?" check and both landed. The unique index makes the second
fail atomically; ``repeat_of`` keeps ``--force`` (import it again on purpose)
possible. Reviews that already hold a file twice (the race, before this
revision) keep both sources: the later ones are marked as repeats of the
first, so the index can be built; nothing is deleted.

Revision ID: 0002_i17_source_sha
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_i17_source_sha"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source", sa.Column("repeat_of", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE source SET repeat_of = (SELECT MIN(s2.id) FROM source s2 "
        "WHERE s2.sha256 = source.sha256) "
        "WHERE id > (SELECT MIN(s3.id) FROM source s3 WHERE s3.sha256 = source.sha256)")
    op.create_index("uq_source_sha256_first", "source", ["sha256"], unique=True,
                    sqlite_where=sa.text("repeat_of IS NULL"),
                    postgresql_where=sa.text("repeat_of IS NULL"))


def downgrade() -> None:
    op.drop_index("uq_source_sha256_first", table_name="source")
    with op.batch_alter_table("source") as batch:
        batch.drop_column("repeat_of")
