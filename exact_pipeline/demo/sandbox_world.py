"""The demo company's Exact side, handed to the sandbox: built from `catalog`, so the sandbox
holds the divisions, accounts, items, VAT codes, journals, cost centres and cost units the
mapping tables name."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal

from exact_pipeline.demo import catalog
from exact_pipeline.sandbox.schema import Record
from exact_pipeline.sandbox.seed import (
    DOCUMENT_TYPES,
    NAMESPACE,
    Division,
    User,
    World,
    seeded_id,
)

DEMO_USER = User(
    user_id=str(uuid.uuid5(NAMESPACE, "user:demo")),
    user_name="sanne.devries",
    full_name="Sanne de Vries",
    email="sanne.devries@cloudmeter.example",
    language="nl-NL",
    divisions=tuple(e.division for e in catalog.ENTITIES),
)

# The demo entities' divisions plus one the demo user has no access to.
DIVISIONS = (
    *(Division(e.division, e.division_name, e.country, e.currency) for e in catalog.ENTITIES),
    Division(catalog.FORBIDDEN_DIVISION, "Cloudmeter Holding B.V.", "NL", "EUR"),
)


def master_data(division: int) -> dict[str, list[Record]]:
    """The seeded records of one demo division, per entity set."""
    entity = next((e for e in catalog.ENTITIES if e.division == division), None)
    if entity is None:
        return {}

    def gl(code: str) -> str:
        return seeded_id(division, "financial/GLAccounts", code)

    rates = sorted(
        (t for t in catalog.TAX_RATES if t.entity_id == entity.id), key=lambda t: -t.rate
    )
    standard, reduced = rates[0], rates[1]
    journal_gl = {20: "1300", 12: "1100"}
    data: dict[str, list[Record]] = {
        "financial/GLAccounts": [
            {
                "ID": gl(g.code),
                "Code": g.code,
                "Description": g.description,
                "Type": g.type,
                "BalanceType": g.balance_type,
                "VATCode": None,
                "IsBlocked": False,
            }
            for g in catalog.GL_ACCOUNTS
        ],
        "financial/Journals": [
            {
                "ID": seeded_id(division, "financial/Journals", j.code),
                "Code": j.code,
                "Description": j.description,
                "Type": j.type,
                "GLAccount": gl(journal_gl[j.type]) if j.type in journal_gl else None,
                "Currency": entity.currency,
                "BankAccountIBAN": f"{entity.country}00BANK0{division}" if j.type == 12 else None,
            }
            for j in catalog.JOURNALS
        ],
        "vat/VATCodes": [
            {
                "ID": seeded_id(division, "vat/VATCodes", t.vat_code),
                "Code": t.vat_code.ljust(3),  # Exact pads VAT codes
                "Description": t.name,
                "Percentage": t.rate / 100,
                "Type": "E",
                "VATTransactionType": "S",
                "IsBlocked": False,
                "GLToPay": gl("1500"),
            }
            for t in catalog.TAX_RATES
            if t.entity_id == entity.id
        ],
        "cashflow/PaymentConditions": [
            {
                "ID": seeded_id(division, "cashflow/PaymentConditions", code),
                "Code": code,
                "Description": description,
                "PaymentDays": days,
                "PaymentEndOfMonths": 0,
                "PaymentMethod": "B",
            }
            for code, description, days in catalog.PAYMENT_CONDITIONS
        ],
        **{
            path: [
                {
                    "ID": seeded_id(division, path, a.code),
                    "Code": a.code,
                    "Description": a.description,
                    "EndDate": datetime.combine(a.end_date, time()) if a.end_date else None,
                    # Active: cost centres only (obsolete in Exact, still served); an ended
                    # one is ended by its EndDate.
                    **({"Active": True} if path == "hrm/Costcenters" else {}),
                }
                for a in analytics
            ]
            for path, analytics in (
                ("hrm/Costcenters", catalog.COST_CENTERS),
                ("hrm/Costunits", catalog.COST_UNITS),
            )
        },
        "documents/DocumentTypes": [
            {"ID": id_, "Description": d, "DocumentIsCreatable": creatable, "TypeCategory": cat}
            for id_, d, creatable, cat in DOCUMENT_TYPES
        ],
        "logistics/Items": [
            {
                "ID": seeded_id(division, "logistics/Items", p.item_code),
                "Code": p.item_code,
                "Description": p.name[:60],
                "IsSalesItem": True,
                "SalesVatCode": (
                    reduced if p.id in catalog.REDUCED_RATE_PRODUCTS else standard
                ).vat_code,
                "GLRevenue": gl(p.gl_account or catalog.DEFAULT_INVOICE_GL),
                "Unit": "pc",
                "StandardSalesPrice": Decimal(p.unit_price) / 100,
            }
            for p in catalog.EXACT_ITEMS
        ],
        "crm/Accounts": [
            {
                "ID": seeded_id(division, "crm/Accounts", c.exact_account_code),
                "Code": c.exact_account_code.rjust(18),
                "Name": c.name,
                "Email": c.email,
                "VATNumber": c.vat_number,
                "Country": c.country,
                "Status": "C",
                "PaymentConditionSales": "30",
                "Blocked": False,
                "IsSupplier": False,
                "IsSales": True,
            }
            for c in catalog.KNOWN_CUSTOMERS
            if c.country == entity.country
        ],
    }
    return data


DEMO_WORLD = World(
    user=DEMO_USER,
    divisions=DIVISIONS,
    master_data={d.code: master_data(d.code) for d in DIVISIONS},
)
