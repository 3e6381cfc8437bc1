"""Every Exact entity set the sandbox serves, declared as data.

Each declaration gives the service path, key, fields (EDM type, max length, mandatory,
GET-only, references, defaults, derived lookups), allowed methods, page size, mandatory
filters, unique fields, bulk/ and sync/ twins and the business-rule hooks of `rules.py`.
Default max lengths follow the reference's §7 item 7 and are overridable through the admin
config (`field_limits`).
"""

from __future__ import annotations

from exact_pipeline.sandbox import rules
from exact_pipeline.sandbox.schema import (
    Const,
    Edm,
    EntitySet,
    Field,
    FirstOf,
    FromRef,
    Lines,
    Locked,
    Ref,
    Today,
    binary,
    boolean,
    datetime_,
    double,
    guid,
    int32,
    string,
)

ALL = frozenset({"GET", "POST", "PUT", "DELETE"})
GET_POST = frozenset({"GET", "POST"})

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


def _id(name: str = "ID") -> Field:
    return guid(name, read_only=True)


DIVISIONS = EntitySet(
    "system/Divisions",
    "Division",
    key="Code",
    fields=(
        int32("Code", read_only=True),
        string("Description", read_only=True),
        string("Country", read_only=True),
        string("Currency", read_only=True),
        int32("HID", read_only=True),
        datetime_("DivisionMoveDate", read_only=True),
    ),
    global_scope=True,
    grant_field="Code",
)

