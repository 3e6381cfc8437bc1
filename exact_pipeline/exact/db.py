"""The client's tables in the state database (schema `exact_sync`), created idempotently."""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

from exact_pipeline.settings import STATE_SCHEMA

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

-- One token chain per Exact app and host. Tokens are Fernet-encrypted; times are the
-- SERVER's clock (see clock.py).
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
-- after more than 10 an hour, so the client stops short of that (errorblock.py).
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_error_log (
    division integer NOT NULL,
    endpoint text NOT NULL,
    status   integer NOT NULL,
    at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS exact_error_log_recent
    ON {STATE_SCHEMA}.exact_error_log (division, endpoint, at);
"""


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
