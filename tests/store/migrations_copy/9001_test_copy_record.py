"""A future revision as a later release might write it: alter a column of ``record`` in batch.

On SQLite ``batch_alter_table`` copies the table (create ``_alembic_tmp_record``,
copy rows, drop ``record``, rename), which is what broke the upgrade path while
foreign keys were on during migrations. Kept with the tests, applied to a
populated review on both databases; it sits on whatever the current head is.

Revision ID: 9001_test_copy_record
"""

import sqlalchemy as sa
from alembic import op

from review.store.db import head_revision

revision = "9001_test_copy_record"
down_revision = head_revision()
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.alter_column("pages", existing_type=sa.String(100), type_=sa.String(200))
        batch.add_column(sa.Column("test_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.drop_column("test_note")
        batch.alter_column("pages", existing_type=sa.String(200), type_=sa.String(100))
