"""The token chain, kept in the state database and encrypted with EXACT_TOKEN_KEY.

The key may be any string: a Fernet key is derived from it with scrypt and a random salt
stored beside the tokens. Changing the key means logging in again.

`TokenStore.locked()` is the single-flight point across processes: it holds an advisory lock
for the whole refresh, so whoever comes next re-reads the new pair.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from exact_pipeline.exact.clock import utc
from exact_pipeline.exact.errors import ExactConfigurationError
from exact_pipeline.exact.oauth import TokenGrant
from exact_pipeline.settings import STATE_SCHEMA

# Exact lets an unused refresh token live 30 days.
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
TABLE = f"{STATE_SCHEMA}.exact_connection"


class TokenCipher:
    """Fernet keyed by a passphrase (scrypt, per-row salt)."""

    def __init__(self, passphrase: str) -> None:
        if not passphrase:
            raise ExactConfigurationError("set EXACT_TOKEN_KEY: tokens are stored encrypted")
        self._passphrase = passphrase.encode()
        self._fernets: dict[bytes, Fernet] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "TokenCipher(<key hidden>)"

    def encrypt(self, salt: bytes, text: str) -> bytes:
        return self._fernet(salt).encrypt(text.encode())

    def decrypt(self, salt: bytes, token: bytes) -> str:
        try:
            return self._fernet(salt).decrypt(token).decode()
        except InvalidToken:
            raise ExactConfigurationError(
                "EXACT_TOKEN_KEY does not decrypt the stored Exact tokens (was it changed?); "
                "set the original key or run `exact-pipeline auth login` again"
            ) from None

    def _fernet(self, salt: bytes) -> Fernet:
        with self._lock:
            if salt not in self._fernets:
                key = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(self._passphrase)
                self._fernets[salt] = Fernet(base64.urlsafe_b64encode(key))
            return self._fernets[salt]


@dataclass(frozen=True)
class GrantedDivision:
    code: int
    description: str


@dataclass(frozen=True)
class StoredConnection:
    """One row of `exact_connection`, decrypted."""

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


class TokenStore:
    def __init__(self, pool: ConnectionPool, cipher: TokenCipher, key: str) -> None:
        self.pool = pool
        self.cipher = cipher
        self.key = key

    def load(self) -> StoredConnection | None:
        with self.pool.connection() as conn:
            row = self._select(conn)
        return self._decode(row) if row else None

    @contextmanager
    def locked(self) -> Iterator[StoredConnection | None]:
        """The connection, read while holding its lock: other processes wait here.

        A session-level advisory lock (not a row lock): writes inside commit at once, so the
        new pair is durable before the lock is released and before the token is first used.
        """
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (self._lock_name,))
            try:
                row = self._select(conn)
                yield self._decode(row) if row else None
            finally:
                conn.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (self._lock_name,)
                )

    @property
    def _lock_name(self) -> str:
        return f"exact_pipeline.tokens:{self.key}"

    def save_refresh(self, grant: TokenGrant) -> None:
        """The rotated pair (call with the lock held)."""
        with self.pool.connection() as conn:
            salt = self._salt(conn)
            conn.execute(
                f"""UPDATE {TABLE} SET access_token = %s, refresh_token = %s,
                       access_expires_at = %s, refreshed_at = %s,
                       refresh_count = refresh_count + 1, updated_at = now()
                    WHERE connection_key = %s""",
                (
                    self.cipher.encrypt(salt, grant.access_token),
                    self.cipher.encrypt(salt, grant.refresh_token),
                    utc(grant.access_expires_at),
                    utc(grant.issued_at),
                    self.key,
                ),
            )

    def pin_issue_time(self, grant: TokenGrant) -> None:
        """Correct the stored issue and expiry time of the current pair."""
        with self.pool.connection() as conn:
            conn.execute(
                f"""UPDATE {TABLE} SET access_expires_at = %s, refreshed_at = %s,
                       updated_at = now()
                    WHERE connection_key = %s""",
                (utc(grant.access_expires_at), utc(grant.issued_at), self.key),
            )

    def mark_dead(self, reason: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"UPDATE {TABLE} SET dead_reason = %s, updated_at = now() "
                "WHERE connection_key = %s",
                (reason, self.key),
            )

    def connect(self, grant: TokenGrant) -> None:
        """Store the first pair of a new consent, replacing any previous (dead) chain."""
        salt = os.urandom(16)
        issued = utc(grant.issued_at)
        with self.pool.connection() as conn:
            conn.execute(
                f"""INSERT INTO {TABLE} (connection_key, key_salt, access_token, refresh_token,
                        access_expires_at, refreshed_at, connected_at)
                    VALUES (%s, %s, %s, %s, %s, %s, %s)
                    ON CONFLICT (connection_key) DO UPDATE SET
                        key_salt = EXCLUDED.key_salt, access_token = EXCLUDED.access_token,
                        refresh_token = EXCLUDED.refresh_token,
                        access_expires_at = EXCLUDED.access_expires_at,
                        refreshed_at = EXCLUDED.refreshed_at, refresh_count = 0,
                        connected_at = EXCLUDED.connected_at, user_id = NULL,
                        user_name = NULL, user_email = NULL, current_division = NULL,
                        divisions = '[]', dead_reason = NULL, updated_at = now()""",
                (
                    self.key,
                    salt,
                    self.cipher.encrypt(salt, grant.access_token),
                    self.cipher.encrypt(salt, grant.refresh_token),
                    utc(grant.access_expires_at),
                    issued,
                    issued,
                ),
            )

    def set_identity(
        self,
        *,
        user_id: str | None,
        user_name: str | None,
        user_email: str | None,
        current_division: int | None,
        divisions: list[GrantedDivision],
    ) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"""UPDATE {TABLE} SET user_id = %s, user_name = %s, user_email = %s,
                       current_division = %s, divisions = %s, updated_at = now()
                    WHERE connection_key = %s""",
                (
                    user_id,
                    user_name,
                    user_email,
                    current_division,
                    Jsonb([{"code": d.code, "description": d.description} for d in divisions]),
                    self.key,
                ),
            )

    def _select(self, conn: psycopg.Connection) -> dict[str, Any] | None:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SELECT * FROM {TABLE} WHERE connection_key = %s", (self.key,))
            return cur.fetchone()

    def _salt(self, conn: psycopg.Connection) -> bytes:
        row = conn.execute(
            f"SELECT key_salt FROM {TABLE} WHERE connection_key = %s", (self.key,)
        ).fetchone()
        assert row is not None, "no stored connection"
        return row[0]

    def _decode(self, row: dict[str, Any]) -> StoredConnection:
        salt = row["key_salt"]
        return StoredConnection(
            access_token=self.cipher.decrypt(salt, row["access_token"]),
            refresh_token=self.cipher.decrypt(salt, row["refresh_token"]),
            access_expires_at=row["access_expires_at"],
            refreshed_at=row["refreshed_at"],
            refresh_count=row["refresh_count"],
            connected_at=row["connected_at"],
            user_id=row["user_id"],
            user_name=row["user_name"],
            user_email=row["user_email"],
            current_division=row["current_division"],
            divisions=tuple(GrantedDivision(d["code"], d["description"]) for d in row["divisions"]),
            dead_reason=row["dead_reason"],
        )
