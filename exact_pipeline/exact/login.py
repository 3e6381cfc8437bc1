"""Connecting: the authorization-code flow that starts (or restarts) the token chain.

The user opens the authorize URL, approves, and Exact redirects the browser to our redirect
URI with `?code=…&state=…`. A one-shot HTTP server on the redirect URI's port catches it;
alternatively the user pastes the code (or the whole redirect URL). The code is exchanged at
once (it lives 3 minutes; see `ExactClient.connect`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from exact_pipeline.exact.client import ExactClient
from exact_pipeline.exact.errors import AuthenticationError
from exact_pipeline.exact.oauth import authorize_url
from exact_pipeline.exact.tokens import StoredConnection

PAGE_DONE = (
    b"<html><body><h1>Connected to Exact Online</h1>You may close this window.</body></html>"
)
PAGE_FAILED = b"<html><body><h1>Not connected</h1>See the terminal.</body></html>"


def login(
    client: ExactClient,
    *,
    code: str | None = None,
    timeout: float = 300.0,
    echo: Callable[[str], None] = print,
) -> StoredConnection:
    config = client.config
    state = secrets.token_urlsafe(16)
    url = authorize_url(config, state)
    if code is not None:
        echo(f"Authorize URL (for reference):\n{url}")
        code = code_from_paste(code)
    else:
        # Listen before showing the URL: a quick browser must not find the port closed.
        with RedirectCatcher(config.redirect_uri, state) as catcher:
            echo(f"Open this URL, sign in and approve access:\n{url}")
            echo(f"Waiting for Exact to redirect to {config.redirect_uri} …")
            code = catcher.wait(timeout)
    return client.connect(code)


def code_from_paste(text: str) -> str:
    """A pasted code, URL-encoded or not (codes contain `!`), or the whole redirect URL."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        codes = parse_qs(urlsplit(text).query).get("code")
        if not codes:
            raise AuthenticationError("the pasted URL carries no `code`")
        return codes[0]
    return unquote(text)


class RedirectCatcher:
    """A one-shot HTTP server on the redirect URI's port that waits for Exact's redirect."""

    def __init__(self, redirect_uri: str, state: str) -> None:
        target = urlsplit(redirect_uri)
        host = target.hostname or "localhost"
        self._address = ("127.0.0.1" if host == "localhost" else host, target.port or 80)
        self._path = target.path or "/"
        self._state = state
        self._result: dict[str, str] = {}
        self._server: HTTPServer | None = None

    def __enter__(self) -> RedirectCatcher:
        self._server = HTTPServer(self._address, self._handler())
        self._server.timeout = 0.5  # handle_request() returns at least this often
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.server_close()

    def wait(self, timeout: float) -> str:
        assert self._server is not None, "use as a context manager"
        deadline = time.monotonic() + timeout
        while not self._result and time.monotonic() < deadline:
            self._server.handle_request()
        if "code" not in self._result:
            raise AuthenticationError(
                self._result.get("error", f"no redirect within {timeout:.0f} s")
            )
        return self._result["code"]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != catcher._path:
                    self.send_error(404)
                    return
                catcher._accept({k: v[0] for k, v in parse_qs(url.query).items()})
                ok = "code" in catcher._result
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(PAGE_DONE if ok else PAGE_FAILED)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request line carries the code: keep it out of the terminal

        return Handler

    def _accept(self, query: dict[str, str]) -> None:
        if query.get("state") != self._state:
            self._result["error"] = "the redirect's state does not match (stale or forged)"
        elif "code" not in query:
            self._result["error"] = query.get("error_description") or query.get("error", "no code")
        else:
            self._result["code"] = query["code"]
