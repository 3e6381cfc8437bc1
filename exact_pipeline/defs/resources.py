"""One resource per system the pipeline talks to, declared once in `resources()`: the billing
database, the state database, Exact Online and the mapping tables.

Every setting is a field, so the UI's resource page shows the whole configuration. Settings that
are no secret are read when the definitions load (environment or `.env`) and shown as values;
secrets and the database URLs (which may hold a password) are `EnvVar`s, resolved only when a
run or tick starts: the UI shows the variable's name, never its value.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from exact_pipeline.exact.client import ExactClient
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.settings import STATE_SCHEMA, PublicSettings
from exact_pipeline.state.exact import open_exact, pipeline_config


class BillingDatabase(dg.ConfigurableResource):
    """The billing database: the documents, customers and payments to sync (read), and the
    payments imported from Exact (written)."""

    url: str = Field(description="Postgres URL (BILLING_DATABASE_URL)")


class StateDatabase(dg.ConfigurableResource):
    """The pipeline's own state: ledgers, Exact tokens, budgets and cursors."""

    url: str = Field(
        description=f"Postgres URL (STATE_DATABASE_URL; default: the billing database, schema "
        f"`{STATE_SCHEMA}`)"
    )


class ExactOnline(dg.ConfigurableResource):
    """The Exact Online app the pipeline connects as."""

    base_url: str = Field(description="Exact's host (EXACT_BASE_URL)")
    client_id: str = Field(description="The app's client id (EXACT_CLIENT_ID)")
    redirect_uri: str = Field(description="The app's redirect URI (EXACT_REDIRECT_URI)")
    client_secret: str = Field(description="The app's secret (EXACT_CLIENT_SECRET)")
    token_key: str = Field(description="Encrypts the stored tokens (EXACT_TOKEN_KEY)")

    def config(self) -> ExactConfig:
        return pipeline_config(
            base_url=self.base_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=self.redirect_uri,
            token_key=self.token_key,
        )

    def client(self, state: StateDatabase) -> ExactClient:
        """A client for one step: it caches master data for the step, its tokens, budgets and
        cursors live in the state database."""
        return open_exact(self.config(), state.url, self.token_key)


class MappingTables(dg.ConfigurableResource):
    """The mapping tables (settings.yaml and the CSV files), loaded once per run (or tick)."""

    folder: str = Field(description="The tables' folder (EXACT_MAPPINGS_DIR)")
    _tables: Mappings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._tables = self.load()

    def load(self) -> Mappings:
        """The tables as the folder holds them now; a bad table raises its own message."""
        return load_mappings(Path(self.folder))

    @property
    def tables(self) -> Mappings:
        """This run's tables: all its steps see the same ones, even if the folder changes."""
        if self._tables is None:  # used outside a run (a direct call)
            self._tables = self.load()
        return self._tables


def mapping_tables() -> MappingTables:
    return MappingTables(folder=str(PublicSettings().exact_mappings_dir))


@dg.definitions
def resources() -> dg.Definitions:
    public = PublicSettings()
    # The state database defaults to the billing database: the UI names the variable used.
    state = "STATE_DATABASE_URL" if os.environ.get("STATE_DATABASE_URL") else "BILLING_DATABASE_URL"
    return dg.Definitions(
        resources={
            "billing_database": BillingDatabase(url=dg.EnvVar("BILLING_DATABASE_URL")),
            "state_database": StateDatabase(url=dg.EnvVar(state)),
            "exact_online": ExactOnline(
                base_url=public.exact_base_url,
                client_id=public.exact_client_id,
                redirect_uri=public.exact_redirect_uri,
                client_secret=dg.EnvVar("EXACT_CLIENT_SECRET"),
                token_key=dg.EnvVar("EXACT_TOKEN_KEY"),
            ),
            "mapping_tables": mapping_tables(),
        }
    )
