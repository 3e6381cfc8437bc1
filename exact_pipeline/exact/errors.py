"""What can go wrong talking to Exact Online, as a small hierarchy.

Every error names the call (method + path, without the query string), the division and, when
Exact said something, Exact's own message. The texts say what happened, not which command or
setting fixes it: the application adds that. Nothing here ever holds a token or a secret: the
fields are filled only from request lines and Exact's error bodies, never from headers or forms.

    ExactError
    ├── ExactConfigurationError      a setting missing or wrong; `missing` names the fields
    ├── AuthenticationError          401 that one refresh + retry did not cure
    │   └── ReauthorizationRequired  dead token chain: the user must authorize the app again
    │       └── TokenNotSaved        a rotated token the token store would not keep
    ├── ForbiddenError               403; `reason` is Exact's `Reason` header
    ├── NotFoundError                404
    ├── ExactValidationError         Exact refused the data (400, business 500 with a message)
    ├── RateLimitError               429s that waiting did not cure
    │   ├── DailyLimitReached        the division's daily budget is spent; `reset_at`
    │   │   └── ReserveReached       what is left is the reserve the caller keeps; `reserve`
    │   └── EndpointPaused           too many 4xx on one endpoint this hour; `until`
    ├── ServerError                  5xx / unreachable after the allowed retries
    └── OutcomeUnknownError          a write whose result could not be determined
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class ExactError(Exception):
    """Base of every Exact Online failure."""

    summary = "Exact Online call failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        division: int | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.division = division
        self.status = status
        super().__init__(str(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields: rebuild from the state, so errors cross process boundaries.
        return _rebuild, (type(self), dict(vars(self)))

    @property
    def endpoint(self) -> str | None:
        return f"{self.method} {self.path}" if self.method and self.path else None

    def __str__(self) -> str:
        parts = (self.endpoint, self._division_text(), self._status_text())
        where = [part for part in parts if part]
        text = self.summary
        if where:
            text += f" ({', '.join(where)})"
        if self.message:
            text += f": {self.message}"
        return text

    def _division_text(self) -> str | None:
        return f"division {self.division}" if self.division is not None else None

    def _status_text(self) -> str | None:
        return f"HTTP {self.status}" if self.status is not None else None


class ExactConfigurationError(ExactError):
    summary = "Exact Online is not configured correctly"

    def __init__(
        self, message: str | None = None, *, missing: tuple[str, ...] = (), **where: Any
    ) -> None:
        self.missing = missing  # `ExactConfig` fields left empty: the application names them
        super().__init__(message, **where)


class AuthenticationError(ExactError):
    summary = "Exact Online refused the credentials"


class ReauthorizationRequired(AuthenticationError):
    summary = "The Exact Online connection must be authorized again"


class ForbiddenError(ExactError):
    summary = "Exact Online refused access"

    def __init__(
        self, message: str | None = None, *, reason: str | None = None, **where: Any
    ) -> None:
        self.reason = reason
        super().__init__(message, **where)

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} [Reason: {self.reason}]" if self.reason else text


class TokenNotSaved(ReauthorizationRequired):
    summary = (
        "Exact Online rotated the refresh token, but the token store did not keep the new one, "
        "so the stored token is no longer valid: the token store must take writes again, then "
        "the connection must be authorized again"
    )


class NotFoundError(ExactError):
    summary = "Exact Online has no such resource"


class ExactValidationError(ExactError):
    summary = "Exact Online rejected the data"


class RateLimitError(ExactError):
    summary = "Exact Online rate limit"


class DailyLimitReached(RateLimitError):
    summary = "The division's daily Exact Online API budget is spent"

    def __init__(self, message: str | None = None, *, reset_at: datetime, **where: Any) -> None:
        self.reset_at = reset_at
        super().__init__(message, **where)

    def __str__(self) -> str:
        return f"{super().__str__()}; it resets at {self.reset_at.isoformat()}"


class ReserveReached(DailyLimitReached):
    """What is left of the division's daily budget is the share the caller keeps unspent
    (`ExactClient.keep_in_reserve`): its `reserve` calls are for other work until `reset_at`."""

    summary = "The division's daily Exact Online API budget is down to the reserve kept"

    def __init__(self, message: str | None = None, *, reserve: int, **where: Any) -> None:
        self.reserve = reserve
        super().__init__(message, **where)

    def __str__(self) -> str:
        return f"{super().__str__()} ({self.reserve} calls kept)"


class EndpointPaused(RateLimitError):
    """Exact refused `errors` calls to this endpoint of the division within the last hour;
    more than 10 would block the endpoint for an hour (escalating), so the pipeline stops
    calling it until `until`, when enough of those refusals are an hour old."""

    summary = "Calls to this Exact Online endpoint are paused to stay clear of Exact's error block"

    def __init__(
        self, message: str | None = None, *, until: datetime, errors: int, **where: Any
    ) -> None:
        self.until = until
        self.errors = errors
        super().__init__(message, **where)

    def __str__(self) -> str:
        return f"{super().__str__()}; until {self.until.isoformat()}"


class ServerError(ExactError):
    summary = "Exact Online is unavailable or failed"


class OutcomeUnknownError(ExactError):
    """A create whose result is unknown: look the record up before trying it again."""

    summary = "The outcome of the write is unknown; look the record up before retrying it"


def _rebuild(cls: type[ExactError], state: dict[str, Any]) -> ExactError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error
