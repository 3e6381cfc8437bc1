"""The one resource every sync step uses, declared once with `EnvVar` (see definitions.py).

Secrets arrive as `EnvVar`s, so the UI shows only the variables' names; everything else comes
from the same environment through `EnvSettings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import dagster as dg
from pydantic import SecretStr

from exact_pipeline.defs.run_health import stop_with_run_worker
from exact_pipeline.exact.client import ExactClient
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.settings import EnvSettings
from exact_pipeline.sync.engine import SyncEngine
from exact_pipeline.sync.payments import PaymentSync

T = TypeVar("T", SyncEngine, PaymentSync)


class ExactSync(dg.ConfigurableResource):
    """The billing database, the state database, the Exact connection and the mapping tables."""

    billing_database_url: str
    exact_client_secret: str
    exact_token_key: str

    def settings(self) -> EnvSettings:
        return EnvSettings(
            billing_database_url=self.billing_database_url,
            exact_client_secret=SecretStr(self.exact_client_secret),
            exact_token_key=SecretStr(self.exact_token_key),
        )

    def mappings(self) -> Mappings:
        return load_mappings(self.settings().exact_mappings_dir)

    @contextmanager
    def engine(self) -> Iterator[SyncEngine]:
        """The document sync engine, with one Exact client for the step (one master-data pass
        per division)."""
        with self._connected(SyncEngine) as engine:
            yield engine

    @contextmanager
    def payments(self) -> Iterator[PaymentSync]:
        """The payment sync (`payment_sync` decides what it does), with its own Exact client."""
        with self._connected(PaymentSync) as payments:
            yield payments

    @contextmanager
    def _connected(self, kind: type[T]) -> Iterator[T]:
        stop_with_run_worker()  # never an orphan calling Exact beside the next run
        settings = self.settings()
        with (
            ExactClient.from_settings(settings) as exact,
            kind(
                billing_url=settings.billing_database_url,
                state_url=settings.state_url,
                mappings=load_mappings(settings.exact_mappings_dir),
                exact=exact,
            ) as sync,
        ):
            yield sync


def exact_sync_from_env() -> ExactSync:
    return ExactSync(
        billing_database_url=dg.EnvVar("BILLING_DATABASE_URL"),
        exact_client_secret=dg.EnvVar("EXACT_CLIENT_SECRET"),
        exact_token_key=dg.EnvVar("EXACT_TOKEN_KEY"),
    )
