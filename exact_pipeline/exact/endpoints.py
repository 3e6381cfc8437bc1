"""Where each entity lives: one `Endpoint` per Exact resource the pipeline uses.

An endpoint ties a path (below `/api/v1/{division}/`) to its model and key; bulk and sync
twins of a resource are endpoints of their own (bigger pages, mandatory `$select`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from exact_pipeline.exact import models
from exact_pipeline.exact.models import ExactModel, lines_field, select_fields

M = TypeVar("M", bound=ExactModel)


@dataclass(frozen=True)
class Endpoint(Generic[M]):
    path: str
    model: type[M]
    key: str
    readable: bool = True  # PrintedSalesInvoices can only be POSTed

    @property
    def is_sync(self) -> bool:
        return self.path.lower().startswith("sync/")

    @property
    def lines(self) -> str | None:
        return lines_field(self.model)

    def select(self, *, expand: bool = False) -> str:
        return ",".join(select_fields(self.model, expand=expand))


ME = Endpoint("current/Me", models.Me, "UserID")
DIVISIONS = Endpoint("system/Divisions", models.Division, "Code")

ACCOUNTS = Endpoint("crm/Accounts", models.Account, "ID")
BULK_ACCOUNTS = Endpoint("bulk/CRM/Accounts", models.Account, "ID")
SYNC_ACCOUNTS = Endpoint("sync/CRM/Accounts", models.Account, "ID")

ITEMS = Endpoint("logistics/Items", models.Item, "ID")
SYNC_ITEMS = Endpoint("sync/Logistics/Items", models.Item, "ID")
VAT_CODES = Endpoint("vat/VATCodes", models.VATCode, "ID")
GL_ACCOUNTS = Endpoint("financial/GLAccounts", models.GLAccount, "ID")
SYNC_GL_ACCOUNTS = Endpoint("sync/Financial/GLAccounts", models.GLAccount, "ID")
JOURNALS = Endpoint("financial/Journals", models.Journal, "ID")
PAYMENT_CONDITIONS = Endpoint("cashflow/PaymentConditions", models.PaymentCondition, "ID")
COST_CENTERS = Endpoint("hrm/Costcenters", models.CostCenter, "ID")
COST_UNITS = Endpoint("hrm/Costunits", models.CostUnit, "ID")
# GET only; its key is Journal, Year and Period together (read with a `Journal eq` filter).
JOURNAL_STATUS = Endpoint("read/financial/JournalStatusList", models.JournalStatus, "Journal")

SALES_ENTRIES = Endpoint("salesentry/SalesEntries", models.SalesEntry, "EntryID")
SALES_ENTRY_LINES = Endpoint("salesentry/SalesEntryLines", models.SalesEntryLine, "ID")
SALES_INVOICES = Endpoint("salesinvoice/SalesInvoices", models.SalesInvoice, "InvoiceID")
SALES_INVOICE_LINES = Endpoint("salesinvoice/SalesInvoiceLines", models.SalesInvoiceLine, "ID")
BULK_SALES_INVOICES = Endpoint("bulk/SalesInvoice/SalesInvoices", models.SalesInvoice, "InvoiceID")
PRINTED_SALES_INVOICES = Endpoint(
    "salesinvoice/PrintedSalesInvoices", models.PrintedSalesInvoice, "InvoiceID", readable=False
)

DOCUMENTS = Endpoint("documents/Documents", models.Document, "ID")
DOCUMENT_ATTACHMENTS = Endpoint("documents/DocumentAttachments", models.DocumentAttachment, "ID")

RECEIVABLES = Endpoint("cashflow/Receivables", models.Receivable, "ID")
BULK_RECEIVABLES = Endpoint("bulk/Cashflow/Receivables", models.Receivable, "ID")
# Receivables and payables together: keep LineType 20 (receipts) client-side.
SYNC_PAYMENT_TERMS = Endpoint("sync/Cashflow/PaymentTerms", models.PaymentTerm, "ID")
SYNC_DELETED = Endpoint("sync/Deleted", models.Deletion, "ID")
SYNC_TRANSACTION_LINES = Endpoint("sync/Financial/TransactionLines", models.TransactionLine, "ID")
BULK_TRANSACTION_LINES = Endpoint("bulk/Financial/TransactionLines", models.TransactionLine, "ID")
BANK_ENTRIES = Endpoint("financialtransaction/BankEntries", models.BankEntry, "EntryID")
BANK_ENTRY_LINES = Endpoint("financialtransaction/BankEntryLines", models.BankEntryLine, "ID")
WEBHOOK_SUBSCRIPTIONS = Endpoint("webhooks/WebhookSubscriptions", models.WebhookSubscription, "ID")
