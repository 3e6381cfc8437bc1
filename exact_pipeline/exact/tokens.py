"""The token chain as the client sees it: a stored connection (decrypted), whoever stores it.

Where and how it is kept is the business of a `TokenStore` (below); the pipeline's encrypts it
in Postgres.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from exact_pipeline.exact.oauth import TokenGrant

# Exact lets an unused refresh token live 30 days.
REFRESH_TOKEN_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class GrantedDivision:
    code: int
    description: str


@dataclass(frozen=True)
class StoredConnection:
    """The token chain and who granted it, decrypted."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refreshed_at: datetime
    refresh_count: int
    connected_at: datetime
    user_id: str | None
    user_name: str | None
    user_email: str | None
    current_division: int | None
    divisions: tuple[GrantedDivision, ...]
    dead_reason: str | None

    @property
    def refresh_expires_at(self) -> datetime:
        return self.refreshed_at + REFRESH_TOKEN_LIFETIME

    @property
    def is_dead(self) -> bool:
        return self.dead_reason is not None


class TokenStoreError(Exception):
    """A token store could not write (the client tries a rotated pair again, then stops)."""


class TokenStore(Protocol):
    """Writes raise `TokenStoreError` when the store refuses them."""

    def load(self) -> StoredConnection | None: ...

    def locked(self) -> AbstractContextManager[StoredConnection | None]:
        """The connection, read while holding its lock: other refreshers wait here."""
        ...

    def connect(self, grant: TokenGrant) -> None:
        """Store the first pair of a new consent, replacing any previous (dead) chain."""
        ...

    def save_refresh(self, grant: TokenGrant) -> None:
        """The rotated pair (called with the lock held): durable before it is first used."""
        ...

    def pin_issue_time(self, grant: TokenGrant) -> None: ...

    def mark_dead(self, reason: str) -> None: ...

    def set_identity(
        self,
        *,
        user_id: str | None,
        user_name: str | None,
        user_email: str | None,
        current_division: int | None,
        divisions: list[GrantedDivision],
    ) -> None: ...
