"""What became of each item a run looked at: the one vocabulary of outcomes, as the reports count
them and the assets show them. A word means the same in every domain (`blocked`: cannot go as
it is, the reason says why and what to do; `failed`: the next run retries, looking it up
first; `in_progress`: another run holds it right now; `not_reached`: left for the next run
because its division stopped, see the report's `stopped`)."""

from __future__ import annotations

BLOCKED, FAILED = "blocked", "failed"
IN_PROGRESS, NOT_REACHED = "in_progress", "not_reached"

DOCUMENT_OUTCOMES = (
    "pushed",  # in Exact now, with its PDF (this run)
    "corrected",  # credit_and_repost: its entry reversed (this run), and reposted unless voided
    "pdf_replaced",  # credit_and_repost: its PDF alone changed and was replaced, no entry touched
    "already_synced",  # in Exact already: no call
    BLOCKED,
    FAILED,
    "changed_after_sync",  # flagged: billing changed it after it was posted
    "voided_after_sync",  # flagged: billing voided it after it was posted
    "skipped_voided",  # voided before it was ever posted: nothing to do
    "dead_letter",  # failed too often: no run retries it until a person puts it back
    IN_PROGRESS,
    NOT_REACHED,  # its row stays staged
)

CUSTOMER_OUTCOMES = (
    "linked_explicit",  # customer_links.csv names its account
    "matched_vat",
    "matched_email",
    "matched_name",
    "created",
    "already_linked",  # linked by an earlier run: no call
    BLOCKED,
    FAILED,  # creating the account failed in a way a later run can cure
)

PAYMENT_OUTCOMES = (
    "pushed",  # a bank entry in Exact now carries it (this run)
    "imported",  # written into billing (this run)
    "already_done",  # pushed or imported by an earlier run: no call
    "waiting",  # its document is not in Exact yet: a later run pushes it
    BLOCKED,
    FAILED,
    "reported",  # read from Exact but not written into billing: `reason`
    "from_exact",  # a billing payment that came from Exact: never pushed back
    "from_billing",  # an Exact payment we pushed from billing: never imported back
    IN_PROGRESS,
    NOT_REACHED,
)
