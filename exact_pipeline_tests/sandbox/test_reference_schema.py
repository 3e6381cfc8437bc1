"""The sandbox serves Exact's published schema (`exact_entities.json`): the documented fields,
no others; unknown properties are refused like Exact refuses them, GET-only ones skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from exact_pipeline.sandbox.reference import REFERENCE_FILE, entities
from exact_pipeline.sandbox.registry import Registry
from exact_pipeline.sandbox.schema import Kind
from exact_pipeline_tests.sandbox.helpers import ExactClient

SHARED_REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "exact-entities.json"

# Documented fields the sandbox deliberately does not serve, by entity.
OMITTED_FIELDS: dict[str, set[str]] = {
    # complex type HRM.DivisionClass (GET-only): no division classes are simulated
    "system/Divisions": {f"Class_0{i}" for i in range(1, 6)},
    "hrm/Divisions": {f"Class_0{i}" for i in range(1, 6)},
    # GET-only collections of other entities (bank accounts, notes): not simulated
    "crm/Accounts": {"BankAccounts"},
    "read/financial/ReceivablesList": {"Notes"},
    # writable collections the sandbox does not simulate: a POST naming them gets a 400
    "vat/VATCodes": {"VATPercentages"},
    "financial/GLAccounts": {"DeductibilityPercentages"},
    "salesinvoice/SalesInvoices": {"SalesInvoiceOrderChargeLines"},
    # in picqer's 2025-12 regeneration only: no documented type (see exact-entities.md)
    "documents/Documents": {"ActionRegenerateEntryProposal", "EntryStatusDescription"},
    "webhooks/WebhookSubscriptions": {"IsInstant"},
}
# Documented methods the sandbox deliberately does not simulate (answered 405).
OMITTED_METHODS: dict[str, set[str]] = {
    "system/Divisions": {"DELETE"},  # deleting an administration
    "financialtransaction/BankEntryLines": {"POST"},  # a bank line on its own: payments again
    "webhooks/WebhookSubscriptions": {"PUT"},  # §8: delete and recreate (dotnet: no update)
}
# Documented entities the sandbox does not serve at all.
OMITTED_ENTITIES = {
    "financialtransaction/CashEntries",  # cash journals are not simulated
    "financialtransaction/CashEntryLines",
    "financial/FinancialPeriods",  # period status is in read/financial/JournalStatusList
    "read/sync/Sync/SyncTimestamp",  # its page was not scraped: no documented types
    "current/Me",  # served by api.me (no division in its path), checked below
}


def test_the_packaged_reference_is_the_shared_one() -> None:
    if not SHARED_REFERENCE.exists():
        pytest.skip("shared/reference is not beside the repository")
    assert REFERENCE_FILE.read_bytes() == SHARED_REFERENCE.read_bytes()


def _served(registry: Registry, path: str) -> set[str]:
    entity_set = registry.sets[path]
    names = {f.name for f in entity_set.fields}
    if entity_set.lines is not None:
        names.add(entity_set.lines.nav)
    return names


def test_served_fields_are_the_documented_ones() -> None:
    registry = Registry()
    served_entities = {
        e.set.path if e.kind is Kind.SINGLE else e.path for e in registry.endpoints.values()
    }
    documented = set(entities())
    assert served_entities - documented <= {  # twins the reference does not list apart
        p for p in served_entities if p.startswith(("bulk/", "sync/"))
    }
    assert documented - served_entities - {s for s in registry.sets} == OMITTED_ENTITIES
    for path, spec in entities().items():
        if path not in registry.sets:
            continue
        entity_set = registry.sets[path]
        omitted = OMITTED_FIELDS.get(path, set())
        assert _served(registry, path) == set(spec["fields"]) - omitted, path
        assert set(entity_set.unserved) == omitted, path
        endpoint = registry.endpoint(path)
        methods = set(spec["methods"]) - OMITTED_METHODS.get(path, set())
        assert endpoint is not None and set(endpoint.methods) == methods, path


def test_sync_twins_documented_on_their_own_serve_their_documented_fields() -> None:
    registry = Registry()
    for path in ("sync/Cashflow/PaymentTerms", "sync/Deleted"):
        endpoint = registry.endpoint(path)
        assert endpoint is not None
        assert set(endpoint.fields) == set(entities()[path]["fields"])


def test_current_me_serves_the_documented_fields(exact: ExactClient) -> None:
    reply = exact.http.get("/api/v1/current/Me", headers=exact.auth)
    (me,) = reply.json()["d"]["results"]
    assert set(me) - {"__metadata"} == set(entities()["current/Me"]["fields"])


def test_unknown_property_is_refused_as_exact_refuses_it(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", 5)])
    key = f"salesentry/SalesEntries(guid'{entry['EntryID']}')"
    for reply in (
        exact.post("salesentry/SalesEntries", {"Customer": entry["Customer"], "Remarks": "x"}),
        exact.put(key, {"Remarks": "x"}),
    ):
        assert reply.status_code == 400
        assert reply.json()["error"]["message"]["value"].endswith(
            "The property name 'Remarks' specified for type "
            "'Exact.Web.Api.Models.SalesEntry' is not valid."
        )
    line = {"GLAccount": exact.gl("8000")["ID"], "AmountFC": 1, "Remarks": "x"}
    deep = exact.post(
        "salesentry/SalesEntries",
        {"Customer": entry["Customer"], "Journal": "70", "SalesEntryLines": [line]},
    )
    assert deep.status_code == 400
    assert "'Exact.Web.Api.Models.SalesEntryLine' is not valid" in deep.text


def test_get_only_properties_are_skipped_and_unsimulated_ones_refused(exact: ExactClient) -> None:
    """Exact's business layer skips read-only properties on POST and PUT without an error
    (exactonline/exactonline-api-dotnet-client#56); the sandbox does the same."""
    account = exact.created(
        "crm/Accounts",
        {
            "Name": "Schema B.V.",
            "PaymentConditionSales": "30",
            "PaymentConditionSalesDescription": "ignored",  # GET-only
            "IsSales": False,  # GET-only
            "BankAccounts": [],  # GET-only collection
            "InvoiceAttachmentType": 2,  # documented and writable
            "ShowRemarkForSales": True,
            "Remarks": "created by a third-party client",
        },
    )
    condition = exact.one("cashflow/PaymentConditions", "Code eq '30'")
    assert account["PaymentConditionSalesDescription"] == condition["Description"]
    assert account["IsSales"] is True
    assert account["InvoiceAttachmentType"] == 2 and account["ShowRemarkForSales"] is True
    assert "BankAccounts" not in account
    refused = exact.post("vat/VATCodes", {"Code": "8", "Description": "x", "VATPercentages": []})
    assert refused.status_code == 400
    assert "does not simulate the property 'VATPercentages'" in refused.text
