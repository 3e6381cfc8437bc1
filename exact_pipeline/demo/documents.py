"""The demo company's documents: subscription invoices, one-off invoices, credit notes, drafts,
voided invoices and payments over the last N months, deterministic for a seed and a day.

Nothing is dated after `now` (the moment of seeding): a billing database holds no rows from the
future, and a change cursor that saw one would skip every real change until that moment.

Everything is built from `exact_pipeline.demo.catalog`, so the sandbox and the mapping tables
agree with it. Amounts follow the billing system's rules (`amounts.line_amounts`): a line is
quantity × unit amount rounded half up, its tax is rounded on the line, totals are sums.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from exact_pipeline.billing.amounts import line_amounts
from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentLine,
    DocumentStatus,
    InvoicingEntity,
    Payment,
    Product,
    ReferenceData,
    TaxRate,
)
from exact_pipeline.demo import catalog
from exact_pipeline.demo.customers import generate_customers

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_PLANS = ("prod_starter", "prod_team", "prod_business", "prod_enterprise")
_PLAN_WEIGHTS = (40, 35, 20, 5)
_SEATS = {"prod_starter": 0, "prod_team": 6, "prod_business": 18, "prod_enterprise": 50}
_USAGE = tuple(p for p in catalog.PRODUCTS if p.kind == "usage")
# Typical monthly volume per usage product: quantities are drawn around it (log-normal).
_USAGE_VOLUME = {
    "prod_api_calls": 150,
    "prod_storage": 60,
    "prod_sms": 150,
    "prod_bandwidth": 140,
    "prod_compute": 90,
}
_VOLUME_DISCOUNT = Decimal("0.85")  # above 3× the typical volume: fractions of a cent
_METHODS = {
    "NL": ("sepa_direct_debit", "ideal", "bank_transfer"),
    "BE": ("bancontact", "bank_transfer", "sepa_direct_debit"),
}
_OTHER_METHODS = ("bank_transfer", "card")
_ONE = Decimal(1)
_MILLI = Decimal("0.001")


@dataclass(frozen=True)
class DemoData:
    reference: ReferenceData
    customers: list[Customer]
    documents: list[BillingDocument]  # invoices in issue order, drafts, credit notes


@dataclass
class _Line:
    product: Product | None
    description: str
    quantity: Decimal
    unit_amount: Decimal
    tax_rate: TaxRate
    period: tuple[date, date] | None = None  # the service period billed, both days included


@dataclass
class _Subscriber:
    """A customer, the entity that bills it, and what it buys."""

    customer: Customer
    entity: InvoicingEntity
    zone: ZoneInfo
    horizon: datetime  # the end of `today` in the entity's zone, or `now` if earlier
    standard_rate: TaxRate
    reduced_rate: TaxRate  # for REDUCED_RATE_PRODUCTS
    start: int  # first billed month (index into the window)
    end: int  # month after the last billed one (churn), or the window's length
    billing_day: int
    plan: str
    seats: int
    support: bool
    usage: tuple[catalog.Product, ...]
    payment_days: int
    purchase_order: str | None


@dataclass
class _Draft:
    """A document before it has an id and a number."""

    kind: Literal["invoice", "credit_note", "draft"]  # draft: still being prepared
    subscriber: _Subscriber
    issued_at: datetime
    lines: list[_Line]
    original: BillingDocument | None = None  # credit notes


def reference_data() -> ReferenceData:
    """The catalogue's invoicing entities, tax rates and products (unmapped ones included)."""
    return ReferenceData(
        entities=[
            InvoicingEntity(e.id, e.name, e.country, e.currency, e.timezone)
            for e in catalog.ENTITIES
        ],
        tax_rates=[TaxRate(t.id, t.entity_id, t.name, t.rate) for t in catalog.TAX_RATES],
        products=[Product(p.id, p.name) for p in (*catalog.PRODUCTS, *catalog.UNMAPPED_PRODUCTS)],
    )


def generate_demo_data(
    *, seed: int, customers: int, months: int, today: date, now: datetime | None = None
) -> DemoData:
    """`now` (default: the end of `today`) bounds every timestamp; today's documents and
    payments fall between midnight and `now`, the same ones whatever the hour."""
    return _Generator(seed, months, today, now).run(customers)


