"""`ExactClient`: the one façade the pipeline talks to Exact Online through.

Create ONE client per run (it holds the HTTP connection pool, the token manager, the
per-division budgets and the master-data caches) and pass the division to every call. What it
keeps between runs (tokens, budgets, sync cursors, refusals) lives in the `Stores` it is
handed, and it talks HTTP through an injectable `httpx.BaseTransport`:

    with ExactClient(config, stores) as exact:
        md = exact.master_data(310001)
        for entry in exact.list(310001, SALES_ENTRIES, filter=eq("YourRef", "INV-1")): ...
        entry = exact.create(310001, SALES_ENTRIES, payload, idempotency=LookupKey.field(
            "YourRef", "INV-1"))
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

import httpx

from exact_pipeline.exact import endpoints
from exact_pipeline.exact.auth import TokenManager
from exact_pipeline.exact.clock import EXACT_WINDOW, ServerClock
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.exact.endpoints import Endpoint, M
from exact_pipeline.exact.errorblock import ErrorBlockGuard
from exact_pipeline.exact.masterdata import MasterData
from exact_pipeline.exact.masterstore import SyncPage
from exact_pipeline.exact.models import Division, ExactModel, Me
from exact_pipeline.exact.oauth import exchange_code
from exact_pipeline.exact.odata import Page, eq, literal, page_of, record_of
from exact_pipeline.exact.ratelimit import Budget, RateLimiter
from exact_pipeline.exact.retry import DEFAULT_RETRY, RetryPolicy
from exact_pipeline.exact.stores import Stores
from exact_pipeline.exact.tokens import GrantedDivision, StoredConnection
from exact_pipeline.exact.transport import DEFAULT_TIMEOUT, Transport
from exact_pipeline.exact.writes import LookupKey, create_safely

FIRST_SYNC_TIMESTAMP = 1  # Exact's documented start: `Timestamp gt 1`
VALUES_PER_CALL = 20  # keys per `or` filter: ~1,100 characters of GUIDs, far below the URL limit


class ExactClient:
    def __init__(
        self,
        config: ExactConfig,
        stores: Stores,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        minute_seconds: float = EXACT_WINDOW,
    ) -> None:
        """`stores` are the client's from now on (closed with it). `transport`: httpx's
        default when None. `minute_seconds`: length of the rate-limit window (60 at Exact; the
        sandbox's is configurable). `sleep` is how the client waits (pacing, backoff)."""
        self.config = config
        self._stores = stores
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._clock = ServerClock(minute_seconds)
        self.tokens = stores.tokens
        self._limiter = RateLimiter(self._clock, stores.budgets, sleep, self._calibrate)
        self._auth = TokenManager(config, self._http, self._clock, self.tokens, retry, sleep)
        self._retry = retry
        self._transport = Transport(
            config.base_url,
            self._http,
            self._clock,
            self._auth,
            self._limiter,
            retry,
            sleep,
            ErrorBlockGuard(stores.errors, self._clock),
        )
        self._cursors = stores.cursors
        self._master_data: dict[int, MasterData] = {}

    def __enter__(self) -> ExactClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._stores.close()

    # --- connecting ------------------------------------------------------------------

    def connect(self, code: str) -> StoredConnection:
        """Exchange an authorization code and start a new token chain: the pair is stored
        BEFORE anything else is done with it; then the user and the divisions they granted
        (`current/Me`, `system/Divisions`) are stored beside it."""
        grant = exchange_code(self._http, self.config, self._clock, code)
        self.tokens.connect(grant)
        self.tokens.pin_issue_time(self._auth.pin(grant))
        self._auth.forget()
        me = self.me()
        granted = [
            GrantedDivision(d.Code, d.Description or "")
            for d in self.divisions(me.CurrentDivision)
            if d.Code is not None
        ]
        self.tokens.set_identity(
            user_id=str(me.UserID) if me.UserID else None,
            user_name=me.FullName,
            user_email=me.Email,
            current_division=me.CurrentDivision,
            divisions=granted,
        )
        connection = self.tokens.load()
        assert connection is not None
        return connection

    # --- who and where -----------------------------------------------------------------

    def me(self) -> Me:
        """`current/Me` (not counted in the daily budget)."""
        body = self._transport.request("GET", None, endpoints.ME.path)
        return Me.model_validate(record_of(body))

    def divisions(self, division: int | None = None) -> list[Division]:
        """The divisions the user may use (`system/Divisions`, asked in `division`, default
        the user's current division)."""
        if division is None:
            division = self.me().CurrentDivision
        assert division is not None, "Exact named no current division"
        return list(self.list(division, endpoints.DIVISIONS))

    def budget(self, division: int) -> Budget | None:
        """The division's API budget as last seen (X-RateLimit-* headers), by this client
        or, before its first call there, by any earlier run."""
        return self._limiter.budget(division) or self._stores.budgets.load().get(division)

    def calls_left(self, division: int, *, keep_percent: int = 0) -> int | None:
        """Calls the division may still make today keeping `keep_percent` % of its daily limit
        (None: no budget seen yet, by any run). When the last budget seen would leave none,
        the server's clock is asked (`current/Me`, free) whether its daily reset has passed."""
        budget = self.budget(division)
        if budget is None:
            return None
        left = budget.calls_left(self._clock.now(), keep_percent=keep_percent)
        if left == 0 and not budget.renewed(self._clock.now()):
            self._calibrate()
            left = budget.calls_left(self._clock.now(), keep_percent=keep_percent)
        return left

    def _calibrate(self) -> None:
        """Learn the server's time from `current/Me` (free: not counted in the budgets). A
        refusal means the token expired by a server clock ahead of ours: refresh, ask again."""
        token = self._auth.access_token()
        if self._clock.calibrate(self._http, self.config.base_url, token) is None:
            self._auth.unauthorized(token)
            self._clock.calibrate(self._http, self.config.base_url, self._auth.access_token())

    def keep_in_reserve(
        self, percent: int, division: int | None = None
    ) -> AbstractContextManager[None]:
        """Within, calls in `division` (every division when None) keep `percent` % of its
        daily limit unspent: a call that would spend into it raises `ReserveReached` (with the
        reset time) instead, so the reserve stays for other work (another run, another
        client of the division)."""
        return self._limiter.reserve(percent, division)

    # --- reading -----------------------------------------------------------------------

    def get(self, division: int, endpoint: Endpoint[M], key: UUID | int) -> M:
        """One record by key: `Entity(guid'…')`, with its lines expanded."""
        expand = endpoint.lines is not None
        body = self._transport.request(
            "GET",
            division,
            f"{endpoint.path}({literal(key)})",
            params=self._query(endpoint, expand=expand),
        )
        return endpoint.model.model_validate(record_of(body))

    def list(
        self,
        division: int,
        endpoint: Endpoint[M],
        *,
        filter: str | None = None,
        select: str | None = None,
        expand: bool = False,
        top: int | None = None,
    ) -> Iterator[M]:
        """Every matching record, page after page (`__next`, strictly one at a time).

        `$select` defaults to the model's fields (bulk endpoints demand one). A sync endpoint
        without a filter is read in full (`Timestamp gt 1`); use `sync` to read increments.
        """
        if filter is None and endpoint.is_sync:
            filter = f"Timestamp gt {FIRST_SYNC_TIMESTAMP}"
        params = self._query(endpoint, expand=expand, select=select)
        for name, value in (("$filter", filter), ("$top", top)):
            if value is not None:
                params[name] = str(value)
        for page in self._pages(division, endpoint.path, params):
            yield from (endpoint.model.model_validate(row) for row in page.rows)

    def list_any(
        self,
        division: int,
        endpoint: Endpoint[M],
        field: str,
        values: Iterable[str | int | UUID],
        *,
        select: str | None = None,
        per_call: int = VALUES_PER_CALL,
    ) -> Iterator[M]:
        """The records whose `field` equals any of `values`: an OData `or` filter of
        `per_call` values a call (Exact has no `in`; URLs must stay under 6,000 characters)."""
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), per_call):
            where = " or ".join(eq(field, value) for value in unique[start : start + per_call])
            yield from self.list(division, endpoint, filter=where, select=select)

    def first(
        self, division: int, endpoint: Endpoint[M], filter: str, *, expand: bool = False
    ) -> M | None:
        return next(self.list(division, endpoint, filter=filter, top=1, expand=expand), None)

    def sync(self, division: int, endpoint: Endpoint[M]) -> Iterator[M]:
        """What changed since the last sync of this endpoint in this division.

        The stored Timestamp moves forward after each page has been consumed, so a run that
        stops half-way re-reads at most one page (at-least-once delivery)."""
        since = self._cursors.get(division, endpoint.path) or FIRST_SYNC_TIMESTAMP
        for page in self.sync_pages(division, endpoint, since):
            yield from (record for _, record in page)
            if page:
                self._cursors.advance(division, endpoint.path, max(s for s, _ in page))

    def sync_pages(self, division: int, endpoint: Endpoint[M], since: int) -> Iterator[SyncPage[M]]:
        """The records changed after Timestamp `since`, a page at a time, each with its
        Timestamp: for a caller that keeps its own position (the master-data cache)."""
        assert endpoint.is_sync, f"{endpoint.path} is not a sync endpoint"
        params = {
            "$filter": f"Timestamp gt {since}",
            "$select": f"{endpoint.select()},Timestamp",
        }
        for page in self._pages(division, endpoint.path, params):
            yield [(int(row["Timestamp"]), endpoint.model.model_validate(row)) for row in page.rows]

    def sync_cursor(self, division: int, endpoint: Endpoint[Any]) -> int | None:
        return self._cursors.get(division, endpoint.path)

    def reset_sync(self, division: int, endpoint: Endpoint[Any]) -> None:
        self._cursors.reset(division, endpoint.path)

    def master_data(self, division: int) -> MasterData:
        """The division's reference data, kept in the stores between runs and read from Exact
        only when a code is missing or stale (masterdata.py); one per division and client."""
        if division not in self._master_data:
            self._master_data[division] = MasterData(self, self._stores.master_data, division)
        return self._master_data[division]

    # --- writing -----------------------------------------------------------------------

    def create(
        self,
        division: int,
        endpoint: Endpoint[M],
        payload: Mapping[str, Any] | ExactModel,
        *,
        idempotency: LookupKey,
        lookup_first: bool = False,
    ) -> M:
        """POST a record (with its lines: deep insert); never twice (see writes.py).

        Returns the created record as Exact echoes it, or the existing record found by
        `idempotency`. `lookup_first`: look before posting (a previous attempt's outcome is
        unknown). Raises `ExactValidationError`, `OutcomeUnknownError`, …"""
        body = payload.model_dump(exclude_none=True) if isinstance(payload, ExactModel) else payload

        def post() -> M:
            reply = self._transport.request("POST", division, endpoint.path, payload=body)
            return endpoint.model.model_validate(record_of(reply))

        return create_safely(
            post,
            lambda: self.find(division, endpoint, idempotency),
            attempts=self._retry.write_attempts,
            lookup_first=lookup_first,
            backoff=self._transport.backoff,
        )

    def delete(self, division: int, endpoint: Endpoint[Any], key: UUID) -> None:
        """DELETE one record by key (`Entity(guid'…')`, 204). Raises `NotFoundError` when
        Exact has no such record (e.g. a DELETE whose answer was lost, sent again)."""
        self._transport.request("DELETE", division, f"{endpoint.path}({literal(key)})")

    def find(self, division: int, endpoint: Endpoint[M], lookup: LookupKey) -> M | None:
        """The record of `endpoint` that `lookup` identifies, if it exists."""
        where = lookup.endpoint or endpoint
        if where == endpoint and lookup.accept is not None:
            rows = self.list(division, endpoint, filter=lookup.filter, expand=True)
            return next((row for row in rows if lookup.accept(row)), None)
        if where == endpoint:
            return self.first(division, endpoint, lookup.filter, expand=True)
        row = self.first(division, where, lookup.filter)
        if row is None:
            return None
        key = getattr(row, lookup.key_field or endpoint.key)
        if endpoint.readable:
            return self.get(division, endpoint, key)
        return endpoint.model.model_validate({endpoint.key: key})

    # --- plumbing ----------------------------------------------------------------------

    @staticmethod
    def _query(
        endpoint: Endpoint[Any], *, expand: bool, select: str | None = None
    ) -> dict[str, str]:
        params = {"$select": select or endpoint.select(expand=expand)}
        if expand and endpoint.lines:
            params["$expand"] = endpoint.lines
        return params

    def _pages(self, division: int, path: str, params: dict[str, str]) -> Iterator[Page]:
        page = page_of(self._transport.request("GET", division, path, params=params))
        yield page
        while page.next_url:
            page = page_of(self._transport.request("GET", division, page.next_url))
            yield page
