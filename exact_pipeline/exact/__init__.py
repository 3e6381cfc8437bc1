"""Exact Online client library: OAuth and the token chain, paced transport, Exact's vocabulary.

It imports nothing of the pipeline. What it keeps between runs lives in the `Stores` it is
handed (protocols; the pipeline's are in Postgres: `exact_pipeline.state.exact`), and its HTTP
transport can be injected (`httpx.BaseTransport`).

Exact's vocabulary: `models` (read), `payloads` (write), `endpoints` (where each entity lives),
`codes` (type codes), `fields` (text limits), `currency` (decimals per currency), `openitems`.
"""

from exact_pipeline.exact.client import ExactClient
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.exact.errors import (
    AuthenticationError,
    DailyLimitReached,
    EndpointPaused,
    ExactConfigurationError,
    ExactError,
    ExactValidationError,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ReauthorizationRequired,
    ReserveReached,
    ServerError,
    TokenNotSaved,
)
from exact_pipeline.exact.masterdata import MasterData
from exact_pipeline.exact.odata import eq, literal
from exact_pipeline.exact.ratelimit import Budget
from exact_pipeline.exact.retry import RetryPolicy
from exact_pipeline.exact.stores import Stores
from exact_pipeline.exact.writes import LookupKey

__all__ = [
    "AuthenticationError",
    "Budget",
    "DailyLimitReached",
    "EndpointPaused",
    "ExactClient",
    "ExactConfig",
    "ExactConfigurationError",
    "ExactError",
    "ExactValidationError",
    "ForbiddenError",
    "LookupKey",
    "MasterData",
    "NotFoundError",
    "OutcomeUnknownError",
    "RateLimitError",
    "ReauthorizationRequired",
    "ReserveReached",
    "RetryPolicy",
    "ServerError",
    "Stores",
    "TokenNotSaved",
    "eq",
    "literal",
]
