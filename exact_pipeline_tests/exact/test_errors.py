"""Errors say where and why, in Exact's words, and never leak a token or a secret."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from uuid import UUID

import pytest

from exact_pipeline.exact import (
    AuthenticationError,
    DailyLimitReached,
    ExactClient,
    ExactConfig,
    ExactError,
    ExactValidationError,
    ForbiddenError,
    LookupKey,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ReauthorizationRequired,
    ServerError,
)
from exact_pipeline.exact.endpoints import JOURNALS, SALES_ENTRIES
from exact_pipeline_tests.exact.conftest import (
    CLIENT_SECRET,
    FORBIDDEN,
    NL,
    TOKEN_KEY,
    SandboxAdmin,
)


def test_the_hierarchy() -> None:
    assert issubclass(ReauthorizationRequired, AuthenticationError)
    assert issubclass(DailyLimitReached, RateLimitError)
    for kind in (
        AuthenticationError,
        ForbiddenError,
        NotFoundError,
        ExactValidationError,
        RateLimitError,
        ServerError,
        OutcomeUnknownError,
    ):
        assert issubclass(kind, ExactError)
    error = ForbiddenError(
        "Geen toegang", reason="NoDivisionAccess", method="GET", path="/api/v1/1/x", division=1
    )
    assert str(error) == (
        "Exact Online refused access (GET /api/v1/1/x, division 1): Geen toegang "
        "[Reason: NoDivisionAccess]"
    )
    reset = datetime(2026, 11, 24, tzinfo=UTC)
    assert "2026-11-24T00:00:00+00:00" in str(DailyLimitReached(reset_at=reset, division=2))


def test_errors_cross_process_boundaries() -> None:
    reset = datetime(2026, 11, 24, tzinfo=UTC)
    error = DailyLimitReached("Too many requests", reset_at=reset, method="GET", path="/x")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DailyLimitReached and copy.reset_at == reset
    assert str(copy) == str(error)
    forbidden = pickle.loads(pickle.dumps(ForbiddenError("no", reason="BlockedUser")))
    assert forbidden.reason == "BlockedUser"


def collect_errors(client: ExactClient, admin: SandboxAdmin) -> list[ExactError]:
    """Provoke one of each kind of failure against the sandbox."""
    errors: list[ExactError] = []
    attempts = [
        lambda: client.get(NL, JOURNALS, UUID(int=7)),
        lambda: list(client.list(FORBIDDEN, JOURNALS)),
        lambda: client.create(
            NL,
            SALES_ENTRIES,
            {"YourRef": "X"},
            idempotency=LookupKey.field("YourRef", "X"),
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ExactError) as info:
            attempt()
        errors.append(info.value)
    admin.advance(31 * 86400)  # the chain dies
    with pytest.raises(ExactError) as info:
        list(client.list(NL, JOURNALS))
    errors.append(info.value)
    return errors


def test_errors_never_contain_tokens_or_secrets(
    client: ExactClient, admin: SandboxAdmin, config: ExactConfig
) -> None:
    list(client.list(NL, JOURNALS))
    stored = client.tokens.load()
    assert stored is not None
    errors = collect_errors(client, admin)
    kinds = {type(e) for e in errors}
    assert {NotFoundError, ForbiddenError, ExactValidationError, ReauthorizationRequired} <= kinds
    secrets = (stored.access_token, stored.refresh_token, CLIENT_SECRET, TOKEN_KEY)
    for error in errors:
        text = " ".join((str(error), repr(error), *map(str, error.args), repr(vars(error))))
        assert error.endpoint and error.endpoint.split()[0] in ("GET", "POST")
        for secret in secrets:
            assert secret not in text, type(error)
    assert TOKEN_KEY not in repr(config) and CLIENT_SECRET not in repr(config)
