"""The Exact client's state in the state database (schema `exact_sync`): Postgres
implementations of the client's stores (`exact.stores`), shared by every process, and
`open_exact`, the pipeline's way to build a client on them.

Tokens are Fernet-encrypted with EXACT_TOKEN_KEY: any string, from which a Fernet key is
derived with scrypt and a random salt stored beside the tokens (changing the key means logging
in again). `PostgresTokens.locked()` holds a session-level advisory lock for the whole refresh,
so whoever comes next, in any process, re-reads the new pair.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import psycopg
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from exact_pipeline.exact.client import ExactClient
from exact_pipeline.exact.clock import utc
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.exact.errors import ExactConfigurationError
from exact_pipeline.exact.masterstore import DELETIONS, Cached, Record
from exact_pipeline.exact.oauth import TokenGrant
from exact_pipeline.exact.ratelimit import Budget
from exact_pipeline.exact.stores import Stores
from exact_pipeline.exact.tokens import GrantedDivision, StoredConnection, TokenStoreError
from exact_pipeline.settings import STATE_SCHEMA, EnvSettings

TOKENS = f"{STATE_SCHEMA}.exact_connection"
BUDGETS = f"{STATE_SCHEMA}.exact_rate_limit"
CURSORS = f"{STATE_SCHEMA}.exact_sync_cursor"
REFUSALS = f"{STATE_SCHEMA}.exact_error_log"
MASTER_DATA = f"{STATE_SCHEMA}.exact_master_data"
WATERMARKS = f"{STATE_SCHEMA}.exact_master_data_watermark"
FORGET_REFUSALS_AFTER = timedelta(days=1)  # Exact's error block looks back an hour

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

-- One token chain per Exact app and host. Tokens are Fernet-encrypted; times are the
-- SERVER's clock (see exact/clock.py).
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_connection (
    connection_key     text PRIMARY KEY,
    key_salt           bytea NOT NULL,
    access_token       bytea NOT NULL,
    refresh_token      bytea NOT NULL,
    access_expires_at  timestamptz NOT NULL,
    refreshed_at       timestamptz NOT NULL,
    refresh_count      integer NOT NULL DEFAULT 0,
    connected_at       timestamptz NOT NULL,
    user_id            text,
    user_name          text,
    user_email         text,
    current_division   integer,
    divisions          jsonb NOT NULL DEFAULT '[]',
    dead_reason        text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- The last X-RateLimit-* headers seen per division (for pacing across runs and `auth status`).
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_rate_limit (
    division           integer PRIMARY KEY,
    daily_limit        integer,
    daily_remaining    integer,
    daily_reset        timestamptz,
    minutely_limit     integer,
    minutely_remaining integer,
    minutely_reset     timestamptz,
    observed_at        timestamptz NOT NULL
);

-- The highest Timestamp read from each sync/* endpoint per division.
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_sync_cursor (
    division   integer NOT NULL,
    endpoint   text NOT NULL,
    timestamp  bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (division, endpoint)
);

-- Every 4xx (but 429) Exact answered, per division and endpoint: Exact blocks an endpoint
-- after more than 10 an hour, so the client stops short of that (exact/errorblock.py).
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_error_log (
    division integer NOT NULL,
    endpoint text NOT NULL,
    status   integer NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS exact_error_log_recent
    ON {STATE_SCHEMA}.exact_error_log (division, endpoint, at);

-- Each division's master data (exact/masterdata.py): items, VAT codes, GL accounts, journals,
-- payment conditions, accounts; each record by its Exact ID, as its model dumps it, with
-- Exact's Timestamp (sync kinds; NULL for the others and for accounts the pipeline created).
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_master_data (
    division   integer NOT NULL,
    kind       text NOT NULL,
    id         text NOT NULL,
    timestamp  bigint,
    record     jsonb NOT NULL,
    PRIMARY KEY (division, kind, id)
);

-- Per division and kind: read at all (the row), and the highest Timestamp read (sync kinds;
-- kind 'deleted': sync/Deleted).
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_master_data_watermark (
    division   integer NOT NULL,
    kind       text NOT NULL,
    timestamp  bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (division, kind)
);
"""


