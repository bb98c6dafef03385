"""What every page of the app is handed: the open review, who is signed in, and the settings.

Pages are plain functions ``render(ctx: AppContext) -> None`` in
``review.app.pages.<name>``; each module also declares ``TITLE``, ``ICON``
(a Material icon name such as ``":material/fact_check:"``), ``URL`` (url path)
and ``ROLES`` (the roles that may open it). ``screening_app.py`` builds the
navigation from :data:`review.app.pages.PAGES`, showing a reviewer only the
pages their role allows, and every page checks :meth:`AppContext.require`
again itself, because hiding a link is not access control.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from review.store import Store
from review.store.accounts import SignedIn

__all__ = ["AccessDenied", "AppContext", "SignedIn"]


class AccessDenied(Exception):
    """The signed-in reviewer's role does not allow this page or action."""


@dataclass
class AppContext:
    store: Store
    user: SignedIn
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def is_lead(self) -> bool:
        return self.user.role == "lead"

    def require(self, *roles: str) -> None:
        """Raise :class:`AccessDenied` unless the signed-in reviewer has one of ``roles``."""
        if self.user.role not in roles:
            raise AccessDenied(f"{self.user.username} ({self.user.role}) may not do this; "
                               f"it needs the role {' or '.join(roles)}")
