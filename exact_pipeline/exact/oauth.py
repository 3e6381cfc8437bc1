"""Exact's OAuth2 wire: the authorize URL and the two token grants.

Tokens and secrets travel only in form bodies; they are never logged, and errors raised here
carry only Exact's `error` / `error_description`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from exact_pipeline.exact.clock import ServerClock
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.exact.errors import (
    AuthenticationError,
    ExactError,
    ReauthorizationRequired,
    ServerError,
)

TOKEN_PATH = "/api/oauth2/token"
AUTHORIZE_PATH = "/api/oauth2/auth"
# A token call that times out may still have rotated the refresh token; wait generously.
TOKEN_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# "Old refresh token used." / "The refresh token expired at …" / unknown token or code.
CHAIN_KILLING_ERRORS = frozenset({"unauthorized_client", "invalid_request", "invalid_grant"})


@dataclass(frozen=True)
class TokenGrant:
    """A token endpoint answer. `issued_at` (server clock, epoch seconds) is provisional
    until `TokenManager.pin` bounds it from above."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    issued_at: float

    @property
    def access_expires_at(self) -> float:
        return self.issued_at + self.expires_in


class TokenResponseLost(ServerError):
    """The token call got no usable answer: the refresh token may or may not have rotated."""

    summary = "Exact Online's token endpoint gave no usable answer"


class TooEarlyToRefresh(AuthenticationError):
    """Refused by the 570 s rule: the current access token is still valid."""

    summary = "Exact Online refused to refresh a token that has not expired"


def authorize_url(config: ExactConfig, state: str) -> str:
    query = urlencode(
        {
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "response_type": "code",
            "force_login": "0",
            "state": state,
        }
    )
    return f"{config.base_url}{AUTHORIZE_PATH}?{query}"


def exchange_code(
    http: httpx.Client, config: ExactConfig, clock: ServerClock, code: str
) -> TokenGrant:
    """Authorization code → first token pair. A code is single use and valid 3 minutes."""
    return _grant(
        http,
        config,
        clock,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": config.redirect_uri},
    )


def refresh_grant(
    http: httpx.Client, config: ExactConfig, clock: ServerClock, refresh_token: str
) -> TokenGrant:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _grant(http, config, clock, form)


def _grant(
    http: httpx.Client, config: ExactConfig, clock: ServerClock, form: dict[str, str]
) -> TokenGrant:
    where: dict[str, Any] = {"method": "POST", "path": TOKEN_PATH}
    try:
        response = http.post(
            f"{config.base_url}{TOKEN_PATH}",
            data={**form, "client_id": config.client_id, "client_secret": config.client_secret},
            headers={"Accept": "application/json"},
            timeout=TOKEN_TIMEOUT,
        )
    except httpx.TransportError as exc:
        raise TokenResponseLost(type(exc).__name__, **where) from None
    clock.observe(response)
    where["status"] = response.status_code
    body = _json_or_empty(response)
    if response.status_code >= 500:
        raise TokenResponseLost(_describe(body), **where)
    if response.status_code != 200:
        raise _refusal(response.status_code, body, response.headers.get("Reason"), where)
    try:
        return TokenGrant(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            expires_in=int(body["expires_in"]),  # Exact sends a string
            issued_at=clock.now(),
        )
    except (KeyError, TypeError, ValueError):
        raise TokenResponseLost("token response without tokens", **where) from None


def _refusal(
    status: int, body: dict[str, Any], reason: str | None, where: dict[str, Any]
) -> ExactError:
    """A refused grant. Only Exact's verdicts on the refresh token or code itself (re-used,
    expired, unknown) kill the chain; too early (the 570 s rule), a bad client secret or a
    429 leave it alive."""
    text = _describe(body)
    if reason == "TooEarlyToRefreshTokens" or "not expired" in text.lower():
        return TooEarlyToRefresh(text, **where)
    if status in (400, 401) and body.get("error") in CHAIN_KILLING_ERRORS:
        return ReauthorizationRequired(text, **where)
    return AuthenticationError(text, **where)


def _describe(body: dict[str, Any]) -> str:
    parts = [str(body[k]) for k in ("error", "error_description") if body.get(k)]
    return ": ".join(parts) or "no details"


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
