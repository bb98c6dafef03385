"""The identity of one copy of a review, which a backup does not carry.

A restored copy is the same review but a different place to sign in to: a
browser signed in to the original must not be signed in to the copy, and two
reviews served from one host (cookies do not tell ports apart) must not share
or overwrite each other's sign-in cookie. Each database therefore gets a random
id on first use, kept as a setting that backups leave out
(:data:`review.store.backup.LOCAL_SETTINGS`); the session cookie is named after it.
"""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from review.store.db import Store
from review.store.models import Setting

#: The setting that holds this copy's id.
INSTANCE_KEY = "instance_id"
#: Prefix of the browser cookie that keeps a sign-in.
COOKIE_PREFIX = "review_session"


_known: dict[str, str] = {}


def instance_id(store: Store) -> str:
    """This database's random id, created the first time anyone asks (race-safe)."""
    if store.url in _known:  # asked on every page run: one query per process
        return _known[store.url]
    with store.session() as s:
        row = s.get(Setting, INSTANCE_KEY)
        if row is not None:
            return _known.setdefault(store.url, str(row.value))
    try:
        with store.session() as s:
            s.add(Setting(key=INSTANCE_KEY, value=secrets.token_hex(8)))
    except IntegrityError:  # another process created it first: use theirs
        pass
    with store.session() as s:
        return _known.setdefault(store.url, str(s.get(Setting, INSTANCE_KEY).value))


def session_cookie_name(store: Store) -> str:
    """The sign-in cookie's name for this copy of the review (letters, digits, ``_``)."""
    return f"{COOKIE_PREFIX}_{instance_id(store)}"
