"""Every Exact entity set the sandbox serves, declared as data.

Fields come from Exact's published schema (`reference.py`, `exact_entities.json`): names, Edm
types, POST-mandatory flags, GET-only marks, keys, methods and page sizes. What the sandbox
knows beyond it is declared on top, by field name (`Know`): defaults, references, derived
lookups, max lengths and business-rule mandatory fields; per set: mandatory filters, unique
fields, bulk/ and sync/ twins, the business-rule hooks of `rules.py` and the methods it
deliberately does not simulate. Default max lengths follow Exact's documented limits and are
overridable through the admin config (`field_limits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exact_pipeline.sandbox import rules, webhooks
from exact_pipeline.sandbox.reference import Know, documented
from exact_pipeline.sandbox.schema import (
    Const,
    Edm,
    EntitySet,
    FirstOf,
    FromRef,
    Lines,
    Locked,
    Ref,
    Today,
)

ACCOUNT = Ref("crm/Accounts")
GL_ACCOUNT = Ref("financial/GLAccounts")
REVENUE_GL = Ref("financial/GLAccounts", allowed={"BalanceType": ("W",)}, invalid="gl_account_type")
VAT_CODE = Ref("vat/VATCodes", by="Code", trim=True)
PAYMENT_CONDITION = Ref("cashflow/PaymentConditions", by="Code", trim=True)
SALES_JOURNAL = Ref(
    "financial/Journals", by="Code", trim=True, allowed={"Type": (20, 21)}, invalid="sales_journal"
)
BANK_JOURNAL = Ref(
    "financial/Journals", by="Code", trim=True, allowed={"Type": (12, 16)}, invalid="bank_journal"
)
DOCUMENT = Ref("documents/Documents")
# A line names its cost centre and cost unit by code; Exact refuses an unknown one with
# "Invalid reference: Cost unit" (picqer/exact-php-client#325), like any other reference.
COST_CENTER = Ref("hrm/Costcenters", by="Code", trim=True)
COST_UNIT = Ref("hrm/Costunits", by="Code", trim=True)
NOTHING: frozenset[str] = frozenset()


def declare(
    path: str,
    type_name: str,
    knowledge: Mapping[str, Know] | None = None,
    *,
    lines: Lines | None = None,
    omit_methods: frozenset[str] = NOTHING,
    key: str | None = None,
    **rest: Any,
) -> EntitySet:
    """An entity set whose fields, key, methods and page size are Exact's documented ones,
    with the sandbox's knowledge on top. `omit_methods`: documented methods the sandbox does
    not simulate (answered 405). `key`: the store's key when it is not the served one."""
    spec = documented(
        path, knowledge, lines_nav=lines.nav if lines else None, omit_methods=omit_methods
    )
    return EntitySet(
        path,
        type_name,
        key=key or spec.keys[0],
        composite_key=spec.keys if len(spec.keys) > 1 else (),
        fields=spec.fields,
        unserved=spec.unserved,
        methods=spec.methods,
        page_size=spec.page_size,
        lines=lines,
        **rest,
    )


def _label_of(ref_field: str, target_field: str = "Description") -> Know:
    return Know(derive=FromRef(ref_field, target_field))


DIVISIONS = declare(
    "system/Divisions",
    "Division",
    omit_methods=frozenset({"DELETE"}),  # deleting an administration is not simulated
    global_scope=True,
    grant_field="Code",
)

# hrm/Divisions: the same administrations (those of the licence), another documented shape.
HRM_DIVISIONS = declare(
    "hrm/Divisions",
    "HRM.Division",
    stored_in="system/Divisions",
    global_scope=True,
    grant_field="Code",
)

