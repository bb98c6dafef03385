"""A future revision that fails half-way, after it has copied ``record``: nothing may remain.

Revision ID: 9002_test_broken_copy
"""

import sqlalchemy as sa
from alembic import op

from review.store.db import head_revision

revision = "9002_test_broken_copy"
down_revision = head_revision()
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.alter_column("pages", existing_type=sa.String(100), type_=sa.String(200))
        batch.add_column(sa.Column("test_note", sa.Text(), nullable=True))
    op.execute("UPDATE record SET test_note = 'half-way'")
    raise RuntimeError("simulated failure in the middle of an upgrade")


def downgrade() -> None:
    raise NotImplementedError