class _Generator:
    def __init__(self, seed: int, months: int, today: date, now: datetime | None) -> None:
        if months < 1:
            raise ValueError("months must be at least 1")
        self.rng = random.Random(seed)
        self.today = today
        self.now = now
        first = today.year * 12 + today.month - 1 - (months - 1)
        self.months = [(m // 12, m % 12 + 1) for m in range(first, first + months)]
        self.reference = reference_data()
        self.entities = {e.id: e for e in self.reference.entities}
        self.tax_rates = self.reference.tax_rates
        # Per entity, lowest rate first: (zero, reduced, standard) in the catalogue.
        self.rates = {
            entity_id: sorted(
                (t for t in self.tax_rates if t.invoicing_entity_id == entity_id),
                key=lambda t: t.rate,
            )
            for entity_id in self.entities
        }
        self.catalog = {p.id: p for p in (*catalog.PRODUCTS, *catalog.UNMAPPED_PRODUCTS)}
        self.products = {p.id: p for p in self.reference.products}
        self.payment_count = 0

    def run(self, size: int) -> DemoData:
        subscribers = self._subscribers(size)
        drafts = sorted((d for s in subscribers for d in self._invoices(s)), key=_issue_order)
        self._add_unmapped_lines(drafts)
        invoices = self._number(drafts, "inv", "{country}-{year}-")
        credit_drafts = sorted(
            (
                credit
                for draft, invoice in zip(drafts, invoices, strict=True)
                if (credit := self._credit_note(draft.subscriber, invoice))
            ),
            key=_issue_order,
        )
        credit_notes = self._number(credit_drafts, "cn", "CN-{country}-{year}-")
        unfinished = [self._unfinished(s) for s in self._draft_subscribers(subscribers)]
        prepared = self._number(unfinished, "inv", "{country}-DRAFT-", first=len(invoices) + 1)
        return DemoData(
            reference=self.reference,
            customers=[s.customer for s in subscribers],
            documents=[*invoices, *prepared, *credit_notes],
        )

    # --- customers and what they buy ---------------------------------------------------

    def _subscribers(self, size: int) -> list[_Subscriber]:
        rng, window = self.rng, len(self.months)
        spans = []
        for index in range(size):
            known = index < len(catalog.KNOWN_CUSTOMERS)
            start = 0 if known or rng.random() < 0.75 or window == 1 else rng.randrange(1, window)
            churns = not known and start + 1 < window and rng.random() < 0.08
            spans.append((start, rng.randrange(start + 1, window) if churns else window))
        month_starts = [datetime(year, month, 1, tzinfo=UTC) for year, month in self.months]
        first_invoices = [month_starts[start] for start, _ in spans]
        customers = generate_customers(rng, first_invoices, month_starts[0])
        return [
            self._subscriber(customer, start, end, known=index < len(catalog.KNOWN_CUSTOMERS))
            for index, (customer, (start, end)) in enumerate(zip(customers, spans, strict=True))
        ]

    def _subscriber(self, customer: Customer, start: int, end: int, *, known: bool) -> _Subscriber:
        rng = self.rng
        entity = self.entities["ent_be" if customer.country == "BE" else "ent_nl"]
        zone = ZoneInfo(entity.timezone)
        zero, reduced, standard = self.rates[entity.id]
        if customer.country != entity.country and customer.vat_number:
            reduced = standard = zero  # an intra-EU business customer: reverse charge
        plan = rng.choice(_PLANS[1:3]) if known else rng.choices(_PLANS, weights=_PLAN_WEIGHTS)[0]
        large = plan in ("prod_business", "prod_enterprise")
        return _Subscriber(
            customer=customer,
            entity=entity,
            zone=zone,
            horizon=self._horizon(zone),
            standard_rate=standard,
            reduced_rate=reduced,
            start=start,
            end=end,
            billing_day=rng.randint(1, 28),
            plan=plan,
            seats=rng.randint(0, _SEATS[plan] * 2),
            support=large and rng.random() < 0.3,
            usage=tuple(rng.sample(_USAGE, rng.randint(0, 3))),
            payment_days=14 if rng.random() < 0.7 else 30,
            purchase_order=f"PO-{rng.randint(10000, 99999)}"
            if large and rng.random() < 0.2
            else None,
        )

    def _horizon(self, zone: ZoneInfo) -> datetime:
        end_of_today = datetime.combine(self.today + timedelta(days=1), time(), zone)
        return min(end_of_today, self.now or end_of_today).astimezone(UTC)

    def _line(
        self,
        subscriber: _Subscriber,
        product_id: str,
        quantity: Decimal = _ONE,
        *,
        unit_amount: Decimal | None = None,
        month: tuple[int, int] | None = None,
    ) -> _Line:
        """`month` (year, month): the service period a subscription or usage line bills."""
        product = self.catalog[product_id]
        name = f"{product.name} – {_MONTHS[month[1] - 1]} {month[0]}" if month else product.name
        return _Line(
            self.products[product_id],
            name,
            quantity,
            Decimal(product.unit_price) if unit_amount is None else unit_amount,
            subscriber.reduced_rate
            if product_id in catalog.REDUCED_RATE_PRODUCTS
            else subscriber.standard_rate,
            _month_days(*month) if month else None,
        )

    # --- invoices ------------------------------------------------------------------------

    def _invoices(self, s: _Subscriber) -> Iterator[_Draft]:
        rng = self.rng
        for index in range(s.start, s.end):
            year, month = self.months[index]
            day = date(year, month, s.billing_day)
            if day > self.today:
                break
            lines = self._subscription_lines(s, index)
            if index == s.start and index > 0:  # a new customer: onboarding, setup
                lines += [
                    self._line(s, product_id)
                    for product_id, share in (("prod_onboarding", 0.35), ("prod_setup", 0.25))
                    if rng.random() < share
                ]
            lines += self._extras(s)
            yield _Draft("invoice", s, self._moment(s, day), lines)
            if rng.random() < 0.1:  # a one-off order in between: hardware, training …
                one_off_day = day + timedelta(days=rng.randint(3, 25))
                if one_off_day <= self.today:
                    yield _Draft("invoice", s, self._moment(s, one_off_day), self._one_off_lines(s))

    def _subscription_lines(self, s: _Subscriber, index: int) -> list[_Line]:
        rng = self.rng
        month = self.months[index]
        lines = [self._line(s, s.plan, month=month)]
        if s.seats and (seats := max(0, s.seats + rng.randint(-2, 2))):
            lines.append(self._line(s, "prod_seat", Decimal(seats), month=month))
        if s.support:
            lines.append(self._line(s, "prod_support_plus", month=month))
        if index > s.start:  # usage is billed in arrears
            used = self.months[index - 1]
            lines += [self._usage_line(s, product, used) for product in s.usage]
        return lines

    def _usage_line(
        self, s: _Subscriber, product: catalog.Product, month: tuple[int, int]
    ) -> _Line:
        typical = _USAGE_VOLUME[product.id]
        volume = self.rng.lognormvariate(0, 0.9) * typical
        decimals = 0 if product.id == "prod_sms" else 3
        quantity = Decimal(f"{max(volume, 0.001):.{decimals}f}").max(_ONE)
        unit = Decimal(product.unit_price)
        if quantity > 3 * typical:
            unit *= _VOLUME_DISCOUNT
        return self._line(s, product.id, quantity, unit_amount=unit, month=month)

    def _extras(self, s: _Subscriber) -> list[_Line]:
        """Occasional lines on a subscription invoice: a book (reduced VAT), an adjustment."""
        rng = self.rng
        lines = []
        if rng.random() < 0.04:
            lines.append(self._line(s, "prod_ebook", Decimal(rng.randint(1, 5))))
        if rng.random() < 0.015:  # a manual line without product, e.g. goodwill after an outage
            plan_price = self.catalog[s.plan].unit_price
            goodwill = rng.random() < 0.6
            amount = -rng.randint(plan_price // 10, plan_price // 2) if goodwill else 2500
            lines.append(
                _Line(
                    None,
                    "Goodwill credit – service incident" if goodwill else "Manual adjustment",
                    _ONE,
                    Decimal(amount),
                    s.standard_rate,
                )
            )
        return lines

    def _one_off_lines(self, s: _Subscriber) -> list[_Line]:
        rng = self.rng
        choices = {
            "prod_consulting": lambda: Decimal(rng.randint(2, 48)) / 4,  # quarter hours
            "prod_training": lambda: rng.choice((Decimal("0.5"), _ONE, Decimal(2))),
            "prod_token": lambda: Decimal(rng.randint(1, 10)),
            "prod_sensor": lambda: Decimal(rng.randint(1, 6)),
            "prod_gateway": lambda: Decimal(rng.randint(1, 2)),
            "prod_ebook": lambda: Decimal(rng.randint(1, 20)),
            "prod_migration": lambda: _ONE,
        }
        picked = rng.sample(sorted(choices), rng.randint(1, 3))
        return [self._line(s, product_id, choices[product_id]()) for product_id in picked]

    def _moment(self, s: _Subscriber, day: date) -> datetime:
        """Business hours in the entity's zone; a few just before or after midnight. On the
        horizon's day, the same share of the day up to the horizon instead (same draws, so the
        rest of the data does not depend on the hour of seeding)."""
        draw = self.rng.random()
        if draw < 0.03:
            seconds = 23 * 3600 + 1800 + self.rng.randrange(1800)
        elif draw < 0.06:
            seconds = self.rng.randrange(1800)
        else:
            seconds = 8 * 3600 + self.rng.randrange(10 * 3600)
        midnight = datetime.combine(day, time(), s.zone)
        moment = midnight + timedelta(seconds=seconds)
        if moment >= s.horizon:
            moment = midnight + (s.horizon - midnight) * (seconds / 86400)
        return moment.astimezone(UTC)

    def _add_unmapped_lines(self, drafts: list[_Draft]) -> None:
        """The not-yet-mapped product, on a handful of invoices of the last three weeks."""
        since = datetime.combine(self.today - timedelta(days=21), time(), UTC)
        recent = [d for d in drafts if d.issued_at >= since]
        unmapped = catalog.UNMAPPED_PRODUCTS[0]
        for draft in self.rng.sample(recent, min(6, len(recent))):
            draft.lines.append(self._line(draft.subscriber, unmapped.id))

    # --- credit notes and drafts -----------------------------------------------------------

    def _credit_note(self, s: _Subscriber, invoice: BillingDocument) -> _Draft | None:
        """Now and then a paid invoice is corrected: fully, or one line partly."""
        rng = self.rng
        if invoice.status != "paid" or rng.random() >= 0.03:
            return None
        day = invoice.issued_at.astimezone(s.zone).date() + timedelta(days=rng.randint(1, 25))
        if day > self.today:
            return None
        lines = [
            _Line(
                line.product,
                f"Credit: {line.description}",
                line.quantity,
                line.unit_amount,
                line.tax_rate,
                (line.period_start, line.period_end)
                if line.period_start and line.period_end
                else None,
            )
            for line in invoice.lines
        ]
        if rng.random() < 0.6:  # partial: part of one line
            line = rng.choice([line for line in lines if line.unit_amount > 0])
            if line.quantity > 1 and line.quantity == line.quantity.to_integral_value():
                line.quantity = Decimal(rng.randint(1, int(line.quantity) - 1))
            else:
                line.quantity = (line.quantity * rng.randint(25, 75) / 100).quantize(_MILLI)
            lines = [line]
        return _Draft("credit_note", s, self._moment(s, day), lines, original=invoice)

    def _draft_subscribers(self, subscribers: list[_Subscriber]) -> list[_Subscriber]:
        active = [s for s in subscribers if s.end == len(self.months)]
        return self.rng.sample(active, min(len(active), max(2, len(subscribers) // 200)))

    def _unfinished(self, s: _Subscriber) -> _Draft:
        """A document being prepared today: it must never sync."""
        return _Draft("draft", s, self._moment(s, self.today), self._one_off_lines(s))

    # --- ids, numbers, amounts, outcomes ----------------------------------------------------

    def _number(
        self, drafts: list[_Draft], id_prefix: str, number_format: str, *, first: int = 1
    ) -> list[BillingDocument]:
        """Documents with ids and numbers in issue order (numbers count per prefix: per entity
        and year, e.g. NL-2026-000123)."""
        sequences: Counter[str] = Counter()
        documents = []
        for offset, draft in enumerate(drafts):
            prefix = number_format.format(
                country=draft.subscriber.entity.country,
                year=draft.issued_at.astimezone(draft.subscriber.zone).year,
            )
            sequences[prefix] += 1
            number = f"{prefix}{sequences[prefix]:06d}"
            documents.append(self._document(draft, f"{id_prefix}_{first + offset:07d}", number))
        return documents

    def _document(self, draft: _Draft, doc_id: str, number: str) -> BillingDocument:
        s = draft.subscriber
        lines = tuple(
            DocumentLine(
                f"{doc_id}-{position}",
                position,
                line.product,
                line.description,
                line.quantity,
                line.unit_amount,
                *_priced(line),
                *(line.period or (None, None)),
            )
            for position, line in enumerate(draft.lines, start=1)
        )
        amount = sum(line.amount_excluding_tax for line in lines)
        tax = sum(line.tax_amount for line in lines)
        status, settled_at, payments = self._outcome(draft, doc_id, number, amount + tax)
        original = draft.original
        return BillingDocument(
            id=doc_id,
            number=number,
            type="credit_note" if original else "invoice",
            status=status,
            entity=s.entity,
            customer=s.customer,
            currency=s.entity.currency,
            issued_at=draft.issued_at,
            due_at=draft.issued_at + timedelta(days=s.payment_days),
            amount_excluding_tax=amount,
            tax_amount=tax,
            total_amount=amount + tax,
            original_invoice_id=original.id if original else None,
            original_invoice_number=original.number if original else None,
            purchase_order=s.purchase_order,
            created_at=draft.issued_at - timedelta(minutes=self.rng.randint(1, 240)),
            updated_at=settled_at,
            lines=lines,
            pdf=None,
            payments=payments,
        )

    def _outcome(
        self, draft: _Draft, doc_id: str, number: str, total: int
    ) -> tuple[DocumentStatus, datetime, tuple[Payment, ...]]:
        """(status, last change, payments) as of the end of today."""
        rng, s = self.rng, draft.subscriber
        horizon = s.horizon
        if draft.kind == "draft":
            return "draft", draft.issued_at, ()
        if draft.kind == "invoice" and rng.random() < 0.004:  # a mistake, voided soon after
            return "voided", min(draft.issued_at + timedelta(hours=rng.randint(1, 48)), horizon), ()
        planned = (
            self._refund(draft, total) if draft.kind == "credit_note" else self._pay(draft, total)
        )
        payments = tuple(
            self._payment(draft, doc_id, number, amount, at)
            for amount, at in planned
            if at < horizon and amount > 0
        )
        paid = sum(p.amount for p in payments)
        status: DocumentStatus = "paid" if paid >= total else "partially_paid" if paid else "to_pay"
        return status, max((draft.issued_at, *(p.paid_at for p in payments))), payments

    def _pay(self, draft: _Draft, total: int) -> list[tuple[int, datetime]]:
        """How the customer pays: mostly in full within its term, sometimes late, partly, in two
        instalments, or never. Payments after today are dropped by the caller."""
        rng, days = self.rng, draft.subscriber.payment_days
        paid_at = draft.issued_at + timedelta(days=rng.triangular(0, days + 10, days * 0.6))
        behaviour = rng.random()
        if behaviour < 0.04:
            return []
        if behaviour < 0.07:
            return [(total * rng.randint(30, 70) // 100, paid_at)]
        if behaviour < 0.17:
            later = paid_at + timedelta(days=rng.randint(7, 20))
            return [(total // 2, paid_at), (total - total // 2, later)]
        return [(total, paid_at)]

    def _refund(self, draft: _Draft, total: int) -> list[tuple[int, datetime]]:
        """A credit note on a paid invoice is refunded within a week."""
        return [(total, draft.issued_at + timedelta(days=self.rng.randint(1, 7)))]

    def _payment(
        self, draft: _Draft, doc_id: str, number: str, amount: int, paid_at: datetime
    ) -> Payment:
        self.payment_count += 1
        customer = draft.subscriber.customer
        methods = _METHODS.get(customer.country, _OTHER_METHODS)
        return Payment(
            id=f"pay_{self.payment_count:07d}",
            invoice_id=doc_id,
            invoice_number=number,
            document_type="credit_note" if draft.original else "invoice",
            invoicing_entity_id=draft.subscriber.entity.id,
            customer_id=customer.id,
            amount=amount,
            currency=draft.subscriber.entity.currency,
            paid_at=paid_at,
            method="bank_transfer" if draft.original else self.rng.choice(methods),
            source="billing",
            external_id=None,
            created_at=paid_at,
        )


def _priced(line: _Line) -> tuple[int, TaxRate, int]:
    amount, tax = line_amounts(line.quantity, line.unit_amount, line.tax_rate.rate)
    return amount, line.tax_rate, tax


def _month_days(year: int, month: int) -> tuple[date, date]:
    """The first and the last day of a month."""
    first = date(year, month, 1)
    return first, (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)


def _issue_order(draft: _Draft) -> tuple[datetime, str]:
    return draft.issued_at, draft.subscriber.customer.id
