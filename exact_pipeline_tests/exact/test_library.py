"""The client as a library: it stands on its own (no pipeline import), keeps its state in the
stores it is handed and talks HTTP through the transport it is handed. These tests need no
server and no database: an `httpx.MockTransport` plays Exact, `memory_stores` keep the state.
What Exact really answers is tested against the sandbox in the other modules."""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from exact_pipeline.exact import (
    EndpointPaused,
    ExactClient,
    ExactConfig,
    ExactConfigurationError,
    NotFoundError,
    Stores,
)
from exact_pipeline.exact.endpoints import JOURNALS, SYNC_ITEMS
from exact_pipeline.exact.errorblock import PAUSE_AT
from exact_pipeline.exact.memory import memory_stores
from exact_pipeline.exact.oauth import TokenGrant

LIBRARY = Path(__file__).parents[2] / "exact_pipeline" / "exact"
NL = 310001
CONFIG = ExactConfig(
    base_url="https://exact.test",
    client_id="client",
    client_secret="secret",
    redirect_uri="http://127.0.0.1:8765/callback",
)
Handler = Callable[[httpx.Request], httpx.Response]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_library_imports_nothing_of_the_pipeline() -> None:
    outside = {
        f"{path.name}: {name}"
        for path in LIBRARY.glob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in ("exact_pipeline", "psycopg", "psycopg_pool", "dagster")
        and not name.startswith("exact_pipeline.exact")
    }
    assert outside == set()


# What only the pipeline knows: its command, its variables (EXACT_TOKEN_KEY, STATE_DATABASE_URL …).
PIPELINE_WORDS = re.compile(r"exact-pipeline|_DATABASE_URL|\bEXACT_[A-Z_]+\b")


def test_the_library_texts_name_nothing_of_the_pipeline() -> None:
    """Its messages say what happened; which command or variable cures it is the application's
    to add (the pipeline's `for_people`)."""
    named = {
        f"{path.name}: {node.value!r}"
        for path in LIBRARY.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and PIPELINE_WORDS.search(node.value)
    }
    assert named == set()
    with pytest.raises(ExactConfigurationError) as info:
        ExactConfig(base_url="https://exact.test", client_id="", client_secret="", redirect_uri="x")
    assert info.value.missing == ("client_id", "client_secret")


def client_on(handler: Handler, stores: Stores | None = None) -> ExactClient:
    """A client whose token chain is connected (a fresh pair) and whose HTTP is `handler`."""
    stores = stores or memory_stores()
    stores.tokens.connect(TokenGrant("access-1", "refresh-1", 600, time.time()))
    return ExactClient(CONFIG, stores, transport=httpx.MockTransport(handler), sleep=lambda _: None)


def page(rows: list[dict[str, object]], next_url: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"results": rows}
    if next_url:
        body["__next"] = next_url
    headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4321"}
    return httpx.Response(200, json={"d": body}, headers=headers)


def test_reads_go_through_the_injected_transport_with_the_stored_token() -> None:
    seen: list[httpx.Request] = []

    def exact(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return page([{"ID": "3734121e-2b3c-4d5e-8f90-123456789abc", "Code": " 70 ", "Type": 20}])

    stores = memory_stores()
    with client_on(exact, stores) as client:
        journals = list(client.list(NL, JOURNALS))

    assert [j.Code for j in journals] == ["70"]
    (request,) = seen
    assert request.url.path == f"/api/v1/{NL}/financial/Journals"
    assert request.headers["Authorization"] == "Bearer access-1"
    assert request.url.params["$select"] == JOURNALS.select()
    # The budget the answer carried is handed to the budget store, for the next run.
    assert stores.budgets.load()[NL].daily_remaining == 4321


def test_a_sync_read_moves_the_cursor_in_the_given_store_page_by_page() -> None:
    pages = [
        page([{"ID": None, "Code": "A", "Timestamp": 7}], next_url="https://elsewhere/next"),
        page([{"ID": None, "Code": "B", "Timestamp": 9}]),
    ]
    paths: list[str] = []

    def exact(request: httpx.Request) -> httpx.Response:
        paths.append(str(request.url))
        return pages[len(paths) - 1]

    stores = memory_stores()
    with client_on(exact, stores) as client:
        items = client.sync(NL, SYNC_ITEMS)
        assert next(items).Code == "A"
        assert stores.cursors.get(NL, SYNC_ITEMS.path) is None  # the page is not consumed yet
        assert [item.Code for item in items] == ["B"]

    assert stores.cursors.get(NL, SYNC_ITEMS.path) == 9
    assert httpx.URL(paths[0]).params["$filter"] == "Timestamp gt 1"
    assert paths[1].startswith("https://exact.test/")  # a `__next` link stays on our host


def test_refusals_in_the_given_error_log_pause_the_endpoint_before_exact_blocks_it() -> None:
    calls = 0

    def exact(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(404, json={"error": {"message": {"value": "Not found"}}})

    with client_on(exact) as client:
        for _ in range(PAUSE_AT):
            with pytest.raises(NotFoundError):
                list(client.list(NL, JOURNALS))
        with pytest.raises(EndpointPaused):
            list(client.list(NL, JOURNALS))

    assert calls == PAUSE_AT  # the paused call never reached Exact
