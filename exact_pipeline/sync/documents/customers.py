"""Billing customers → Exact accounts, per division: link, match, or create — never a duplicate.

Order of precedence:
1. the ledger's earlier link, while customer_links.csv agrees with it (no Exact call at all);
2. an explicit link in customer_links.csv (the account with that Code);
3. matching rules against the division's accounts (read once per run, with the client's master
   data): VAT number (normalised), then e-mail (case-insensitive), then name. The
   first rule with candidates decides; several candidates block the customer as ambiguous
   (a person must choose: link one explicitly), because guessing could merge two companies;
4. nothing matches: `customer_sync: billing_to_exact` creates the account, `none` blocks the
   customer's documents with the reason and the fix.

Names are compared in full. Exact's account Name holds 50 characters, so a longer billing name
can only match a cut one, and customers whose names share their first 50 characters share that
cut: a cut name matches only an account no other billing customer owns (not linked to another
customer in the ledger, not created by us for another one) and whose VAT number and e-mail do
not contradict the customer's. So two billing customers never merge through a cut name.

Created accounts get Exact's own numbering (Code left empty): billing ids such as
`cus_known_01` are not debtor numbers, and finance teams expect their own sequence. Their
Remarks name the billing customer, which makes the create idempotent all the same: after a
lost response the account is looked up by name (and e-mail) and taken only when its Remarks
name THIS customer, never another customer's account of the same (cut) name. The ledger records
the link by billing customer id, so each customer costs at most one call, once, and a created
account is never found again through its name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from exact_pipeline.billing.models import Customer
from exact_pipeline.exact import ExactClient, ExactError, LookupKey, eq, masterdata
from exact_pipeline.exact.endpoints import ACCOUNTS
from exact_pipeline.exact.fields import fit, limit
from exact_pipeline.exact.models import Account
from exact_pipeline.exact.payloads import AccountPayload
from exact_pipeline.mapping import Cause, Mappings
from exact_pipeline.sync.core.errors import (
    REFUSED,
    STOPS_THE_DIVISION,
    STOPS_THE_RUN,
    plain_failure,
)
from exact_pipeline.sync.core.ledger import Connection, locked
from exact_pipeline.sync.core.writes import post_once
from exact_pipeline.sync.documents import ledger, reasons

LINKED, BLOCKED, CREATING = "linked", "blocked", "creating"
STOPS = (*STOPS_THE_RUN, *STOPS_THE_DIVISION)


@dataclass(frozen=True)
class CustomerOutcome:
    customer_id: str
    customer_name: str
    division: int
    outcome: str  # one of core.outcomes.CUSTOMER_OUTCOMES
    account_id: UUID | None = None
    account_code: str | None = None
    reason: str | None = None  # blocked or failed: what is wrong and how to fix it

    @property
    def linked(self) -> bool:
        return self.account_id is not None


def normalised_vat(value: str | None) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def normalised_email(value: str | None) -> str:
    return (value or "").strip().casefold()


NAME_LIMIT = limit("Accounts", "Name")
_CREATED_FOR = re.compile(r"Created by exact-pipeline from billing customer (\S+)\.")


def creation_remarks(customer_id: str) -> str:
    return f"Created by exact-pipeline from billing customer {customer_id}."


def created_for(account: Account) -> str | None:
    """The billing customer an account was created for by this pipeline (from its Remarks)."""
    found = _CREATED_FOR.fullmatch((account.Remarks or "").strip())
    return found.group(1) if found else None


def is_cut_name(account_name: str, customer_name: str) -> bool:
    """Whether `account_name` is `customer_name` cut to Exact's limit: ours ends with an
    ellipsis (`fit`), a person's may be a plain cut."""
    full = customer_name.strip()
    if len(full) <= NAME_LIMIT:
        return False
    return account_name in {fit("Accounts", "Name", full), full[:NAME_LIMIT].rstrip()}


def contradicts(customer: Customer, account: Account) -> bool:
    """The account's VAT number or e-mail is set and differs from the customer's."""
    pairs = (
        (normalised_vat(customer.vat_number), normalised_vat(account.VATNumber)),
        (normalised_email(customer.email), normalised_email(account.Email)),
    )
    return any(ours and theirs and ours != theirs for ours, theirs in pairs)


