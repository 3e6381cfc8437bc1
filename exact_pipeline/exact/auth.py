"""Access tokens for API calls, refreshed single-flight across threads and processes.

Exact issues 600 s access tokens and refuses a refresh before 570 s; each refresh rotates the
refresh token, and presenting an old one kills the chain. So a refresh happens only:
- when the access token is in its last 30 s: the server's time (a lower bound, clock.py) has
  passed `issued + 570`, with the issue time bounded from ABOVE (`pin`), so never early; or
- when a call was refused with 401 and the stored token is still the one that was refused.
Either way under the connection's lock (tokens.py): re-read, refresh only if still needed,
and store the new pair before the lock is released and before the new token is first used.

Outcomes: a lost token response is asked again once with the same refresh token (it either
works or proves the chain dead); a dead chain is marked in the store, so every process stops
with `ReauthorizationRequired` (others notice at their next refresh, within one token
lifetime); a refusal as "too early" keeps the current, still valid, access token.

A refusal as "too early" or "old refresh token used" may also mean that another worker (one
that does not share our lock: another installation on this state database, an older version)
has just rotated the chain: the stored pair is read again, and when it is no longer the one we
presented, it is used and the run goes on. The rotated pair holds the only refresh token Exact
will take from now on: storing it is retried, and if the state database keeps refusing it the
run stops with `TokenNotSaved`, which says what to do (never a silently lost token).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import replace

import httpx

from exact_pipeline.exact.clock import ServerClock, utc
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.exact.errors import ReauthorizationRequired, TokenNotSaved
from exact_pipeline.exact.oauth import (
    TokenGrant,
    TokenResponseLost,
    TooEarlyToRefresh,
    refresh_grant,
)
from exact_pipeline.exact.retry import RetryPolicy
from exact_pipeline.exact.tokens import StoredConnection, TokenStore, TokenStoreError

REFRESH_WINDOW = 30.0  # refresh in the token's last 30 s (Exact's advice)


class TokenManager:
    def __init__(
        self,
        config: ExactConfig,
        http: httpx.Client,
        clock: ServerClock,
        store: TokenStore,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
    ) -> None:
        self._config = config
        self._http = http
        self._clock = clock
        self._store = store
        self._retry = retry
        self._sleep = sleep
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

    def unauthorized(self, refused: str) -> None:
        """A call was refused with token `refused`: refresh, unless another worker did."""
        with self._lock:
            if self._dead:
                raise self._dead
            self._current = self._refresh(refused=refused)

    def forget(self) -> None:
        """Drop what this process knows (a new chain was just stored)."""
        with self._lock:
            self._current = None
            self._dead = None

    def pin(self, grant: TokenGrant) -> TokenGrant:
        """Bound the grant's issue time from above with the server's clock (`current/Me`,
        asked after the grant). If that cannot be read, push the expiry a whole lifetime
        out: the token is then replaced after Exact refuses it (401), never too early."""
        server = self._clock.calibrate(self._http, self._config.base_url, grant.access_token)
        if server is None:
            return replace(grant, issued_at=self._clock.now() + grant.expires_in)
        return replace(grant, issued_at=server + 1)  # ServerTime is whole seconds

    def _due(self, connection: StoredConnection) -> bool:
        expires = connection.access_expires_at.timestamp()
        return self._clock.now() >= expires - REFRESH_WINDOW

    def _refresh(self, refused: str | None) -> StoredConnection:
        with self._store.locked() as current:
            if current is None:
                raise self._stop(ReauthorizationRequired("no Exact Online connection is stored"))
            if current.is_dead:
                raise self._stop(
                    ReauthorizationRequired(f"the token chain is dead: {current.dead_reason}")
                )
            if refused is None and not self._due(current):
                return current  # another worker refreshed while we waited for the lock
            if refused is not None and current.access_token != refused:
                return current
            try:
                grant = self._grant(current.refresh_token)
            except (TooEarlyToRefresh, ReauthorizationRequired) as refusal:
                if (rotated := self._rotated_meanwhile(current)) is not None:
                    return rotated
                if isinstance(refusal, TooEarlyToRefresh):
                    if refused is not None:
                        raise
                    return current  # Exact says it is still valid: keep using it
                self._store.mark_dead(refusal.message or refusal.summary)
                raise self._stop(refusal) from None
            self._save(grant)  # durable before anything else happens
            grant = self.pin(grant)
            self._store.pin_issue_time(grant)
            return _with_grant(current, grant)

    def _rotated_meanwhile(self, presented: StoredConnection) -> StoredConnection | None:
        """The stored pair, if another worker has replaced the one we presented."""
        stored = self._store.load()
        if stored is None or stored.is_dead or stored.refresh_token == presented.refresh_token:
            return None
        return stored

    def _save(self, grant: TokenGrant) -> None:
        """Store a rotated pair, trying again while the state database refuses it."""
        attempts = self._retry.save_attempts
        for failures in range(1, attempts + 1):
            try:
                self._store.save_refresh(grant)
                return
            except TokenStoreError as exc:
                error = exc
            if failures < attempts:
                self._sleep(self._retry.delay(failures))
        reason = f"storing the rotated token failed {attempts} times ({error})"
        # So that every other process stops too, instead of presenting the old token; when the
        # database refuses that as well, the error raised below still says what to do.
        with contextlib.suppress(TokenStoreError):
            self._store.mark_dead(f"{TokenNotSaved.summary}: {reason}")
        raise self._stop(TokenNotSaved(reason)) from None

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

    def _stop(self, error: ReauthorizationRequired) -> ReauthorizationRequired:
        """From now on every call in this process fails fast with `error`."""
        self._dead = error
        return error


def _with_grant(connection: StoredConnection, grant: TokenGrant) -> StoredConnection:
    return replace(
        connection,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        access_expires_at=utc(grant.access_expires_at),
        refreshed_at=utc(grant.issued_at),
        refresh_count=connection.refresh_count + 1,
    )
