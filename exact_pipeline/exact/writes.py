"""Creates that never post twice.

Exact has no idempotency key, and a POST whose answer is lost (timeout, reset connection, 5xx)
may have been committed. So every create names a `LookupKey`: a filter that finds the record
if it exists. After an unknown outcome the record is looked up; only when it is certainly
absent is the POST sent again. Keys the pipeline uses (our document number is the idempotency
key everywhere):

- sales entries / sales invoices: `YourRef eq '<document number>'`;
- documents: `Subject eq '<subject carrying the document number>'`;
- attachments: `Document eq guid'<document>' and FileName eq '<file name>'`;
- accounts: the account `Code` (18 characters, left-padded: `LookupKey.account_code`);
- booking a sales invoice (PrintedSalesInvoices, POST only): the invoice with Status 50
  (`LookupKey(..., endpoint=SALES_INVOICES, key_field="InvoiceID")`);
- bank entries: a line carrying the payment reference, via `BANK_ENTRY_LINES` and `EntryID`.

Unknown outcomes (5xx, no answer, a timeout, a page that is not JSON) are tried again within the
call, with backoff, a bounded number of times: a flaky afternoon at Exact costs a few seconds,
not an hour. A 500 that carries an OData message may be a business validation error in Exact's
dialect, or a passing fault: it is tried once more (5xx do not count towards Exact's error
block), and raised as `ExactValidationError` only when it comes again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from exact_pipeline.exact import odata
from exact_pipeline.exact.errors import (
    ExactError,
    ExactValidationError,
    OutcomeUnknownError,
    ServerError,
)

if TYPE_CHECKING:
    from exact_pipeline.exact.endpoints import Endpoint

T = TypeVar("T")
ACCOUNT_CODE_WIDTH = 18


@dataclass(frozen=True)
class LookupKey:
    """How to find a record if it was created: an OData filter on `endpoint` (default: the
    created entity's own), and the field of that row holding the created entity's key."""

    filter: str
    endpoint: Endpoint | None = None
    key_field: str | None = None
    # When the filter cannot tell our record from others (a shared account name), the row
    # that is ours; every row the filter finds is read to pick it.
    accept: Callable[[Any], bool] | None = None

    @classmethod
    def field(cls, name: str, value: str | int) -> LookupKey:
        return cls(odata.eq(name, value))

    @classmethod
    def account_code(cls, code: str) -> LookupKey:
        # Exact stores account codes left-padded to 18; an unpadded filter matches nothing.
        return cls(odata.eq("Code", code.strip().rjust(ACCOUNT_CODE_WIDTH)))


def create_safely(
    post: Callable[[], T],
    find: Callable[[], T | None],
    *,
    attempts: int = 4,
    lookup_first: bool = False,
    backoff: Callable[[int], None] = lambda failures: None,
) -> T:
    """POST via `post`; after an unknown outcome, wait (`backoff(failures)`), `find`, and only
    if the record is certainly absent, POST again: at most `attempts` POSTs.

    `lookup_first`: a previous run may have posted it already (the ledger knows): look first.
    """
    if lookup_first and (existing := _look_up(find)) is not None:
        return existing
    last: ServerError | None = None
    business = False  # a 500 carrying Exact's message was met already
    for failures in range(1, attempts + 1):
        try:
            return post()
        except ServerError as exc:
            last = error = exc
        backoff(failures)  # before the look-up too: a slow commit has time to land
        if (existing := _look_up(find, error)) is not None:
            return existing
        if error.status == 500 and error.message:
            if business:
                raise _as_validation(error) from error
            business = True
    assert last is not None
    said = f": {last.message}" if last.message else ""
    raise ServerError(
        f"gave up after {attempts} tries; the record was not created{said}",
        method=last.method,
        path=last.path,
        division=last.division,
        status=last.status,
    ) from last


def _look_up(find: Callable[[], T | None], cause: ExactError | None = None) -> T | None:
    try:
        return find()
    except ExactError as exc:
        raise OutcomeUnknownError(
            f"looking the record up failed: {exc}",
            method=cause.method if cause else exc.method,
            path=cause.path if cause else exc.path,
            division=exc.division,
        ) from exc


def _as_validation(exc: ServerError) -> ExactValidationError:
    return ExactValidationError(
        exc.message, method=exc.method, path=exc.path, division=exc.division, status=exc.status
    )
