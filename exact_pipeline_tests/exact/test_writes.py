"""Creates never post twice: unknown outcomes are looked up before any new POST."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from exact_pipeline.exact import (
    ExactClient,
    ExactValidationError,
    LookupKey,
    OutcomeUnknownError,
)
from exact_pipeline.exact.endpoints import (
    ACCOUNTS,
    BANK_ENTRIES,
    BANK_ENTRY_LINES,
    DOCUMENT_ATTACHMENTS,
    DOCUMENTS,
    PRINTED_SALES_INVOICES,
    SALES_ENTRIES,
    SALES_INVOICES,
)
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin

POST_ENTRY = f"POST {SALES_ENTRIES.path}"
GET_ENTRY = f"GET {SALES_ENTRIES.path}"


def entry_payload(client: ExactClient, ref: str, **overrides: Any) -> dict[str, Any]:
    md = client.master_data(NL)
    customer = client.first(NL, ACCOUNTS, LookupKey.account_code("10001").filter)
    assert customer is not None
    return {
        "Journal": md.journals["70"].Code,
        "Customer": customer.ID,
        "YourRef": ref,
        "EntryDate": date(2026, 11, 20),
        "Description": f"Invoice {ref}",
        "SalesEntryLines": [
            {
                "GLAccount": md.gl_accounts["8000"].ID,
                "AmountFC": Decimal("100.00"),
                "VATCode": md.vat_codes["1"].Code,
                "VATAmountFC": Decimal("21.00"),
                "Description": "Team plan",
            }
        ],
        **overrides,
    }


def stored_refs(admin: SandboxAdmin, prefix: str) -> list[str]:
    return sorted(
        r["YourRef"]
        for r in admin.store(NL, SALES_ENTRIES.path)
        if (r.get("YourRef") or "").startswith(prefix)
    )


def create_entry(client: ExactClient, payload: dict[str, Any], **options: Any) -> Any:
    return client.create(
        NL,
        SALES_ENTRIES,
        payload,
        idempotency=LookupKey.field("YourRef", payload["YourRef"]),
        **options,
    )


@pytest.mark.parametrize("lost_as", [None, 504], ids=["connection-dropped", "gateway-504"])
def test_lost_responses_give_exactly_one_record_each(
    client: ExactClient, admin: SandboxAdmin, lost_as: int | None
) -> None:
    payloads = [entry_payload(client, f"LOST-{i:02d}") for i in range(6)]
    admin.clear_requests()
    # Every other POST is committed by Exact, but its answer never arrives.
    rule = {"kind": "lost_response", "path": SALES_ENTRIES.path, "method": "POST", "every": 2}
    admin.faults(rule | ({"status": lost_as} if lost_as else {}))
    entries = [create_entry(client, p) for p in payloads]
    assert stored_refs(admin, "LOST-") == [f"LOST-{i:02d}" for i in range(6)]
    assert all(e.EntryID and e.EntryNumber for e in entries)
    assert len({e.EntryID for e in entries}) == 6
    assert admin.count(POST_ENTRY) == 6  # a found record is never posted again
    assert admin.count(GET_ENTRY) == 3  # each lost answer was followed by one look-up


def test_a_server_error_on_a_write_is_looked_up_then_posted_again(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    payload = entry_payload(client, "ERR-503")
    admin.clear_requests()
    admin.faults(
        {"kind": "error", "status": 503, "path": SALES_ENTRIES.path, "method": "POST", "times": 1}
    )
    entry = create_entry(client, payload)
    assert entry.YourRef == "ERR-503"
    assert stored_refs(admin, "ERR-") == ["ERR-503"]
    assert admin.count(GET_ENTRY) == 1 and admin.count(POST_ENTRY) == 2


def test_validation_errors_carry_exacts_message_and_are_tried_once_more(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    payload = entry_payload(client, "BAD-1")
    del payload["Journal"]
    admin.clear_requests()
    with pytest.raises(ExactValidationError) as info:
        create_entry(client, payload)
    assert "Dagboek" in (info.value.message or "")  # Exact speaks the user's language
    assert info.value.endpoint == f"POST /api/v1/{NL}/{SALES_ENTRIES.path}"
    # A 500 with a message is a refusal only when it comes again (5xx never count towards
    # Exact's error block, so the second try is cheap); looked up in between.
    assert admin.count(POST_ENTRY) == 2 and admin.count(GET_ENTRY) == 2
    assert stored_refs(admin, "BAD-") == []


def test_lookup_first_returns_the_existing_record_without_posting(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    first = create_entry(client, entry_payload(client, "ONCE-1"))
    admin.clear_requests()
    again = create_entry(client, entry_payload(client, "ONCE-1"), lookup_first=True)
    assert again.EntryID == first.EntryID
    assert admin.count(POST_ENTRY) == 0


def test_an_unknown_outcome_whose_lookup_fails_is_reported_as_unknown(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    payload = entry_payload(client, "UNKNOWN-1")
    admin.faults(
        {"kind": "lost_response", "path": SALES_ENTRIES.path, "method": "POST", "times": 1},
        {"kind": "error", "status": 500, "path": SALES_ENTRIES.path, "method": "GET", "times": 10},
    )
    with pytest.raises(OutcomeUnknownError) as info:
        create_entry(client, payload)
    assert info.value.division == NL
    assert "look" in str(info.value).lower()


def test_accounts_are_found_by_their_padded_code(client: ExactClient, admin: SandboxAdmin) -> None:
    admin.faults(
        {
            "kind": "lost_response",
            "path": ACCOUNTS.path,
            "method": "POST",
            "times": 1,
            "after_commit": True,
        }
    )
    account = client.create(
        NL,
        ACCOUNTS,
        {"Code": "90001", "Name": "Nieuwe Klant B.V.", "Email": "ap@nieuwe.nl", "Country": "NL"},
        idempotency=LookupKey.account_code("90001"),
    )
    assert account.Code == "90001" and account.Name == "Nieuwe Klant B.V."
    created = [r for r in admin.store(NL, ACCOUNTS.path) if r["Name"] == "Nieuwe Klant B.V."]
    assert len(created) == 1


def test_booking_an_invoice_is_found_through_the_invoice_status(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    md = client.master_data(NL)
    customer = client.first(NL, ACCOUNTS, LookupKey.account_code("10001").filter)
    assert customer is not None
    invoice = client.create(
        NL,
        SALES_INVOICES,
        {
            "OrderedBy": customer.ID,
            "Journal": "70",
            "YourRef": "PRINT-1",
            "SalesInvoiceLines": [
                {"Item": md.items["SUB-TEAM"].ID, "Quantity": Decimal(1), "UnitPrice": Decimal(99)}
            ],
        },
        idempotency=LookupKey.field("YourRef", "PRINT-1"),
    )
    assert invoice.InvoiceID is not None and invoice.Status != 50
    admin.clear_requests()
    admin.faults(
        {
            "kind": "lost_response",
            "path": PRINTED_SALES_INVOICES.path,
            "method": "POST",
            "times": 1,
            "after_commit": True,
        }
    )
    booked = client.create(
        NL,
        PRINTED_SALES_INVOICES,
        {"InvoiceID": invoice.InvoiceID, "SendEmailToCustomer": False},
        idempotency=LookupKey(
            f"InvoiceID eq guid'{invoice.InvoiceID}' and Status eq 50",
            endpoint=SALES_INVOICES,
            key_field="InvoiceID",
        ),
    )
    assert booked.InvoiceID == invoice.InvoiceID
    assert admin.count(f"POST {PRINTED_SALES_INVOICES.path}") == 1
    assert client.get(NL, SALES_INVOICES, invoice.InvoiceID).Status == 50


def test_document_and_attachment_are_found_by_subject_and_file_name(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    lose_every_post = {"kind": "lost_response", "path": "documents/", "method": "POST"}
    admin.faults(lose_every_post | {"times": 2})
    document = client.create(
        NL,
        DOCUMENTS,
        {"Subject": "Invoice DOC-1", "Type": 10, "DocumentDate": date(2026, 11, 20)},
        idempotency=LookupKey.field("Subject", "Invoice DOC-1"),
    )
    pdf = b"%PDF-1.4 the billing system's invoice"
    attachment = client.create(
        NL,
        DOCUMENT_ATTACHMENTS,
        {"Document": document.ID, "FileName": "DOC-1.pdf", "Attachment": pdf},
        idempotency=LookupKey(f"Document eq guid'{document.ID}' and FileName eq 'DOC-1.pdf'"),
    )
    assert attachment.FileSize == len(pdf)
    documents = [d for d in admin.store(NL, DOCUMENTS.path) if d["Subject"] == "Invoice DOC-1"]
    attachments = admin.store(NL, DOCUMENT_ATTACHMENTS.path)
    assert len(documents) == 1
    assert [a["FileName"] for a in attachments if a["Document"] == str(document.ID)] == [
        "DOC-1.pdf"
    ]


def test_a_bank_entry_is_found_through_its_line(client: ExactClient, admin: SandboxAdmin) -> None:
    md = client.master_data(NL)
    customer = client.first(NL, ACCOUNTS, LookupKey.account_code("10001").filter)
    assert customer is not None
    admin.faults({"kind": "lost_response", "path": BANK_ENTRIES.path, "method": "POST", "times": 1})
    entry = client.create(
        NL,
        BANK_ENTRIES,
        {
            "JournalCode": "20",
            "BankEntryLines": [
                {
                    "GLAccount": md.gl_accounts["1300"].ID,
                    "Account": customer.ID,
                    "AmountFC": Decimal("121.00"),
                    "Description": "payment pay_0001",
                    "Date": date(2026, 11, 21),
                }
            ],
        },
        idempotency=LookupKey(
            "Description eq 'payment pay_0001'", endpoint=BANK_ENTRY_LINES, key_field="EntryID"
        ),
    )
    assert entry.EntryID is not None and entry.JournalCode == "20"
    assert entry.BankEntryLines and entry.BankEntryLines[0].AmountFC == Decimal("121.00")
    assert admin.count(f"POST {BANK_ENTRIES.path}") == 1
    lines = admin.store(NL, BANK_ENTRY_LINES.path)
    assert [line["EntryID"] for line in lines if line["Description"] == "payment pay_0001"] == [
        str(entry.EntryID)
    ]
