"""Connecting: `exact-pipeline auth login` end to end, `auth status`, the encrypted store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urljoin

import httpx
import psycopg
import pytest
from click.testing import CliRunner, Result

from exact_pipeline.auth_cli import auth
from exact_pipeline.exact import (
    ExactClient,
    ExactConfig,
    ExactConfigurationError,
    ReauthorizationRequired,
)
from exact_pipeline.settings import env_settings
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.errors import for_people
from exact_pipeline_tests.exact.conftest import BE, NL, TOKEN_KEY, SandboxAdmin

REPO = Path(__file__).resolve().parents[2]


def cli_env(config: ExactConfig, state_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "EXACT_BASE_URL": config.base_url,
        "EXACT_CLIENT_ID": config.client_id,
        "EXACT_CLIENT_SECRET": config.client_secret,
        "EXACT_REDIRECT_URI": config.redirect_uri,
        "EXACT_TOKEN_KEY": TOKEN_KEY,
        "BILLING_DATABASE_URL": state_url,
        "STATE_DATABASE_URL": state_url,
    }


@pytest.fixture
def run_cli(
    config: ExactConfig, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Result]]:
    """`exact-pipeline auth …` in this process, configured through the environment."""
    for name, value in cli_env(config, state_url).items():
        monkeypatch.setenv(name, value)
    env_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(auth, list(args))
    env_settings.cache_clear()


class FormReader(HTMLParser):
    """The approval page's form: action, method and the values a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
            self.method = a.get("method", "get").lower()
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            is_button = kind in ("submit", "button") or tag == "button"
            if is_button and a.get("value", "").lower() in ("deny", "cancel", "reject"):
                return
            self.fields.append((a["name"], a.get("value", "on")))


def approve_in_browser(authorize_url: str) -> httpx.Response:
    """What the user's browser does: open the page, press approve, follow the redirect."""
    with httpx.Client(timeout=30) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        form = FormReader()
        form.feed(page.text)
        assert form.action is not None, "the approval page has no form"
        assert form.method == "post"
        data: dict[str, list[str]] = {}
        for name, value in form.fields:
            data.setdefault(name, []).append(value)
        approved = browser.post(urljoin(str(page.url), form.action), data=data)
        assert approved.status_code == 302, approved.text
        return browser.get(approved.headers["Location"])  # lands on `auth login`'s listener


def test_login_catches_the_redirect_and_stores_the_chain(
    admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    login = subprocess.Popen(
        [sys.executable, "-m", "exact_pipeline.cli", "auth", "login", "--timeout", "60"],
        cwd=REPO,
        env=cli_env(config, state_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert login.stdout is not None
        url = next(line.strip() for line in login.stdout if line.startswith("http"))
        assert url.startswith(f"{config.base_url}/api/oauth2/auth?")
        landing = approve_in_browser(url)
        assert landing.status_code == 200 and "Connected" in landing.text
        out, err = login.communicate(timeout=60)
    finally:
        login.kill()
    assert login.returncode == 0, out + err
    assert "Connected as" in out and str(NL) in out and str(BE) in out

    with open_exact(config, state_url, TOKEN_KEY) as client:
        stored = client.tokens.load()
        assert stored is not None and not stored.is_dead
        assert {d.code for d in stored.divisions} >= {NL, BE}
        assert stored.user_name
        # The stored chain works: a call in a division succeeds.
        assert client.me().CurrentDivision in (NL, BE)
    assert admin.count("POST oauth2/token") == 1


def test_login_with_a_pasted_url_encoded_code(
    admin: SandboxAdmin, config: ExactConfig, run_cli: Callable[..., Result]
) -> None:
    code = admin.code(config.redirect_uri)
    pasted = quote(code, safe="")  # what the browser's address bar shows (`!` → %21)
    result = run_cli("login", "--code", pasted)
    assert result.exit_code == 0, result.output
    assert "Connected as" in result.stdout

    status = run_cli("status")
    assert status.exit_code == 0, status.output
    for expected in ("Connected as", "Access token expires", "Refresh token expires", str(NL)):
        assert expected in status.stdout
    # `auth login` read system/Divisions in the user's current division: its budget is known.
    assert " of 5000, resets " in status.stdout


def test_status_reports_the_budget_seen_per_division(
    client: ExactClient, run_cli: Callable[..., Result]
) -> None:
    client.divisions(BE)
    budget = client.budget(BE)
    assert budget is not None and budget.daily_remaining is not None
    status = run_cli("status")
    assert f"{budget.daily_remaining} of {budget.daily_limit}" in status.stdout


def test_status_without_a_connection(run_cli: Callable[..., Result]) -> None:
    status = run_cli("status")
    assert status.exit_code != 0 and "exact-pipeline auth login" in status.output


def test_tokens_are_stored_encrypted_and_need_the_key(
    client: ExactClient, config: ExactConfig, state_url: str
) -> None:
    stored = client.tokens.load()
    assert stored is not None
    with psycopg.connect(state_url) as conn:
        raw = conn.execute(
            "SELECT access_token, refresh_token FROM exact_sync.exact_connection"
        ).fetchone()
    assert raw is not None
    for column in raw:
        assert stored.access_token.encode() not in bytes(column)
        assert stored.refresh_token.encode() not in bytes(column)

    with (
        open_exact(config, state_url, "another passphrase") as other,
        pytest.raises(ExactConfigurationError) as info,
    ):
        other.me()
    assert "EXACT_TOKEN_KEY" in str(info.value)

    with pytest.raises(ExactConfigurationError, match="EXACT_TOKEN_KEY"):
        open_exact(config, state_url, "")


def test_without_a_connection_calls_ask_for_login(config: ExactConfig, state_url: str) -> None:
    with (
        open_exact(config, state_url, TOKEN_KEY) as client,
        pytest.raises(ReauthorizationRequired) as info,
    ):
        client.me()
    assert "must be authorized again" in str(info.value)
    assert "exact-pipeline auth login" in for_people(info.value)
    assert TOKEN_KEY not in str(info.value)