@dataclass(frozen=True)
class Rule:
    """A matching rule: the customer's keys and an account's key; equal keys match."""

    outcome: str
    what: str  # how a person names the matched property
    customer_keys: Callable[[Customer], set[str]]
    account_key: Callable[[Account], str]

    def candidates(self, customer: Customer, accounts: Iterable[Account]) -> list[Account]:
        wanted = self.customer_keys(customer) - {""}
        return [a for a in accounts if self.account_key(a) in wanted] if wanted else []


RULES = (
    Rule(
        "matched_vat",
        "VAT number",
        lambda c: {normalised_vat(c.vat_number)},
        lambda a: normalised_vat(a.VATNumber),
    ),
    Rule(
        "matched_email",
        "e-mail",
        lambda c: {normalised_email(c.email)},
        lambda a: normalised_email(a.Email),
    ),
    Rule("matched_name", "name", lambda c: {c.name.strip()}, lambda a: (a.Name or "").strip()),
)


def account_payload(customer: Customer) -> AccountPayload:
    return AccountPayload(
        Name=fit("Accounts", "Name", customer.name) or customer.id,
        Email=fit("Accounts", "Email", customer.email),
        VATNumber=fit("Accounts", "VATNumber", customer.vat_number),
        AddressLine1=fit("Accounts", "AddressLine1", customer.address_line1),
        AddressLine2=fit("Accounts", "AddressLine2", customer.address_line2),
        Postcode=fit("Accounts", "Postcode", customer.zip),
        City=fit("Accounts", "City", customer.city),
        Country=customer.country,
        Remarks=creation_remarks(customer.id),
    )


def _still_valid(known: ledger.CustomerLink, explicit: str | None) -> bool:
    """An earlier link holds unless customer_links.csv now names another account, or no
    longer names the one it did."""
    return known.account_code == explicit if explicit else known.how != "linked_explicit"


