"""user names unique without regard to case

Revision ID: 0004_i16_username_nocase
Revises: 0003_tags_search
Create Date: 2026-12-06 02:00:00

Single sign-on matches e-mail addresses without case, so "ANA" and "ana" must be
one account. Names are also trimmed. A review that already holds two names that
differ only in case (or by surrounding spaces) cannot get the index; the upgrade
says which names clash so the lead can rename one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_i16_username_nocase"
down_revision = "0003_tags_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, username FROM reviewer")).all()
    seen: dict[str, str] = {}
    for rid, name in rows:
        trimmed = (name or "").strip()
        if trimmed != name:
            bind.execute(sa.text("UPDATE reviewer SET username = :n WHERE id = :i"),
                         {"n": trimmed, "i": rid})
        key = trimmed.lower()
        if key in seen:
            raise RuntimeError(f"user names {seen[key]!r} and {name!r} differ only in case or "
                               "spaces; rename one (review reviewer) before upgrading")
        seen[key] = name
    op.create_index("uq_reviewer_username_nocase", "reviewer", [sa.text("lower(username)")],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_reviewer_username_nocase", table_name="reviewer")
