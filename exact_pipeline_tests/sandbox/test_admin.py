"""The admin API under /_sandbox/: clock, config, reset, seed, request log, store, state file."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from exact_pipeline_tests.conftest import free_port
from exact_pipeline_tests.sandbox.helpers import BE, NL, ExactClient, standalone_sandbox


def test_health(exact: ExactClient) -> None:
    assert exact.http.get("/_sandbox/health").json() == {"status": "ok"}


def test_clock_advances_and_drives_created_dates(exact: ExactClient) -> None:
    before = exact.http.get("/_sandbox/clock").json()
    assert set(before) >= {"now", "epoch_ms"}
    after = exact.http.post("/_sandbox/clock/advance", json={"seconds": 86400 * 3}).json()
    assert after["epoch_ms"] - before["epoch_ms"] >= 86400 * 3 * 1000
    assert exact.http.post("/_sandbox/clock/advance", json={"seconds": -5}).status_code == 400
    exact.refresh()
    account = exact.created("crm/Accounts", {"Name": "Future BV"})
    created = exact.store("crm/Accounts")[-1]
    assert created["ID"] == account["ID"]
    assert datetime.fromisoformat(created["Created"]) > datetime.fromisoformat(before["local"])
    set_to = exact.http.post(
        "/_sandbox/clock/set", json={"now": "2027-01-01T09:00:00+00:00"}
    ).json()
    assert set_to["now"].startswith("2027-01-01T09:00")
    # Clients learn Exact's time from the Date header: it follows the sandbox clock.
    answered = exact.http.get("/api/v1/current/Me")
    assert parsedate_to_datetime(answered.headers["date"]).year == 2027


def test_config_get_and_partial_update(exact: ExactClient) -> None:
    config = exact.http.get("/_sandbox/config").json()
    assert {
        "minutely_limit": 60,
        "daily_limit": 5000,
        "window_seconds": 60,
        "error_block_enabled": True,
        "access_token_ttl": 600,
        "refresh_guard": 570,
        "attachment_max_bytes": 10 * 1024 * 1024,
    }.items() <= config.items()
    assert config["field_limits"]["SalesInvoices.YourRef"] == 40
    updated = exact.configure(minutely_limit=5)
    assert updated["minutely_limit"] == 5 and updated["daily_limit"] == 5000
    assert exact.http.post("/_sandbox/config", json={"nope": 1}).status_code == 400
    assert exact.http.post("/_sandbox/config", json={"window_seconds": 0}).status_code == 400


def test_token_ttl_is_configurable(exact: ExactClient) -> None:
    exact.configure(access_token_ttl=30, refresh_guard=20)
    exact.connect([NL])
    assert exact.tokens["expires_in"] == "30"
    exact.advance(21)
    assert exact.refresh().status_code == 200
    exact.advance(31)
    assert exact.get("vat/VATCodes").status_code == 401


def test_reset_restores_the_seeded_state(exact: ExactClient) -> None:
    exact.configure(minutely_limit=5)
    exact.created("crm/Accounts", {"Name": "Temporary BV"})
    exact.http.post("/_sandbox/faults", json={"rules": [{"kind": "latency", "latency_ms": 1}]})
    exact.advance(10_000)
    exact.http.post("/_sandbox/reset").raise_for_status()
    assert exact.http.get("/_sandbox/requests").json()["total"] == 0
    assert exact.get("vat/VATCodes").status_code == 401  # tokens are gone
    assert exact.http.get("/_sandbox/config").json()["minutely_limit"] == 60
    assert exact.http.get("/_sandbox/faults").json() == {"rules": []}
    assert abs(exact.http.get("/_sandbox/clock").json()["offset_seconds"]) < 1
    assert "Temporary BV" not in [a["Name"] for a in exact.store("crm/Accounts")]


def test_seed_restores_master_data_and_keeps_the_rest(exact: ExactClient) -> None:
    exact.configure(minutely_limit=100)
    item = exact.item("HW-BOOK")
    assert exact.delete(f"logistics/Items(guid'{item['ID']}')").status_code == 204
    exact.put(f"crm/Accounts(guid'{exact.account('10001')['ID']}')", {"Name": "Renamed"})
    added = exact.created("crm/Accounts", {"Name": "Added BV"})
    exact.http.post("/_sandbox/seed").raise_for_status()
    assert exact.item("HW-BOOK")["ID"] == item["ID"]
    assert exact.account("10001")["Name"] == "Bakkerij De Gouden Korenaar B.V."
    assert exact.get(f"crm/Accounts(guid'{added['ID']}')").status_code == 200


def test_request_log_counts_per_endpoint_and_division(exact: ExactClient) -> None:
    exact.http.delete("/_sandbox/requests")
    entry = exact.sales_entry("10001", [("8000", Decimal(1))])
    exact.get(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
    exact.get("vat/VATCodes", BE)
    exact.http.get("/api/v1/current/Me", headers=exact.auth)
    log = exact.http.get("/_sandbox/requests").json()
    assert log["by_endpoint"]["POST salesentry/SalesEntries"] == 1
    assert log["by_endpoint"]["GET salesentry/SalesEntries"] == 1
    assert log["by_endpoint"]["GET current/Me"] == 1
    assert log["by_division"] == {str(NL): 4, str(BE): 1}  # 2 look-ups, POST, GET
    assert log["by_division_endpoint"][str(BE)] == {"GET vat/VATCodes": 1}
    assert log["total"] == 6
    last = log["log"][-1]
    assert set(last) >= {"method", "path", "division", "status", "at"}
    assert (last["method"], last["path"], last["status"]) == ("GET", "/api/v1/current/Me", 200)
    exact.http.delete("/_sandbox/requests")
    assert exact.http.get("/_sandbox/requests").json()["total"] == 0


def test_store_inspection_is_raw_and_not_rate_limited(exact: ExactClient) -> None:
    exact.configure(daily_limit=0)
    rows = exact.store("salesentry/SalesEntries")
    assert rows == []
    accounts = exact.store("crm/Accounts")
    assert accounts[0]["Code"].startswith(" ") and "Timestamp" in accounts[0]
    items = exact.store("logistics/Items")
    assert isinstance(items[0]["StandardSalesPrice"], str)  # exact decimals
    assert exact.http.get("/_sandbox/store/310001/nothing/Here").status_code == 404


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with standalone_sandbox(free_port(), state) as url, httpx.Client(base_url=url) as http:
        exact = ExactClient(http)
        exact.connect([NL])
        entry = exact.sales_entry("10001", [("8000", Decimal("10.00"))], YourRef="KEEP")
        exact.advance(100)
    assert state.exists()
    with standalone_sandbox(free_port(), state) as url, httpx.Client(base_url=url) as http:
        exact.http = http
        kept = exact.get(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
        assert kept.status_code == 200 and kept.json()["d"]["YourRef"] == "KEEP"
        assert Decimal(str(kept.json()["d"]["AmountFC"])) == Decimal("12.10")
        exact.advance(471)
        assert exact.refresh().status_code == 200  # the refresh chain survived too
        assert exact.sales_entry("10001", [("8000", Decimal(1))])["EntryNumber"] == 26700002
