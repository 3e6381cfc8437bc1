"""The Exact app's connection settings, taken from the environment (README, "Environment")."""

from __future__ import annotations

from dataclasses import dataclass, field

from exact_pipeline.exact.errors import ExactConfigurationError
from exact_pipeline.settings import EnvSettings


@dataclass(frozen=True)
class ExactConfig:
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    token_key: str = field(repr=False)

    def __post_init__(self) -> None:
        missing = [
            env
            for env, value in (
                ("EXACT_BASE_URL", self.base_url),
                ("EXACT_CLIENT_ID", self.client_id),
                ("EXACT_CLIENT_SECRET", self.client_secret),
                ("EXACT_REDIRECT_URI", self.redirect_uri),
                # Tokens are only ever stored encrypted: no key, no connection.
                ("EXACT_TOKEN_KEY", self.token_key),
            )
            if not value
        ]
        if missing:
            raise ExactConfigurationError(f"set {', '.join(missing)} (environment or .env)")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @classmethod
    def from_settings(cls, settings: EnvSettings) -> ExactConfig:
        return cls(
            base_url=settings.exact_base_url,
            client_id=settings.exact_client_id,
            client_secret=settings.exact_client_secret.get_secret_value(),
            redirect_uri=settings.exact_redirect_uri,
            token_key=settings.exact_token_key.get_secret_value(),
        )

    @property
    def connection_key(self) -> str:
        """Which stored token chain belongs to this app: one per app and Exact host."""
        return f"{self.client_id}@{self.base_url}"
