"""Business-rule messages in the user's language (Exact localises them: NL or EN).

Several messages for one request are newline-joined, as Exact does.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "mandatory": {"nl": "Verplicht: {label}", "en": "Mandatory: {label}"},
    "invalid_reference": {
        "nl": "Ongeldige referentie: {target}",
        "en": "Invalid reference: {target}",
    },
    "gl_account_type": {"nl": "Ongeldig: Grootboekrekeningtype", "en": "Invalid: G/L account type"},
    "sales_journal": {
        "nl": "Ongeldig dagboek. Het dagboek moet een verkoopdagboek zijn.",
        "en": "Invalid journal. The journal must be a sales journal.",
    },
    "bank_journal": {
        "nl": "Ongeldig dagboek. Het dagboek moet een bank- of PSP-dagboek zijn.",
        "en": "Invalid journal. The journal must be a bank journal.",
    },
    "invalid_value": {"nl": "Ongeldig: {label}", "en": "Invalid: {label}"},
    "exists": {"nl": "{label}: Bestaat reeds", "en": "{label}: Already exists"},
    "too_long": {
        "nl": "{label}: De waarde is te lang (maximaal {max} tekens)",
        "en": "{label}: The value is too long (maximum {max} characters)",
    },
    "processed": {
        "nl": "De factuur is al verwerkt en kan niet meer worden gewijzigd",
        "en": "The invoice has already been processed and can no longer be changed",
    },
    "not_updatable": {
        "nl": "{label}: Kan niet worden gewijzigd",
        "en": "{label}: Cannot be changed",
    },
    "in_use": {
        "nl": "Kan niet worden verwijderd: het record wordt gebruikt ({target})",
        "en": "Cannot be deleted: the record is in use ({target})",
    },
    "payments_matched": {
        "nl": "Kan niet worden verwijderd: er zijn betalingen aan gekoppeld",
        "en": "Cannot be deleted: payments have been matched against it",
    },
    "payments_matched_change": {
        "nl": "Kan niet worden gewijzigd: er zijn betalingen aan gekoppeld",
        "en": "Cannot be changed: payments have been matched against it",
    },
    "period_closed": {
        "nl": "Periode {year}/{period} van dagboek {journal} is afgesloten: er kan niet meer "
        "in geboekt worden",
        "en": "Period {year}/{period} of journal {journal} is closed: nothing can be booked "
        "in it any more",
    },
    "document_created": {"nl": "Document aangemaakt", "en": "Document created"},
    "email_sent": {"nl": "E-mail verstuurd", "en": "E-mail sent"},
    "invoice_subject": {"nl": "Factuur {number}", "en": "Invoice {number}"},
    "credit_note_subject": {"nl": "Creditnota {number}", "en": "Credit note {number}"},
    "credit_note_sign": {
        "nl": "Ongeldig: Type. Een creditnota (8021) heeft een negatief totaal, een factuur niet.",
        "en": "Invalid: Type. A credit note (8021) has a negative total, an invoice does not.",
    },
}

# Exact names fields by their screen label, not the API property (e.g. Journal → "Diary").
LABELS: dict[str, dict[str, str]] = {
    "Journal": {"nl": "Dagboek", "en": "Diary"},
    "JournalCode": {"nl": "Dagboek", "en": "Diary"},
    "Customer": {"nl": "Relatie", "en": "Relationship"},
    "OrderedBy": {"nl": "Besteld door", "en": "Ordered by"},
    "Account": {"nl": "Relatie", "en": "Relationship"},
    "GLAccount": {"nl": "Grootboekrekening", "en": "G/L account"},
    "VATCode": {"nl": "Btw-code", "en": "VAT code"},
    "Item": {"nl": "Artikel", "en": "Item"},
    "Name": {"nl": "Naam", "en": "Name"},
    "Description": {"nl": "Omschrijving", "en": "Description"},
    "Code": {"nl": "Code", "en": "Code"},
    "AmountFC": {"nl": "Bedrag", "en": "Amount"},
    "Subject": {"nl": "Onderwerp", "en": "Subject"},
    "Type": {"nl": "Type", "en": "Type"},
    "Document": {"nl": "Document", "en": "Document"},
    "FileName": {"nl": "Bestandsnaam", "en": "File name"},
    "Attachment": {"nl": "Bijlage", "en": "Attachment"},
    "InvoiceID": {"nl": "Factuur", "en": "Invoice"},
    "YourRef": {"nl": "Uw ref.", "en": "Your ref."},
    "SalesEntryLines": {"nl": "Regels", "en": "Lines"},
    "SalesInvoiceLines": {"nl": "Regels", "en": "Lines"},
    "BankEntryLines": {"nl": "Regels", "en": "Lines"},
}


def label(field: str, lang: str) -> str:
    return LABELS.get(field, {}).get(lang, field)


def text(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang` (falls back to English)."""
    templates = TEXTS[key]
    return templates.get(lang, templates["en"]).format(**values)
