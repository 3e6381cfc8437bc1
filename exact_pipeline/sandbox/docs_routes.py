"""Exact's document URLs: `Url` of an attachment (`&Download=1` for the original bytes) and
`DocumentViewUrl` of a document. Both need the bearer token, like the API."""

from __future__ import annotations

import base64
import mimetypes

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.errors import ExactError
from exact_pipeline.sandbox.responses import error_response

ATTACHMENTS = "documents/DocumentAttachments"


def attachment_response(record: dict, download: bool) -> Response:
    content = base64.b64decode(record["Attachment"])
    media_type = mimetypes.guess_type(record["FileName"])[0] or "application/octet-stream"
    disposition = "attachment" if download else "inline"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{record["FileName"]}"'},
    )


def _division(request: Request) -> int:
    value = request.query_params.get("_Division_", "")
    if not value.isdigit():
        raise ExactError(400, "The _Division_ parameter is missing.")
    return int(value)


async def attachment(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    with sandbox.lock:
        try:
            grant = sandbox.oauth.authenticate(request.headers.get("authorization"))
            division = _division(request)
            if division not in grant.divisions:
                raise ExactError(403, "Forbidden", reason="NoDivisionAccess")
            record = sandbox.store.get(
                division, ATTACHMENTS, request.query_params.get("ID", "").lower()
            )
            if record is None:
                raise ExactError(404, "The attachment does not exist.")
            return attachment_response(record, request.query_params.get("Download") == "1")
        except ExactError as error:
            return error_response(error, as_json=True)


async def document_view(request: Request) -> Response:
    """Exact's document viewer; here: the document on the division's page."""
    division = request.query_params.get("_Division_", "")
    document = request.query_params.get("DocumentID", "").lower()
    return RedirectResponse(f"/divisions/{division}#doc-{document}", status_code=302)