ACCOUNTS = declare(
    "crm/Accounts",
    "Account",
    {
        "Code": Know(max_length=18),
        "Name": Know(max_length=50),
        "SearchCode": Know(max_length=10),
        "Status": Know(max_length=1, default=Const("C")),
        "Email": Know(max_length=100),
        "VATNumber": Know(max_length=20),
        "ChamberOfCommerce": Know(max_length=20),
        "AddressLine1": Know(max_length=100),
        "AddressLine2": Know(max_length=100),
        "AddressLine3": Know(max_length=100),
        "Postcode": Know(max_length=20),
        "City": Know(max_length=50),
        "State": Know(max_length=2),
        "Country": Know(max_length=2),
        "Phone": Know(max_length=30),
        "Website": Know(max_length=100),
        "Language": Know(max_length=10),
        "PaymentConditionSales": Know(ref=PAYMENT_CONDITION),
        "PaymentConditionSalesDescription": _label_of("PaymentConditionSales"),
        "SalesVATCode": Know(ref=VAT_CODE),
        "SalesVATCodeDescription": _label_of("SalesVATCode"),
        "SalesCurrency": Know(max_length=3),
        "Blocked": Know(default=Const(False)),
        "IsSupplier": Know(default=Const(False)),
        "IsSales": Know(default=Const(True)),
    },
    mandatory_filter=(
        "ID",
        "Code",
        "Name",
        "Email",
        "VATNumber",
        "ChamberOfCommerce",
        "SearchCode",
        "Status",
        "Blocked",
        "Created",
        "Modified",
    ),
    unique=("Code",),
    on_create=rules.account_code,
    bulk="bulk/CRM/Accounts",
    sync="sync/CRM/Accounts",
    deleted_type=2,
)

ITEMS = declare(
    "logistics/Items",
    "Item",
    {
        "Code": Know(max_length=30),
        "Description": Know(max_length=60),
        "ExtraDescription": Know(max_length=255),
        "IsSalesItem": Know(default=Const(True)),
        "SalesVatCode": Know(ref=VAT_CODE),
        "SalesVatCodeDescription": _label_of("SalesVatCode"),
        "GLRevenue": Know(ref=GL_ACCOUNT),
        "GLRevenueCode": _label_of("GLRevenue", "Code"),
        "GLRevenueDescription": _label_of("GLRevenue"),
        "Unit": Know(max_length=10, default=Const("pc")),
        "StandardSalesPrice": Know(default=Const(0)),
    },
    mandatory_filter=("ID", "Code", "Description", "IsSalesItem", "Created", "Modified"),
    unique=("Code",),
    bulk="bulk/Logistics/Items",
    sync="sync/Logistics/Items",
    deleted_type=9,
)

VAT_CODES = declare(
    "vat/VATCodes",
    "VATCode",
    {
        "Code": Know(max_length=3),
        "Description": Know(max_length=50),
        # GET-only in Exact (derived from the VATPercentages collection, which the sandbox
        # does not simulate); writable here so a POSTed code has a rate.
        "Percentage": Know(writable=True, default=Const(0)),
        "Type": Know(max_length=1, default=Const("E")),
        "VATTransactionType": Know(max_length=1, default=Const("S")),
        "IsBlocked": Know(default=Const(False)),
        "GLToPay": Know(ref=GL_ACCOUNT),
        "GLToPayCode": _label_of("GLToPay", "Code"),
        "GLToPayDescription": _label_of("GLToPay"),
    },
    unique=("Code",),
)

GL_ACCOUNTS = declare(
    "financial/GLAccounts",
    "GLAccount",
    {
        "Code": Know(max_length=20),
        "Description": Know(max_length=100),
        "Type": Know(default=Const(110)),
        "BalanceType": Know(max_length=1, default=Const("W")),
        "VATCode": Know(ref=VAT_CODE),
        "VATDescription": _label_of("VATCode"),
        "IsBlocked": Know(default=Const(False)),
    },
    unique=("Code",),
    sync="sync/Financial/GLAccounts",
    deleted_type=7,
)

JOURNALS = declare(
    "financial/Journals",
    "Journal",
    {
        # No field is mandatory on Exact's page; its business layer needs these.
        "Code": Know(max_length=10, required=True),
        "Description": Know(max_length=60, required=True),
        "Type": Know(required=True),
        "GLAccount": Know(ref=GL_ACCOUNT),
        "GLAccountCode": _label_of("GLAccount", "Code"),
        "GLAccountDescription": _label_of("GLAccount"),
        "Currency": Know(max_length=3, default=Const("EUR")),
    },
    unique=("Code",),
)

