"""Sandbox settings the admin API can change at run time (`GET/POST /_sandbox/config`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEMO_CLIENT_ID = "exact-pipeline-demo"
DEMO_CLIENT_SECRET = "sandbox-secret"
LOCAL_REDIRECTS = [
    "http://localhost:*",
    "http://localhost/*",
    "http://127.0.0.1:*",
    "http://127.0.0.1/*",
]


class AppRegistration(BaseModel):
    """An app registered in Exact's app centre."""

    model_config = ConfigDict(extra="forbid")
    client_secret: str
    redirect_uris: list[str] = Field(description="fnmatch patterns a redirect_uri must match")
    name: str = "Exact pipeline (demo)"
    webhook_secret: str = Field(
        "sandbox-webhook-secret", description="key of the HMAC HashCode on webhook deliveries"
    )


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # rate limits, per division
    minutely_limit: int = Field(60, ge=0)
    daily_limit: int = Field(5000, ge=0)
    window_seconds: int = Field(60, ge=1, description="length of the 'minutely' window")
    # more than `error_block_threshold` 400/401/403/404 on one endpoint within an hour → blocked
    error_block_enabled: bool = True
    error_block_threshold: int = Field(10, ge=0)
    error_block_seconds: int = Field(3600, ge=1, description="first block; doubles per repeat")
    # OAuth
    access_token_ttl: int = Field(600, ge=1)
    refresh_guard: int = Field(570, ge=0, description="earliest refresh after the last token")
    too_early_refresh_status: Literal[400, 401] = Field(
        400,
        description="status of a too-early refresh: 400 as observed in 2026 "
        "(websmurf/laravel-exact-online#31), 401 as older documentation quotes",
    )
    refresh_token_ttl: int = Field(30 * 86400, ge=1)
    code_ttl: int = Field(180, ge=1)
    revoke_chain_on_reuse: bool = Field(
        True, description="re-using an old refresh token also revokes the current one"
    )
    apps: dict[str, AppRegistration] = Field(
        default_factory=lambda: {
            DEMO_CLIENT_ID: AppRegistration(
                client_secret=DEMO_CLIENT_SECRET, redirect_uris=list(LOCAL_REDIRECTS)
            )
        }
    )
    # documents
    attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=0, description="decoded size")
    field_limits: dict[str, int | None] = Field(
        default_factory=dict,
        description='overrides of declared max lengths, {"SalesEntries.YourRef": 40}; '
        "null = unlimited",
    )
    # behaviour
    language: Literal["nl", "en"] = "nl"
    seed: int = Field(0, description="seed of the fault-injection RNG")
