"""An import is seen whole or not at all: readers never see an unfinished one.

Why: on SQLite a large import is written in short transactions (a few
thousand records each), so reviewers' decisions wait for a chunk, not for the
whole file. Between those transactions the review holds part of a file. Its
source row says so (``source.importing``), and this rule, attached to every
session the store hands out, adds "not an unfinished import" to every ORM
query of ``Source`` and ``Record`` — joins, relationship loads and counts
included — so no page, count, PRISMA box, dedup run or export can see half a
file. The last transaction clears the flag and the whole file appears at once.

One rule, one place: stage code does not filter by hand. A query that must see
unfinished imports (the importer itself, the clean-up of abandoned ones) asks
for it with ``execution_options(include_unfinished=True)``.
"""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from review.store.models import Record, Source

#: Execution option that lets one query see unfinished imports.
INCLUDE_UNFINISHED = "include_unfinished"

_source = Source.__table__
#: Ids of sources whose import has not finished (almost always none: the test is cheap).
_UNFINISHED = select(_source.c.id).where(_source.c.importing.is_not(None)).scalar_subquery()


def _hide_unfinished(state: ORMExecuteState) -> None:
    if not state.is_select or state.execution_options.get(INCLUDE_UNFINISHED):
        return
    state.statement = state.statement.options(
        # Lambdas, so that an aliased Record or Source (a pair of records, say) is
        # filtered on its own columns rather than the base table's.
        with_loader_criteria(Source, lambda cls: cls.importing.is_(None), include_aliases=True),
        with_loader_criteria(Record, lambda cls: cls.source_id.not_in(_UNFINISHED),
                             include_aliases=True),
    )


def hide_unfinished_imports(sessions: sessionmaker[Session]) -> None:
    """Make every session from ``sessions`` blind to imports still being written."""
    event.listen(sessions, "do_orm_execute", _hide_unfinished)