PAYMENT_CONDITIONS = declare(
    "cashflow/PaymentConditions",
    "PaymentCondition",
    {
        "Code": Know(max_length=20),
        "Description": Know(max_length=60),
        "PaymentDays": Know(default=Const(0)),
        "PaymentEndOfMonths": Know(default=Const(0)),
        "PaymentMethod": Know(max_length=1, default=Const("B")),
    },
    unique=("Code",),
)

DOCUMENT_TYPES = declare("documents/DocumentTypes", "DocumentType")

DOCUMENTS = declare(
    "documents/Documents",
    "Document",
    {
        "Subject": Know(max_length=200),
        "Type": Know(ref=Ref("documents/DocumentTypes", allowed={"DocumentIsCreatable": (True,)})),
        "TypeDescription": _label_of("Type"),
        "Account": Know(ref=ACCOUNT),
        "AccountCode": _label_of("Account", "Code"),
        "AccountName": _label_of("Account", "Name"),
        "DocumentDate": Know(default=Today()),
        "Currency": Know(max_length=3),
    },
    cascade=("documents/DocumentAttachments",),
    on_create=rules.document_numbering,
    bulk="bulk/Documents/Documents",
    sync="sync/Documents/Documents",
    deleted_type=6,
)

DOCUMENT_ATTACHMENTS = declare(
    "documents/DocumentAttachments",
    "DocumentAttachment",
    {"Document": Know(ref=DOCUMENT), "FileName": Know(max_length=200)},
    on_create=rules.attachment_file,
    bulk="bulk/Documents/DocumentAttachments",
    sync="sync/Documents/DocumentAttachments",
    deleted_type=4,
)

SALES_ENTRY_LINES = declare(
    "salesentry/SalesEntryLines",
    "SalesEntryLine",
    {
        "GLAccount": Know(ref=REVENUE_GL),
        "GLAccountCode": _label_of("GLAccount", "Code"),
        "GLAccountDescription": _label_of("GLAccount"),
        "VATCode": Know(ref=VAT_CODE, default=FromRef("GLAccount", "VATCode")),
        "VATCodeDescription": _label_of("VATCode"),
        "VATPercentage": _label_of("VATCode", "Percentage"),
        "Description": Know(max_length=60),
        "CostCenter": Know(ref=COST_CENTER),
        "CostCenterDescription": _label_of("CostCenter"),
        "CostUnit": Know(ref=COST_UNIT),
        "CostUnitDescription": _label_of("CostUnit"),
    },
)

SALES_ENTRIES = declare(
    "salesentry/SalesEntries",
    "SalesEntry",
    {
        "Customer": Know(ref=ACCOUNT),
        "CustomerName": _label_of("Customer", "Name"),
        "Journal": Know(ref=SALES_JOURNAL),
        "JournalDescription": _label_of("Journal"),
        "EntryDate": Know(default=Today()),
        "YourRef": Know(max_length=40),
        "Description": Know(max_length=60),
        "Currency": Know(max_length=3, default=Const("EUR")),
        "Rate": Know(default=Const(1)),
        "PaymentCondition": Know(
            ref=PAYMENT_CONDITION, default=FromRef("Customer", "PaymentConditionSales")
        ),
        "PaymentConditionDescription": _label_of("PaymentCondition"),
        "PaymentReference": Know(max_length=25),
        "Document": Know(ref=DOCUMENT),
        "DocumentSubject": _label_of("Document", "Subject"),
        "DocumentNumber": _label_of("Document", "HID"),
    },
    lines=Lines(
        "SalesEntryLines", SALES_ENTRY_LINES.path, "EntryID", last_line_deletes_header=True
    ),
    on_create=rules.sales_entry_amounts,
    after_create=rules.sales_entry_booked,
    guard=rules.sales_entry_guard,
    after_update=rules.sales_entry_updated,
    on_lines_changed=rules.sales_entry_rebooked,
    on_delete=rules.transaction_removed,
)

