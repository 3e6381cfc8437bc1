"""The write protocol: how every POST to Exact is made (a document's steps, a customer's account,
a payment's receipt), so that nothing is ever posted twice.

1. A record whose earlier POST may have reached Exact without the ledger hearing back (`in
   doubt`: the row's in-flight mark, a customer's `creating` mark) is looked up first, by its
   idempotency key; found, it is taken as posted, and the marks of that earlier POST stay.
2. The ledger is marked before the POST (`mark`: in flight, with what is being posted), so a
   run that dies before hearing back looks the record up next time.
3. The POST carries the key: after an unclear answer the client looks the record up instead
   of posting again (`ExactClient.create`).
4. Refused, or turned away unprocessed (a spent budget, no access): nothing was created, and
   `unmark` takes the mark back (a caller that records the outcome itself passes none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from exact_pipeline.exact import ExactClient, LookupKey
from exact_pipeline.exact.endpoints import Endpoint
from exact_pipeline.sync.core.errors import REFUSED, STOPS_THE_DIVISION

M = TypeVar("M")


def post_once(
    exact: ExactClient,
    division: int,
    endpoint: Endpoint[M],
    body: Any,
    key: LookupKey,
    *,
    in_doubt: bool,
    mark: Callable[[], object],
    unmark: Callable[[], object] | None = None,
) -> M:
    """Exact's record: the one an earlier POST created (`in_doubt`, found), or a new one."""
    if in_doubt and (found := exact.find(division, endpoint, key)) is not None:
        return found
    mark()
    try:
        return exact.create(division, endpoint, body, idempotency=key)
    except (*REFUSED, *STOPS_THE_DIVISION):
        if unmark is not None:
            unmark()
        raise
