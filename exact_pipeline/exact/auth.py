"""Access tokens for API calls, refreshed single-flight across threads and processes.

Exact issues 600 s access tokens and refuses a refresh before 570 s; each refresh rotates the
refresh token, and presenting an old one kills the chain. So a refresh happens only:
- when the access token is in its last 30 s (server clock, minus the `Date` header's one-second
  resolution so we are never early), or
- when a call was refused with 401 and the stored token is still the one that was refused.
Either way under the connection's row lock: re-read, refresh only if still needed, and commit
the new pair before the lock is released and before the new token is used.

Outcomes: a lost token response is retried once with the same refresh token (it either works
or proves the chain dead); a dead chain is marked in the store, so every process stops with
`ReauthorizationRequired` (others notice at their next refresh, at most one token lifetime
later); a refusal as "too early" keeps the current, still valid, access token.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import httpx

from exact_pipeline.exact.clock import ServerClock, utc
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.exact.errors import AuthenticationError, ExactError, ReauthorizationRequired
from exact_pipeline.exact.oauth import TokenGrant, TokenResponseLost, refresh_grant
from exact_pipeline.exact.tokens import StoredConnection, TokenStore

REFRESH_WINDOW = 30.0  # refresh in the token's last 30 s (Exact's advice)
DATE_RESOLUTION = 1.0  # `Date` headers are whole seconds: never refresh early because of it


class TokenManager:
    def __init__(
        self, config: ExactConfig, http: httpx.Client, clock: ServerClock, store: TokenStore
    ) -> None:
        self._config = config
        self._http = http
        self._clock = clock
        self._store = store
        self._current: StoredConnection | None = None
        self._dead: ReauthorizationRequired | None = None
        self._lock = threading.Lock()

    def access_token(self) -> str:
        with self._lock:
            if self._dead:
                raise self._dead
            if self._current is None:
                self._current = self._store.load()
            if self._current is None or self._current.is_dead or self._due(self._current):
                self._current = self._refresh(refused=None)
            return self._current.access_token

    def forget(self) -> None:
        """Drop what this process knows (a new chain was just stored)."""
        with self._lock:
            self._current = None
            self._dead = None

    def unauthorized(self, refused: str) -> None:
        """A call was refused with token `refused`: refresh, unless another worker did."""
        with self._lock:
            if self._dead:
                raise self._dead
            self._current = self._refresh(refused=refused)

    def _due(self, connection: StoredConnection) -> bool:
        expires = connection.access_expires_at.timestamp()
        return self._clock.now() >= expires - REFRESH_WINDOW + DATE_RESOLUTION

    def _refresh(self, refused: str | None) -> StoredConnection:
        error: ExactError | None = None
        with self._store.locked() as (current, row):
            if current is None:
                error = ReauthorizationRequired("no Exact Online connection is stored")
            elif current.is_dead:
                error = ReauthorizationRequired(f"the token chain is dead: {current.dead_reason}")
            elif (refused is None and not self._due(current)) or (
                refused is not None and current.access_token != refused
            ):
                return current  # another worker refreshed while we waited for the lock
            else:
                try:
                    grant = self._grant(current.refresh_token)
                except ReauthorizationRequired as exc:
                    row.mark_dead(exc.message or exc.summary)
                    error = exc
                except AuthenticationError as exc:
                    if refused is None and "not expired" in (exc.message or "").lower():
                        return current  # Exact says it is still valid: keep using it
                    error = exc
                except ExactError as exc:
                    error = exc
                else:
                    row.save_refresh(grant)
                    return _with_grant(current, grant)
        # Raised only now: raising inside the block would roll back `mark_dead`.
        if isinstance(error, ReauthorizationRequired):
            self._dead = error
        raise error

    def _grant(self, refresh_token: str) -> TokenGrant:
        try:
            return refresh_grant(self._http, self._config, self._clock, refresh_token)
        except TokenResponseLost:
            pass
        # The answer was lost: Exact may have rotated the token. Asking again with the same one
        # either succeeds (it had not) or is refused as "old" (it had: the chain is gone).
        try:
            return refresh_grant(self._http, self._config, self._clock, refresh_token)
        except ReauthorizationRequired as exc:
            raise ReauthorizationRequired(
                f"a token response was lost after Exact rotated the refresh token ({exc.message})",
                method=exc.method,
                path=exc.path,
                status=exc.status,
            ) from None


def _with_grant(connection: StoredConnection, grant: TokenGrant) -> StoredConnection:
    return replace(
        connection,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        access_expires_at=utc(grant.access_expires_at),
        refreshed_at=utc(grant.issued_at),
        refresh_count=connection.refresh_count + 1,
    )