def open_exact(config: ExactConfig, state_url: str, token_key: str, **options: Any) -> ExactClient:
    """A client whose state lives in the state database at `state_url` (closed with it), its
    tokens encrypted with `token_key`; `options` as `ExactClient` takes them."""
    return ExactClient(config, postgres_stores(state_url, config, token_key), **options)


def exact_from_settings(settings: EnvSettings, **options: Any) -> ExactClient:
    """From EXACT_* settings; state in STATE_DATABASE_URL (else BILLING_DATABASE_URL)."""
    key = settings.exact_token_key.get_secret_value()
    return open_exact(exact_config(settings), settings.state_url, key, **options)


def exact_config(settings: EnvSettings) -> ExactConfig:
    return pipeline_config(
        base_url=settings.exact_base_url,
        client_id=settings.exact_client_id,
        client_secret=settings.exact_client_secret.get_secret_value(),
        redirect_uri=settings.exact_redirect_uri,
        token_key=settings.exact_token_key.get_secret_value(),
    )


def pipeline_config(*, token_key: str, **fields: str) -> ExactConfig:
    """`ExactConfig`, or which of the pipeline's variables to set (the token key too: tokens
    are only ever stored encrypted, so no key, no connection)."""
    missing: tuple[str, ...] = ()
    try:
        config = ExactConfig(**fields)
    except ExactConfigurationError as exc:
        if not exc.missing:
            raise
        missing = exc.missing
    # Each field is read from EXACT_<FIELD> (settings.py's `exact_` prefix, upper-cased).
    names = [f"EXACT_{field.upper()}" for field in missing] + (
        [] if token_key else ["EXACT_TOKEN_KEY"]
    )
    if names:
        raise ExactConfigurationError(f"set {', '.join(names)} (environment or .env)")
    return config


def postgres_stores(state_url: str, config: ExactConfig, token_key: str) -> Stores:
    """The five stores on one small pool, which closes with them. Tokens are encrypted with
    `token_key` and kept under the app's connection key."""
    cipher = TokenCipher(token_key)
    pool = open_pool(state_url)
    return Stores(
        tokens=PostgresTokens(pool, cipher, config.connection_key),
        budgets=PostgresBudgets(pool),
        cursors=PostgresCursors(pool),
        errors=PostgresErrorLog(pool),
        master_data=PostgresMasterData(pool),
        close=pool.close,
    )


def ensure_schema(conn: psycopg.Connection) -> None:
    # Concurrent CREATE … IF NOT EXISTS can still collide in the catalog: serialise it.
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('exact_pipeline.exact.db'))")
        conn.execute(DDL)


def open_pool(url: str) -> ConnectionPool:
    """A small autocommit pool; checks connections so a long run survives a DB restart."""
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=4,
        kwargs={"autocommit": True},
        check=ConnectionPool.check_connection,
        open=True,
    )
    with pool.connection() as conn:
        ensure_schema(conn)
    return pool


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


