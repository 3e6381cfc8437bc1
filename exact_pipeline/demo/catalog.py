"""The demo company's world, declared once.

The billing seed (`exact_pipeline.demo.seed`), the demo mapping tables (`mappings/`) and the
sandbox's seeded Exact divisions (`sandbox_world`) are all built from these
declarations, so the three agree by construction. A test checks `mappings/` against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    country: str
    currency: str
    timezone: str
    division: int
    division_name: str


@dataclass(frozen=True)
class TaxRate:
    id: str
    entity_id: str
    name: str
    rate: Decimal  # percent
    vat_code: str  # the Exact VAT code it maps to in the entity's division


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    kind: str  # subscription | usage | one_off
    unit_price: int  # minor units, excl. tax
    item_code: str
    gl_account: str | None  # Exact GL code; None: the entity's default invoice GL
    cost_center: str | None = None  # an Exact cost centre code (COST_CENTERS), if any
    cost_unit: str | None = None  # an Exact cost unit code (COST_UNITS), if any


@dataclass(frozen=True)
class Analytic:
    """An Exact cost centre or cost unit of every demo division."""

    code: str
    description: str
    end_date: date | None = None  # ended: Exact keeps it, a line may no longer name it


@dataclass(frozen=True)
class GLAccount:
    code: str
    description: str
    type: int  # Exact GLAccount.Type: 110 revenue, 20 receivable, 24 VAT, 12 bank …
    balance_type: str  # B balance sheet, W profit and loss


@dataclass(frozen=True)
class Journal:
    code: str
    description: str
    type: int  # 20 sales, 12 bank, 90 general


@dataclass(frozen=True)
class KnownCustomer:
    """A billing customer that already has an account in Exact, and how it is found there."""

    customer_id: str
    name: str
    email: str
    vat_number: str | None
    country: str
    exact_account_code: str
    link: str  # explicit (customer_links.csv) | vat | email | name (matching rules)


ENTITIES: tuple[Entity, ...] = (
    Entity("ent_nl", "Cloudmeter B.V.", "NL", "EUR", "Europe/Amsterdam", 310001, "Cloudmeter B.V."),
    Entity(
        "ent_be",
        "Cloudmeter België BV",
        "BE",
        "EUR",
        "Europe/Brussels",
        320001,
        "Cloudmeter België BV",
    ),
)

# A division the demo user has no access to: requests for it get Exact's 403.
FORBIDDEN_DIVISION = 330001

TAX_RATES: tuple[TaxRate, ...] = (
    TaxRate("tax_nl_21", "ent_nl", "BTW hoog 21%", Decimal("21"), "1"),
    TaxRate("tax_nl_9", "ent_nl", "BTW laag 9%", Decimal("9"), "2"),
    TaxRate("tax_nl_0", "ent_nl", "BTW 0% (verlegd/export)", Decimal("0"), "0"),
    TaxRate("tax_be_21", "ent_be", "BTW 21%", Decimal("21"), "4"),
    TaxRate("tax_be_6", "ent_be", "BTW 6%", Decimal("6"), "3"),
    TaxRate("tax_be_0", "ent_be", "BTW 0% (intracommunautair)", Decimal("0"), "5"),
)

GL_ACCOUNTS: tuple[GLAccount, ...] = (
    GLAccount("1100", "Bank", 12, "B"),
    GLAccount("1300", "Debiteuren", 20, "B"),
    GLAccount("1500", "Af te dragen BTW", 24, "B"),
    GLAccount("8000", "Omzet abonnementen", 110, "W"),
    GLAccount("8010", "Omzet verbruik", 110, "W"),
    GLAccount("8020", "Omzet eenmalige diensten", 110, "W"),
    GLAccount("8030", "Omzet hardware", 110, "W"),
    GLAccount("8090", "Creditnota's en omzetcorrecties", 110, "W"),
)

JOURNALS: tuple[Journal, ...] = (
    Journal("70", "Verkoopboek", 20),
    Journal("20", "Bank", 12),
    Journal("90", "Memoriaal", 90),
)

PAYMENT_CONDITIONS: tuple[tuple[str, str, int], ...] = (
    ("14", "14 dagen", 14),
    ("30", "30 dagen", 30),
)

# Per entity: sales journal, bank journal, default GLs (codes above).
SALES_JOURNAL = "70"
BANK_JOURNAL = "20"
DEFAULT_INVOICE_GL = "8000"
DEFAULT_CREDIT_NOTE_GL = "8090"

PRODUCTS: tuple[Product, ...] = (
    Product("prod_starter", "Starter plan (monthly)", "subscription", 2900, "SUB-STARTER", None),
    Product("prod_team", "Team plan (monthly)", "subscription", 9900, "SUB-TEAM", None),
    Product(
        "prod_business",
        "Business plan (monthly)",
        "subscription",
        29900,
        "SUB-BUSINESS",
        None,
        cost_center="SAAS",
        cost_unit="CLOUD",
    ),
    Product(
        "prod_enterprise",
        "Enterprise plan (monthly)",
        "subscription",
        149900,
        "SUB-ENTERPRISE",
        None,
    ),
    Product("prod_seat", "Additional seat", "subscription", 1200, "SUB-SEAT", None),
    Product("prod_support_plus", "Support Plus", "subscription", 4900, "SUB-SUPPORT", None),
    Product("prod_api_calls", "API calls (per 1,000)", "usage", 35, "USE-API", "8010"),
    Product("prod_storage", "Storage (per GB-month)", "usage", 12, "USE-STORAGE", "8010"),
    Product("prod_sms", "SMS messages", "usage", 7, "USE-SMS", "8010"),
    Product("prod_bandwidth", "Bandwidth (per GB)", "usage", 4, "USE-BANDWIDTH", "8010"),
    Product("prod_compute", "Compute hours", "usage", 18, "USE-COMPUTE", "8010"),
    Product("prod_onboarding", "Onboarding package", "one_off", 75000, "SRV-ONBOARD", "8020"),
    Product("prod_training", "Training day", "one_off", 120000, "SRV-TRAINING", "8020"),
    Product(
        "prod_consulting",
        "Consulting hour",
        "one_off",
        13500,
        "SRV-CONSULT",
        "8020",
        cost_center="SERVICES",
    ),
    Product("prod_migration", "Data migration", "one_off", 250000, "SRV-MIGRATE", "8020"),
    Product("prod_setup", "Setup fee", "one_off", 15000, "SRV-SETUP", "8020"),
    Product("prod_ebook", "Handbook (printed book)", "one_off", 3900, "HW-BOOK", "8030"),
    Product("prod_token", "Hardware security key", "one_off", 4500, "HW-TOKEN", "8030"),
    Product("prod_gateway", "IoT gateway", "one_off", 34900, "HW-GATEWAY", "8030"),
    Product("prod_sensor", "Sensor kit", "one_off", 8900, "HW-SENSOR", "8030"),
)

# Analytics of every demo division; products.csv sends a product's to Exact on its lines.
COST_CENTERS: tuple[Analytic, ...] = (
    Analytic("SAAS", "Software subscriptions"),
    Analytic("SERVICES", "Professional services"),
    Analytic("HOSTING", "Managed hosting (discontinued)", end_date=date(2025, 12, 31)),
)
COST_UNITS: tuple[Analytic, ...] = (
    Analytic("CLOUD", "Cloud platform"),
    Analytic("IOT", "IoT devices"),
)

# A product the finance team has not mapped yet: the demo's blocked documents (a handful of
# invoices in the most recent weeks) show how a missing mapping surfaces and is fixed.
UNMAPPED_PRODUCTS: tuple[Product, ...] = (
    Product("prod_beta_ai", "AI assistant (beta)", "subscription", 1900, "SUB-AI-BETA", None),
)

# An Exact item no billing product maps to: what `default_item_code` names for billing's lines
# without a product (manual adjustments, goodwill credits) in sales_invoice mode. The demo's
# settings leave it unset, so those lines block their documents until README step 3's fix.
ADJUSTMENT_ITEM = Product("", "Adjustments and goodwill", "one_off", 0, "ADJUST", None)

# Every sales item of a demo division: one per product (mapped or not), and the adjustment item.
EXACT_ITEMS: tuple[Product, ...] = (*PRODUCTS, *UNMAPPED_PRODUCTS, ADJUSTMENT_ITEM)

# Products whose lines carry the reduced rate (books: 9% NL / 6% BE) instead of the standard.
REDUCED_RATE_PRODUCTS = frozenset({"prod_ebook"})

KNOWN_CUSTOMERS: tuple[KnownCustomer, ...] = (
    KnownCustomer(
        "cus_known_01",
        "Bakkerij De Gouden Korenaar B.V.",
        "finance@goudenkorenaar.nl",
        "NL859123456B01",
        "NL",
        "10001",
        "explicit",
    ),
    KnownCustomer(
        "cus_known_02",
        "Jansen & Zonen Installatietechniek",
        "admin@jansenzonen.nl",
        "NL001234567B02",
        "NL",
        "10002",
        "vat",
    ),
    KnownCustomer(
        "cus_known_03",
        "Stichting Groene Hart",
        "boekhouding@groenehart.org",
        None,
        "NL",
        "10003",
        "email",
    ),
    KnownCustomer(
        "cus_known_04",
        "Brasserie Ærø & Zeeën",
        "info@brasserie-aero.be",
        None,
        "BE",
        "20001",
        "name",
    ),
    KnownCustomer(
        "cus_known_05",
        "Müller Logistiek BV",
        "ap@muller-logistiek.be",
        "BE0123456789",
        "BE",
        "20002",
        "vat",
    ),
)


def entity(entity_id: str) -> Entity:
    return next(e for e in ENTITIES if e.id == entity_id)