class CustomerLinker:
    """Links the customers of one run; reads each division's accounts at most once (the
    client caches master data per run)."""

    def __init__(self, conn: Connection, exact: ExactClient, mappings: Mappings) -> None:
        self._conn = conn
        self._exact = exact
        self._mappings = mappings
        self._done: dict[tuple[int, str], CustomerOutcome] = {}

    def link_all(self, customers: Iterable[tuple[int, Customer]]) -> list[CustomerOutcome]:
        return [self.link(division, customer) for division, customer in customers]

    def link(self, division: int, customer: Customer) -> CustomerOutcome:
        """The customer's account in `division` (created if the settings allow), or why not.
        Asked twice in a run, it answers from memory."""
        key = (division, customer.id)
        if key not in self._done:
            # Serialised with concurrent runs: the second one finds the first one's link.
            with locked(self._conn, f"customer:{division}:{customer.id}"):
                self._done[key] = self._link(division, customer)
        return self._done[key]

    def _link(self, division: int, customer: Customer) -> CustomerOutcome:
        try:
            outcome = self._resolve(division, customer)
        except STOPS:
            raise
        except REFUSED as refused:
            outcome = self._blocked(
                customer, division, reasons.account_refused(customer, division, refused.message)
            )
        except ExactError as failure:
            doing = f"creating the account of customer {customer.id}"
            outcome = CustomerOutcome(
                customer.id, customer.name, division, "failed", reason=plain_failure(failure, doing)
            )
        self._save(outcome)
        return outcome

    def _resolve(self, division: int, customer: Customer) -> CustomerOutcome:
        known = ledger.customer_links(self._conn, division, [customer.id]).get(customer.id)
        explicit = self._mappings.exact_account_code_for(customer.id)
        if known and known.state == LINKED and known.account_id and _still_valid(known, explicit):
            return self._linked(
                customer, division, "already_linked", known.account_id, known.account_code
            )
        if explicit:
            return self._explicit(division, customer, explicit)
        retrying = known is not None and known.state == CREATING
        return self._match(division, customer, retrying=retrying)

    def _explicit(self, division: int, customer: Customer, code: str) -> CustomerOutcome:
        account = self._exact.master_data(division).accounts_by_code.get(code)
        if account is None:
            return self._blocked(
                customer, division, reasons.linked_account_missing(customer, code, division)
            )
        return self._use(customer, division, "linked_explicit", account)

    def _match(self, division: int, customer: Customer, *, retrying: bool) -> CustomerOutcome:
        master_data = self._exact.master_data(division)
        matched = self._match_cached(division, customer)
        # Nothing matched: the accounts added in Exact since the cache last read them (once a
        # run), before creating one that may already exist.
        if matched is None and master_data.refresh(masterdata.ACCOUNTS):
            matched = self._match_cached(division, customer)
        if matched is not None:
            return matched
        if self._mappings.settings.customer_sync == "billing_to_exact":
            return self._create(division, customer, in_doubt=retrying)
        return self._blocked(customer, division, reasons.no_account(customer, division))

    def _match_cached(self, division: int, customer: Customer) -> CustomerOutcome | None:
        """The outcome of the matching rules on the cached accounts; None: nothing matched."""
        # An account this pipeline created for another billing customer is that customer's.
        accounts = [
            a
            for a in self._exact.master_data(division).accounts
            if created_for(a) in (None, customer.id)
        ]
        for rule in RULES:
            matches = rule.candidates(customer, accounts)
            if rule.outcome == "matched_name" and not matches:
                matches = self._cut_name_candidates(division, customer, accounts)
            if len(matches) == 1:
                return self._use(customer, division, rule.outcome, matches[0])
            if matches:
                return self._blocked(
                    customer,
                    division,
                    reasons.ambiguous_customer(customer, division, rule.what, matches),
                )
        return None

    def _cut_name_candidates(
        self, division: int, customer: Customer, accounts: Iterable[Account]
    ) -> list[Account]:
        """Accounts whose name is the customer's name cut to Exact's limit and that may be
        this customer's: created for it, or owned by no other billing customer and not
        contradicting its VAT number or e-mail."""
        found = []
        for account in accounts:
            if not is_cut_name((account.Name or "").strip(), customer.name):
                continue
            owner = created_for(account)
            if owner == customer.id:
                return [account]  # ours, whatever else shares its name
            if (
                owner is None
                and not contradicts(customer, account)
                and self._unowned(division, customer, account)
            ):
                found.append(account)
        return found

    def _unowned(self, division: int, customer: Customer, account: Account) -> bool:
        """No other billing customer is linked to the account (the ledger's links)."""
        assert account.ID is not None
        others = set(ledger.customers_of_account(self._conn, division, account.ID))
        return not others - {customer.id}

    def _use(
        self, customer: Customer, division: int, outcome: str, account: Account
    ) -> CustomerOutcome:
        """Link to `account`, unless Exact has it blocked (then a person must decide: a blocked
        account is still a likely match, so creating another one would duplicate it)."""
        if account.Blocked:
            return self._blocked(
                customer, division, reasons.account_blocked(customer, account, division)
            )
        return self._linked(customer, division, outcome, account.ID, account.Code)

    def _create(self, division: int, customer: Customer, *, in_doubt: bool) -> CustomerOutcome:
        payload = account_payload(customer)
        lookup = eq("Name", payload.Name)
        if payload.Email:
            lookup += f" and {eq('Email', payload.Email)}"
        # Another customer's account may share the (cut) name: ours is the one created for it.
        ours = LookupKey(lookup, accept=lambda account: created_for(account) == customer.id)
        # Marked before the POST: a run that dies before saving the reply looks it up first.
        account = post_once(
            self._exact,
            division,
            ACCOUNTS,
            payload.body(),
            ours,
            in_doubt=in_doubt,
            mark=lambda: ledger.save_customer(
                self._conn,
                division=division,
                customer_id=customer.id,
                customer_name=customer.name,
                state=CREATING,
                how=None,
                account_id=None,
                account_code=None,
                last_error=None,
            ),
        )
        self._exact.master_data(division).add_account(account)
        return self._linked(customer, division, "created", account.ID, account.Code)

    @staticmethod
    def _linked(
        customer: Customer,
        division: int,
        outcome: str,
        account_id: UUID | None,
        account_code: str | None,
    ) -> CustomerOutcome:
        return CustomerOutcome(
            customer.id, customer.name, division, outcome, account_id, account_code
        )

    @staticmethod
    def _blocked(customer: Customer, division: int, cause: Cause) -> CustomerOutcome:
        return CustomerOutcome(customer.id, customer.name, division, "blocked", reason=str(cause))

    def _save(self, outcome: CustomerOutcome) -> None:
        if outcome.outcome in ("already_linked", "failed"):
            return  # nothing new to record (a failed create left its `creating` mark)
        ledger.save_customer(
            self._conn,
            division=outcome.division,
            customer_id=outcome.customer_id,
            customer_name=outcome.customer_name,
            state=LINKED if outcome.linked else BLOCKED,
            how=outcome.outcome if outcome.linked else None,
            account_id=outcome.account_id,
            account_code=outcome.account_code,
            last_error=outcome.reason,
        )
