"""One division's reference data, read once per run: ONE paged pass per kind, on first use.

Big sets (items, GL accounts, accounts) are read through their sync endpoints from the start
(`Timestamp gt 1`: 1000 rows a page, no other filter needed; the bulk twins of Items and
Accounts demand a `$filter` like the plain ones); small ones (VAT codes, journals, payment
conditions) through their plain endpoints, usually in one page.

Codes are the keys (trimmed, as the mapping tables write them): `items["SUB-TEAM"]`,
`vat_codes["1"]`, `gl_accounts["8000"]`, `journals["70"]`, `payment_conditions["30"]`.
Lines reference GL accounts and items by ID: `gl_accounts["8000"].ID`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Protocol, TypeVar

from exact_pipeline.exact import endpoints
from exact_pipeline.exact.endpoints import Endpoint, M
from exact_pipeline.exact.models import (
    Account,
    GLAccount,
    Item,
    Journal,
    PaymentCondition,
    VATCode,
)


class Coded(Protocol):
    Code: str | None


C = TypeVar("C", bound=Coded)


class Lister(Protocol):
    """How master data is read: `ExactClient.list` (passed in, so this module needs no client)."""

    def __call__(self, division: int, endpoint: Endpoint[M], /) -> Iterator[M]: ...


class MasterData:
    def __init__(self, list_all: Lister, division: int) -> None:
        self._list = list_all
        self.division = division

    @cached_property
    def items(self) -> dict[str, Item]:
        return self._by_code(self._list(self.division, endpoints.SYNC_ITEMS))

    @cached_property
    def vat_codes(self) -> dict[str, VATCode]:
        return self._by_code(self._list(self.division, endpoints.VAT_CODES))

    @cached_property
    def gl_accounts(self) -> dict[str, GLAccount]:
        return self._by_code(self._list(self.division, endpoints.SYNC_GL_ACCOUNTS))

    @cached_property
    def journals(self) -> dict[str, Journal]:
        return self._by_code(self._list(self.division, endpoints.JOURNALS))

    @cached_property
    def payment_conditions(self) -> dict[str, PaymentCondition]:
        return self._by_code(self._list(self.division, endpoints.PAYMENT_CONDITIONS))

    @cached_property
    def accounts(self) -> list[Account]:
        """Every account, for matching customers; accounts created during the run are added
        by the caller with `add_account`."""
        return list(self._list(self.division, endpoints.SYNC_ACCOUNTS))

    def add_account(self, account: Account) -> None:
        self.accounts.append(account)

    @staticmethod
    def _by_code(records: Iterator[C]) -> dict[str, C]:
        return {record.Code: record for record in records if record.Code}
