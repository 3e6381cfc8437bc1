"""Every code in the mapping tables, checked against each mapped division's master data.

Run before anything is posted (and by the Dagster asset check): a code that does not exist, or
exists with the wrong type, is reported with the file, the row or key, and the fix. Plus the
tables compared with billing's ids (`check_against_billing`): an unmapped invoicing entity is
a problem, unused rows and unmapped products are warnings (only their documents block).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from exact_pipeline.billing.models import TaxRate
from exact_pipeline.exact import ForbiddenError, MasterData
from exact_pipeline.exact.masterdata import CodeTable
from exact_pipeline.exact.models import ExactModel, GLAccount, Item, Journal
from exact_pipeline.mapping import Mappings, ProductMapping, check_against_billing
from exact_pipeline.sync.documents.analytics import unusable
from exact_pipeline.sync.documents.reports import MappingValidation

M = TypeVar("M", bound=ExactModel)

SALES_JOURNAL, BANK_JOURNAL = 20, 12  # financial/Journals.Type
PROFIT_AND_LOSS = "W"  # GLAccounts.BalanceType


def _sales_journal(journal: Journal) -> str | None:
    if journal.Type != SALES_JOURNAL:
        return f"is a journal of type {journal.Type}, not a sales journal (type 20)"
    return None


def _bank_journal(journal: Journal) -> str | None:
    if journal.Type != BANK_JOURNAL:
        return f"is a journal of type {journal.Type}, not a bank journal (type 12)"
    return None


def _revenue_gl(gl: GLAccount) -> str | None:
    if gl.IsBlocked:
        return "is blocked"
    if gl.BalanceType != PROFIT_AND_LOSS:
        return (
            f"is a balance-sheet account (type {gl.Type}), not a revenue (profit and loss) account"
        )
    return None


def _sales_item(item: Item) -> str | None:
    return None if item.IsSalesItem else "is not a sales item"


def _usable_vat(vat: Any) -> str | None:
    return "is blocked" if vat.IsBlocked else None


def _exists(_: Any) -> str | None:
    return None


@dataclass
class _Checker:
    """Collects problems; counts what it checked."""

    problems: list[str] = field(default_factory=list)
    checked: int = 0

    def code(
        self,
        place: str,
        noun: str,
        code: str,
        table: CodeTable[M],
        division: int,
        fit: Callable[[M], str | None],
        fix: str,
    ) -> None:
        self.checked += 1
        record = table.find(code, full=True)  # not cached: read in full before it is missing
        complaint = "does not exist" if record is None else fit(record)
        if complaint:
            self.problems.append(
                f"{place}: {noun} {code} {complaint} in Exact division {division}; fix: {fix}"
            )


def _accessible(
    division: int, master_data: Callable[[int], MasterData], mappings: Mappings, check: _Checker
) -> bool:
    """Whether Exact lets us read the division; if not, that is the problem to report."""
    try:
        # Reading journals answers 403 if it is refused (when not cached: a cached division
        # was readable, and a push that is refused stops the division with the reason).
        len(master_data(division).journals)
    except ForbiddenError as refused:
        entities = [k for k, e in mappings.settings.entities.items() if e.division == division]
        check.problems.append(
            f"settings.yaml, key entities.{entities[0]}.division: Exact refuses access to "
            f"division {division} ({refused}); fix: correct the division number, or connect "
            "again (`exact-pipeline auth login`) as a user who may use it"
        )
        return False
    return True


def _usable_today(record: Any) -> str | None:
    return unusable(record, date.today())


def _check_analytics(
    check: _Checker, place: str, product: ProductMapping, md: MasterData, division: int
) -> None:
    """The product's cost centre and cost unit, when set: each exists, is active and has not
    ended (an ended one would block its documents)."""
    for column, noun, table, code in (
        ("cost_center", "cost centre", md.cost_centers, product.cost_center),
        ("cost_unit", "cost unit", md.cost_units, product.cost_unit),
    ):
        if code:
            check.code(
                f"{place}, column {column}",
                noun,
                code,
                table,
                division,
                _usable_today,
                f"correct the code, use an active {noun} of that division, or leave the "
                "column empty",
            )


def validate(
    mappings: Mappings,
    master_data: Callable[[int], MasterData],
    billing_entities: list[str],
    billing_tax_rates: list[TaxRate],
    billing_products: list[str],
    billing_timezones: dict[str, str] | None = None,
) -> MappingValidation:
    """`billing_timezones`: each billing invoicing entity's timezone (checked when given)."""
    check = _Checker()
    settings_file = "settings.yaml"
    mapped = sorted({e.division for e in mappings.settings.entities.values()})
    divisions = [d for d in mapped if _accessible(d, master_data, mappings, check)]
    for entity_id, entity in mappings.settings.entities.items():
        if entity.division not in divisions:
            continue
        md, division = master_data(entity.division), entity.division
        key = f"{settings_file}, key entities.{entity_id}"
        check.code(
            f"{key}.sales_journal",
            "journal",
            entity.sales_journal,
            md.journals,
            division,
            _sales_journal,
            "use the code of a sales journal (type 20) of that division",
        )
        if entity.bank_journal:
            check.code(
                f"{key}.bank_journal",
                "journal",
                entity.bank_journal,
                md.journals,
                division,
                _bank_journal,
                "use the code of a bank journal (type 12) of that division",
            )
        if entity.payment_condition:
            check.code(
                f"{key}.payment_condition",
                "payment condition",
                entity.payment_condition,
                md.payment_conditions,
                division,
                _exists,
                "use a payment condition that exists in Exact, or remove the key",
            )
        for gl_key in ("default_invoice_gl", "default_credit_note_gl"):
            check.code(
                f"{key}.{gl_key}",
                "GL account",
                getattr(entity, gl_key),
                md.gl_accounts,
                division,
                _revenue_gl,
                "use the code of a revenue GL account of that division",
            )
        if entity.default_item_code:
            check.code(
                f"{key}.default_item_code",
                "item",
                entity.default_item_code,
                md.items,
                division,
                _sales_item,
                "use the code of a sales item of that division",
            )
    for product in mappings.products.values():
        for division in divisions:
            md = master_data(division)
            place = f"products.csv, row of product {product.product_id}"
            check.code(
                f"{place}, column item_code",
                "item",
                product.item_code,
                md.items,
                division,
                _sales_item,
                "correct the item code, or create the item in Exact as a sales item",
            )
            if product.gl_account:
                check.code(
                    f"{place}, column gl_account",
                    "GL account",
                    product.gl_account,
                    md.gl_accounts,
                    division,
                    _revenue_gl,
                    "use a revenue GL account, or leave the column empty for the default",
                )
            _check_analytics(check, place, product, md, division)
    entity_of_rate = {rate.id: rate.invoicing_entity_id for rate in billing_tax_rates}
    for tax_rate_id, vat_code in mappings.tax_codes.items():
        entity = mappings.settings.entities.get(entity_of_rate.get(tax_rate_id, ""))
        if entity is None or entity.division not in divisions:
            continue  # a rate billing does not have, or of an unmapped entity: see below
        check.code(
            f"tax_codes.csv, row of tax rate {tax_rate_id}, column vat_code",
            "VAT code",
            vat_code,
            master_data(entity.division).vat_codes,
            entity.division,
            _usable_vat,
            "use a VAT code of the division of the rate's invoicing entity",
        )
    for customer_id, code in mappings.customer_links.items():
        check.checked += 1
        if not any(master_data(d).accounts_by_code.find(code, full=True) for d in divisions):
            check.problems.append(
                f"customer_links.csv, row of customer {customer_id}, column exact_account_code: "
                f"account {code} does not exist in any mapped Exact division "
                f"({', '.join(map(str, divisions))}); fix: correct the code, or remove the row "
                "so the matching rules link the customer"
            )
    mismatches = check_against_billing(
        mappings,
        billing_entities,
        [rate.id for rate in billing_tax_rates],
        billing_products,
        billing_timezones,
    )
    problems = check.problems + [m.message for m in mismatches if m.severity == "error"]
    warnings = [m.message for m in mismatches if m.severity == "warning"]
    return MappingValidation(
        problems=problems,
        warnings=warnings,
        summary={
            "divisions": mapped,
            "codes_checked": check.checked,
            "problems": len(problems),
            "warnings": len(warnings),
            "fingerprint": mappings.fingerprint(),
        },
    )
