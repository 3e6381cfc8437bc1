"""Building HTTP answers the way Exact shapes them (JSON or Atom, Exact or OAuth errors)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from exact_pipeline.sandbox.errors import ExactError, OAuthError
from exact_pipeline.sandbox.odata import atom

JSON_TYPE = "application/json; charset=utf-8"
ODATA_HEADERS = {"DataServiceVersion": "2.0;"}


def wants_json(request: Request) -> bool:
    """Exact answers Atom XML unless the client asks for JSON."""
    return request.query_params.get(
        "$format"
    ) == "json" or "application/json" in request.headers.get("accept", "")


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return JSONResponse(
        body, status_code=status, headers=ODATA_HEADERS | dict(headers or {}), media_type=JSON_TYPE
    )


def xml_response(
    body: bytes, content_type: str, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        body, status, headers=ODATA_HEADERS | dict(headers or {}), media_type=content_type
    )


def error_response(error: ExactError, as_json: bool) -> Response:
    headers = dict(error.headers)
    if error.reason:
        headers["Reason"] = error.reason
    if as_json:
        return json_response(error.body(), error.status, headers)
    return xml_response(
        atom.error_xml(error.message), atom.ERROR_CONTENT_TYPE, error.status, headers
    )


def oauth_error_response(error: OAuthError) -> Response:
    headers = {"Reason": error.reason} if error.reason else {}
    return JSONResponse(error.body(), status_code=error.status, headers=headers)