class PostgresTokens:
    """`exact.tokens.TokenStore` in `exact_connection`, one row per Exact app and host."""

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
        with _refused_as_store_error(), self.pool.connection() as conn:
            salt = self._salt(conn)
            conn.execute(
                f"""UPDATE {TOKENS} SET access_token = %s, refresh_token = %s,
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
                f"""UPDATE {TOKENS} SET access_expires_at = %s, refreshed_at = %s,
                       updated_at = now()
                    WHERE connection_key = %s""",
                (utc(grant.access_expires_at), utc(grant.issued_at), self.key),
            )

    def mark_dead(self, reason: str) -> None:
        with _refused_as_store_error(), self.pool.connection() as conn:
            conn.execute(
                f"UPDATE {TOKENS} SET dead_reason = %s, updated_at = now() "
                "WHERE connection_key = %s",
                (reason, self.key),
            )

    def connect(self, grant: TokenGrant) -> None:
        """Store the first pair of a new consent, replacing any previous (dead) chain."""
        salt = os.urandom(16)
        issued = utc(grant.issued_at)
        with self.pool.connection() as conn:
            conn.execute(
                f"""INSERT INTO {TOKENS} (connection_key, key_salt, access_token, refresh_token,
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
                f"""UPDATE {TOKENS} SET user_id = %s, user_name = %s, user_email = %s,
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
            cur.execute(f"SELECT * FROM {TOKENS} WHERE connection_key = %s", (self.key,))
            return cur.fetchone()

    def _salt(self, conn: psycopg.Connection) -> bytes:
        row = conn.execute(
            f"SELECT key_salt FROM {TOKENS} WHERE connection_key = %s", (self.key,)
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


@contextmanager
def _refused_as_store_error() -> Iterator[None]:
    """The database's refusal in the client's terms (it retries a rotated pair's save)."""
    try:
        yield
    except psycopg.Error as exc:
        raise TokenStoreError(f"{type(exc).__name__}: {str(exc).strip()}") from exc


class PostgresBudgets:
    """`exact.ratelimit.BudgetStore` in `exact_rate_limit`, one row per division."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def save(self, division: int, budget: Budget, *, observed_at: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                f"""INSERT INTO {BUDGETS} (division, daily_limit, daily_remaining, daily_reset,
                        minutely_limit, minutely_remaining, minutely_reset, observed_at)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                    ON CONFLICT (division) DO UPDATE SET
                        daily_limit = EXCLUDED.daily_limit,
                        daily_remaining = EXCLUDED.daily_remaining,
                        daily_reset = EXCLUDED.daily_reset,
                        minutely_limit = EXCLUDED.minutely_limit,
                        minutely_remaining = EXCLUDED.minutely_remaining,
                        minutely_reset = EXCLUDED.minutely_reset,
                        observed_at = EXCLUDED.observed_at""",
                (
                    division,
                    budget.daily_limit,
                    budget.daily_remaining,
                    _utc(budget.daily_reset),
                    budget.minutely_limit,
                    budget.minutely_remaining,
                    _utc(budget.minutely_reset),
                    utc(observed_at),
                ),
            )

    def load(self) -> dict[int, Budget]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SELECT * FROM {BUDGETS}")
            rows = cur.fetchall()

        def epoch(value: datetime | None) -> float | None:
            return value.timestamp() if value is not None else None

        return {
            row["division"]: Budget(
                daily_limit=row["daily_limit"],
                daily_remaining=row["daily_remaining"],
                daily_reset=epoch(row["daily_reset"]),
                minutely_limit=row["minutely_limit"],
                minutely_remaining=row["minutely_remaining"],
                minutely_reset=epoch(row["minutely_reset"]),
            )
            for row in rows
        }


def _utc(epoch: float | None) -> datetime | None:
    return utc(epoch) if epoch is not None else None


class PostgresCursors:
    """`exact.stores.CursorStore` in `exact_sync_cursor`."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def get(self, division: int, endpoint: str) -> int | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT timestamp FROM {CURSORS} WHERE division = %s AND endpoint = %s",
                (division, endpoint),
            ).fetchone()
        return row[0] if row else None

    def advance(self, division: int, endpoint: str, timestamp: int) -> None:
        """Move the cursor forward (never back: pages may be replayed after a crash)."""
        with self._pool.connection() as conn:
            conn.execute(
                f"""INSERT INTO {CURSORS} (division, endpoint, timestamp) VALUES (%s, %s, %s)
                    ON CONFLICT (division, endpoint) DO UPDATE SET
                        timestamp = GREATEST({CURSORS}.timestamp, EXCLUDED.timestamp),
                        updated_at = now()""",
                (division, endpoint, timestamp),
            )

    def reset(self, division: int, endpoint: str) -> None:
        """Start over (e.g. after a division move, which resets Exact's timestamps)."""
        with self._pool.connection() as conn:
            conn.execute(
                f"DELETE FROM {CURSORS} WHERE division = %s AND endpoint = %s", (division, endpoint)
            )


class PostgresErrorLog:
    """`exact.errorblock.ErrorLog` in `exact_error_log`."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def since(self, division: int, endpoint: str, start: datetime) -> list[datetime]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT at FROM {REFUSALS} WHERE division = %s AND endpoint = %s AND at > %s "
                "ORDER BY at",
                (division, endpoint, start),
            ).fetchall()
        return [row[0] for row in rows]

    def add(self, division: int, endpoint: str, status: int, at: datetime) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                f"INSERT INTO {REFUSALS} (division, endpoint, status, at) VALUES (%s, %s, %s, %s)",
                (division, endpoint, status, at),
            )
            conn.execute(
                f"DELETE FROM {REFUSALS} WHERE division = %s AND endpoint = %s AND at < %s",
                (division, endpoint, at - FORGET_REFUSALS_AFTER),
            )


class PostgresMasterData:
    """`exact.masterstore.MasterDataStore` in `exact_master_data` and its watermarks."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def load(self, division: int, kind: str) -> Cached | None:
        with self._pool.connection() as conn:
            mark = conn.execute(
                f"SELECT timestamp FROM {WATERMARKS} WHERE division = %s AND kind = %s",
                (division, kind),
            ).fetchone()
            if mark is None:
                return None
            rows = conn.execute(
                f"SELECT id, record FROM {MASTER_DATA} WHERE division = %s AND kind = %s",
                (division, kind),
            ).fetchall()
        return Cached({key: record for key, record in rows}, mark[0])

    def upsert(
        self, division: int, kind: str, records: Mapping[str, tuple[int | None, Record]], top: int
    ) -> None:
        with self._pool.connection() as conn, conn.transaction():
            self._write(conn, division, kind, records)
            self._advance(conn, division, kind, top)

    def replace(
        self, division: int, kind: str, records: Mapping[str, tuple[int | None, Record]]
    ) -> None:
        stamps = [stamp for stamp, _ in records.values() if stamp is not None]
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                f"DELETE FROM {MASTER_DATA} WHERE division = %s AND kind = %s", (division, kind)
            )
            self._write(conn, division, kind, records)
            conn.execute(
                f"""INSERT INTO {WATERMARKS} (division, kind, timestamp) VALUES (%s, %s, %s)
                    ON CONFLICT (division, kind) DO UPDATE SET
                        timestamp = EXCLUDED.timestamp, updated_at = now()""",
                (division, kind, max(stamps, default=None)),
            )

    def add(self, division: int, kind: str, key: str, record: Record) -> None:
        with self._pool.connection() as conn:
            self._write(conn, division, kind, {key: (None, record)})

    def remove(self, division: int, keys: Collection[str], top: int) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                f"DELETE FROM {MASTER_DATA} WHERE division = %s AND id = ANY(%s)",
                (division, list(keys)),
            )
            self._advance(conn, division, DELETIONS, top)

    def deletions_read(self, division: int) -> int | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT timestamp FROM {WATERMARKS} WHERE division = %s AND kind = %s",
                (division, DELETIONS),
            ).fetchone()
        return row[0] if row else None

    @staticmethod
    def _write(
        conn: psycopg.Connection,
        division: int,
        kind: str,
        records: Mapping[str, tuple[int | None, Record]],
    ) -> None:
        """Upsert; a record never replaces a newer one (another run may have read further)."""
        with conn.cursor() as cur:
            cur.executemany(
                f"""INSERT INTO {MASTER_DATA} (division, kind, id, timestamp, record)
                    VALUES (%s, %s, %s, %s, %s)
                    ON CONFLICT (division, kind, id) DO UPDATE SET
                        timestamp = EXCLUDED.timestamp, record = EXCLUDED.record
                    WHERE EXCLUDED.timestamp IS NULL OR {MASTER_DATA}.timestamp IS NULL
                        OR EXCLUDED.timestamp >= {MASTER_DATA}.timestamp""",
                [
                    (division, kind, key, stamp, Jsonb(record))
                    for key, (stamp, record) in records.items()
                ],
            )

    @staticmethod
    def _advance(conn: psycopg.Connection, division: int, kind: str, top: int) -> None:
        conn.execute(
            f"""INSERT INTO {WATERMARKS} (division, kind, timestamp) VALUES (%s, %s, %s)
                ON CONFLICT (division, kind) DO UPDATE SET
                    timestamp = GREATEST({WATERMARKS}.timestamp, EXCLUDED.timestamp),
                    updated_at = now()""",
            (division, kind, top),
        )
