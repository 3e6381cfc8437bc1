"""The demo company's customers: plausible Dutch, Belgian, German and French businesses.

Names are unique (Exact's last matching rule is the exact name) and some carry non-ASCII
letters (é, ü, ø, ß, Æ …) on purpose. The catalogue's KNOWN_CUSTOMERS come first, exactly as
declared, because the sandbox's Exact divisions hold matching accounts for them.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, count

from exact_pipeline.billing.models import Customer
from exact_pipeline.demo.catalog import KNOWN_CUSTOMERS


@dataclass(frozen=True)
class _Country:
    code: str
    share: float  # of generated customers
    vat_share: float  # of them with a VAT number
    surnames: tuple[str, ...]
    trades: tuple[str, ...]
    legal_forms: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (zip or zip prefix, city)
    second_lines: tuple[str, ...]
    mailboxes: tuple[str, ...]
    tld: str
    number_first: bool = False  # "12 rue de Rivoli" rather than "Meir 12"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split(", "))


def _places(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(place.split(" ", 1)) for place in _words(text))  # type: ignore[misc]


_COUNTRIES: tuple[_Country, ...] = (
    _Country(
        code="NL",
        share=0.68,
        vat_share=0.65,
        surnames=_words(
            "de Vries, Jansen, van den Berg, Bakker, Visser, Smit, Meijer, de Boer, Mulder, "
            "de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer, de Wit, "
            "Dijkstra, de Graaf, van der Meer, Kok, de Haan, Vermeulen, van der Veen, "
            "de Bruijn, van Dijk, Prins, Huisman, Kuipers, Blom, Ødegaard, Sørensen, Kjær, "
            "Håkansson"
        ),
        trades=_words(
            "Bouw, Installatietechniek, Adviesgroep, Logistiek, Software, Design, Makelaardij, "
            "Accountants, Transport, Architecten, Bloemen, Koffiebranderij, IT-Diensten, Media, "
            "Fysiotherapie, Schilderwerken, Elektrotechniek, Tandartsen, Café & Catering, "
            "Reclamebureau"
        ),
        legal_forms=_words("B.V., B.V., B.V., V.O.F., Holding B.V., & Zonen"),
        streets=_words(
            "Hoofdstraat, Kerkstraat, Stationsweg, Dorpsstraat, Molenweg, Industrieweg, "
            "Keizersgracht, Prinsengracht, Oudegracht, Coolsingel, Vismarkt, "
            "Laan van Meerdervoort, Marktplein, Havenkade"
        ),
        cities=_places(
            "1011 Amsterdam, 3011 Rotterdam, 2511 Den Haag, 3511 Utrecht, 5611 Eindhoven, "
            "9711 Groningen, 5038 Tilburg, 1315 Almere, 4811 Breda, 6511 Nijmegen, "
            "2011 Haarlem, 6811 Arnhem, 8011 Zwolle, 5211 's-Hertogenbosch, 6211 Maastricht, "
            "2611 Delft"
        ),
        second_lines=_words("2e verdieping, Unit 4, Kantoor 12, Begane grond"),
        mailboxes=_words("finance, administratie, boekhouding, facturen, info"),
        tld="nl",
    ),
    _Country(
        code="BE",
        share=0.24,
        vat_share=0.75,
        surnames=_words(
            "Peeters, Janssens, Maes, Jacobs, Mertens, Willems, Claes, Goossens, Wouters, "
            "De Smet, Dubois, Lambert, Dupont, Lefèvre, Renard, François, Hermans, "
            "Vandenberghe, Desmet, Van Damme, Verstraeten, Deprez, Lemaître"
        ),
        trades=_words(
            "Boulangerie, Brasserie, Atelier, Garage, Imprimerie, Pâtisserie, Bouwbedrijf, "
            "Schrijnwerkerij, Consultancy, Chocolatier, Studio, Immobilière, Technics, Drukkerij"
        ),
        legal_forms=_words("BV, BV, NV, SRL, SA, CommV"),
        streets=_words(
            "Rue de la Loi, Meir, Grote Markt, Avenue Louise, Kouter, Rue Neuve, Veldstraat, "
            "Chaussée de Wavre, Bondgenotenlaan, Rue des Guillemins"
        ),
        cities=_places(
            "1000 Brussel, 1050 Ixelles, 2000 Antwerpen, 9000 Gent, 3000 Leuven, 4000 Liège, "
            "5000 Namur, 8000 Brugge, 2800 Mechelen, 3500 Hasselt, 6000 Charleroi"
        ),
        second_lines=_words("Bus 3, Boîte 12, Verdieping 2"),
        mailboxes=_words("boekhouding, comptabilite, facturation, finance, info"),
        tld="be",
    ),
    _Country(
        code="DE",
        share=0.05,
        vat_share=1.0,  # billed from NL at 0 % (intra-EU reverse charge): needs a VAT number
        surnames=_words(
            "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schäfer, Koch, "
            "Bauer, Richter, Schröder, Krüger, Weiß, Groß, Jäger, Köhler, Löffler, Straßburger"
        ),
        trades=_words(
            "Maschinenbau, Logistik, Softwarehaus, Beratung, Elektrotechnik, "
            "Handelsgesellschaft, Straßenbau, Messtechnik"
        ),
        legal_forms=_words("GmbH, GmbH, AG, KG, GmbH & Co. KG, e.K."),
        streets=_words("Hauptstraße, Bahnhofstraße, Schillerstraße, Goethestraße, Königsallee"),
        cities=_places(
            "10115 Berlin, 80331 München, 50667 Köln, 40213 Düsseldorf, 20095 Hamburg, 52062 Aachen"
        ),
        second_lines=_words("Hinterhaus, 3. OG"),
        mailboxes=_words("buchhaltung, rechnungen, finanzen"),
        tld="de",
    ),
    _Country(
        code="FR",
        share=0.03,
        vat_share=1.0,
        surnames=_words(
            "Martin, Bernard, Thomas, Petit, Durand, Moreau, Laurent, Lefèvre, Roux, Fournier, "
            "Girard, Bonnet, Fontaine, Rousseau, Chevalier, Garçon, Bœuf"
        ),
        trades=_words("Conseil, Informatique, Transports, Ingénierie, Études, Distribution"),
        legal_forms=_words("SARL, SAS, SA"),
        streets=_words(
            "rue de Rivoli, boulevard Haussmann, rue de la République, place Bellecour, "
            "quai des Chartrons, avenue des Champs-Élysées"
        ),
        cities=_places(
            "75001 Paris, 69002 Lyon, 59000 Lille, 33000 Bordeaux, 67000 Strasbourg, 44000 Nantes"
        ),
        second_lines=_words("Bâtiment B, 3e étage"),
        mailboxes=_words("comptabilite, factures"),
        tld="fr",
        number_first=True,
    ),
)
_BY_CODE = {country.code: country for country in _COUNTRIES}


class _Unique:
    """Hands out values not handed out before: the first new one among the candidates."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken

    def claim(self, candidates: Iterable[str]) -> str:
        value = next(c for c in candidates if c not in self.taken)
        self.taken.add(value)
        return value


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())


