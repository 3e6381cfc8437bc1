"""Exact-shaped failures: the OData error body and OAuth's error body."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExactError(Exception):
    """An API error answered as `{"error":{"code":"","message":{"lang":"","value":…}}}`.

    Business-rule violations are 500 (as in Exact); request-shape problems are 400.
    """

    status: int
    message: str
    reason: str | None = None  # Exact's `Reason` header (e.g. NoDivisionAccess)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"

    def body(self) -> dict:
        return {"error": {"code": "", "message": {"lang": "", "value": self.message}}}


@dataclass
class OAuthError(Exception):
    """A token-endpoint error answered as `{"error":…,"error_description":…}`."""

    status: int
    error: str
    description: str
    reason: str | None = None

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


def request_stream_error(detail: str) -> ExactError:
    return ExactError(400, f"Error processing request stream. {detail}")


def conversion_error(prop: str, clr_type: str) -> ExactError:
    return request_stream_error(
        f"Error encountered in converting the value from request payload for property "
        f"'{prop}' to type '{clr_type}', which is the property's type in the entity type."
    )


def unknown_property_error(prop: str, type_name: str) -> ExactError:
    return request_stream_error(
        f"The property name '{prop}' specified for type '{type_name}' is not valid."
    )


def segment_not_found(segment: str) -> ExactError:
    return ExactError(404, f"Resource not found for the segment '{segment}'.")
