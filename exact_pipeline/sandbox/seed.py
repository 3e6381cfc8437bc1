"""The seeded Exact side of the demo company, built from `exact_pipeline.demo.catalog`.

IDs are deterministic (uuid5 of division, set and code), so a reset or re-seed gives every
master record the same GUID again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from exact_pipeline.demo import catalog
from exact_pipeline.sandbox.schema import Record
from exact_pipeline.sandbox.store import GLOBAL, Store

NAMESPACE = uuid.UUID("5d1c6f3e-7a51-4c1e-9a57-3b1f0c2e8e10")


@dataclass(frozen=True)
class User:
    user_id: str
    user_name: str
    full_name: str
    email: str
    language: str
    divisions: tuple[int, ...]  # the divisions this Exact user may open


DEMO_USER = User(
    user_id=str(uuid.uuid5(NAMESPACE, "user:demo")),
    user_name="sanne.devries",
    full_name="Sanne de Vries",
    email="sanne.devries@cloudmeter.example",
    language="nl-NL",
    divisions=tuple(e.division for e in catalog.ENTITIES),
)

# (division, description, country, currency): the demo entities' plus one without access.
DIVISIONS = (
    *((e.division, e.division_name, e.country, e.currency) for e in catalog.ENTITIES),
    (catalog.FORBIDDEN_DIVISION, "Cloudmeter Holding B.V.", "NL", "EUR"),
)

DOCUMENT_TYPES = (
    (10, "Verkoopfactuur", True, 10),
    (20, "Inkoopfactuur", True, 20),
    (55, "Overig", True, 90),
)


def seeded_id(division: int, path: str, code: str) -> str:
    """The GUID a seeded record gets, so tests and the demo can name it."""
    return str(uuid.uuid5(NAMESPACE, f"{division}:{path}:{code}"))


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
            for p in (*catalog.PRODUCTS, *catalog.UNMAPPED_PRODUCTS, catalog.ADJUSTMENT_ITEM)
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


def seed(store: Store, now: datetime) -> None:
    """Upsert the seeded divisions and master data; records added since are kept."""
    for division, description, country, currency in DIVISIONS:
        division_record = {
            "Code": division,
            "Description": description,
            "Country": country,
            "Currency": currency,
            "Hid": division,  # system/Divisions spells it Hid, hrm/Divisions HID
            "HID": division,
            "DivisionMoveDate": None,
        }
        _upsert(store, GLOBAL, "system/Divisions", "Code", division_record, now)
        store.table(division, "crm/Accounts")  # the division exists even when empty
        for path, records in master_data(division).items():
            key = "ID"
            for record in records:
                _upsert(store, division, path, key, record, now)


def _upsert(
    store: Store, division: int, path: str, key: str, record: Record, now: datetime
) -> None:
    existing = store.get(division, path, record[key])
    if existing is not None and all(existing.get(k) == v for k, v in record.items()):
        return
    store.insert(division, path, key, dict(record), now)
