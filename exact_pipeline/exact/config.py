"""The Exact app's connection settings, as registered in Exact's App Center (named after the
EXACT_* variables a deployment sets them from)."""

from __future__ import annotations

from dataclasses import dataclass, field

from exact_pipeline.exact.errors import ExactConfigurationError


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

    @property
    def connection_key(self) -> str:
        """Which stored token chain belongs to this app: one per app and Exact host."""
        return f"{self.client_id}@{self.base_url}"
