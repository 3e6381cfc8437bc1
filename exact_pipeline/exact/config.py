"""The Exact app's connection settings, as registered in Exact's App Center."""

from __future__ import annotations

from dataclasses import dataclass, field

from exact_pipeline.exact.errors import ExactConfigurationError

REQUIRED = ("base_url", "client_id", "client_secret", "redirect_uri")


@dataclass(frozen=True)
class ExactConfig:
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str

    def __post_init__(self) -> None:
        missing = tuple(name for name in REQUIRED if not getattr(self, name))
        if missing:
            raise ExactConfigurationError(f"{', '.join(missing)} must be set", missing=missing)
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def connection_key(self) -> str:
        """Which stored token chain belongs to this app: one per app and Exact host."""
        return f"{self.client_id}@{self.base_url}"
