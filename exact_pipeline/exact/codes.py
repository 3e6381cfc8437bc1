"""Exact's type codes: the numbers its fields use for kinds of things (documented per entity in
Exact's API reference), named once."""

from __future__ import annotations

SALES_DOCUMENT_TYPE = 10  # documents/DocumentTypes: "sales invoice"
INVOICE_TYPE, CREDIT_NOTE_TYPE = 8020, 8021  # salesinvoice/SalesInvoices.Type
RECEIVABLES_GL_TYPE = 20  # GLAccount.Type: accounts receivable
RECEIPT_JOURNAL_TYPES = (12, 16)  # Journal.Type: bank, payment service
RECEIPT_LINE_TYPE = 20  # PaymentTerms.LineType: 20 receivable, 22 payable
PAYMENT_TERM_DELETED = 10  # sync/Deleted EntityType of a receivable row
# sync/Deleted EntityType of the master data cached (exact-online-api.md §5)
ACCOUNT_DELETED, GL_ACCOUNT_DELETED, ITEM_DELETED = 2, 7, 9
