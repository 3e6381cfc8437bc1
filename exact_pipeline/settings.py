"""Environment settings (README, "Environment"): where the databases and Exact are, and the secrets.

Mapping-table settings live in `exact_pipeline.mapping`; this module is only the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

STATE_SCHEMA = "exact_sync"


class PublicSettings(BaseSettings):
    """The settings that are no secret (Dagster's resources show their values): where Exact
    and the mapping tables are. Read from the environment and a `.env` file in the working
    directory."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    exact_base_url: str = "https://start.exactonline.nl"
    exact_client_id: str = ""
    exact_redirect_uri: str = "http://localhost:8765/callback"
    exact_mappings_dir: Path = Path("mappings")
    # Where each month's reconciliation is written as CSV (default: $DAGSTER_HOME/reconciliation).
    exact_reconciliation_dir: Path | None = None
    # The public HTTPS URL Exact posts webhook events to (`exact-pipeline webhooks serve`).
    exact_webhook_url: str = ""


class EnvSettings(PublicSettings):
    """Every setting: the public ones, the database URLs (which may hold a password) and the
    secrets."""

    billing_database_url: str = Field(description="Postgres URL of the billing database")
    state_database_url: str | None = Field(
        default=None,
        description="Postgres URL for the ledger and tokens; default: the billing database "
        f"(schema `{STATE_SCHEMA}`)",
    )
    exact_client_secret: SecretStr = SecretStr("")
    exact_token_key: SecretStr = SecretStr("")
    # The app's webhook secret (Exact's app centre): the key of each delivery's HashCode.
    exact_webhook_secret: SecretStr = SecretStr("")

    @property
    def state_url(self) -> str:
        return self.state_database_url or self.billing_database_url


@lru_cache
def env_settings() -> EnvSettings:
    return EnvSettings()  # type: ignore[call-arg]  # fields come from the environment
