"""Exact Online client: OAuth + encrypted token store, paced transport, typed entities.

The pipeline needs only what is re-exported here; endpoints live in `exact.endpoints`.
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
    ServerError,
    TokenNotSaved,
)
from exact_pipeline.exact.masterdata import MasterData
from exact_pipeline.exact.odata import eq, literal
from exact_pipeline.exact.ratelimit import Budget
from exact_pipeline.exact.transport import RetryPolicy
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
    "RetryPolicy",
    "ServerError",
    "TokenNotSaved",
    "eq",
    "literal",
]