def _vat_number(rng: random.Random, country: str) -> str:
    digits = f"{rng.randrange(10**9):09d}"
    return {
        "NL": f"NL{digits}B{rng.randrange(1, 100):02d}",
        "BE": f"BE0{digits}",
        "DE": f"DE{digits}",
        "FR": f"FR{rng.randrange(100):02d}{digits}",
    }[country]


def _address(rng: random.Random, country: _Country) -> tuple[str, str | None, str, str]:
    """(line 1, line 2, zip, city)."""
    street, number = rng.choice(country.streets), rng.randrange(1, 240)
    line1 = f"{number} {street}" if country.number_first else f"{street} {number}"
    if country.code == "NL" and rng.random() < 0.15:
        line1 += rng.choice("abc")
    zip_code, city = rng.choice(country.cities)
    if country.code == "NL":  # 1011 → 1011 AB
        letters = "".join(rng.choice("ABCEGHJKLMNPRTVWXZ") for _ in range(2))
        zip_code = f"{int(zip_code) + rng.randrange(80)} {letters}"
    line2 = rng.choice(country.second_lines) if rng.random() < 0.15 else None
    return line1, line2, zip_code, city


def _name(rng: random.Random, country: _Country) -> tuple[str, str]:
    """(company name, what its web domain is made of)."""
    surname, trade = rng.choice(country.surnames), rng.choice(country.trades)
    surname = surname[0].upper() + surname[1:]  # "de Vries" starts a name as "De Vries"
    form = rng.choice(country.legal_forms)
    pattern = rng.random()
    if pattern < 0.5:
        return f"{surname} {trade} {form}", f"{surname}{trade}"
    if pattern < 0.8:
        return f"{trade} {surname} {form}", f"{trade}{surname}"
    return f"{surname} {trade}", f"{surname}{trade}"  # a freelancer or a small shop


def generate_customers(
    rng: random.Random, first_invoice: list[datetime], window_start: datetime
) -> list[Customer]:
    """One customer per first invoice date, the known ones first. A customer billed from the
    window's start existed before it (created up to two years earlier); the others signed up
    days before their first invoice."""
    known = KNOWN_CUSTOMERS[: len(first_invoice)]
    names = _Unique({k.name for k in KNOWN_CUSTOMERS})
    emails = _Unique({k.email for k in KNOWN_CUSTOMERS})
    vat_numbers = _Unique({k.vat_number for k in KNOWN_CUSTOMERS if k.vat_number})
    codes, weights = [c.code for c in _COUNTRIES], [c.share for c in _COUNTRIES]
    customers = []
    for index, first in enumerate(first_invoice):
        days_before = rng.randrange(30, 730) if first <= window_start else rng.randrange(1, 30)
        created_at = first - timedelta(days=days_before, seconds=rng.randrange(86400))
        updated_at = created_at + (first - created_at) * rng.random()
        if index < len(known):
            k = known[index]
            country = _BY_CODE[k.country]
            ident = (k.customer_id, k.name, k.email, k.vat_number)
        else:
            country = _BY_CODE[rng.choices(codes, weights)[0]]
            name, domain = _name(rng, country)
            city = rng.choice(country.cities)[1]
            name = names.claim(chain((name, f"{name} {city}"), (f"{name} {n}" for n in count(2))))
            domain = f"{_slug(domain)[:30]}.{country.tld}"
            mailbox = rng.choice(country.mailboxes)
            email = emails.claim(f"{mailbox}{n or ''}@{domain}" for n in count())
            vat = None
            if rng.random() < country.vat_share:
                vat = vat_numbers.claim(_vat_number(rng, country.code) for _ in count())
            ident = (f"cus_{index + 1:06d}", name, email, vat)
        line1, line2, zip_code, city = _address(rng, country)
        customers.append(
            Customer(*ident, line1, line2, zip_code, city, country.code, created_at, updated_at)
        )
    return customers
