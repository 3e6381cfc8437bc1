"""OAuth2 as Exact runs it: consent, single-use codes, token lifetimes, rotation and reuse."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from exact_pipeline_tests.sandbox.helpers import (
    BE,
    CLIENT_ID,
    FORBIDDEN,
    JSON,
    NL,
    REDIRECT_URI,
    ExactClient,
)


def test_consent_page_shows_app_user_and_the_users_divisions(exact: ExactClient) -> None:
    page = exact.http.get(
        "/api/oauth2/auth",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "state": "xyz",
            "force_login": "0",
        },
    )
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "Sanne de Vries" in page.text and CLIENT_ID in page.text
    assert f"value='{NL}'" in page.text and f"value='{BE}'" in page.text
    assert str(FORBIDDEN) not in page.text


def test_approving_redirects_with_a_single_use_code_containing_an_encoded_bang(
    exact: ExactClient,
) -> None:
    form = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        "decision": "approve",
    }
    reply = exact.http.post("/api/oauth2/auth", data=form | {"division": str(NL)})
    assert reply.status_code == 302
    location = reply.headers["location"]
    assert location.startswith(REDIRECT_URI + "?") and "%21" in location
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["s1"]
    code = query["code"][0]
    assert "!" in code
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    first = exact.token_request(**grant)
    assert first.status_code == 200
    tokens = first.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == "600"
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    again = exact.token_request(**grant)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # the grant covers only the ticked division
    exact.tokens = tokens
    assert [d["Code"] for d in exact.rows("system/Divisions", NL)] == [NL]
    assert exact.get("system/Divisions", BE).status_code == 403


def test_denying_redirects_with_access_denied(exact: ExactClient) -> None:
    form = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": "s", "decision": "deny"}
    reply = exact.http.post("/api/oauth2/auth", data=form)
    assert reply.status_code == 302
    assert parse_qs(urlsplit(reply.headers["location"]).query)["error"] == ["access_denied"]


def test_unregistered_redirect_uri_is_refused_without_redirecting(exact: ExactClient) -> None:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": "https://evil.example/cb",
        "response_type": "code",
    }
    reply = exact.http.get("/api/oauth2/auth", params=params)
    assert reply.status_code == 400 and "location" not in reply.headers


def test_code_expires_after_three_minutes(exact: ExactClient) -> None:
    code = exact.code([NL])
    exact.advance(181)
    reply = exact.token_request(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    )
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"


def test_client_credentials_are_checked(exact: ExactClient) -> None:
    reply = exact.token_request(
        grant_type="refresh_token",
        refresh_token=exact.tokens["refresh_token"],
        client_secret="wrong",
    )
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"


def test_access_token_lives_600_seconds(exact: ExactClient) -> None:
    assert exact.get("system/Divisions").status_code == 200
    exact.advance(599)
    assert exact.get("system/Divisions").status_code == 200
    exact.advance(2)
    expired = exact.get("system/Divisions")
    assert expired.status_code == 401
    assert expired.json()["error"]["message"]["value"]
    assert exact.http.get(f"/api/v1/{NL}/system/Divisions", headers=JSON).status_code == 401


def test_refresh_is_refused_before_570_seconds_then_rotates(exact: ExactClient) -> None:
    first = dict(exact.tokens)
    exact.advance(300)
    early = exact.refresh()
    assert early.status_code == 400
    assert early.json() == {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    assert early.headers["reason"] == "TooEarlyToRefreshTokens"
    exact.advance(271)
    rotated = exact.refresh()
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert rotated.json()["access_token"] != first["access_token"]
    assert exact.get("system/Divisions").status_code == 200
    exact.configure(too_early_refresh_status=401)
    assert exact.refresh().status_code == 401


def test_reusing_an_old_refresh_token_kills_the_chain(exact: ExactClient) -> None:
    old = exact.tokens["refresh_token"]
    exact.advance(571)
    assert exact.refresh().status_code == 200
    current = exact.tokens["refresh_token"]
    reuse = exact.refresh(old)
    assert reuse.status_code == 401
    assert reuse.json() == {
        "error": "unauthorized_client",
        "error_description": "Old refresh token used.",
    }
    exact.advance(571)
    dead = exact.refresh(current)
    assert dead.status_code == 401 and dead.json()["error"] == "unauthorized_client"


def test_reuse_without_revocation_keeps_the_current_token(exact: ExactClient) -> None:
    exact.configure(revoke_chain_on_reuse=False)
    old = exact.tokens["refresh_token"]
    exact.advance(571)
    assert exact.refresh().status_code == 200
    assert exact.refresh(old).status_code == 401
    exact.advance(571)
    assert exact.refresh().status_code == 200


def test_unused_refresh_token_expires_after_30_days(exact: ExactClient) -> None:
    exact.advance(30 * 86400 + 1)
    reply = exact.refresh()
    assert reply.status_code == 400
    body = reply.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"].startswith("The refresh token expired at ")
    assert " and it is now " in body["error_description"]


def test_current_me_needs_a_token_and_is_not_rate_limited(exact: ExactClient) -> None:
    reply = exact.http.get("/api/v1/current/Me", headers=exact.auth)
    assert reply.status_code == 200
    me = reply.json()["d"]["results"][0]
    assert me["CurrentDivision"] == NL and me["FullName"] == "Sanne de Vries"
    assert me["ServerTime"].startswith("/Date(")
    assert not any(h.lower().startswith("x-ratelimit") for h in reply.headers)
    selected = exact.http.get(
        "/api/v1/current/Me", params={"$select": "CurrentDivision"}, headers=exact.auth
    ).json()["d"]["results"][0]
    assert set(selected) == {"__metadata", "CurrentDivision"}
    assert exact.http.get("/api/v1/current/Me", headers=JSON).status_code == 401


def test_divisions_lists_only_granted_ones_and_others_are_forbidden(exact: ExactClient) -> None:
    divisions = exact.rows("system/Divisions", NL)
    assert sorted(d["Code"] for d in divisions) == [NL, BE]
    assert {d["Description"] for d in divisions} == {"Cloudmeter B.V.", "Cloudmeter België BV"}
    forbidden = exact.get("crm/Accounts", FORBIDDEN, **{"$filter": "Name eq 'x'"})
    assert forbidden.status_code == 403
    assert forbidden.headers["reason"] == "NoDivisionAccess"
    assert forbidden.json()["error"]["message"]["value"]
    shortcut = exact.http.post(
        "/_sandbox/oauth/code",
        json={"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "divisions": [FORBIDDEN]},
    )
    assert shortcut.status_code == 400


def test_token_endpoint_wants_a_form(exact: ExactClient) -> None:
    reply = exact.http.post("/api/oauth2/token", json={"grant_type": "refresh_token"})
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_request"