SALES_INVOICE_LINES = declare(
    "salesinvoice/SalesInvoiceLines",
    "SalesInvoiceLine",
    {
        "Item": Know(ref=Ref("logistics/Items")),
        "ItemCode": _label_of("Item", "Code"),
        "ItemDescription": _label_of("Item"),
        "Description": Know(max_length=60, default=FromRef("Item", "Description")),
        "Quantity": Know(default=Const(1)),
        "UnitPrice": Know(default=FromRef("Item", "StandardSalesPrice")),
        "Discount": Know(default=Const(0)),
        "GLAccount": Know(ref=REVENUE_GL, default=FromRef("Item", "GLRevenue")),
        "GLAccountDescription": _label_of("GLAccount"),
        "VATCode": Know(ref=VAT_CODE, default=FromRef("Item", "SalesVatCode")),
        "VATCodeDescription": _label_of("VATCode"),
        "VATPercentage": _label_of("VATCode", "Percentage"),
        "UnitCode": Know(max_length=10, default=FromRef("Item", "Unit")),
        "CostCenter": Know(ref=COST_CENTER),
        "CostCenterDescription": _label_of("CostCenter"),
        "CostUnit": Know(ref=COST_UNIT),
        "CostUnitDescription": _label_of("CostUnit"),
    },
)

SALES_INVOICES = declare(
    "salesinvoice/SalesInvoices",
    "SalesInvoice",
    {
        "OrderedBy": Know(ref=ACCOUNT),
        "OrderedByName": _label_of("OrderedBy", "Name"),
        "InvoiceTo": Know(ref=ACCOUNT, default=FromRef("OrderedBy", "ID")),
        "InvoiceToName": _label_of("InvoiceTo", "Name"),
        "DeliverTo": Know(ref=ACCOUNT, default=FromRef("OrderedBy", "ID")),
        "DeliverToName": _label_of("DeliverTo", "Name"),
        "Journal": Know(
            ref=SALES_JOURNAL, default=FirstOf("financial/Journals", "Code", {"Type": (20,)})
        ),
        "JournalDescription": _label_of("Journal"),
        "Type": Know(default=Const(8020)),
        "Currency": Know(max_length=3, default=Const("EUR")),
        "Description": Know(max_length=60),
        "YourRef": Know(max_length=40),
        "OrderDate": Know(default=Today()),
        "PaymentCondition": Know(
            ref=PAYMENT_CONDITION, default=FromRef("OrderedBy", "PaymentConditionSales")
        ),
        "PaymentConditionDescription": _label_of("PaymentCondition"),
        "PaymentReference": Know(max_length=25),
        "Document": Know(ref=DOCUMENT),
        "DocumentSubject": _label_of("Document", "Subject"),
        "Status": Know(default=Const(20)),
    },
    lines=Lines("SalesInvoiceLines", SALES_INVOICE_LINES.path, "InvoiceID"),
    locked=Locked("Status", (50,), "processed"),
    on_create=rules.sales_invoice_amounts,
    on_lines_changed=rules.sales_invoice_recalculated,
    bulk="bulk/SalesInvoice/SalesInvoices",
    sync="sync/SalesInvoice/SalesInvoices",
    sync_flatten=True,
    deleted_type=13,
)

_PRINT_OUTPUTS = (
    "Division",
    "Document",
    "DocumentCreationSuccess",
    "DocumentCreationError",
    "EmailCreationSuccess",
    "EmailCreationError",
    "PeppolCreationSuccess",
    "PeppolCreationError",
    "PostboxMessageCreationSuccess",
    "PostboxMessageCreationError",
)

PRINTED_SALES_INVOICES = declare(
    "salesinvoice/PrintedSalesInvoices",
    "PrintedSalesInvoice",
    {
        "InvoiceID": Know(ref=Ref("salesinvoice/SalesInvoices", by="InvoiceID")),
        "SendEmailToCustomer": Know(default=Const(False)),
        "SendOutputBasedOnAccount": Know(default=Const(False)),
        "SendInvoiceViaPeppol": Know(default=Const(False)),
        # The page does not split input from output: what Exact fills in is GET-only here.
        **{name: Know(get_only=True) for name in _PRINT_OUTPUTS},
    },
    on_create=rules.invoice_processed,
)

RECEIVABLES = declare(
    "cashflow/Receivables",
    "Receivable",
    {"Description": Know(max_length=100), "PaymentMethod": Know(max_length=1)},
    bulk="bulk/Cashflow/Receivables",
    sync="sync/Cashflow/PaymentTerms",
    sync_constants={"LineType": (Edm.INT16, 20)},
    deleted_type=10,
)