ACCOUNTS = EntitySet(
    "crm/Accounts",
    "Account",
    key="ID",
    fields=(
        _id(),
        string("Code", 18),
        string("Name", 50, required=True),
        string("SearchCode", 10),
        string("Status", 1, default=Const("C")),
        string("Email", 100),
        string("VATNumber", 20),
        string("ChamberOfCommerce", 20),
        string("AddressLine1", 100),
        string("AddressLine2", 100),
        string("AddressLine3", 100),
        string("Postcode", 20),
        string("City", 50),
        string("State", 2),
        string("Country", 2),
        string("Phone", 30),
        string("Website", 100),
        string("Language", 10),
        string("PaymentConditionSales", ref=PAYMENT_CONDITION),
        string("SalesVATCode", ref=VAT_CODE),
        string("SalesCurrency", 3),
        boolean("Blocked", default=Const(False)),
        boolean("IsSupplier", default=Const(False)),
        boolean("IsSales", read_only=True, default=Const(True)),
        string("Remarks"),
    ),
    methods=ALL,
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

ITEMS = EntitySet(
    "logistics/Items",
    "Item",
    key="ID",
    fields=(
        _id(),
        string("Code", 30, required=True),
        string("Description", 60, required=True),
        string("ExtraDescription", 255),
        boolean("IsSalesItem", default=Const(True)),
        string("SalesVatCode", ref=VAT_CODE),
        guid("GLRevenue", ref=GL_ACCOUNT),
        string("Unit", 10, default=Const("pc")),
        double("StandardSalesPrice", read_only=True, default=Const(0)),
        datetime_("StartDate"),
        datetime_("EndDate"),
    ),
    methods=ALL,
    mandatory_filter=("ID", "Code", "Description", "IsSalesItem", "Created", "Modified"),
    unique=("Code",),
    bulk="bulk/Logistics/Items",
    sync="sync/Logistics/Items",
    deleted_type=9,
)

VAT_CODES = EntitySet(
    "vat/VATCodes",
    "VATCode",
    key="ID",
    fields=(
        _id(),
        string("Code", 3, required=True),
        string("Description", 50, required=True),
        # GET-only in Exact (derived from VATPercentages); writable here so POST is useful.
        double("Percentage", default=Const(0)),
        string("Type", 1, default=Const("E")),
        string("VATTransactionType", 1, default=Const("S")),
        boolean("IsBlocked", default=Const(False)),
        guid("GLToPay", ref=GL_ACCOUNT),
    ),
    methods=ALL,
    unique=("Code",),
)

GL_ACCOUNTS = EntitySet(
    "financial/GLAccounts",
    "GLAccount",
    key="ID",
    fields=(
        _id(),
        string("Code", 20, required=True),
        string("Description", 100, required=True),
        int32("Type", default=Const(110)),
        string("BalanceType", 1, default=Const("W")),
        string("VATCode", ref=VAT_CODE),
        boolean("IsBlocked", default=Const(False)),
    ),
    methods=ALL,
    unique=("Code",),
    sync="sync/Financial/GLAccounts",
    deleted_type=7,
)

JOURNALS = EntitySet(
    "financial/Journals",
    "Journal",
    key="ID",
    fields=(
        _id(),
        string("Code", 10, required=True),
        string("Description", 60, required=True),
        int32("Type", required=True),
        guid("GLAccount", ref=GL_ACCOUNT),
        string("Currency", 3, default=Const("EUR")),
        string("BankAccountIBAN", read_only=True),
    ),
    methods=ALL,
    unique=("Code",),
)

PAYMENT_CONDITIONS = EntitySet(
    "cashflow/PaymentConditions",
    "PaymentCondition",
    key="ID",
    fields=(
        _id(),
        string("Code", 20, required=True),
        string("Description", 60, required=True),
        int32("PaymentDays", default=Const(0)),
        int32("PaymentEndOfMonths", default=Const(0)),
        string("PaymentMethod", 1, default=Const("B")),
    ),
    methods=GET_POST,
    unique=("Code",),
)

DOCUMENT_TYPES = EntitySet(
    "documents/DocumentTypes",
    "DocumentType",
    key="ID",
    fields=(
        int32("ID", read_only=True),
        string("Description", read_only=True),
        boolean("DocumentIsCreatable", read_only=True),
        int32("TypeCategory", read_only=True),
    ),
)

DOCUMENTS = EntitySet(
    "documents/Documents",
    "Document",
    key="ID",
    fields=(
        _id(),
        string("Subject", 200, required=True),
        int32(
            "Type",
            required=True,
            ref=Ref("documents/DocumentTypes", allowed={"DocumentIsCreatable": (True,)}),
        ),
        string("TypeDescription", read_only=True, derive=FromRef("Type", "Description")),
        guid("Account", ref=ACCOUNT),
        string("AccountName", read_only=True, derive=FromRef("Account", "Name")),
        datetime_("DocumentDate", default=Today()),
        string("Body"),
        double("AmountFC"),
        string("Currency", 3),
        guid("FinancialTransactionEntryID"),
        int32("SalesInvoiceNumber"),
        int32("HID", read_only=True),
        string("DocumentViewUrl", read_only=True),
    ),
    methods=ALL,
    cascade=("documents/DocumentAttachments",),
    on_create=rules.document_numbering,
    bulk="bulk/Documents/Documents",
    sync="sync/Documents/Documents",
    deleted_type=6,
)

DOCUMENT_ATTACHMENTS = EntitySet(
    "documents/DocumentAttachments",
    "DocumentAttachment",
    key="ID",
    fields=(
        _id(),
        guid("Document", required=True, ref=DOCUMENT),
        string("FileName", 200, required=True),
        binary("Attachment", required=True),
        double("FileSize", read_only=True),
        string("Url", read_only=True),
    ),
    methods=frozenset({"GET", "POST", "DELETE"}),
    on_create=rules.attachment_file,
    bulk="bulk/Documents/DocumentAttachments",
    sync="sync/Documents/DocumentAttachments",
    deleted_type=4,
)

SALES_ENTRY_LINES = EntitySet(
    "salesentry/SalesEntryLines",
    "SalesEntryLine",
    key="ID",
    fields=(
        _id(),
        guid("EntryID", read_only=True),
        int32("LineNumber", read_only=True),
        double("AmountFC", required=True),
        double("AmountDC", read_only=True),
        guid("GLAccount", required=True, ref=REVENUE_GL),
        string("GLAccountCode", read_only=True, derive=FromRef("GLAccount", "Code")),
        string("GLAccountDescription", read_only=True, derive=FromRef("GLAccount", "Description")),
        string("VATCode", ref=VAT_CODE, default=FromRef("GLAccount", "VATCode")),
        double("VATPercentage", read_only=True, derive=FromRef("VATCode", "Percentage")),
        double("VATAmountFC"),
        double("VATAmountDC", read_only=True),
        double("VATBaseAmountFC", read_only=True),
        string("Description", 60),
        double("Quantity"),
        string("CostCenter", 8),
        string("CostUnit", 8),
        datetime_("From"),
        datetime_("To"),
        string("Notes"),
    ),
)

SALES_ENTRIES = EntitySet(
    "salesentry/SalesEntries",
    "SalesEntry",
    key="EntryID",
    fields=(
        _id("EntryID"),
        guid("Customer", required=True, ref=ACCOUNT),
        string("CustomerName", read_only=True, derive=FromRef("Customer", "Name")),
        string("Journal", required=True, ref=SALES_JOURNAL),
        string("JournalDescription", read_only=True, derive=FromRef("Journal", "Description")),
        datetime_("EntryDate", default=Today()),
        int32("EntryNumber"),
        int32("InvoiceNumber", read_only=True),
        string("YourRef", 40),
        string("Description", 60),
        string("Currency", 3, default=Const("EUR")),
        double("Rate", default=Const(1)),
        string(
            "PaymentCondition",
            ref=PAYMENT_CONDITION,
            default=FromRef("Customer", "PaymentConditionSales"),
        ),
        string("PaymentReference", 25),
        datetime_("DueDate"),
        int32("OrderNumber"),
        int32("ReportingYear"),
        int32("ReportingPeriod"),
        guid("Document", ref=DOCUMENT),
        double("VATAmountFC"),
        double("VATAmountDC", read_only=True),
        double("AmountFC", read_only=True),
        double("AmountDC", read_only=True),
        int32("Type", read_only=True),
        int32("Status", read_only=True),
        string("Remarks"),
    ),
    methods=ALL,
    lines=Lines("SalesEntryLines", SALES_ENTRY_LINES.path, "EntryID"),
    updatable=(
        "Description",
        "YourRef",
        "Document",
        "PaymentReference",
        "DueDate",
        "PaymentCondition",
        "Remarks",
    ),
    on_create=rules.sales_entry_amounts,
    after_create=rules.sales_entry_booked,
    on_delete=rules.transaction_removed,
)

SALES_INVOICE_LINES = EntitySet(
    "salesinvoice/SalesInvoiceLines",
    "SalesInvoiceLine",
    key="ID",
    fields=(
        _id(),
        guid("InvoiceID", read_only=True),
        int32("LineNumber", read_only=True),
        guid("Item", required=True, ref=Ref("logistics/Items")),
        string("ItemCode", read_only=True, derive=FromRef("Item", "Code")),
        string("ItemDescription", read_only=True, derive=FromRef("Item", "Description")),
        string("Description", 60, default=FromRef("Item", "Description")),
        double("Quantity", default=Const(1)),
        double("UnitPrice", default=FromRef("Item", "StandardSalesPrice")),
        double("Discount", default=Const(0)),
        double("NetPrice", read_only=True),
        double("AmountFC", read_only=True),
        double("AmountDC", read_only=True),
        guid("GLAccount", required=True, ref=REVENUE_GL, default=FromRef("Item", "GLRevenue")),
        string("VATCode", ref=VAT_CODE, default=FromRef("Item", "SalesVatCode")),
        double("VATPercentage", read_only=True, derive=FromRef("VATCode", "Percentage")),
        double("VATAmountFC"),
        double("VATAmountDC", read_only=True),
        string("UnitCode", 10, default=FromRef("Item", "Unit")),
        datetime_("DeliveryDate"),
        string("Notes"),
    ),
)

SALES_INVOICES = EntitySet(
    "salesinvoice/SalesInvoices",
    "SalesInvoice",
    key="InvoiceID",
    fields=(
        _id("InvoiceID"),
        guid("OrderedBy", required=True, ref=ACCOUNT),
        string("OrderedByName", read_only=True, derive=FromRef("OrderedBy", "Name")),
        guid("InvoiceTo", ref=ACCOUNT, default=FromRef("OrderedBy", "ID")),
        string("InvoiceToName", read_only=True, derive=FromRef("InvoiceTo", "Name")),
        guid("DeliverTo", ref=ACCOUNT, default=FromRef("OrderedBy", "ID")),
        string(
            "Journal",
            required=True,
            ref=SALES_JOURNAL,
            default=FirstOf("financial/Journals", "Code", {"Type": (20,)}),
        ),
        int32("Type", default=Const(8020)),
        string("Currency", 3, default=Const("EUR")),
        string("Description", 60),
        string("YourRef", 40),
        datetime_("OrderDate", default=Today()),
        datetime_("DueDate"),
        string(
            "PaymentCondition",
            ref=PAYMENT_CONDITION,
            default=FromRef("OrderedBy", "PaymentConditionSales"),
        ),
        string("PaymentReference", 25),
        string("Remarks"),
        guid("Document", ref=DOCUMENT),
        int32("OrderNumber"),
        double("Discount"),
        int32("InvoiceNumber", read_only=True),
        datetime_("InvoiceDate", read_only=True),
        int32("Status", read_only=True, default=Const(20)),
        double("AmountFC", read_only=True),
        double("AmountFCExclVat", read_only=True),
        double("VATAmountFC", read_only=True),
        double("AmountDC", read_only=True),
    ),
    methods=ALL,
    lines=Lines("SalesInvoiceLines", SALES_INVOICE_LINES.path, "InvoiceID"),
    updatable=(
        "Description",
        "YourRef",
        "Remarks",
        "Document",
        "DueDate",
        "PaymentCondition",
        "PaymentReference",
        "OrderDate",
    ),
    locked=Locked("Status", (50,), "processed"),
    on_create=rules.sales_invoice_amounts,
    bulk="bulk/SalesInvoice/SalesInvoices",
    sync="sync/SalesInvoice/SalesInvoices",
    sync_flatten=True,
    deleted_type=13,
)

PRINTED_SALES_INVOICES = EntitySet(
    "salesinvoice/PrintedSalesInvoices",
    "PrintedSalesInvoice",
    key="InvoiceID",
    fields=(
        guid("InvoiceID", required=True, ref=Ref("salesinvoice/SalesInvoices", by="InvoiceID")),
        guid("DocumentLayout"),
        datetime_("InvoiceDate"),
        int32("ReportingYear"),
        int32("ReportingPeriod"),
        boolean("SendEmailToCustomer", default=Const(False)),
        string("SenderEmailAddress"),
        guid("EmailLayout"),
        string("ExtraText"),
        boolean("SendOutputBasedOnAccount", default=Const(False)),
        boolean("SendInvoiceViaPeppol", default=Const(False)),
        guid("Document", read_only=True),
        string("DocumentCreationSuccess", read_only=True),
        string("DocumentCreationError", read_only=True),
        string("EmailCreationSuccess", read_only=True),
        string("EmailCreationError", read_only=True),
    ),
    methods=frozenset({"POST"}),
    on_create=rules.invoice_processed,
)

RECEIVABLES = EntitySet(
    "cashflow/Receivables",
    "Receivable",
    key="ID",
    fields=(
        _id(),
        guid("Account", read_only=True),
        string("AccountCode", read_only=True),
        string("AccountName", read_only=True),
        double("AmountDC", read_only=True),
        double("AmountFC", read_only=True),
        double("TransactionAmountDC", read_only=True),
        double("TransactionAmountFC", read_only=True),
        string("Currency", read_only=True),
        string("Description", 100),
        datetime_("DueDate", read_only=True),
        datetime_("EndDate", read_only=True),
        int32("EntryNumber", read_only=True),
        guid("EntryID", read_only=True),
        int32("InvoiceNumber", read_only=True),
        datetime_("InvoiceDate", read_only=True),
        boolean("IsFullyPaid", read_only=True),
        string("JournalCode", read_only=True),
        datetime_("LastPaymentDate", read_only=True),
        string("PaymentCondition", read_only=True),
        string("PaymentMethod", 1),
        string("PaymentReference", 25),
        int32("Status", read_only=True),
        guid("TransactionEntryID", read_only=True),
        guid("TransactionID", read_only=True),
        int32("TransactionType", read_only=True),
        string("YourRef", read_only=True),
        guid("Document", read_only=True),
    ),
    methods=frozenset({"GET", "PUT"}),
    updatable=("PaymentMethod", "Description", "PaymentReference"),
    bulk="bulk/Cashflow/Receivables",
    sync="sync/Cashflow/PaymentTerms",
    sync_constants={"LineType": (Edm.INT16, 20)},
    deleted_type=10,
)

BANK_ENTRY_LINES = EntitySet(
    "financialtransaction/BankEntryLines",
    "BankEntryLine",
    key="ID",
    fields=(
        _id(),
        guid("EntryID", read_only=True),
        int32("LineNumber", read_only=True),
        double("AmountFC", required=True),
        double("AmountDC", read_only=True),
        guid("GLAccount", required=True, ref=GL_ACCOUNT),
        string("GLAccountCode", read_only=True, derive=FromRef("GLAccount", "Code")),
        guid("Account", ref=ACCOUNT),
        string("AccountName", read_only=True, derive=FromRef("Account", "Name")),
        int32("OurRef"),
        datetime_("Date"),
        string("Description", 100),
        string("VATCode", ref=VAT_CODE),
        string("Notes"),
        guid("Document", ref=DOCUMENT),
    ),
)

BANK_ENTRIES = EntitySet(
    "financialtransaction/BankEntries",
    "BankEntry",
    key="EntryID",
    fields=(
        _id("EntryID"),
        string("JournalCode", required=True, ref=BANK_JOURNAL),
        string("JournalDescription", read_only=True, derive=FromRef("JournalCode", "Description")),
        string("Currency", 3, default=Const("EUR")),
        int32("EntryNumber"),
        int32("FinancialYear"),
        int32("FinancialPeriod"),
        double("OpeningBalanceFC", default=Const(0)),
        double("ClosingBalanceFC"),
        int32("Status", read_only=True),
        guid("BankStatementDocument", ref=DOCUMENT),
    ),
    methods=frozenset({"GET", "POST", "DELETE"}),
    lines=Lines("BankEntryLines", BANK_ENTRY_LINES.path, "EntryID"),
    on_create=rules.bank_entry_amounts,
    after_create=rules.bank_entry_booked,
    on_delete=rules.bank_entry_removed,
)

TRANSACTION_LINES = EntitySet(
    "financialtransaction/TransactionLines",
    "TransactionLine",
    key="ID",
    fields=(
        _id(),
        guid("EntryID", read_only=True),
        int32("EntryNumber", read_only=True),
        int32("LineNumber", read_only=True),
        int32("Type", read_only=True),
        datetime_("Date", read_only=True),
        int32("FinancialYear", read_only=True),
        int32("FinancialPeriod", read_only=True),
        string("JournalCode", read_only=True),
        guid("GLAccount", read_only=True),
        string("GLAccountCode", read_only=True),
        guid("Account", read_only=True),
        string("AccountCode", read_only=True),
        string("AccountName", read_only=True),
        double("AmountDC", read_only=True),
        double("AmountFC", read_only=True),
        double("AmountVATFC", read_only=True),
        string("VATCode", read_only=True),
        string("Currency", read_only=True),
        string("Description", read_only=True),
        int32("InvoiceNumber", read_only=True),
        string("YourRef", read_only=True),
        datetime_("DueDate", read_only=True),
        guid("Document", read_only=True),
        int32("Status", read_only=True),
    ),
    bulk="bulk/Financial/TransactionLines",
    sync="sync/Financial/TransactionLines",
    deleted_type=1,
)

DELETED = EntitySet(
    "sync/Deleted",
    "Deleted",
    key="ID",
    fields=(
        _id(),
        guid("EntityKey", read_only=True),
        int32("EntityType", read_only=True),
        datetime_("DeletedDate", read_only=True),
    ),
    methods=frozenset(),  # served only as its sync twin
    sync="sync/Deleted",
)

# current/Me: built per request from the token's user, never stored.
ME = EntitySet(
    "current/Me",
    "Me",
    key="UserID",
    fields=(
        guid("UserID"),
        string("UserName"),
        string("FullName"),
        string("Email"),
        int32("CurrentDivision"),
        string("LanguageCode"),
        datetime_("ServerTime"),
        int32("ServerUtcOffset"),
    ),
)

ENTITY_SETS: tuple[EntitySet, ...] = (
    DIVISIONS,
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
    BANK_ENTRIES,
    BANK_ENTRY_LINES,
    TRANSACTION_LINES,
    DELETED,
)
