"""How the sync engine sorts Exact's failures, and how it words them for people.

- STOPS_THE_RUN: nothing can work (the connection must be authorized again, or is not
  configured): raised to the caller.
- STOPS_THE_DIVISION: the division cannot take more today (daily budget spent), at all (no
  access), or on one endpoint for now (`EndpointPaused`: close to Exact's error block): the
  step stops there cleanly; its documents stay staged.
- REFUSED: Exact refused this record (a 4xx, or a 500 with Exact's message that came again):
  the document (or customer) is blocked with Exact's message.
- anything else Exact raises (unavailable, answer lost, rate limit not cured): the record
  failed after the client's own retries; the next run retries it, looking it up first.

The client's texts say what happened; `for_people` adds what to do in this pipeline.
"""

from __future__ import annotations

from exact_pipeline.exact import (
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

STOPS_THE_RUN = (AuthenticationError, ExactConfigurationError)
STOPS_THE_DIVISION = (DailyLimitReached, ForbiddenError, EndpointPaused)
REFUSED = (ExactValidationError, NotFoundError)
LOG_IN = "run `exact-pipeline auth login`"


def for_people(error: ExactError) -> str:
    """The client's text with this pipeline's command or setting that cures it."""
    if isinstance(error, TokenNotSaved):
        return (
            f"{error}; make the state database (STATE_DATABASE_URL) writable again, then {LOG_IN}"
        )
    if isinstance(error, ReauthorizationRequired):
        return f"{error}; {LOG_IN}"
    return str(error)


def plain_failure(error: Exception, doing: str = "talking to Exact") -> str:
    """A failure the next run retries, in plain words, with what happens next."""
    if isinstance(error, OutcomeUnknownError):
        return (
            f"Exact's answer was lost while {doing}, and looking the record up failed too: "
            "the next run looks it up again before posting, so nothing is posted twice"
        )
    if isinstance(error, ServerError):
        return f"Exact was unavailable while {doing} ({error}): the next run tries again"
    if isinstance(error, RateLimitError):
        return f"Exact kept answering 'too many requests' while {doing}: the next run tries again"
    if isinstance(error, ExactError):
        return f"Exact failed while {doing} ({for_people(error)}): the next run tries again"
    return (
        f"an unexpected error while {doing} ({type(error).__name__}: {error}): the next run "
        "tries again; if it persists, report it with this message"
    )
