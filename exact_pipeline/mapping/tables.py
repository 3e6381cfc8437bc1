"""The contents of the mapping files as validated models (README, "Mapping tables").

`SyncSettings` is settings.yaml; `ProductMapping`, `TaxCodeMapping` and `CustomerLink` are one row
of products.csv, tax_codes.csv and customer_links.csv. Field order is the CSV column order.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exact_pipeline.mapping.errors import Inconsistency, SettingsInconsistent, expected_got
from exact_pipeline.mapping.shapes import (
    AtLeastOne,
    BillingId,
    Division,
    ExactAccountCode,
    GLCode,
    IsoDate,
    ItemCode,
    JournalCode,
    OptionalCostCenterCode,
    OptionalCostUnitCode,
    OptionalGLCode,
    OptionalItemCode,
    OptionalJournalCode,
    OptionalPaymentConditionCode,
    Percent,
    PromiseMinutes,
    Timezone,
    VatCode,
)

InvoicePushMode = Literal["sales_invoice", "sales_entry"]
CustomerSync = Literal["none", "billing_to_exact"]
PaymentSync = Literal["none", "billing_to_exact", "exact_to_billing"]
Corrections = Literal["flag", "credit_and_repost"]
ClosedPeriod = Literal["block", "next_open_period"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityMapping(_Strict):
    """Where one billing invoicing entity's documents go in Exact."""

    division: Division
    sales_journal: JournalCode
    default_invoice_gl: GLCode
    default_credit_note_gl: GLCode
    bank_journal: OptionalJournalCode = None
    payment_condition: OptionalPaymentConditionCode = None
    default_item_code: OptionalItemCode = None


class SyncSettings(_Strict):
    """settings.yaml: what syncs, from when, how, and each entity's Exact division."""

    connection_date: IsoDate
    history_start: IsoDate
    timezone: Timezone = "Europe/Amsterdam"
    invoice_push_mode: InvoicePushMode = "sales_invoice"
    customer_sync: CustomerSync = "none"
    payment_sync: PaymentSync = "none"
    # A document dated in a period closed in Exact: blocked with the period named, or booked
    # in the first open period after it, its own date kept (sync/documents/periods.py).
    closed_period: ClosedPeriod = "block"
    # The share of each division's daily API budget a backfill leaves for live documents.
    live_reserve_percent: Percent = 20
    # The freshness promise of the pushed documents (exact_documents' FreshnessPolicy).
    freshness_minutes: PromiseMinutes = 60
    # A document Exact keeps refusing is given up on (`dead_letter`: a person retries it) after
    # this many failures, or this many days after its first (sync/documents/dead_letters.py).
    give_up_after_attempts: AtLeastOne = 5
    give_up_after_days: AtLeastOne = 7
    # A document changed (or voided) in billing after it reached Exact: flagged for a person,
    # or reversed by a credit entry and posted anew (sync/documents/corrections.py).
    corrections: Corrections = "flag"
    entities: dict[BillingId, EntityMapping] = Field(
        description="one block per billing invoicing entity, keyed by its billing id"
    )

    @model_validator(mode="after")
    def _consistent(self) -> SyncSettings:
        if found := self._inconsistencies():
            raise SettingsInconsistent(found)
        return self

    def _inconsistencies(self) -> list[Inconsistency]:
        found = []
        if self.history_start > self.connection_date:
            found.append(
                Inconsistency(
                    ("history_start",),
                    expected_got(
                        f"a date on or before connection_date ({self.connection_date})",
                        self.history_start.isoformat(),
                    ),
                )
            )
        if not self.entities:
            found.append(
                Inconsistency(("entities",), "expected at least one invoicing entity, got none")
            )
        if self.payment_sync != "none":
            found.extend(
                Inconsistency(
                    ("entities", entity_id, "bank_journal"),
                    f"missing; expected an Exact journal code for payments, because "
                    f"payment_sync is {self.payment_sync!r}",
                )
                for entity_id, entity in self.entities.items()
                if entity.bank_journal is None
            )
        return found

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _unset(value: object) -> bool:
    return value is None


class ProductMapping(_Strict):
    product_id: BillingId
    item_code: ItemCode
    gl_account: OptionalGLCode = None
    # Optional columns: a products.csv without them loads as before. Left out of the dump while
    # unset, so a table without them keeps the fingerprint it had before they existed.
    cost_center: OptionalCostCenterCode = Field(None, exclude_if=_unset)
    cost_unit: OptionalCostUnitCode = Field(None, exclude_if=_unset)


class TaxCodeMapping(_Strict):
    tax_rate_id: BillingId
    vat_code: VatCode


class CustomerLink(_Strict):
    customer_id: BillingId
    exact_account_code: ExactAccountCode
