"""The client speaks Exact's published schema: every field it writes is one Exact documents as
writable on that entity, every field it reads (`$select`) one Exact documents at all.

Checked against `exact_entities.json` (the sandbox's copy of the shared reference), without a
sandbox: a field Exact lacks is refused by the real Exact with 400 "The property name '…'
specified for type '…' is not valid", whatever the sandbox does.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel

from exact_pipeline.exact import endpoints, payloads
from exact_pipeline.exact.endpoints import Endpoint
from exact_pipeline.exact.models import select_fields
from exact_pipeline.sandbox.reference import entities
from exact_pipeline.sync.payments.receipts import Receipt, ReceiptAccounts, receipt_entry

# Every payload model → the entity it is POSTed to. A new payload must be listed here.
PAYLOAD_ENTITIES: dict[type[payloads.Payload], str] = {
    payloads.DocumentPayload: "documents/Documents",
    payloads.AttachmentPayload: "documents/DocumentAttachments",
    payloads.SalesEntryPayload: "salesentry/SalesEntries",
    payloads.SalesInvoicePayload: "salesinvoice/SalesInvoices",
    payloads.PrintPayload: "salesinvoice/PrintedSalesInvoices",
    payloads.AccountPayload: "crm/Accounts",
    payloads.WebhookSubscriptionPayload: "webhooks/WebhookSubscriptions",
}
# Line payloads are walked through their header's collection, not on their own.
LINE_PAYLOADS = {payloads.SalesEntryLinePayload, payloads.SalesInvoiceLinePayload}

# bulk/ and sync/ twins the reference does not list separately: their base entity.
TWINS = {
    "bulk/CRM/Accounts": "crm/Accounts",
    "sync/CRM/Accounts": "crm/Accounts",
    "sync/Logistics/Items": "logistics/Items",
    "sync/Financial/GLAccounts": "financial/GLAccounts",
    "bulk/Cashflow/Receivables": "cashflow/Receivables",
    "sync/Financial/TransactionLines": "financialtransaction/TransactionLines",
    "bulk/Financial/TransactionLines": "financialtransaction/TransactionLines",
    "bulk/SalesInvoice/SalesInvoices": "salesinvoice/SalesInvoices",
}


def _fields(path: str) -> Mapping[str, Any]:
    return entities()[path]["fields"]


def _collection_entity(header: str, nav: str) -> str:
    """The entity a navigation collection of `header` holds (`Collection(SalesEntryLines)`)."""
    kind = _fields(header)[nav]["type"]
    assert kind.startswith("Collection("), f"{header}.{nav} is {kind}, not a collection"
    name = kind.removeprefix("Collection(").removesuffix(")")
    (path,) = [p for p in entities() if p.rsplit("/", 1)[-1] == name]
    return path


def _nested_payload(annotation: Any) -> type[BaseModel] | None:
    """The line model of a `list[Line]` (or `list[Line] | None`) field, else None."""
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is list:
            (inner,) = typing.get_args(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def write_problems(model: type[BaseModel], path: str) -> Iterator[str]:
    """Fields of a payload model (and its deep-inserted lines) that Exact does not document
    for `path` or marks GET-only."""
    documented = _fields(path)
    for name, info in model.model_fields.items():
        field = documented.get(name)
        if field is None:
            yield f"{path}.{name}: not a field of the entity"
        elif field["read_only"] is True:
            yield f"{path}.{name}: GET-only"
        elif (lines := _nested_payload(info.annotation)) is not None:
            yield from write_problems(lines, _collection_entity(path, name))


def body_problems(body: Mapping[str, Any], path: str) -> Iterator[str]:
    """The same check for a body as it is sent (models used as write bodies)."""
    documented = _fields(path)
    for name, value in body.items():
        field = documented.get(name)
        if field is None:
            yield f"{path}.{name}: not a field of the entity"
        elif field["read_only"] is True:
            yield f"{path}.{name}: GET-only"
        elif isinstance(value, list):
            lines = _collection_entity(path, name)
            for line in value:
                yield from body_problems(line, lines)


def test_every_payload_model_is_checked() -> None:
    models = {
        value
        for value in vars(payloads).values()
        if isinstance(value, type)
        and issubclass(value, payloads.Payload)
        and value is not payloads.Payload
    }
    assert models == set(PAYLOAD_ENTITIES) | LINE_PAYLOADS


@pytest.mark.parametrize("model", list(PAYLOAD_ENTITIES), ids=lambda m: m.__name__)
def test_payload_fields_are_documented_and_writable(model: type[payloads.Payload]) -> None:
    assert list(write_problems(model, PAYLOAD_ENTITIES[model])) == []


def test_line_payloads_are_reached_through_their_headers() -> None:
    reached = {
        _nested_payload(info.annotation)
        for model in PAYLOAD_ENTITIES
        for info in model.model_fields.values()
    }
    assert reached >= LINE_PAYLOADS


def test_the_check_catches_remarks_on_a_sales_entry() -> None:
    """The check itself: `Remarks` (which the client once sent) and a GET-only field fail."""

    class Wrong(BaseModel):
        Remarks: str
        AmountDC: Decimal
        SalesEntryLines: list[payloads.SalesEntryLinePayload]

    class WrongLine(BaseModel):
        Remarks: str

    class WrongWithLines(BaseModel):
        SalesEntryLines: list[WrongLine]

    assert list(write_problems(Wrong, "salesentry/SalesEntries")) == [
        "salesentry/SalesEntries.Remarks: not a field of the entity",
        "salesentry/SalesEntries.AmountDC: GET-only",
    ]
    assert list(write_problems(WrongWithLines, "salesentry/SalesEntries")) == [
        "salesentry/SalesEntryLines.Remarks: not a field of the entity"
    ]


def test_bank_entry_body_is_documented_and_writable() -> None:
    """Receipts are POSTed as the `BankEntry` model (with its lines), not a payload class."""
    entry = receipt_entry(
        ReceiptAccounts("20", UUID(int=1)),
        Receipt(
            reference="pay_1",
            account=UUID(int=2),
            our_ref=26700001,
            amount=Decimal("-12.10"),
            currency="EUR",
            day=datetime(2026, 11, 20),
            notes="billing payment pay_1",
        ),
    )
    body = entry.model_dump(exclude_none=True, mode="json")
    assert body["BankEntryLines"]  # the lines are walked too
    assert list(body_problems(body, "financialtransaction/BankEntries")) == []


ENDPOINTS = [
    value for value in vars(endpoints).values() if isinstance(value, Endpoint) and value.readable
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
def test_selected_fields_exist(endpoint: Endpoint[Any]) -> None:
    """What the client reads (`$select`, lines included) is documented: Exact answers 400
    "No property '…' exists in type '…'" to any other name."""
    path = TWINS.get(endpoint.path, endpoint.path)
    documented = _fields(path)
    missing = []
    for name in select_fields(endpoint.model, expand=True):
        head, _, sub = name.partition("/")
        if head not in documented or (sub and sub not in _fields(_collection_entity(path, head))):
            missing.append(name)
    assert missing == []
