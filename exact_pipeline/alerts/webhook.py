"""POST a message to the alert webhook. The URL is a secret (whoever has it can post to the
channel): it is never logged, and the errors raised here never name it. The standard library's
client is used because httpx logs every request's URL at INFO level."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 10.0


class WebhookFailed(Exception):
    """The message was not delivered; the text names the cause, never the URL."""


def post(url: str, message: dict[str, Any], timeout: float = TIMEOUT_SECONDS) -> None:
    try:
        request = urllib.request.Request(
            url,
            data=json.dumps(message).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
    except ValueError:  # its text quotes the URL
        raise WebhookFailed("the webhook URL is not an http(s) URL") from None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise WebhookFailed(f"the webhook answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise WebhookFailed(f"the webhook could not be reached ({_reason(exc.reason)})") from None
    except (http.client.HTTPException, ValueError) as exc:  # a malformed answer or URL
        raise WebhookFailed(f"the webhook could not be used ({type(exc).__name__})") from None
    except OSError as exc:  # TimeoutError and ConnectionError included
        raise WebhookFailed(f"the webhook could not be reached ({_reason(exc)})") from None


def _reason(reason: object) -> str:
    # An OSError's text is its errno and strerror (no URL); anything else by its type only.
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return type(reason).__name__
