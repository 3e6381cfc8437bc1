"""The Exact Online sandbox: a local, faithful stand-in for Exact Online's REST API.

Serve it with `exact-pipeline sandbox --port 8890 [--host 127.0.0.1] [--state FILE]` and point
`EXACT_BASE_URL` at it. It speaks what Exact Online's API documentation
describes: OAuth2 (`/api/oauth2/auth` consent page, `/api/oauth2/token`), `/api/v1/current/Me`,
`/api/v1/{division}/{service}/{Entity}` with OData v2 verbose JSON (Atom XML without
`Accept: application/json`), `bulk/` and `sync/` twins, per-division rate limits with the six
`X-RateLimit-*` headers, Exact-shaped errors (business rules answer 500) and Exact's business
rules (journal numbering, receivables, payment matching). A page for humans is at `/`.

Demo app: client_id `exact-pipeline-demo`, client_secret `sandbox-secret`, any redirect URI on
`http://localhost…` or `http://127.0.0.1…`. The demo user may open divisions 310001 and
320001; 330001 exists but answers 403 (`Reason: NoDivisionAccess`). The sandbox holds no
company of its own: its user, divisions and master records are the `World` (`seed.py`) its
command hands it, the demo company's (`exact_pipeline.demo.sandbox_world`).

Admin API (JSON, not part of Exact, never rate limited or fault-injected)
----------------------------------------------------------------------------
GET  /_sandbox/health                 → {"status": "ok"}
POST /_sandbox/reset                  seeded master data, clock = real time, default config,
                                      no tokens, faults, counters, request log or e-mails
POST /_sandbox/seed                   restore the seeded master records (same GUIDs); records
                                      added since are kept
GET  /_sandbox/clock                  → {"now": iso UTC, "local": iso Exact-local, "epoch_ms",
                                         "offset_seconds"}
POST /_sandbox/clock/advance          {"seconds": n ≥ 0} → the clock, moved forward
POST /_sandbox/clock/set              {"now": "2026-11-23T09:00:00+00:00"} → the clock
GET  /_sandbox/config                 the settings below (field_limits: every effective limit)
POST /_sandbox/config                 a partial update, validated (unknown key → 400):
    minutely_limit 60, daily_limit 5000, window_seconds 60 (the "minute"),
    error_block_enabled true, error_block_threshold 10, error_block_seconds 3600,
    access_token_ttl 600, refresh_guard 570, too_early_refresh_status 400 (or 401),
    refresh_token_ttl 2592000, code_ttl 180,
    revoke_chain_on_reuse true, attachment_max_bytes 10485760 (decoded),
    field_limits {"Set.Field": n | null} (merged key by key, e.g. {"SalesEntries.YourRef": 40}),
    language "nl" | "en" (business-rule messages), seed 0 (fault RNG),
    apps {client_id: {"client_secret", "redirect_uris": [fnmatch patterns], "name"}}
GET  /_sandbox/faults                 → {"rules": [rule + "matched", "fired", "remaining"]}
POST /_sandbox/faults                 {"rules": [rule, …]} adds rules
DELETE /_sandbox/faults               clears them
    rule: {"kind": "error"|"latency"|"lost_response"|"burst_429"|"token_failure"|
                   "too_early_refresh",
           "path": substring of the URL path, "method": optional, "body_contains":
           optional substring of the request body (e.g. one document's number), "times": n (default
           unlimited), "every": k (default 1), "probability": p (default 1.0),
           "status": int, "latency_ms": int, "after_commit": bool,
           "body": "odata" (default) | "empty" | "html" (of an injected or replacing status)}
    error          answer `status` (500) without doing anything (a 4xx counts towards the
                   error block)
    latency        wait latency_ms, then answer normally
    burst_429      a minutely 429 (minutely headers only), not counted
    lost_response  do the work (writes commit), then drop the connection without a reply, or
                   answer `status` (e.g. 504) instead
    token_failure  only on oauth2/token: fail before anything (`status`, 500), or with
                   after_commit the tokens are issued/rotated and the answer is lost
    too_early_refresh  only on oauth2/token: Exact's "too early" refusal (Reason
                   TooEarlyToRefreshTokens), without doing anything
GET  /_sandbox/requests               → {"total", "by_endpoint": {"POST salesentry/SalesEntries":
                                         n}, "by_division": {"310001": n},
                                         "by_division_endpoint": {"310001": {endpoint: n}},
                                         "by_status": {"201": n},
                                         "log": [{"method", "path", "division", "status" (null:
                                         dropped), "at", "committed_status", "fault"}]} (last
                                         5000); endpoint = method + path without
                                         /api/v1/{division}/ and without (key)
DELETE /_sandbox/requests             clears the log and counters
GET  /_sandbox/limits                 → {"usage": {"310001": {"daily_used", "daily_remaining",
                                         "minutely_used", "minutely_remaining"}},
                                         "blocked": {"<division> <endpoint>": until epoch}}
GET  /_sandbox/store/{division}/{entity path}
                                      → {"results": [raw records]} (decimals as strings,
                                         datetimes as Exact-local ISO, with Timestamp)
POST /_sandbox/oauth/code             {"client_id", "redirect_uri", "divisions": [..]} →
                                      {"code"}: the same as approving the consent page
GET  /_sandbox/outbox                 → {"emails": [{"division", "invoice_id",
                                         "invoice_number", "to", "at"}]}: invoices Exact mailed
                                         (PrintedSalesInvoices with SendEmailToCustomer)
GET  /_sandbox/attachments/{division}/{id}[?download=1]   an attachment's bytes, no token
POST /_sandbox/periods                {"division", "journal", "year", "period", "closed"}: close
                                      (or reopen) a journal's period → {"closed": [ids]}
GET  /_sandbox/webhooks               → {"deliveries": [{"url", "status", "body", …}]}

Behaviour worth knowing (details in the tests, `exact_pipeline_tests/sandbox/`)
--------------------------------------------------------------------------
- Messages are Dutch by default (`Verplicht: Dagboek`, `Ongeldig: Grootboekrekeningtype`);
  several are newline-joined. Business rules answer 500, request-shape errors 400.
- POST answers 201 with only the key filled unless `Prefer: return=representation`.
- Journal numbers: yy + journal code + serial (26700001), shared by entries and invoices of
  the journal; a supplied EntryNumber is kept when free, silently replaced when taken.
- Receivables: a sales entry is booked on POST, a sales invoice when PrintedSalesInvoices
  processes it (Status 50, InvoiceNumber, Exact's own PDF as a Type 10 document).
- A bank-entry line settles an open receivable when Account, OurRef (invoice/entry number)
  and a receivables GL (Type 20) agree and the amount is at most what is open: equal →
  paid; less → the item splits into a paid row (EntryID = the bank entry) and an open rest.
  Deleting the bank entry undoes it: the paid row rejoins its open rest (and is deleted, so
  sync/Deleted reports it), or an item it paid in full is open again.
- Sync endpoints need `$filter=Timestamp gt N` and `$select`; bulk endpoints need `$select`
  and, like crm/Accounts and logistics/Items, a filter on one of the listed fields.
- Counted per division; current/Me and the token endpoint are not. Requests are read in full
  before injected latency, so a write the client timed out on still commits.

State lives in memory, or with `--state FILE` in a JSON file rewritten atomically after every
change and loaded at start (store, tokens, clock offset, config, outbox).
"""
