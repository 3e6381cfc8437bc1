"""OAuth2 as Exact runs it: single-use 3-minute codes, 600 s access tokens, rotating refresh
tokens with re-use detection, the 570 s refresh guard and 30-day refresh-token expiry.

A *chain* is one consent: the codes, access tokens and refresh tokens that descend from it.
Re-using a refresh token that has already been rotated answers "Old refresh token used."
and, with `revoke_chain_on_reuse` (default), revokes the chain's current refresh token too:
the connection is then dead until the user consents again — the behaviour integrators report
after two workers raced for a refresh or a token response was lost. Access tokens already
issued stay valid until they expire.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from exact_pipeline.sandbox.clock import Clock
from exact_pipeline.sandbox.config import AppRegistration, SandboxConfig
from exact_pipeline.sandbox.errors import ExactError, OAuthError
from exact_pipeline.sandbox.seed import User


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    divisions: list[int]
    issued_at: float
    used: bool = False


@dataclass
class Chain:
    id: str
    client_id: str
    user_id: str
    divisions: list[int]
    refresh_token: str
    refresh_issued_at: float
    access_issued_at: float
    old_refresh_tokens: list[str] = field(default_factory=list)
    revoked: bool = False


@dataclass
class AccessToken:
    chain_id: str
    expires_at: float


@dataclass(frozen=True)
class Grant:
    """Who an access token speaks for."""

    user: User
    client_id: str
    divisions: tuple[int, ...]


def _stamp() -> str:
    # Exact's codes and refresh tokens contain '!', which clients must URL-encode.
    return f"stampNL001!{secrets.token_urlsafe(32)}"


def _dotnet(moment: float) -> str:
    return f"{datetime.fromtimestamp(moment, UTC):%m/%d/%Y %I:%M:%S %p} +00:00"


class OAuth:
    def __init__(self, clock: Clock, user: User) -> None:
        self.clock = clock
        self.user = user  # the one Exact user who signs in and consents
        self.codes: dict[str, AuthCode] = {}
        self.chains: dict[str, Chain] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.revision = 0

    # consent -----------------------------------------------------------------------------
    def app(self, config: SandboxConfig, client_id: str, redirect_uri: str) -> AppRegistration:
        """The registered app, if `redirect_uri` is one of its redirect URIs (else ValueError)."""
        app = config.apps.get(client_id)
        if app is None:
            raise ValueError(f"Unknown client_id '{client_id}'.")
        if not any(fnmatchcase(redirect_uri, pattern) for pattern in app.redirect_uris):
            raise ValueError(f"The redirect_uri '{redirect_uri}' is not registered for this app.")
        return app

    def issue_code(
        self, config: SandboxConfig, client_id: str, redirect_uri: str, divisions: list[int]
    ) -> str:
        self.app(config, client_id, redirect_uri)
        if not divisions:
            raise ValueError("Grant access to at least one division.")
        if not set(divisions) <= set(self.user.divisions):
            raise ValueError(f"{self.user.full_name} has no access to {sorted(divisions)}.")
        code = _stamp()
        self.codes[code] = AuthCode(client_id, redirect_uri, sorted(divisions), self.clock.epoch())
        self.revision += 1
        return code

    # token endpoint ----------------------------------------------------------------------
    def token(self, config: SandboxConfig, form: dict[str, str]) -> dict[str, str]:
        client_id = form.get("client_id", "")
        app = config.apps.get(client_id)
        if app is None or not secrets.compare_digest(
            form.get("client_secret", ""), app.client_secret
        ):
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            chain = self._redeem_code(config, form, client_id)
        elif grant_type == "refresh_token":
            chain = self._refresh(config, form.get("refresh_token", ""), client_id)
        else:
            raise OAuthError(
                400, "unsupported_grant_type", f"Unsupported grant_type '{grant_type}'."
            )
        self.revision += 1
        return self._issue(config, chain)

    def _redeem_code(self, config: SandboxConfig, form: dict[str, str], client_id: str) -> Chain:
        code = self.codes.get(form.get("code", ""))
        now = self.clock.epoch()
        if code is None or code.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "The authorization code is invalid.")
        if code.used:
            raise OAuthError(400, "invalid_grant", "The authorization code has already been used.")
        if now > code.issued_at + config.code_ttl:
            raise OAuthError(400, "invalid_grant", "The authorization code has expired.")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(400, "invalid_grant", "The redirect_uri does not match the request.")
        code.used = True
        chain = Chain(
            id=secrets.token_hex(8),
            client_id=client_id,
            user_id=self.user.user_id,
            divisions=code.divisions,
            refresh_token="",
            refresh_issued_at=now,
            access_issued_at=now,
        )
        self.chains[chain.id] = chain
        return chain

    def _refresh(self, config: SandboxConfig, token: str, client_id: str) -> Chain:
        now = self.clock.epoch()
        chain = next((c for c in self.chains.values() if c.refresh_token == token), None)
        if chain is None:
            old = next((c for c in self.chains.values() if token in c.old_refresh_tokens), None)
            if old is None:
                raise OAuthError(400, "invalid_grant", "The refresh token is invalid.")
            if config.revoke_chain_on_reuse:
                old.revoked = True
            raise OAuthError(401, "unauthorized_client", "Old refresh token used.")
        if chain.client_id != client_id:
            raise OAuthError(
                400, "invalid_grant", "The refresh token was issued to another client."
            )
        if chain.revoked:
            raise OAuthError(
                401,
                "unauthorized_client",
                "The refresh token was revoked because an old refresh token was used.",
            )
        expires = chain.refresh_issued_at + config.refresh_token_ttl
        if now > expires:
            raise OAuthError(
                400,
                "invalid_request",
                f"The refresh token expired at {_dotnet(expires)} and it is now {_dotnet(now)}.",
            )
        if now < chain.access_issued_at + config.refresh_guard:
            # Observed answer (websmurf/laravel-exact-online#31, 2026): 400 with this text and
            # `Reason: TooEarlyToRefreshTokens`.
            raise OAuthError(
                config.too_early_refresh_status,
                "access_denied",
                "Rate limit exceeded: access_token not expired",
                reason="TooEarlyToRefreshTokens",
            )
        chain.old_refresh_tokens.append(chain.refresh_token)
        chain.access_issued_at = chain.refresh_issued_at = now
        return chain

    def _issue(self, config: SandboxConfig, chain: Chain) -> dict[str, str]:
        access = secrets.token_urlsafe(48)
        chain.refresh_token = _stamp()
        self.access_tokens[access] = AccessToken(
            chain.id, chain.access_issued_at + config.access_token_ttl
        )
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": str(config.access_token_ttl),  # a string, as Exact sends it
            "refresh_token": chain.refresh_token,
        }

    # API calls ---------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Grant:
        scheme, _, token = (authorization or "").partition(" ")
        found = self.access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if found is None or self.clock.epoch() >= found.expires_at:
            raise ExactError(401, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
        chain = self.chains[found.chain_id]
        return Grant(self.user, chain.client_id, tuple(chain.divisions))

    # persistence -------------------------------------------------------------------------
    def dump(self) -> dict:
        return {
            "codes": {k: asdict(v) for k, v in self.codes.items()},
            "chains": {k: asdict(v) for k, v in self.chains.items()},
            "access_tokens": {k: asdict(v) for k, v in self.access_tokens.items()},
        }

    def load(self, data: dict) -> None:
        self.codes = {k: AuthCode(**v) for k, v in data["codes"].items()}
        self.chains = {k: Chain(**v) for k, v in data["chains"].items()}
        self.access_tokens = {k: AccessToken(**v) for k, v in data["access_tokens"].items()}