# Open items of the division, one row per open receivable (GET only).
RECEIVABLES_LIST = declare(
    "read/financial/ReceivablesList",
    "ReceivablesList",
    stored_in="cashflow/Receivables",
    view=rules.receivables_list,
)

BANK_ENTRY_LINES = declare(
    "financialtransaction/BankEntryLines",
    "BankEntryLine",
    {
        "GLAccount": Know(ref=GL_ACCOUNT),
        "GLAccountCode": _label_of("GLAccount", "Code"),
        "GLAccountDescription": _label_of("GLAccount"),
        "Account": Know(ref=ACCOUNT),
        "AccountCode": _label_of("Account", "Code"),
        "AccountName": _label_of("Account", "Name"),
        "Description": Know(max_length=100),
        "VATCode": Know(ref=VAT_CODE),
        "Document": Know(ref=DOCUMENT),
    },
    # A bank line POSTed on its own would have to match payments again: not simulated.
    omit_methods=frozenset({"POST"}),
)

BANK_ENTRIES = declare(
    "financialtransaction/BankEntries",
    "BankEntry",
    {
        "JournalCode": Know(ref=BANK_JOURNAL),
        "JournalDescription": _label_of("JournalCode"),
        "Currency": Know(max_length=3, default=Const("EUR")),
        "OpeningBalanceFC": Know(default=Const(0)),
        "BankStatementDocument": Know(ref=DOCUMENT),
    },
    lines=Lines("BankEntryLines", BANK_ENTRY_LINES.path, "EntryID"),
    on_create=rules.bank_entry_amounts,
    after_create=rules.bank_entry_booked,
    on_delete=rules.bank_entry_removed,
)

TRANSACTION_LINES = declare(
    "financialtransaction/TransactionLines",
    "TransactionLine",
    bulk="bulk/Financial/TransactionLines",
    sync="sync/Financial/TransactionLines",
    deleted_type=1,
)

# Served only as its sync twin (key Timestamp); stored by ID.
# Open (0) or closed (1) per journal, year and period. Stored: the closed periods the admin
# API set (by "ID" = journal|year|period); served: every period of the journals (a view).
JOURNAL_STATUS = declare(
    "read/financial/JournalStatusList",
    "JournalStatusList",
    key="ID",
    view=rules.journal_status_list,
)

DELETED = declare(
    "sync/Deleted", "Deleted", omit_methods=frozenset({"GET"}), key="ID", sync="sync/Deleted"
)

# current/Me: built per request from the token's user, never stored.
ME = declare("current/Me", "Me")

# Per app (ClientID) and division. PUT is listed on the page, but the dotnet SDK has no update
# and the reference (§8) says to delete and recreate: not simulated.
WEBHOOK_SUBSCRIPTIONS = declare(
    webhooks.SUBSCRIPTIONS,
    "WebhookSubscription",
    omit_methods=frozenset({"PUT"}),
    on_create=webhooks.subscription_created,
    view=webhooks.own_subscriptions,
)

COST_CENTERS = declare("hrm/Costcenters", "Costcenter", unique=("Code",))
COST_UNITS = declare("hrm/Costunits", "Costunit", unique=("Code",))

ENTITY_SETS: tuple[EntitySet, ...] = (
    DIVISIONS,
    HRM_DIVISIONS,
    ACCOUNTS,
    ITEMS,
    VAT_CODES,
    GL_ACCOUNTS,
    JOURNALS,
    PAYMENT_CONDITIONS,
    DOCUMENT_TYPES,
    DOCUMENTS,
    DOCUMENT_ATTACHMENTS,
    SALES_ENTRIES,
    SALES_ENTRY_LINES,
    SALES_INVOICES,
    SALES_INVOICE_LINES,
    PRINTED_SALES_INVOICES,
    RECEIVABLES,
    RECEIVABLES_LIST,
    BANK_ENTRIES,
    BANK_ENTRY_LINES,
    TRANSACTION_LINES,
    JOURNAL_STATUS,
    DELETED,
    WEBHOOK_SUBSCRIPTIONS,
    COST_CENTERS,
    COST_UNITS,
)
