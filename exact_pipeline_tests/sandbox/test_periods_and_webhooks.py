"""read/financial/JournalStatusList (closed periods refuse bookings) and webhook subscriptions
with signed deliveries (reference §8-9)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from exact_pipeline.demo.sandbox_process import free_port
from exact_pipeline_tests.sandbox.helpers import NL, ExactClient

SECRET = "sandbox-webhook-secret"  # the demo app's default webhook secret


def _close(admin: httpx.Client, year: int, period: int, closed: bool = True) -> None:
    body = {"division": NL, "journal": "70", "year": year, "period": period, "closed": closed}
    admin.post("/periods", json=body).raise_for_status()


def test_journal_status_list_shows_open_and_closed_periods(
    exact: ExactClient, admin: httpx.Client
) -> None:
    _close(admin, 2026, 10)
    rows = exact.rows("read/financial/JournalStatusList", **{"$filter": "Journal eq '70'"})
    assert {(r["Year"], r["Period"]) for r in rows if r["Status"] == 1} == {(2026, 10)}
    closed = next(r for r in rows if r["Status"] == 1)
    assert closed["StatusDescription"] == "closed" and closed["JournalType"] == 20
    assert closed["JournalTypeDescription"] == "Sales"
    one = exact.get("read/financial/JournalStatusList(Journal='70',Period=10,Year=2026)")
    assert one.status_code == 200 and one.json()["d"]["Status"] == 1
    assert exact.get("read/financial/JournalStatusList('70')").status_code == 400
    # more than a page (3 journals × 2 years × 12 periods): the composite key pages
    everything = exact.get("read/financial/JournalStatusList").json()["d"]
    assert len(everything["results"]) == 60 and "$skiptoken=" in everything["__next"]
    rest = exact.http.get(everything["__next"], headers=exact.auth).json()["d"]["results"]
    keys = {(r["Journal"], r["Year"], r["Period"]) for r in everything["results"] + rest}
    assert len(keys) == len(everything["results"]) + len(rest) >= 72


def test_booking_into_a_closed_period_is_refused(exact: ExactClient, admin: httpx.Client) -> None:
    _close(admin, 2026, 11)
    refused = exact.post(
        "salesentry/SalesEntries",
        {
            "Customer": exact.account("10001")["ID"],
            "Journal": "70",
            "EntryDate": "2026-11-20T00:00:00",
            "SalesEntryLines": [{"GLAccount": exact.gl("8000")["ID"], "AmountFC": 5}],
        },
    )
    assert refused.status_code == 500
    assert refused.json()["error"]["message"]["value"] == (
        "Periode 2026/11 van dagboek 70 is afgesloten: er kan niet meer in geboekt worden"
    )
    assert exact.store("salesentry/SalesEntries") == []
    moved = exact.sales_entry("10001", [("8000", Decimal(5))], EntryDate="2026-12-01T00:00:00")
    key = f"salesentry/SalesEntries(guid'{moved['EntryID']}')"
    into_closed = exact.put(key, {"ReportingPeriod": 11})
    assert into_closed.status_code == 500 and "afgesloten" in into_closed.text
    _close(admin, 2026, 11, closed=False)
    assert exact.sales_entry("10001", [("8000", Decimal(5))])["ReportingPeriod"] == 11


class _Receiver:
    """A webhook callback: records the raw bodies it is POSTed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/exact-webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int) -> list[bytes]:
        deadline = time.monotonic() + 10
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.bodies


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    receiver = _Receiver()
    yield receiver
    receiver.server.shutdown()


def _verified(raw: bytes) -> dict:
    """The delivery's Content after checking its HashCode the way picqer does."""
    match = re.fullmatch(rb'\{"Content":(.*),"HashCode":"(.*)"\}', raw)
    assert match is not None, raw
    expected = hmac.new(SECRET.encode(), match[1], hashlib.sha256).hexdigest().upper()
    assert match[2].decode() == expected
    return json.loads(match[1])


def test_subscriptions_get_signed_deliveries_on_their_topics(
    exact: ExactClient, receiver: _Receiver
) -> None:
    for topic in ("Accounts", "FinancialTransactions", "SalesEntries"):
        exact.created(
            "webhooks/WebhookSubscriptions", {"CallbackURL": receiver.url, "Topic": topic}
        )
    bogus = exact.post(
        "webhooks/WebhookSubscriptions", {"CallbackURL": receiver.url, "Topic": "Nope"}
    )
    assert bogus.status_code == 500
    account = exact.created("crm/Accounts", {"Name": "Webhook B.V."})
    entry = exact.sales_entry("10001", [("8000", Decimal(5))])
    contents = [_verified(raw) for raw in receiver.wait(3)]
    assert {(c["Topic"], c["Action"], c["Key"]) for c in contents} == {
        ("Accounts", "Create", account["ID"]),
        ("SalesEntries", "Create", entry["EntryID"]),
        ("FinancialTransactions", "Create", entry["EntryID"]),
    }
    first = contents[0]
    assert first["Division"] == NL and first["ExactOnlineEndpoint"].endswith(
        f"guid'{first['Key']}')"
    )
    subscriptions = exact.rows("webhooks/WebhookSubscriptions")
    assert len(subscriptions) == 3 and subscriptions[0]["ClientID"]
    for subscription in subscriptions:
        key = f"webhooks/WebhookSubscriptions(guid'{subscription['ID']}')"
        assert exact.delete(key).status_code == 204
    exact.created("crm/Accounts", {"Name": "Unheard B.V."})
    time.sleep(0.5)
    assert len(receiver.bodies) == 3
