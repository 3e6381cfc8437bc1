"""A tiny Exact client for the sandbox tests: tokens, URLs and the common calls."""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from exact_pipeline.demo import catalog
from exact_pipeline.demo.sandbox_process import SandboxProcess

CLIENT_ID = "exact-pipeline-demo"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "http://localhost:8765/callback"
NL, BE, FORBIDDEN = 310001, 320001, 330001
JSON = {"Accept": "application/json"}
SEEDED_ITEMS = len(catalog.EXACT_ITEMS)  # sales items of a seeded demo division


def body_json(body: Any) -> bytes:
    """JSON as a client sends it: Decimal amounts become JSON numbers."""

    def number(value: Any) -> float:
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(type(value).__name__)

    return json.dumps(body, default=number).encode()


def json_date(moment: datetime) -> str:
    """The `/Date(ms)/` Exact writes for a naive local datetime."""
    return f"/Date({calendar.timegm(moment.timetuple()) * 1000})/"


class ExactClient:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.tokens: dict[str, str] = {}

    # OAuth ------------------------------------------------------------------------------
    def code(self, divisions: list[int]) -> str:
        reply = self.http.post(
            "/_sandbox/oauth/code",
            json={"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "divisions": divisions},
        )
        reply.raise_for_status()
        return reply.json()["code"]

    def token_request(self, **form: str) -> httpx.Response:
        data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET} | form
        return self.http.post("/api/oauth2/token", data=data)

    def connect(self, divisions: list[int]) -> dict[str, str]:
        reply = self.token_request(
            grant_type="authorization_code", code=self.code(divisions), redirect_uri=REDIRECT_URI
        )
        reply.raise_for_status()
        self.tokens = reply.json()
        return self.tokens

    def refresh(self, refresh_token: str | None = None) -> httpx.Response:
        reply = self.token_request(
            grant_type="refresh_token", refresh_token=refresh_token or self.tokens["refresh_token"]
        )
        if reply.status_code == 200:
            self.tokens = reply.json()
        return reply

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"} | JSON

    # API ------------------------------------------------------------------------------------
    def get(self, path: str, division: int = NL, **params: Any) -> httpx.Response:
        return self.http.get(f"/api/v1/{division}/{path}", params=params, headers=self.auth)

    def rows(self, path: str, division: int = NL, **params: Any) -> list[dict]:
        reply = self.get(path, division, **params)
        assert reply.status_code == 200, reply.text
        return reply.json()["d"]["results"]

    def post(
        self, path: str, body: dict, division: int = NL, *, representation: bool = True
    ) -> httpx.Response:
        headers = self.auth | {"Content-Type": "application/json"}
        if representation:
            headers["Prefer"] = "return=representation"
        return self.http.post(
            f"/api/v1/{division}/{path}", content=body_json(body), headers=headers
        )

    def created(self, path: str, body: dict, division: int = NL) -> dict:
        reply = self.post(path, body, division)
        assert reply.status_code == 201, reply.text
        return reply.json()["d"]

    def put(self, path: str, body: dict, division: int = NL) -> httpx.Response:
        headers = self.auth | {"Content-Type": "application/json"}
        return self.http.put(f"/api/v1/{division}/{path}", content=body_json(body), headers=headers)

    def delete(self, path: str, division: int = NL) -> httpx.Response:
        return self.http.delete(f"/api/v1/{division}/{path}", headers=self.auth)

    # admin ----------------------------------------------------------------------------------
    def configure(self, **settings: Any) -> dict:
        reply = self.http.post("/_sandbox/config", json=settings)
        reply.raise_for_status()
        return reply.json()

    def advance(self, seconds: float) -> None:
        self.http.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()

    def store(self, path: str, division: int = NL) -> list[dict]:
        reply = self.http.get(f"/_sandbox/store/{division}/{path}")
        reply.raise_for_status()
        return reply.json()["results"]

    # master data ------------------------------------------------------------------------------
    def one(self, path: str, filter_: str, division: int = NL) -> dict:
        rows = self.rows(path, division, **{"$filter": filter_})
        assert len(rows) == 1, rows
        return rows[0]

    def account(self, code: str, division: int = NL) -> dict:
        return self.one("crm/Accounts", f"trim(Code) eq '{code}'", division)

    def gl(self, code: str, division: int = NL) -> dict:
        return self.one("financial/GLAccounts", f"Code eq '{code}'", division)

    def item(self, code: str, division: int = NL) -> dict:
        return self.one("logistics/Items", f"Code eq '{code}'", division)

    def sales_entry(self, customer: str, lines: list[tuple[str, Decimal]], **extra: Any) -> dict:
        """POST a sales entry in journal 70; `lines` are (GL code, amount excl. VAT)."""
        gl_ids = {gl: self.gl(gl)["ID"] for gl in {gl for gl, _ in lines}}
        body = {
            "Customer": self.account(customer)["ID"],
            "Journal": "70",
            "EntryDate": "2026-11-20T00:00:00",
            "SalesEntryLines": [
                {"GLAccount": gl_ids[gl], "AmountFC": amount, "VATCode": "1"}
                for gl, amount in lines
            ],
        } | extra
        return self.created("salesentry/SalesEntries", body)


@contextmanager
def standalone_sandbox(port: int, state: Path) -> Iterator[str]:
    """A sandbox of its own with a state file (stopped gracefully: it writes its state)."""
    process = SandboxProcess(port, state)
    try:
        yield process.url
    finally:
        process.stop()
