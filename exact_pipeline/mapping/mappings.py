"""The loaded mapping tables and the questions the transform asks them.

Resolution is pure: a line's codes follow from the tables alone. What the tables cannot answer
is a `Blocked` result that says, in plain words, what is missing and which line of which file
fixes it; the document stays blocked until a run finds the fix in place.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, PrivateAttr

from exact_pipeline.mapping.errors import UnmappedEntityError
from exact_pipeline.mapping.tables import EntityMapping, ProductMapping, SyncSettings


class LineCodes(BaseModel):
    """The Exact codes of one invoice line. `item_code` is None only when no item is needed."""

    model_config = ConfigDict(frozen=True)

    item_code: str | None
    gl_account: str
    vat_code: str
    cost_center: str | None = None  # products.csv's analytics, when the product sets them
    cost_unit: str | None = None


class Cause(BaseModel):
    """Why something cannot be pushed, and the edit that makes it pushable."""

    model_config = ConfigDict(frozen=True)

    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.fix}"


class Blocked(BaseModel):
    """A line the tables cannot map; every cause is listed so one round of fixes suffices."""

    model_config = ConfigDict(frozen=True)

    causes: tuple[Cause, ...]

    @property
    def message(self) -> str:
        return "; ".join(str(cause) for cause in self.causes)


class Mappings(BaseModel):
    """All mapping tables of one folder (see `load_mappings`). Keys are billing ids."""

    model_config = ConfigDict(frozen=True)

    folder: Path = Path("mappings")  # only to word the fixes; not part of the fingerprint
    settings: SyncSettings
    products: dict[str, ProductMapping]
    tax_codes: dict[str, str]  # tax_rate_id → Exact VAT code
    customer_links: dict[str, str]  # customer_id → Exact account code
    _fingerprint: str | None = PrivateAttr(default=None)  # frozen: computed once

    def entity(self, entity_id: str) -> EntityMapping:
        try:
            return self.settings.entities[entity_id]
        except KeyError:
            raise UnmappedEntityError(str(self.unmapped_entity(entity_id))) from None

    def resolve_line(
        self,
        entity_id: str,
        product_id: str | None,
        tax_rate_id: str,
        is_credit_note: bool,
    ) -> LineCodes | Blocked:
        """Item, GL and VAT codes of a line, or every reason it cannot have them yet.

        GL precedence: the product's gl_account, else the entity's default invoice GL (credit
        notes: its default credit-note GL). Cost centre and cost unit: the product's, if any
        (a line without a product has none). A line without a product takes the entity's
        default_item_code in sales_invoice mode; in sales_entry mode it needs none (None).
        A product without a row blocks in both modes, so revenue never lands on a default GL
        unnoticed.
        """
        entity = self.settings.entities.get(entity_id)
        causes = [
            *([] if entity else [self.unmapped_entity(entity_id)]),
            *self._item_causes(entity_id, entity, product_id),
            *self._tax_causes(tax_rate_id),
        ]
        if causes or entity is None:
            return Blocked(causes=tuple(causes))
        product = self.products.get(product_id) if product_id else None
        default_gl = entity.default_credit_note_gl if is_credit_note else entity.default_invoice_gl
        return LineCodes(
            item_code=product.item_code if product else self._default_item(entity),
            gl_account=(product.gl_account if product else None) or default_gl,
            vat_code=self.tax_codes[tax_rate_id],
            cost_center=product.cost_center if product else None,
            cost_unit=product.cost_unit if product else None,
        )

    def exact_account_code_for(self, customer_id: str) -> str | None:
        """The Exact account explicitly linked to a billing customer (customer_links.csv)."""
        return self.customer_links.get(customer_id)

    def fingerprint(self) -> str:
        """A hash of what the tables mean, for Dagster data versions.

        Any changed, added or removed value changes it. Comments, blank lines, whitespace around
        values, quoting, and the order of rows, columns and keys do not: they change no mapping.
        """
        if self._fingerprint is None:
            content = self.model_dump(mode="json", exclude={"folder"})
            canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
            self._fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        return self._fingerprint

    def unmapped_entity(self, entity_id: str) -> Cause:
        return Cause(
            reason=f"invoicing entity {entity_id} has no entry in settings.yaml",
            fix=f"add `{entity_id}:` with division, sales_journal, default_invoice_gl and "
            f"default_credit_note_gl under `entities:` in {self.folder / 'settings.yaml'}",
        )

    def unmapped_product(self, product_id: str) -> Cause:
        return Cause(
            reason=f"product {product_id} has no row in products.csv",
            fix=f"add `{product_id},<item code>,` to {self.folder / 'products.csv'}",
        )

    def unmapped_tax_rate(self, tax_rate_id: str) -> Cause:
        return Cause(
            reason=f"tax rate {tax_rate_id} has no row in tax_codes.csv",
            fix=f"add `{tax_rate_id},<VAT code>` to {self.folder / 'tax_codes.csv'}",
        )

    def _needs_items(self) -> bool:
        return self.settings.invoice_push_mode == "sales_invoice"

    def _default_item(self, entity: EntityMapping) -> str | None:
        return entity.default_item_code if self._needs_items() else None

    def _item_causes(
        self, entity_id: str, entity: EntityMapping | None, product_id: str | None
    ) -> list[Cause]:
        if product_id is not None:
            return [] if product_id in self.products else [self.unmapped_product(product_id)]
        if entity is None or not self._needs_items() or entity.default_item_code:
            return []
        return [
            Cause(
                reason=f"a line without a product needs an Exact item in sales_invoice mode, "
                f"and entity {entity_id} has no default_item_code",
                fix=f"set `default_item_code: <item code>` under entities.{entity_id} in "
                f"{self.folder / 'settings.yaml'}",
            )
        ]

    def _tax_causes(self, tax_rate_id: str) -> list[Cause]:
        return [] if tax_rate_id in self.tax_codes else [self.unmapped_tax_rate(tax_rate_id)]
