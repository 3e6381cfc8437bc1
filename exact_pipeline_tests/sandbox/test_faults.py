"""Fault injection: errors, latency, 429 bursts, lost responses and token failures."""

from __future__ import annotations

import time

import httpx
import pytest

from exact_pipeline_tests.sandbox.helpers import ExactClient


def _faults(exact: ExactClient, *rules: dict) -> list[dict]:
    reply = exact.http.post("/_sandbox/faults", json={"rules": list(rules)})
    assert reply.status_code == 200, reply.text
    return reply.json()["rules"]


def _account(name: str) -> dict:
    return {"Name": name}


def test_error_rule_fires_the_given_number_of_times(exact: ExactClient) -> None:
    _faults(
        exact,
        {"kind": "error", "path": "crm/Accounts", "method": "POST", "times": 2, "status": 503},
    )
    assert exact.post("crm/Accounts", _account("A")).status_code == 503
    assert (
        exact.get("crm/Accounts", **{"$filter": "Name eq 'A'"}).status_code == 200
    )  # GET unaffected
    assert exact.post("crm/Accounts", _account("B")).status_code == 503
    assert exact.post("crm/Accounts", _account("C")).status_code == 201
    [rule] = exact.http.get("/_sandbox/faults").json()["rules"]
    assert (rule["matched"], rule["fired"], rule["remaining"]) == (3, 2, 0)
    names = [a["Name"] for a in exact.store("crm/Accounts")]
    assert "A" not in names and "B" not in names and "C" in names  # nothing was written


def test_every_and_probability(exact: ExactClient) -> None:
    _faults(exact, {"kind": "error", "path": "vat/VATCodes", "every": 2})
    assert [exact.get("vat/VATCodes").status_code for _ in range(4)] == [200, 500, 200, 500]
    exact.http.delete("/_sandbox/faults")
    _faults(exact, {"kind": "error", "path": "vat/VATCodes", "probability": 0.0})
    assert {exact.get("vat/VATCodes").status_code for _ in range(5)} == {200}


def test_latency(exact: ExactClient) -> None:
    _faults(exact, {"kind": "latency", "path": "vat/VATCodes", "latency_ms": 300, "times": 1})
    started = time.monotonic()
    assert exact.get("vat/VATCodes").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_burst_429_has_only_minutely_headers_and_is_not_counted(exact: ExactClient) -> None:
    _faults(exact, {"kind": "burst_429", "path": "vat/VATCodes", "times": 2})
    first, second, third = (exact.get("vat/VATCodes") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Remaining" not in first.headers
    assert third.headers["X-RateLimit-Minutely-Remaining"] == "59"


def test_lost_response_commits_the_write_and_drops_the_connection(exact: ExactClient) -> None:
    _faults(exact, {"kind": "lost_response", "path": "crm/Accounts", "method": "POST", "times": 1})
    with pytest.raises(httpx.TransportError):
        exact.post("crm/Accounts", _account("Lost BV"))
    assert [a["Name"] for a in exact.store("crm/Accounts") if a["Name"] == "Lost BV"] == ["Lost BV"]
    entry = exact.http.get("/_sandbox/requests").json()["log"][-1]
    assert (entry["status"], entry["committed_status"], entry["fault"]) == (
        None,
        201,
        "lost_response",
    )
    # the client can find what it wrote by looking it up
    assert exact.rows("crm/Accounts", **{"$filter": "Name eq 'Lost BV'"})


def test_lost_response_as_gateway_timeout(exact: ExactClient) -> None:
    _faults(
        exact, {"kind": "lost_response", "path": "crm/Accounts", "method": "POST", "status": 504}
    )
    reply = exact.post("crm/Accounts", _account("Timeout BV"))
    assert reply.status_code == 504
    assert exact.rows("crm/Accounts", **{"$filter": "Name eq 'Timeout BV'"})


def test_token_failure_before_commit_keeps_the_refresh_token(exact: ExactClient) -> None:
    _faults(exact, {"kind": "token_failure", "times": 1})
    exact.advance(571)
    assert exact.refresh().status_code == 500
    assert exact.refresh().status_code == 200


def test_token_response_lost_after_rotation_kills_the_chain(exact: ExactClient) -> None:
    _faults(exact, {"kind": "token_failure", "after_commit": True, "times": 1})
    exact.advance(571)
    held = exact.tokens["refresh_token"]
    with pytest.raises(httpx.TransportError):
        exact.refresh()
    exact.advance(571)
    reply = exact.refresh(held)
    assert reply.status_code == 401
    assert reply.json()["error_description"] == "Old refresh token used."


def test_token_failure_only_touches_the_token_endpoint(exact: ExactClient) -> None:
    rules = _faults(exact, {"kind": "token_failure", "path": "", "status": 502})
    assert rules[0]["path"] == "oauth2/token"
    assert exact.get("vat/VATCodes").status_code == 200


def test_rules_are_validated_and_cleared(exact: ExactClient) -> None:
    bad = exact.http.post("/_sandbox/faults", json={"rules": [{"kind": "meteor"}]})
    assert bad.status_code == 400
    _faults(exact, {"kind": "error", "path": "vat"})
    assert exact.http.delete("/_sandbox/faults").json() == {"rules": []}
    assert exact.get("vat/VATCodes").status_code == 200


def test_a_slow_write_commits_even_when_the_client_gave_up(exact: ExactClient) -> None:
    _faults(exact, {"kind": "latency", "path": "crm/Accounts", "method": "POST", "latency_ms": 600})
    with pytest.raises(httpx.ReadTimeout):
        exact.http.post(
            "/api/v1/310001/crm/Accounts",
            json={"Name": "Slow BV"},
            headers=exact.auth,
            timeout=httpx.Timeout(0.2, connect=5),
        )
    # counted when it arrived, answered (and stored) later
    assert exact.http.get("/_sandbox/requests").json()["by_endpoint"]["POST crm/Accounts"] == 1
    deadline = time.monotonic() + 5
    while "Slow BV" not in [a["Name"] for a in exact.store("crm/Accounts")]:
        assert time.monotonic() < deadline, "the write never committed"
        time.sleep(0.05)


def test_body_contains_singles_out_one_record(exact: ExactClient) -> None:
    _faults(
        exact,
        {"kind": "error", "path": "crm/Accounts", "status": 400, "body_contains": "Refused Ltd"},
    )
    assert exact.post("crm/Accounts", _account("Refused Ltd")).status_code == 400
    assert exact.post("crm/Accounts", _account("Welcome Ltd")).status_code == 201
    assert exact.post("crm/Accounts", _account("Refused Ltd")).status_code == 400
    [rule] = exact.http.get("/_sandbox/faults").json()["rules"]
    assert (rule["matched"], rule["fired"]) == (2, 2)
